from pbqms import scope
from pbqms.accounts.models import Role


def test_every_role_sees_inside_and_not_outside(tree, users):
    for role, user in users.items():
        codes = set(scope.units(user).values_list("code", flat=True))
        assert "B03" not in codes, role
        names = set(scope.members(user).values_list("name", flat=True))
        assert "王五" not in names, role
    assert set(scope.units(users[Role.COMMITTEE_ADMIN]).values_list("code", flat=True)) == {
        "SUB1", "B01", "B01G1", "B02"}
    assert set(scope.members(users[Role.MEMBER]).values_list("name", flat=True)) == {"张三"}
    assert set(scope.members(users[Role.BRANCH_SECRETARY]).values_list("name", flat=True)) == {"张三"}
