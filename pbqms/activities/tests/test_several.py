"""Several records of a kind a day (issue 22.12): a secretary holds several one-to-one talks a day, a
lecture is given to two groups on one day; the same record entered twice is refused with a clear
message; the engine counts each record as one occurrence of its requirement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pbqms.accounts.models import Role
from pbqms.activities import services
from pbqms.activities.models import ActivityKind, ActivityRecord, Attendance, ComplianceState
from pbqms.core import clock
from pbqms.members import services as members
from pbqms.members.models import PartyStatus

TODAY = dt.date(2026, 5, 20)
DAY = dt.date(2026, 5, 12)


@pytest.fixture(autouse=True)
def as_of_today():
    with clock.as_of(TODAY):
        yield


@pytest.fixture
def people(tree):
    return [members.create_member(None, unit=tree.b01, name=n, gender="M", status=PartyStatus.FULL)
            for n in ("赵六", "孙丽", "周强")]


def talk(users, tree, person, topic="谈心谈话：思想动态", kind=ActivityKind.HEART_TALK, unit=None):
    return services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
        unit=unit or tree.b01, kind=kind, held_on=DAY, topic=topic, host=tree.m01,
        attendance={p.pk: services.Presence(True) for p in (person if isinstance(person, list) else [person])}))


def state(code, tree, start):
    return ComplianceState.objects.get(rule__code=code, unit=tree.b01, period_start=start)


def test_several_talks_a_day_each_count(users, tree, people):
    for p in people:
        talk(users, tree, p)
    assert ActivityRecord.objects.filter(kind=ActivityKind.HEART_TALK, held_on=DAY).count() == 3
    s = state("TALK_Y", tree, dt.date(2026, 1, 1))
    assert (s.status, s.done) == ("met", 3)  # one occurrence per record, not per day


def test_a_lecture_to_two_groups_on_one_day(users, tree, people):
    talk(users, tree, [tree.m01, *people[:1]], "党课：党章（第一组）", ActivityKind.PARTY_LECTURE)
    talk(users, tree, [tree.m01, *people[1:]], "党课：党章（第二组）", ActivityKind.PARTY_LECTURE)
    assert (state("LECTURE_Q", tree, dt.date(2026, 4, 1)).done) == 2


def test_one_lecture_topic_to_two_groups_each_on_the_full_sheet(users, tree, people):
    """As the web form sends it: the whole branch on each sheet, only the group present."""
    everyone = [tree.m01, *people]

    def lecture(present):
        return services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
            unit=tree.b01, kind=ActivityKind.PARTY_LECTURE, held_on=DAY, topic="党课：学习党章", host=tree.m01,
            attendance={p.pk: services.Presence(p in present, "" if p in present else "在另一组听课")
                        for p in everyone}))

    lecture(everyone[:2])
    lecture(everyone[2:])
    assert ActivityRecord.objects.filter(kind=ActivityKind.PARTY_LECTURE, held_on=DAY).count() == 2
    with pytest.raises(ValidationError):
        lecture(everyone[2:])  # the second group's lecture entered again


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_same_talk_entered_twice_is_refused(users, tree, people, lang):
    first = talk(users, tree, people[0])
    with translation.override(lang):
        with pytest.raises(ValidationError) as e:
            talk(users, tree, people[0])
    expected = (f"2026-05-12 第一党支部的这次谈心谈话已经记录过了：主题和人员相同（记录编号 {first.pk}）。"
                if lang == "zh-hans" else f"This Heart-to-heart talks (谈心谈话) is already recorded for 第一党支部 "
                f"on 2026-05-12 with the same topic and people (record no. {first.pk}).")
    assert expected in str(e.value)
    assert ActivityRecord.objects.count() == 1 and Attendance.objects.count() == 1
    talk(users, tree, people[0], topic="谈心谈话：工作困难")  # another topic is another talk
    assert ActivityRecord.objects.count() == 2


def test_a_committee_meeting_stays_once_a_day(users, tree):
    services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
        unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=DAY, topic="研究",
        attendance={tree.m01.pk: services.Presence(True)}))
    with pytest.raises(ValidationError) as e:
        services.record_activity(users[Role.BRANCH_SECRETARY], services.RecordInput(
            unit=tree.b01, kind=ActivityKind.COMMITTEE_MEETING, held_on=DAY, topic="另一议题",
            attendance={tree.m01.pk: services.Presence(True)}))
    assert "已经记录" in str(e.value) and ActivityRecord.objects.count() == 1


def test_the_form_records_a_second_talk_and_refuses_a_repeat(client, users, tree, people):
    client.force_login(users[Role.BRANCH_SECRETARY])
    new = reverse("activities:record_create", args=["B01"])
    form = {"kind": "talk", "held_on": "2026-05-12", "topic": "谈心谈话", "attendee": [p.pk for p in people]}
    assert client.post(new, {**form, "present": [people[0].pk]}).status_code == 302
    assert client.post(new, {**form, "present": [people[1].pk]}).status_code == 302
    again = client.post(new, {**form, "present": [people[1].pk]})
    assert again.status_code == 200 and "已经记录过了" in again.content.decode()
    assert ActivityRecord.objects.count() == 2
