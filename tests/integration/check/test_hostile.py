"""Hostile and awkward servers: each gets a clear result, never a hang or a crash."""

from __future__ import annotations

import time
from pathlib import Path

from harness.ports import Endpoint
from tests.support import hostile
from tests.support.hostile import HostileServer

from linkdoctor.config import CheckConfig, HostSettings, Method, Secret
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, CheckResult, ErrorKind

FAST = CheckConfig(retries=0, timeout=5.0, respect_robots=False)


async def check_one(url: str, config: CheckConfig = FAST) -> CheckResult:
    """Check a single URL given in a list (checked, not crawled)."""
    report = await check_async(config, collect_inputs([], url_lists=[("list", [url])]))
    (result,) = [r for r in report.results if r.url == url]
    return result


async def crawl(url: str, config: CheckConfig = FAST) -> dict[str, CheckResult]:
    report = await check_async(config, collect_inputs([url]))
    return {r.url: r for r in report.results}


async def test_429_with_retry_after_pauses_the_host_and_ends_ok(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=2, respect_robots=False)
    started = time.monotonic()
    result = await check_one(hostile_server.url("/rate-limited"), config)
    assert result.category is Category.OK
    times = hostile_server.hits.times("/rate-limited")
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95
    assert time.monotonic() - started < 5


async def test_429_with_http_date_retry_after(hostile_server: HostileServer) -> None:
    result = await check_one(
        hostile_server.url("/rate-limited-date"), CheckConfig(retries=2, respect_robots=False)
    )
    assert result.category is Category.OK


async def test_retry_after_pauses_every_request_to_that_host(hostile_server: HostileServer) -> None:
    page = hostile_server.url("/rate-limited")
    other = hostile_server.url("/ok")
    config = CheckConfig(retries=2, respect_robots=False, max_per_host=8)
    lists = [("list", [page] + [f"{other}?n={i}" for i in range(6)])]
    await check_async(config, collect_inputs([], url_lists=lists))
    first_429 = hostile_server.hits.times("/rate-limited")[0]
    ok_times = [h.at for h in hostile_server.hits.hits if h.path.startswith("/ok?")]
    later_ok = [t for t in ok_times if t > first_429 + 0.05]
    # Anything sent to the host after the 429 waited out the pause.
    assert all(t >= first_429 + 0.95 for t in later_ok)


async def test_rate_limit_outlasting_retries_is_unverified(hostile_server: HostileServer) -> None:
    result = await check_one(hostile_server.url("/always-429"), CheckConfig(retries=1, respect_robots=False))
    assert result.category is Category.UNVERIFIED
    assert result.diagnosis is not None and result.diagnosis.code == "http.rate-limited"


async def test_redirect_loop_is_reported_as_a_loop(hostile_server: HostileServer) -> None:
    result = await check_one(hostile_server.url("/loop-x"))
    assert result.category is Category.BROKEN
    assert result.error is ErrorKind.REDIRECT_LOOP
    assert result.diagnosis is not None and result.diagnosis.code == "http.redirect-loop"
    assert [r.url for r in result.redirects] == [hostile_server.url("/loop-x"), hostile_server.url("/loop-y")]


async def test_too_many_redirects(hostile_server: HostileServer) -> None:
    result = await check_one(hostile_server.url("/redirect-many"))
    assert result.error is ErrorKind.TOO_MANY_REDIRECTS
    assert result.diagnosis is not None and result.diagnosis.code == "http.too-many-redirects"


async def test_server_that_never_answers_times_out_within_the_limit(silent_server: Endpoint) -> None:
    started = time.monotonic()
    result = await check_one(silent_server.url("/"), CheckConfig(retries=0, timeout=1.0))
    assert time.monotonic() - started < 3.0
    assert result.error is ErrorKind.TIMEOUT
    assert result.diagnosis is not None and result.diagnosis.code == "net.timeout"


async def test_slow_drip_past_the_timeout_is_a_timeout(hostile_server: HostileServer) -> None:
    started = time.monotonic()
    pages = await crawl(
        hostile_server.url("/drip"), CheckConfig(retries=0, timeout=1.5, respect_robots=False)
    )
    assert time.monotonic() - started < 4.0
    result = pages[hostile_server.url("/drip")]
    assert result.category is Category.BROKEN
    assert result.error is ErrorKind.TIMEOUT


async def test_endless_body_stops_at_the_cap(hostile_server: HostileServer) -> None:
    started = time.monotonic()
    pages = await crawl(
        hostile_server.url("/endless"), CheckConfig(retries=0, max_body=1024 * 1024, respect_robots=False)
    )
    result = pages[hostile_server.url("/endless")]
    assert result.category is Category.OK
    assert "truncated" in result.error_message
    assert time.monotonic() - started < 10


async def test_gzip_bomb_is_read_only_up_to_the_cap(hostile_server: HostileServer) -> None:
    pages = await crawl(
        hostile_server.url("/gzip-bomb"),
        CheckConfig(retries=0, max_body=2 * 1024 * 1024, respect_robots=False),
    )
    result = pages[hostile_server.url("/gzip-bomb")]
    assert result.category is Category.OK
    assert "truncated" in result.error_message


