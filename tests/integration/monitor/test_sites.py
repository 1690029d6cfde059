"""Sites CRUD through the service, on SQLite and PostgreSQL, with schema migrations applied on open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import SiteOptions, SiteSpec, SiteStatus
from linkdoctor.monitor.service import Monitor

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def monitor(db_url: str) -> Iterator[Monitor]:
    m = Monitor.open(db_url, clock=lambda: NOW)
    yield m
    m.close()


def test_a_site_round_trips_with_every_setting(monitor: Monitor) -> None:
    spec = SiteSpec(
        name="docs",
        url="https://docs.example.org/",
        every=None,
        cron="0 3 * * *",
        budget=300,
        scope=(r"^https://docs\.example\.org/",),
        options=SiteOptions(
            max_pages=50,
            depth=3,
            exclude=("/private/",),
            accept=(429,),
            headers_env=(("Authorization", "DOCS_TOKEN"),),
            cert_path="/etc/certs/client.pem",
            key_path="/etc/certs/client.key",
            password_env="CLIENT_KEY_PASSWORD",
            cert_hosts=("docs.example.org",),
        ),
        notify=("json://127.0.0.1:9/hook",),
        alert_after=3,
    )
    site = monitor.add_site(spec)
    assert monitor.site(site.id).spec == spec
    assert monitor.site("docs").id == site.id


def test_an_interval_site_is_due_at_once_and_an_on_request_site_never(monitor: Monitor) -> None:
    daily = monitor.add_site(SiteSpec(name="a", url="https://a.example/", every=timedelta(days=1)))
    manual = monitor.add_site(SiteSpec(name="b", url="https://b.example/", every=None))
    assert daily.next_run_at == NOW
    assert manual.next_run_at is None


def test_a_cron_site_is_due_at_its_next_cron_time(monitor: Monitor) -> None:
    site = monitor.add_site(SiteSpec(name="a", url="https://a.example/", every=None, cron="0 3 * * *"))
    updated = monitor.update_site(site.id, site.spec)
    assert updated.next_run_at == NOW  # unchanged schedule keeps the due time
    changed = monitor.update_site(
        site.id, SiteSpec(name="a", url="https://a.example/", every=None, cron="30 4 * * *")
    )
    assert changed.next_run_at == datetime(2030, 3, 2, 4, 30, tzinfo=UTC)


def test_two_sites_cannot_share_a_name(monitor: Monitor) -> None:
    monitor.add_site(SiteSpec(name="docs", url="https://a.example/"))
    with pytest.raises(ConfigError, match="already exists"):
        monitor.add_site(SiteSpec(name="docs", url="https://b.example/"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SiteSpec(name="x", url="ftp://a.example/"), "http"),
        (SiteSpec(name="", url="https://a.example/"), "name"),
        (SiteSpec(name="x", url="https://a.example/", cron="not cron", every=None), "cron"),
        (SiteSpec(name="x", url="https://a.example/", cron="0 3 * * *"), "not both"),
        (SiteSpec(name="x", url="https://a.example/", budget=0), "budget"),
        (SiteSpec(name="x", url="https://a.example/", options=SiteOptions(exclude=("(",))), "regular"),
    ],
)
def test_a_bad_spec_is_a_config_error(monitor: Monitor, spec: SiteSpec, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        monitor.add_site(spec)


def test_a_removed_site_is_gone_with_its_scans(monitor: Monitor) -> None:
    site = monitor.add_site(SiteSpec(name="docs", url="https://a.example/"))
    scan = monitor.request_scan(site.id)
    monitor.remove_site(site.id)
    with pytest.raises(KeyError):
        monitor.site(site.id)
    with pytest.raises(KeyError):
        monitor.scan(scan.id)


def test_the_overview_lists_sites_by_name_never_scanned(monitor: Monitor) -> None:
    monitor.add_site(SiteSpec(name="zeta", url="https://z.example/"))
    monitor.add_site(SiteSpec(name="alpha", url="https://a.example/"))
    overview = monitor.sites()
    assert [o.site.name for o in overview] == ["alpha", "zeta"]
    assert {o.status for o in overview} == {SiteStatus.NEVER_SCANNED}


def test_requesting_a_scan_twice_queues_one(monitor: Monitor) -> None:
    site = monitor.add_site(SiteSpec(name="docs", url="https://a.example/"))
    first = monitor.request_scan(site.id)
    assert monitor.request_scan(site.id).id == first.id
    assert [s.id for s in monitor.scans(site.id)] == [first.id]
    assert monitor.sites()[0].status is SiteStatus.QUEUED  # only a scan a live process runs is scanning


def test_reopening_an_up_to_date_database_keeps_its_data(db_url: str) -> None:
    first = Monitor.open(db_url, clock=lambda: NOW)
    first.add_site(SiteSpec(name="docs", url="https://a.example/"))
    first.close()
    again = Monitor.open(db_url, clock=lambda: NOW)
    assert [o.site.name for o in again.sites()] == ["docs"]
    again.close()


def test_the_admin_is_created_once_with_a_printed_password(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKDOCTOR_ADMIN_PASSWORD", raising=False)
    password = monitor.ensure_admin()
    assert password is not None
    assert monitor.ensure_admin() is None
    user = monitor.authenticate("admin", password)
    assert user is not None and user.is_admin
    assert monitor.authenticate("admin", password + "x") is None
    assert monitor.authenticate("nobody", password) is None


def test_the_admin_password_can_come_from_the_environment(
    monitor: Monitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKDOCTOR_ADMIN_PASSWORD", "correct horse battery")
    assert monitor.ensure_admin() is None
    assert monitor.authenticate("admin", "correct horse battery") is not None


def test_an_api_token_names_its_user_until_revoked(monitor: Monitor) -> None:
    user = monitor.create_user("ci", "long enough password")
    token = monitor.create_token(user.id, "ci job")
    assert monitor.user_for_token(token) == user
    assert monitor.user_for_token(token + "x") is None
    monitor.revoke_tokens(user.id)
    assert monitor.user_for_token(token) is None


def test_a_service_secret_is_stable(monitor: Monitor) -> None:
    assert monitor.secret("session") == monitor.secret("session") != monitor.secret("other")


def test_the_overview_of_many_sites_takes_as_many_queries_as_that_of_one(monitor: Monitor) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def overview_queries() -> int:
        statements.clear()
        event.listen(monitor.engine, "before_cursor_execute", count)
        try:
            monitor.sites()
        finally:
            event.remove(monitor.engine, "before_cursor_execute", count)
        return len([q for q in statements if q.lstrip().upper().startswith("SELECT")])

    unreachable = monitor.add_site(SiteSpec(name="a-down", url="http://127.0.0.1:9/", every=None))
    for _ in range(3):  # done scans: the start page is broken (connection refused)
        monitor.run_scan(monitor.request_scan(unreachable.id).id, owner="test")
    one = overview_queries()
    monitor.add_site(SiteSpec(name="b-never", url="https://b.example/", every=None))
    failing = monitor.add_site(
        SiteSpec(
            name="c-failed",
            url="http://127.0.0.1:9/",
            every=None,
            options=SiteOptions(headers_env=(("Authorization", "LINKDOCTOR_TEST_UNSET_VARIABLE"),)),
        )
    )
    monitor.run_scan(monitor.request_scan(failing.id).id, owner="test")
    for n in range(10):
        monitor.add_site(SiteSpec(name=f"d-{n}", url=f"https://d{n}.example/", every=None))
    assert overview_queries() == one

    by_name = {o.site.name: o for o in monitor.sites()}
    assert (by_name["a-down"].status, by_name["a-down"].broken, by_name["a-down"].sparkline) == (
        SiteStatus.BROKEN,
        1,
        (1, 1, 1),
    )
    assert by_name["b-never"].status is SiteStatus.NEVER_SCANNED and by_name["b-never"].last_scan is None
    assert by_name["c-failed"].status is SiteStatus.FAILED and by_name["c-failed"].sparkline == ()
