"""The monitor's pure parts: diff sorting, alert composition, schedules, hashing and the frontier codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkdoctor.classify.codes import make
from linkdoctor.codec import result_from_json, result_to_json
from linkdoctor.engine.frontier import Frontier, FrontierLink, FrontierResource
from linkdoctor.errors import ConfigError
from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
    Summary,
)
from linkdoctor.monitor import accounts, alerts, grouping
from linkdoctor.monitor.diff import compare, compare_problems
from linkdoctor.monitor.model import DiffEntry, Scan, ScanProblem, ScanState, Site, SiteSpec
from linkdoctor.monitor.schedule import check_schedule, next_due
from linkdoctor.problems import group_problems

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def e(url: str, category: Category, final_url: str = "") -> DiffEntry:
    return DiffEntry(url, category, None, final_url, None)


def test_the_diff_sorts_links_into_new_fixed_still_broken_and_new_redirects() -> None:
    before = {
        "u/fixed": e("u/fixed", Category.BROKEN),
        "u/still": e("u/still", Category.BROKEN),
        "u/moved": e("u/moved", Category.REDIRECTED, "u/a"),
        "u/gone": e("u/gone", Category.BROKEN),
    }
    after = {
        "u/fixed": e("u/fixed", Category.OK),
        "u/still": e("u/still", Category.BROKEN),
        "u/new": e("u/new", Category.BROKEN),
        "u/moved": e("u/moved", Category.REDIRECTED, "u/b"),
        "u/redirect": e("u/redirect", Category.REDIRECTED, "u/a"),
    }
    diff = compare(2, 1, before, after)
    assert [x.url for x in diff.new_broken] == ["u/new"]
    assert [x.url for x in diff.fixed] == ["u/fixed"]
    assert [x.url for x in diff.still_broken] == ["u/still"]
    assert [x.url for x in diff.new_redirects] == ["u/moved", "u/redirect"]
    assert diff.changed


def test_a_first_scan_finds_every_broken_link_new() -> None:
    diff = compare(1, None, {}, {"u/x": e("u/x", Category.BROKEN)})
    assert [x.url for x in diff.new_broken] == ["u/x"] and diff.previous_scan_id is None


def scan(state: ScanState) -> Scan:
    return Scan(
        7,
        1,
        state,
        T0,
        T0,
        T0,
        Summary(total=10, broken=1),
        10,
        1,
        error="boom" if state is ScanState.FAILED else "",
    )


def site(notify: tuple[str, ...]) -> Site:
    return Site(1, SiteSpec(name="docs", url="https://docs.example/", notify=notify), T0, None)


def problems(*results: CheckResult) -> tuple[ScanProblem, ...]:
    return grouping.views(group_problems(results))


def gone(url: str, *pages: tuple[str, int]) -> CheckResult:
    referrers = tuple(Referrer(page, line) for page, line in pages)
    return CheckResult(url, Category.BROKEN, 404, diagnosis=make("http.not-found"), referrers=referrers)


def test_no_alert_without_targets_or_news() -> None:
    broken = problems(gone("https://docs.example/x", ("https://docs.example/", 3)))
    assert (
        alerts.compose(site(()), scan(ScanState.DONE), alerts.News(alerting=broken), dashboard_url=None)
        is None
    )
    assert (
        alerts.compose(site(("json://h",)), scan(ScanState.DONE), alerts.News(), dashboard_url=None) is None
    )


def test_an_alert_counts_problems_names_where_each_was_found_and_links_to_the_dashboard() -> None:
    results = [
        gone(f"https://docs.example/changelog.html#v{i}", (f"https://docs.example/p{i % 12}.html", 10 + i))
        for i in range(50)
    ]
    results.append(gone("https://docs.example/y", ("https://docs.example/", 4)))
    grouped = group_problems(results)
    alert = alerts.compose(
        site(("json://h",)),
        scan(ScanState.DONE),
        alerts.News(
            problems=grouping.summarize(7, grouped),
            new=1,
            alerting=grouping.views(grouped[:1]),
            recovered=problems(gone("https://docs.example/z", ("https://docs.example/", 9))),
        ),
        dashboard_url="https://ld.example/",
    )
    assert alert is not None
    assert alert.title == "linkdoctor: 2 problems on docs, 1 new since the last scan"
    lines = alert.body.splitlines()
    assert "2 problems: 2 missing pages (linked 51 times from 13 pages)" in lines
    assert "- missing page: https://docs.example/changelog.html (http.not-found: " in alert.body
    # the pages it was found on, with lines: the first three pages, then how many more
    assert "  linked 50 times from 12 pages, through #v0, #v1, #v10 and 47 more fragments" in lines
    page = "  found on https://docs.example/p0.html line 10 (#v0), line 22 (#v12), line 34 (#v24) and 2 more"
    assert page in lines
    assert "  … and 9 more pages" in lines
    assert "Fixed (1):" in alert.body and "https://docs.example/z" in alert.body
    assert alert.body.endswith("Details: https://ld.example/scans/7")


def test_a_first_scan_says_so_instead_of_counting_everything_new() -> None:
    grouped = group_problems([gone("https://docs.example/x", ("https://docs.example/", 3))])
    alert = alerts.compose(
        site(("json://h",)),
        scan(ScanState.DONE),
        alerts.News(grouping.summarize(7, grouped), None, alerting=grouping.views(grouped)),
        dashboard_url=None,
    )
    assert alert is not None and alert.title == "linkdoctor: 1 problem on docs, the first scan"


def test_a_failed_scan_alerts_with_its_error() -> None:
    alert = alerts.compose(site(("json://h",)), scan(ScanState.FAILED), alerts.News(), dashboard_url=None)
    assert alert is not None and "failed" in alert.title and "Error: boom" in alert.body


def test_problems_are_new_only_when_their_target_and_cause_are_new() -> None:
    before = problems(
        *(gone(f"https://e.org/a.html#s{i}", ("https://e.org/", i)) for i in range(1051)),
        gone("https://e.org/fixed.html", ("https://e.org/", 1)),
    )
    after = problems(
        *(gone(f"https://e.org/a.html#t{i}", ("https://e.org/", i)) for i in range(1051)),
        gone("https://e.org/new.html", ("https://e.org/", 1)),
    )
    new, still, gone_keys = compare_problems(after, {p.key for p in before})
    assert [p.url for p in new] == ["https://e.org/new.html"]
    assert [(p.url, p.links) for p in still] == [("https://e.org/a.html", 1051)]
    assert list(gone_keys) == [p.key for p in before if p.url == "https://e.org/fixed.html"]


def test_schedules() -> None:
    assert next_due(timedelta(hours=1), None, T0) == T0 + timedelta(hours=1)
    assert next_due(None, "0 3 * * *", T0) == datetime(2030, 3, 2, 3, 0, tzinfo=UTC)
    assert next_due(None, None, T0) is None
    with pytest.raises(ConfigError):
        check_schedule(timedelta(seconds=5), None)


def test_passwords_and_tokens_hash_one_way() -> None:
    stored = accounts.hash_password("open sesame")
    assert "open sesame" not in stored
    assert accounts.check_password("open sesame", stored)
    assert not accounts.check_password("open sesame!", stored)
    assert not accounts.check_password("x", "garbage")
    token = accounts.new_token()
    assert token.startswith(accounts.TOKEN_PREFIX) and accounts.hash_token(token) != token


def test_a_check_result_survives_the_json_codec() -> None:
    result = CheckResult(
        url="https://a.example/x#f",
        category=Category.BROKEN,
        status=400,
        reason="Bad Request",
        precise_status=496,
        final_url="https://a.example/x",
        redirects=(Redirect("https://a.example/old", 301),),
        elapsed_ms=12.5,
        error=ErrorKind.TLS,
        error_message="no client certificate",
        diagnosis=Diagnosis("nginx.496", "no certificate", ("send one",)),
        referrers=(Referrer("https://a.example/", 3, "x"),),
        findings=(Finding("tls.x", Severity.ERROR, "client", "bad", (("k", "v"),), ("fix",)),),
    )
    assert result_from_json(result_to_json(result)) == result


def test_a_frontier_survives_the_json_codec() -> None:
    ok = CheckResult("https://a.example/", Category.OK, status=200)
    frontier = Frontier(
        resources=(
            FrontierResource("https://a.example/", 0, True, True, False, True, ok, ("top",)),
            FrontierResource("https://a.example/b", 1, True),
        ),
        links=(
            FrontierLink(
                "https://a.example/b", "", "https://a.example/b", (Referrer("https://a.example/", 1, "b"),)
            ),
        ),
        scope_prefixes=("https://a.example/",),
        pages_started=1,
    )
    assert Frontier.from_json(frontier.to_json()) == frontier
    assert frontier.pending == 1


def test_an_interval_longer_than_a_year_is_refused() -> None:
    from datetime import timedelta

    from linkdoctor.errors import ConfigError
    from linkdoctor.monitor.schedule import check_schedule

    with pytest.raises(ConfigError, match="at most a year"):
        check_schedule(timedelta(days=30000), None)
    check_schedule(timedelta(days=365), None)
