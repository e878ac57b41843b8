"""The services behind the API stand on their own: the pages hand them raw query strings, so an
id, cursor or code that cannot name a row is refused cleanly, never a database error."""

from __future__ import annotations

import pytest

from mall.access import audit
from mall.errors import Invalid, NotFound
from mall.people import residents
from tests.api.helpers import Api
from tests.api.world import ADMIN, TARGET_NAME, A, World


def test_a_control_character_in_a_search_is_ignored(api: Api, world: World) -> None:
    found = api.run(lambda db: residents.list_residents(db, ADMIN, A, query="秀\x00", grid="g1\n"))
    assert [r.name for r in found] == [TARGET_NAME]


@pytest.mark.parametrize("resident_id", [0, -1, 2**31, 2**63])
def test_an_impossible_resident_id_is_not_found(api: Api, resident_id: int) -> None:
    with pytest.raises(NotFound):
        api.run(residents.get_resident, ADMIN, resident_id)


@pytest.mark.parametrize("before", [0, 2**31, 2**63])
def test_an_impossible_cursor_is_invalid(api: Api, world: World, before: int) -> None:
    with pytest.raises(Invalid):
        api.run(lambda db: residents.passbook(db, ADMIN, world.target, before=before))
    with pytest.raises(Invalid):
        api.run(lambda db: audit.community_log(db, ADMIN, A, before=before))


@pytest.mark.parametrize("slug", ["ma\x00ple", "MAPLE", "m" * 65, ""])
def test_an_impossible_community_code_is_not_found(api: Api, slug: str) -> None:
    with pytest.raises(NotFound):
        api.run(lambda db: audit.community_log(db, ADMIN, slug))
