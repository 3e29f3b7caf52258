"""The import page, a job's progress and report, the template download and the member export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from pbqms.accounts.models import Role
from pbqms.members.models import Member
from pbqms.roster.models import ImportJob
from pbqms.roster.synthetic import id_number

from .helpers import person, state, unit_row, workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def upload(client, path, dry_run=False, capture=None):
    with capture(execute=True), open(path, "rb") as fh:
        resp = client.post(reverse("roster:import"), {"file": fh, "dry_run": "on" if dry_run else ""})
    return resp


def test_upload_runs_the_import_and_shows_the_summary(client, users, tree, tmp_path, immediate_tasks,
                                                     django_capture_on_commit_callbacks,
                                                     django_assert_max_num_queries):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    path = workbook(tmp_path / "ok.xlsx", [unit_row("B05", "第五党支部", "党支部", "SUB1")],
                    [person("新人", id_number(1, True)[0], "B05")])
    resp = upload(client, path, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("roster:job", args=[job.pk])
    assert job.state == ImportJob.State.DONE and job.done_rows == job.total_rows == 2
    assert job.created_by == users[Role.COMMITTEE_ADMIN] and job.original_name == "ok.xlsx"
    assert Member.objects.filter(name="新人", unit__code="B05").exists()
    assert not job.file  # the workbook, with ID numbers in clear, is not kept
    assert not list((tmp_path / "media").rglob("*.xlsx"))
    with django_assert_max_num_queries(15):
        page = client.get(reverse("roster:job", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "hx-trigger" not in html and "<td>1</td>" in html
    partial = client.get(reverse("roster:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b"job-status" in partial.content
    with django_assert_max_num_queries(15):
        listing = client.get(reverse("roster:import"))
    assert "ok.xlsx" in listing.content.decode()


def test_dry_run_upload_changes_nothing(client, users, tree, tmp_path, immediate_tasks,
                                        django_capture_on_commit_callbacks):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    path = workbook(tmp_path / "ok.xlsx", members=[person("新人", id_number(1, True)[0], "B01")])
    before = state()
    upload(client, path, dry_run=True, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.CHECKED and job.summary["members_created"] == 1
    assert state() == before


def test_a_failing_upload_shows_every_problem_and_a_report(client, users, tree, tmp_path, immediate_tasks,
                                                          django_capture_on_commit_callbacks):
    user = users[Role.BRANCH_SECRETARY]
    user.language = "en"
    user.save()
    client.force_login(user)
    path = workbook(tmp_path / "bad.xlsx", members=[person("甲", id_number(1, True)[0], "B02"),
                                                    person("乙", "123", "B01")])
    before = state()
    upload(client, path, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.FAILED and len(job.errors) == 2
    assert state()["members"] == before["members"]
    html = client.get(reverse("roster:job", args=[job.pk])).content.decode()
    assert "2 problems found; nothing was changed." in html
    assert "<td>党员</td><td>2</td>" in html and "<td>党员</td><td>3</td>" in html
    assert "所在组织编码" in html and "身份证号" in html
    report = client.get(reverse("roster:job_report", args=[job.pk]))
    wb = load_workbook(io.BytesIO(body(report)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][:3] == ("党员", 2, "所在组织编码")


def test_a_running_job_polls_with_a_progress_bar(client, users, tree):
    user = users[Role.COMMITTEE_ADMIN]
    client.force_login(user)
    job = ImportJob.objects.create(created_by=user, original_name="big.xlsx", state=ImportJob.State.RUNNING,
                                   phase="checking", done_rows=500, total_rows=1000)
    html = client.get(reverse("roster:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and 'class="w-50"' in html and "500" in html


def test_jobs_are_private_and_import_needs_write_scope(client, users, tree):
    job = ImportJob.objects.create(created_by=users[Role.COMMITTEE_ADMIN], original_name="x.xlsx")
    client.force_login(users[Role.BRANCH_SECRETARY])
    assert client.get(reverse("roster:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("roster:job_report", args=[job.pk])).status_code == 404
    client.force_login(users[Role.MEMBER])
    assert client.get(reverse("roster:import")).status_code == 403
    assert client.get(reverse("roster:template")).status_code == 403
    assert client.post(reverse("roster:import")).status_code == 403


def test_template_download_in_the_users_language(client, users, tree):
    user = users[Role.BRANCH_SECRETARY]
    client.force_login(user)
    resp = client.get(reverse("roster:template"))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(body(resp)))
    assert wb.sheetnames == ["党组织", "党员", "填写说明"]
    assert [c.value for c in wb["党员"][1]][:6] == ["姓名", "性别", "民族", "出生日期", "学历", "身份证号"]
    assert [c.value for c in wb["党组织"][1]][:3] == ["组织编码", "组织名称", "组织类型"]
    user.language = "en"
    user.save()
    wb = load_workbook(io.BytesIO(body(client.get(reverse("roster:template")))))
    assert wb.sheetnames == ["Units", "Members", "Instructions"]
    assert [c.value for c in wb["Members"][1]][:2] == ["Name", "Gender"]


def test_the_empty_template_imports_as_nothing(client, users, tree, tmp_path):
    from pbqms.roster import services

    client.force_login(users[Role.COMMITTEE_ADMIN])
    path = tmp_path / "t.xlsx"
    path.write_bytes(body(client.get(reverse("roster:template"))))
    result = services.import_roster(path, users[Role.COMMITTEE_ADMIN], dry_run=True)
    assert result.ok and result.total_rows == 0


def test_upload_form_refuses_other_files(client, users, tree, tmp_path):
    client.force_login(users[Role.COMMITTEE_ADMIN])
    bad = tmp_path / "x.csv"
    bad.write_text("a,b")
    with open(bad, "rb") as fh:
        resp = client.post(reverse("roster:import"), {"file": fh})
    assert resp.status_code == 200 and ImportJob.objects.count() == 0


def test_export_view_streams_the_list_within_scope(client, users, tree):
    client.force_login(users[Role.BRANCH_SECRETARY])
    resp = client.get(reverse("roster:export"), {"unit": "B01"})
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    wb = load_workbook(io.BytesIO(body(resp)), read_only=True)
    people = [r[0] for r in wb["党员"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert people == ["张三"]
    assert client.get(reverse("roster:export"), {"unit": "B03"}).status_code == 404
    assert client.get(reverse("roster:export"), {"unit": "B02"}).status_code == 404
    client.force_login(users[Role.COMMITTEE_SECRETARY])
    wb = load_workbook(io.BytesIO(body(client.get(reverse("roster:export"), {"status": "full"}))), read_only=True)
    assert sorted(r[0] for r in wb["党员"].iter_rows(min_row=2, values_only=True) if r[0]) == ["张三", "李四"]
