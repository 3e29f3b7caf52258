"""Organisation tree rules through orgs.services and orgs.selectors."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pbqms.accounts.models import Role
from pbqms.audit.models import AuditEntry
from pbqms.audit.selectors import history_of
from pbqms.members.models import Member
from pbqms.orgs import selectors
from pbqms.orgs import services as orgs
from pbqms.orgs.models import BranchVariant, Unit, UnitKind, UnitMove


def test_paths_encode_the_tree(tree):
    assert tree.b01.path.startswith(tree.sub1.path) and tree.sub1.path.startswith(tree.grp.path)
    assert tree.g1.depth == 3
    assert [u.code for u in selectors.ancestors(tree.g1)] == ["GRP", "SUB1", "B01"]


@pytest.mark.parametrize(
    "kind,parent_code,ok",
    [
        (UnitKind.GROUP, "B01", True),
        (UnitKind.GROUP, "SUB1", False),  # a 党小组 sits only under a branch
        (UnitKind.BRANCH, "SUB1", True),
        (UnitKind.BRANCH, "B01", False),
        (UnitKind.BRANCH, "B01G1", False),
        (UnitKind.GENERAL_BRANCH, "SUB1", True),
        (UnitKind.COMMITTEE, "GRP", True),  # group → subsidiary → mine
        (UnitKind.COMMITTEE, "B01", False),
    ],
)
def test_placement_rules(tree, kind, parent_code, ok):
    parent = Unit.objects.get(code=parent_code)
    before = Unit.objects.count()
    if ok:
        unit = orgs.create_unit(None, code="NEW", name="新单位", kind=kind, parent=parent)
        assert unit.path == parent.path + f"{unit.pk:010d}/"
    else:
        with pytest.raises(ValidationError):
            orgs.create_unit(None, code="NEW", name="新单位", kind=kind, parent=parent)
        assert Unit.objects.count() == before


def test_branch_under_general_branch_and_variants(tree):
    zz = orgs.create_unit(None, code="ZZ", name="机关党总支", kind=UnitKind.GENERAL_BRANCH, parent=tree.sub1)
    joint = orgs.create_unit(None, code="LH", name="联合党支部", kind=UnitKind.BRANCH, parent=zz,
                             variant=BranchVariant.JOINT)
    assert joint.variant == BranchVariant.JOINT
    with pytest.raises(ValidationError):
        orgs.create_unit(None, code="X", name="x", kind=UnitKind.GROUP, parent=joint, variant=BranchVariant.TEMPORARY)


def test_duplicate_code_refused(tree):
    with pytest.raises(ValidationError, match="B01"):
        orgs.create_unit(None, code="B01", name="重复", kind=UnitKind.BRANCH, parent=tree.sub1)


def test_move_rewrites_subtree_and_people_and_keeps_history(tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    new_parent = orgs.create_unit(actor, code="ZZ", name="党总支", kind=UnitKind.GENERAL_BRANCH, parent=tree.sub1)
    orgs.move_unit(actor, tree.b01, new_parent, moved_on=dt.date(2026, 1, 5), reason="机构调整")
    b01 = Unit.objects.get(code="B01")
    g1 = Unit.objects.get(code="B01G1")
    assert b01.parent_id == new_parent.pk
    assert b01.path == new_parent.path + f"{b01.pk:010d}/" and b01.depth == 3
    assert g1.path.startswith(b01.path) and g1.depth == 4
    assert Member.objects.get(pk=tree.m01.pk).org_path == b01.path
    move = UnitMove.objects.get(unit=b01)
    assert move.from_parent_id == tree.sub1.pk and move.reason == "机构调整"
    assert history_of(b01).filter(action="move").exists()
    # the person is still found by a subtree query of the new parent
    assert Member.objects.filter(org_path__startswith=new_parent.path, pk=tree.m01.pk).exists()


def test_cannot_move_under_own_subtree(tree):
    with pytest.raises(ValidationError):
        orgs.move_unit(None, tree.sub1, tree.b01)


def test_move_needs_write_scope_on_both_ends(tree, users):
    with pytest.raises(PermissionDenied):
        orgs.move_unit(users[Role.COMMITTEE_ADMIN], tree.b01, tree.sub2)
    assert Unit.objects.get(code="B01").parent_id == tree.sub1.pk


def test_dissolve_keeps_records_readable(tree, users):
    actor = users[Role.COMMITTEE_ADMIN]
    with pytest.raises(ValidationError):  # still has people and a group
        orgs.dissolve_unit(actor, tree.b02, reason="撤并")
    empty = orgs.create_unit(actor, code="B09", name="临时党支部", kind=UnitKind.BRANCH, parent=tree.sub1,
                             variant=BranchVariant.TEMPORARY)
    with pytest.raises(ValidationError):
        orgs.dissolve_unit(actor, empty, reason=" ")
    orgs.dissolve_unit(actor, empty, reason="任务完成", dissolved_on=dt.date(2026, 6, 30))
    empty.refresh_from_db()
    assert empty.dissolved_on == dt.date(2026, 6, 30) and not empty.is_active
    assert Unit.objects.filter(code="B09").exists()  # never hard-deleted
    with pytest.raises(ValidationError):
        orgs.create_unit(actor, code="G9", name="小组", kind=UnitKind.GROUP, parent=empty)


def test_update_is_audited_field_by_field(tree, users):
    actor = users[Role.DEPARTMENT_STAFF]
    orgs.update_unit(actor, tree.b02, name="第二党支部（改）", department="机电科")
    entry = AuditEntry.objects.filter(model="orgs.unit", object_id=str(tree.b02.pk), action="update").get()
    assert entry.changes == {"name": ["第二党支部", "第二党支部（改）"], "department": ["", "机电科"]}
    assert entry.actor_id == actor.pk


def test_branch_secretary_cannot_change_units(tree, users):
    with pytest.raises(PermissionDenied):
        orgs.update_unit(users[Role.BRANCH_SECRETARY], tree.b01, name="x")


def test_counts_cost_one_query_each(tree, users, django_assert_num_queries):
    user = users[Role.COMMITTEE_SECRETARY]
    from pbqms import scope

    scope.get_scope(user)
    with django_assert_num_queries(1):
        counts = selectors.unit_counts(tree.sub1.path, user)
    assert counts == {"committee": 1, "general_branch": 0, "branch": 2, "group": 1}
    with django_assert_num_queries(1):
        mc = selectors.member_counts(tree.sub1.path, user)
    assert mc["full"] == 2
    with django_assert_num_queries(1):
        assert len(selectors.ancestors(tree.g1)) == 3
