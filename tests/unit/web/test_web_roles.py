"""The rules of the roles, as pure functions: who may scan, add, change a site, and which site options only
an admin may set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from linkdoctor.monitor.model import Role, Site, SiteOptions, SiteSpec
from linkdoctor.web import roles

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def site(owner: int | None, options: SiteOptions | None = None) -> Site:
    spec = SiteSpec(name="docs", url="https://docs.example.org/", options=options or SiteOptions())
    return Site(id=1, spec=spec, created_at=NOW, next_run_at=None, owner_id=owner)


def test_a_member_changes_only_the_sites_it_added() -> None:
    assert roles.may_change_site(Role.MEMBER, 7, site(owner=7))
    assert not roles.may_change_site(Role.MEMBER, 7, site(owner=8))
    assert not roles.may_change_site(Role.MEMBER, 7, site(owner=None))
    assert roles.may_change_site(Role.ADMIN, 1, site(owner=None))
    assert not roles.may_change_site(Role.VIEWER, 7, site(owner=7))


def test_only_admins_and_members_scan_and_add() -> None:
    assert [roles.may_scan(r) for r in Role] == [True, True, False]
    assert [roles.may_add_site(r) for r in Role] == [True, True, False]


@pytest.mark.parametrize(
    "options",
    [
        SiteOptions(headers_env=(("Authorization", "TOKEN"),)),
        SiteOptions(password_env="PW"),
        SiteOptions(cert_path="/etc/ssl/c.pem"),
        SiteOptions(pkcs12_path="/k.p12"),
        SiteOptions(cacert_path="/etc/shadow"),
        SiteOptions(cert_hosts=("docs.example.org",)),
    ],
)
def test_a_member_may_not_set_header_or_auth_options(options: SiteOptions) -> None:
    spec = site(owner=7, options=options).spec
    with pytest.raises(HTTPException) as refused:
        roles.check_site_write(Role.MEMBER, 7, spec, None)
    assert refused.value.status_code == 403
    roles.check_site_write(Role.ADMIN, 1, spec, None)


def test_a_member_may_keep_the_header_options_an_admin_set() -> None:
    equipped = site(owner=7, options=SiteOptions(headers_env=(("Authorization", "TOKEN"),)))
    roles.check_site_write(Role.MEMBER, 7, equipped.spec, equipped)
    assert roles.admin_only_changes(site(owner=7).spec, equipped) == ["headers_env"]
