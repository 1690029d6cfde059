"""The test harness itself: nginx control, the generated site and its ground truth, the hostile server."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path

import aiohttp
import pytest
from harness import nginx
from harness.nginx import NginxFactory, NginxServer, listen_ports, quote, require_nginx, start_nginx
from harness.ports import Endpoint, free_port, silent_listener
from harness.sitegen import BrokenKind, SiteSpec, generate_site, load_ground_truth
from harness.sites import GeneratedSite
from tests.support import hostile
from tests.support.pki import PKI
from yarl import URL

pytestmark = pytest.mark.timeout(60)

_TIMEOUT = aiohttp.ClientTimeout(total=10)
_REFERENCE = re.compile(r'(?:href|src)="([^"]*)"|url\("([^"]*)"\)')
_HREF = re.compile(r'href="([^"]*)"')


async def _get(url: str, *, allow_redirects: bool = False, method: str = "GET") -> tuple[int, str, str]:
    """(status, Location header, body text) of one request."""
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.request(method, url, allow_redirects=allow_redirects) as response,
    ):
        body = await response.text(errors="replace")
        return response.status, response.headers.get("Location", ""), body


def _file_of(site: GeneratedSite, page: str) -> Path:
    return site.root / ("index.html" if page == "/" else page.lstrip("/"))


# -- nginx control -------------------------------------------------------------------------------


async def test_nginx_serves_the_generated_index(generated_site: GeneratedSite) -> None:
    status, _, body = await _get(generated_site.base_url)
    assert status == 200
    assert "<title>Home</title>" in body


def test_stop_leaves_no_process_and_no_pid_file(nginx_bin: str, tmp_path: Path) -> None:
    port = free_port()
    server = start_nginx(f"server {{ listen 127.0.0.1:{port}; return 204; }}", tmp_path, nginx_bin=nginx_bin)
    pid = server.pid
    assert pid is not None
    assert server.pid_file.read_text().strip() == str(pid)
    server.stop()
    assert not server.pid_file.exists()
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_stop_kills_nginx_when_the_graceful_quit_hangs(
    nginx_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nginx, "STOP_TIMEOUT", 0.5)
    with silent_listener() as upstream:
        port = free_port()
        blocks = (
            f"server {{ listen 127.0.0.1:{port};"
            f" location / {{ proxy_pass http://127.0.0.1:{upstream}; proxy_read_timeout 60s; }} }}"
        )
        server = start_nginx(blocks, tmp_path, nginx_bin=nginx_bin)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            time.sleep(0.2)  # the request is now waiting on the silent upstream
            started = time.monotonic()
            server.stop()
            elapsed = time.monotonic() - started
    assert not server.running
    assert 0.4 < elapsed < 3
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_stop_twice_is_harmless(nginx_bin: str, tmp_path: Path) -> None:
    with start_nginx(
        f"server {{ listen 127.0.0.1:{free_port()}; return 204; }}", tmp_path, nginx_bin=nginx_bin
    ) as server:
        server.stop()
    server.stop()
    assert not server.running


def test_invalid_config_raises_with_nginx_diagnostic(nginx_bin: str, tmp_path: Path) -> None:
    blocks = f"server {{ listen 127.0.0.1:{free_port()}; no_such_directive on; }}"
    with pytest.raises(RuntimeError, match="no_such_directive"):
        start_nginx(blocks, tmp_path, nginx_bin=nginx_bin)


def test_missing_nginx_fails_with_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(nginx, "NGINX_CANDIDATES", ())
    with pytest.raises(RuntimeError, match="apt-get install nginx"):
        require_nginx()


def test_port_in_use_raises_with_the_error_log_tail(nginx_bin: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="Address already in use"):
            start_nginx(f"server {{ listen 127.0.0.1:{port}; return 204; }}", tmp_path, nginx_bin=nginx_bin)


async def test_tls_listener_is_detected_and_served(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    pki = PKI(tmp_path / "pki")
    cert = pki.server()
    blocks = (
        f"server {{ listen 127.0.0.1:{free_port()} ssl; ssl_certificate {quote(cert.chain)};"
        f" ssl_certificate_key {quote(cert.key or '')}; return 200 'secure'; }}"
    )
    server = nginx_factory(blocks, "tls")
    context = ssl.create_default_context(cafile=str(pki.root.cert))
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(server.tls_url("/"), ssl=context) as response,
    ):
        assert (response.status, await response.text()) == (200, "secure")
    assert server.port == server.tls_port


def test_listen_ports_are_read_from_the_config(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "http {\n server { listen 127.0.0.1:8443 ssl; listen 127.0.0.1:8080 default_server; }\n"
        " server { listen 9090; }\n}\n"
    )
    assert listen_ports(conf) == (8080, 8443)


async def test_access_log_records_each_request(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>a</p>")
    blocks = f"server {{ listen 127.0.0.1:{free_port()}; root {quote(tmp_path)}; }}"
    server: NginxServer = nginx_factory(blocks, "access", access_log=True)
    await _get(server.url("/a.html"))
    await _get(server.url("/b.html"))
    entries = server.access_log_entries()
    assert [(e.method, e.uri, e.status) for e in entries] == [
        ("GET", "/a.html", 200),
        ("GET", "/b.html", 404),
    ]


# -- the generated site --------------------------------------------------------------------------


async def test_missing_file_answers_404(generated_site: GeneratedSite) -> None:
    missing = sorted(t for t, k in generated_site.truth.kinds.items() if k is BrokenKind.NOT_FOUND)
    assert missing
    for target in missing:
        assert (await _get(generated_site.url(target)))[0] == 404, target


async def test_gone_route_answers_410(generated_site: GeneratedSite) -> None:
    assert (await _get(generated_site.url("/gone-1")))[0] == 410


async def test_error_route_answers_500(generated_site: GeneratedSite) -> None:
    assert (await _get(generated_site.url("/error-2")))[0] == 500


async def test_redirect_loop_really_loops(generated_site: GeneratedSite) -> None:
    status_a, location_a, _ = await _get(generated_site.url("/loop-a"))
    status_b, location_b, _ = await _get(generated_site.url("/loop-b"))
    assert (status_a, URL(location_a).path) == (302, "/loop-b")
    assert (status_b, URL(location_b).path) == (302, "/loop-a")


async def test_every_redirect_chain_ends_in_200_at_its_recorded_target(generated_site: GeneratedSite) -> None:
    truth = generated_site.truth
    assert truth.redirected
    for entry in sorted(truth.redirected):
        url = URL(generated_site.url(entry))
        for _ in range(10):
            status, location, _ = await _get(str(url))
            if status not in (301, 302, 307, 308):
                break
            url = url.join(URL(location))
        assert (status, url.path) == (200, truth.redirect_targets[entry]), entry


async def test_every_ok_page_and_asset_answers_200(generated_site: GeneratedSite) -> None:
    truth = generated_site.truth
    for path in sorted(truth.ok_pages | truth.ok_assets):
        assert (await _get(generated_site.url(path)))[0] == 200, path


async def test_broken_fragments_point_at_existing_pages_without_that_id(
    generated_site: GeneratedSite,
) -> None:
    fragments = [t for t, k in generated_site.truth.kinds.items() if k is BrokenKind.MISSING_FRAGMENT]
    assert fragments
    for target in fragments:
        path, fragment = target.split("#")
        status, _, body = await _get(generated_site.url(path))
        assert status == 200
        assert f'id="{fragment}"' not in body


def test_referrer_lines_contain_a_reference_resolving_to_the_broken_target(
    generated_site: GeneratedSite,
) -> None:
    truth = generated_site.truth
    for target, referrers in truth.referrers.items():
        assert referrers, target
        for page, line in referrers:
            text = _file_of(generated_site, page).read_text().splitlines()[line - 1]
            base = URL("http://site" + page)
            resolved = set()
            for match in _REFERENCE.finditer(text):
                joined = base.join(URL(match.group(1) or match.group(2)))
                resolved.add(joined.path + (f"#{joined.fragment}" if joined.fragment else ""))
            assert target in resolved, f"{page}:{line} {text!r} does not reference {target}"


def test_every_page_is_reachable_from_the_index(generated_site: GeneratedSite) -> None:
    seen, queue = {"/"}, ["/"]
    while queue and len(seen) <= len(generated_site.truth.ok_pages):
        page = queue.pop()
        for href in _HREF.findall(_file_of(generated_site, page).read_text()):
            path = URL("http://site" + page).join(URL(href)).path
            if path.endswith(".html") and path not in seen and _file_of(generated_site, path).exists():
                seen.add(path)
                queue.append(path)
    assert seen == generated_site.truth.ok_pages


def test_ground_truth_file_round_trips(generated_site: GeneratedSite) -> None:
    assert load_ground_truth(generated_site.root) == generated_site.truth


def test_broken_urls_are_absolute_under_the_base(generated_site: GeneratedSite) -> None:
    urls = generated_site.truth.broken_urls(generated_site.base_url)
    assert len(urls) == len(generated_site.truth.broken)
    assert f"http://127.0.0.1:{generated_site.server.port}/loop-a" in urls


def test_fixture_site_has_every_kind_of_broken_link(generated_site: GeneratedSite) -> None:
    assert set(generated_site.truth.kinds.values()) == set(BrokenKind)


def test_some_broken_targets_have_several_referrers(generated_site: GeneratedSite) -> None:
    assert any(len(referrers) > 1 for referrers in generated_site.truth.referrers.values())


def test_mailto_links_are_present_but_not_broken(generated_site: GeneratedSite) -> None:
    assert "mailto:" in (generated_site.root / "index.html").read_text()
    assert not any(target.startswith("mailto:") for target in generated_site.truth.broken)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_spec_generates_identical_bytes(tmp_path: Path) -> None:
    spec = SiteSpec(pages=60, seed=11)
    generate_site(spec, tmp_path / "a")
    generate_site(spec, tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_another_seed_generates_another_site(tmp_path: Path) -> None:
    generate_site(SiteSpec(pages=60, seed=11), tmp_path / "a")
    generate_site(SiteSpec(pages=60, seed=12), tmp_path / "b")
    assert _tree(tmp_path / "a") != _tree(tmp_path / "b")


def test_zero_broken_share_generates_no_broken_links(tmp_path: Path) -> None:
    truth = generate_site(SiteSpec(pages=30, broken_share=0.0), tmp_path)
    assert truth.broken == frozenset()


def test_a_site_without_server_errors_has_no_500_targets(tmp_path: Path) -> None:
    truth = generate_site(SiteSpec(pages=200, server_errors=False), tmp_path)
    assert truth.broken
    assert BrokenKind.SERVER_ERROR not in set(truth.kinds.values())


def test_command_line_writes_the_site_and_its_ground_truth(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "harness" / "sitegen.py"
    done = subprocess.run(
        [sys.executable, str(script), "--pages", "7", "--out", str(tmp_path), "--seed", "3"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "wrote 8 pages" in done.stdout
    assert load_ground_truth(tmp_path) == generate_site(SiteSpec(pages=7, seed=3), tmp_path / "again")


def test_two_thousand_pages_generate_within_two_seconds(tmp_path: Path) -> None:
    # CPU time of this process, not wall time: the machine is shared, and waiting for other
    # processes says nothing about the generator.
    started = time.process_time()
    truth = generate_site(SiteSpec(pages=2000), tmp_path)
    assert time.process_time() - started < 2.0
    assert len(truth.ok_pages) == 2001


# -- the hostile server --------------------------------------------------------------------------


async def test_rate_limited_answers_429_then_200(hostile_server: hostile.HostileServer) -> None:
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as session:
        async with session.get(hostile_server.url("/rate-limited")) as first:
            assert (first.status, first.headers["Retry-After"]) == (429, "1")
        async with session.get(hostile_server.url("/rate-limited")) as second:
            assert second.status == 200
    assert len(hostile_server.hits.times("/rate-limited")) == 2


async def test_rate_limit_counts_each_query_separately(hostile_server: hostile.HostileServer) -> None:
    assert (await _get(hostile_server.url("/rate-limited?k=a")))[0] == 429
    assert (await _get(hostile_server.url("/rate-limited?k=b")))[0] == 429
    assert (await _get(hostile_server.url("/rate-limited?k=a")))[0] == 200


async def test_rate_limited_date_sends_a_future_http_date(hostile_server: hostile.HostileServer) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(hostile_server.url("/rate-limited-date")) as response,
    ):
        assert response.status == 429
        retry_at = parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 0 < retry_at - time.time() <= 2


@pytest.mark.parametrize("path", ["/slow", "/drip", "/endless"])
async def test_handler_stops_when_the_client_gives_up(
    hostile_server: hostile.HostileServer, path: str
) -> None:
    with pytest.raises(asyncio.TimeoutError):
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session,
            session.get(hostile_server.url(path)) as response,
        ):
            await response.read()
    for _ in range(50):
        if hostile_server.hits.active == 0:
            break
        await asyncio.sleep(0.05)
    assert hostile_server.hits.active == 0


async def test_drip_sends_one_byte_per_interval(hostile_server: hostile.HostileServer) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(hostile_server.url("/drip")) as response,
    ):
        started = time.monotonic()
        first = await response.content.read(1)
        second = await response.content.read(1)
        assert (first, second) == (b"<", b"<")
        assert time.monotonic() - started >= hostile.DRIP_INTERVAL * 0.8


def test_gzip_bomb_is_a_valid_gzip_stream_of_zeros() -> None:
    size = 16 * 1024 * 1024
    bomb = hostile.gzip_bomb(size)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    produced = 0
    data = bomb
    for _ in range(size // 65536 + 2):
        chunk = decompressor.decompress(data, 65536)
        assert chunk.count(0) == len(chunk)
        produced += len(chunk)
        data = decompressor.unconsumed_tail
        if decompressor.eof:
            break
    assert decompressor.eof
    assert produced == size


async def test_gzip_bomb_is_served_compressed_and_small(hostile_server: hostile.HostileServer) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT, auto_decompress=False) as session,
        session.get(hostile_server.url("/gzip-bomb")) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert int(response.headers["Content-Length"]) < 2 * 1024 * 1024


async def test_reset_route_resets_the_connection(hostile_server: hostile.HostileServer) -> None:
    with pytest.raises(aiohttp.ClientOSError):
        await _get(hostile_server.url("/reset"))


async def test_empty_reply_closes_without_a_status_line(hostile_server: hostile.HostileServer) -> None:
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await _get(hostile_server.url("/empty-reply"))


async def test_head_405_refuses_head_but_serves_get(hostile_server: hostile.HostileServer) -> None:
    assert (await _get(hostile_server.url("/head-405"), method="HEAD"))[0] == 405
    assert (await _get(hostile_server.url("/head-405")))[0] == 200


async def test_redirect_many_is_thirty_hops_to_ok(hostile_server: hostile.HostileServer) -> None:
    url, hops = URL(hostile_server.url("/redirect-many")), 0
    for _ in range(hostile.REDIRECT_MANY + 5):
        status, location, _ = await _get(str(url))
        if status != 302:
            break
        url, hops = url.join(URL(location)), hops + 1
    assert (hops, url.path, status) == (hostile.REDIRECT_MANY, "/ok", 200)


async def test_hostile_redirect_loop_alternates_between_two_urls(
    hostile_server: hostile.HostileServer,
) -> None:
    locations = [
        (await _get(hostile_server.url(path)))[1] for path in ("/redirect-loop", "/loop-x", "/loop-y")
    ]
    assert locations == ["/loop-x", "/loop-y", "/loop-x"]


async def test_always_429_never_recovers(hostile_server: hostile.HostileServer) -> None:
    statuses = [(await _get(hostile_server.url("/always-429")))[0] for _ in range(3)]
    assert statuses == [429, 429, 429]


async def test_bot_protection_sends_a_cloudflare_challenge_header(
    hostile_server: hostile.HostileServer,
) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(hostile_server.url("/bot-protected")) as response,
    ):
        assert (response.status, response.headers["cf-mitigated"]) == (403, "challenge")


async def test_status_quirks(hostile_server: hostile.HostileServer) -> None:
    assert (await _get(hostile_server.url("/linkedin")))[0] == 999
    assert (await _get(hostile_server.url("/bot-protected")))[0] == 403
    assert (await _get(hostile_server.url("/auth")))[0] == 401
    assert (await _get(hostile_server.url("/cookie-required")))[0] == 403


async def test_auth_and_cookie_routes_accept_the_right_credentials(
    hostile_server: hostile.HostileServer,
) -> None:
    auth = {"Authorization": hostile.basic_authorization()}
    cookies = {hostile.COOKIE_NAME: hostile.COOKIE_VALUE}
    async with aiohttp.ClientSession(timeout=_TIMEOUT, cookies=cookies) as session:
        async with session.get(hostile_server.url("/auth"), headers=auth) as response:
            assert response.status == 200
        async with session.get(hostile_server.url("/cookie-required")) as response:
            assert response.status == 200


async def test_calendar_trap_links_to_the_next_day(hostile_server: hostile.HostileServer) -> None:
    _, _, body = await _get(hostile_server.url("/trap/2026/01/31"))
    assert _HREF.findall(body) == ["/trap/2026/02/01", "/trap/2026/02/01", "/trap/2027/01/01"]


async def test_huge_url_trap_links_one_level_deeper(hostile_server: hostile.HostileServer) -> None:
    _, _, body = await _get(hostile_server.url("/huge-url-trap/more/more/"))
    assert _HREF.findall(body) == ["more/"]


async def test_latin1_page_declares_its_charset(hostile_server: hostile.HostileServer) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(hostile_server.url("/latin1")) as response,
    ):
        assert response.charset == "iso-8859-1"
        assert "Caf\u00e9" in await response.text()


async def test_truncated_page_ends_mid_tag_after_its_links(hostile_server: hostile.HostileServer) -> None:
    _, _, body = await _get(hostile_server.url("/truncated"))
    assert _HREF.findall(body) == ["/ok", "/latin1"]
    assert body.endswith("<a hre")


async def test_binary_as_html_is_labelled_html_but_is_not_text(hostile_server: hostile.HostileServer) -> None:
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.get(hostile_server.url("/binary-as-html")) as response,
    ):
        assert response.content_type == "text/html"
        with pytest.raises(UnicodeDecodeError):
            (await response.read()).decode("utf-8")


async def test_silent_server_accepts_but_never_answers(silent_server: Endpoint) -> None:
    with pytest.raises(asyncio.TimeoutError):
        await _get_with_timeout(silent_server.url("/"), 0.3)


async def test_closed_port_refuses_connections(closed_port: int) -> None:
    with pytest.raises(aiohttp.ClientConnectorError):
        await _get(f"http://127.0.0.1:{closed_port}/")


async def _get_with_timeout(url: str, seconds: float) -> None:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
        session.get(url),
    ):
        pass