async def test_connection_refused(closed_port: int) -> None:
    result = await check_one(f"http://127.0.0.1:{closed_port}/")
    assert result.error is ErrorKind.REFUSED
    assert result.diagnosis is not None and result.diagnosis.code == "net.refused"


async def test_reset_connection(hostile_server: HostileServer) -> None:
    result = await check_one(hostile_server.url("/reset"))
    assert result.category is Category.BROKEN
    assert result.error in (ErrorKind.RESET, ErrorKind.CONNECTION_CLOSED)


async def test_empty_reply_from_a_non_nginx_server_is_connection_closed(
    hostile_server: HostileServer,
) -> None:
    result = await check_one(hostile_server.url("/empty-reply"))
    assert result.category is Category.BROKEN
    assert result.precise_status is None
    assert result.diagnosis is not None and result.diagnosis.code == "net.connection-closed"


async def test_head_405_falls_back_to_get(hostile_server: HostileServer) -> None:
    result = await check_one(hostile_server.url("/head-405"))
    assert result.category is Category.OK
    methods = [h.method for h in hostile_server.hits.for_path("/head-405")]
    assert methods == ["HEAD", "GET"]


async def test_binary_served_as_html_does_not_crash(hostile_server: HostileServer) -> None:
    pages = await crawl(hostile_server.url("/binary-as-html"))
    assert pages[hostile_server.url("/binary-as-html")].category is Category.OK


async def test_latin1_page_links_are_found(hostile_server: HostileServer) -> None:
    pages = await crawl(hostile_server.url("/latin1"))
    assert hostile_server.url("/latin1") in pages
    assert len(pages) > 1


async def test_truncated_html_still_yields_its_links(hostile_server: HostileServer) -> None:
    pages = await crawl(hostile_server.url("/truncated"))
    assert len(pages) > 1


async def test_bot_protection_is_unverified(hostile_server: HostileServer) -> None:
    for path in ("/bot-protected", "/linkedin"):
        result = await check_one(hostile_server.url(path))
        assert result.category is Category.UNVERIFIED, path
        assert result.diagnosis is not None and result.diagnosis.code == "http.bot-protection"


async def test_basic_auth_per_host(hostile_server: HostileServer) -> None:
    denied = await check_one(hostile_server.url("/auth"))
    assert denied.diagnosis is not None and denied.diagnosis.code == "http.unauthorized"
    auth = HostSettings(("127.0.0.1",), basic_auth=(hostile.AUTH_USER, Secret(hostile.AUTH_PASSWORD)))
    allowed = await check_one(hostile_server.url("/auth"), CheckConfig(retries=0, host_settings=(auth,)))
    assert allowed.category is Category.OK


async def test_cookie_jar_file_is_sent(hostile_server: HostileServer, tmp_path: Path) -> None:
    jar = tmp_path / "cookies.txt"
    jar.write_text(
        "# Netscape HTTP Cookie File\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t0\t{hostile.COOKIE_NAME}\t{hostile.COOKIE_VALUE}\n"
    )
    result = await check_one(hostile_server.url("/cookie-required"), CheckConfig(retries=0, cookie_jar=jar))
    assert result.category is Category.OK


async def test_crawler_trap_is_stopped_by_max_pages(hostile_server: HostileServer) -> None:
    started = time.monotonic()
    report = await check_async(
        CheckConfig(retries=0, max_pages=25, respect_robots=False),
        collect_inputs([hostile_server.url(hostile.TRAP_START)]),
    )
    assert report.summary.pages_crawled == 25
    assert any("--max-pages" in w for w in report.summary.warnings)
    assert time.monotonic() - started < 20


async def test_growing_url_trap_is_stopped_by_the_url_length_cap(hostile_server: HostileServer) -> None:
    report = await check_async(
        # the path defences (more/more/more, the path depth) would stop it first: off to test the length cap
        CheckConfig(retries=0, max_url_length=200, respect_robots=False, trap_depth=0, max_path_depth=0),
        collect_inputs([hostile_server.url("/huge-url-trap/")]),
    )
    too_long = [r for r in report.results if r.diagnosis and r.diagnosis.code == "url.too-long"]
    assert len(too_long) == 1
    assert too_long[0].category is Category.EXCLUDED


async def test_method_flag_overrides_head_then_get(hostile_server: HostileServer) -> None:
    await check_one(hostile_server.url("/ok"), CheckConfig(retries=0, method=Method.GET))
    assert [h.method for h in hostile_server.hits.for_path("/ok")] == ["GET"]


async def test_live_progress_renders_on_a_terminal(hostile_server: HostileServer) -> None:
    import io

    from rich.console import Console

    from linkdoctor.report.console import live_progress

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    report = await check_async(
        FAST,
        collect_inputs([hostile_server.url("/latin1")]),
        around=lambda crawler: live_progress(crawler.progress, console, enabled=True),
    )
    assert report.summary.total > 1
    assert "links" in out.getvalue()
