"""Against a real nginx serving a generated site: exactly the known broken links, every referrer and
line, and the same answer from the folder on disk as from crawling it over HTTP."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from harness.sites import GeneratedSite, site_server_block

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, Report

pytestmark = pytest.mark.nginx
CONFIG = CheckConfig(retries=0)


def broken(report: Report) -> dict[str, set[tuple[str, int | None]]]:
    return {
        r.url: {(ref.url, ref.line) for ref in r.referrers}
        for r in report.results
        if r.category is Category.BROKEN
    }


async def test_crawl_finds_exactly_the_known_broken_links(generated_site: GeneratedSite) -> None:
    report = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    assert set(broken(report)) == generated_site.truth.broken_urls(generated_site.base_url)


async def test_every_referring_page_and_line_is_listed(generated_site: GeneratedSite) -> None:
    report = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    found = broken(report)
    base = generated_site.base_url.rstrip("/")
    for path, referrers in generated_site.truth.referrers.items():
        expected = {(base + page, line) for page, line in referrers}
        assert found[base + path] == expected, path


async def test_redirect_chains_are_redirected_not_broken(generated_site: GeneratedSite) -> None:
    report = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    by_url = {r.url: r for r in report.results}
    for entry, target in generated_site.truth.redirect_targets.items():
        result = by_url[generated_site.url(entry)]
        assert result.category is Category.REDIRECTED
        assert result.final_url == generated_site.url(target)
        assert len(result.redirects) >= 1


async def test_known_diagnoses(generated_site: GeneratedSite) -> None:
    report = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    codes = {r.diagnosis.code for r in report.results if r.category is Category.BROKEN and r.diagnosis}
    assert {
        "http.not-found",
        "http.gone",
        "http.server-error",
        "http.redirect-loop",
        "http.fragment-missing",
    } <= codes


async def test_mailto_links_are_excluded_not_broken(generated_site: GeneratedSite) -> None:
    report = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    mailto = [r for r in report.results if r.url.startswith("mailto:")]
    assert mailto
    assert all(r.category is Category.EXCLUDED for r in mailto)


async def test_each_unique_url_is_requested_once(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    from harness.ports import free_port
    from harness.sitegen import SiteSpec, generate_site

    truth = generate_site(SiteSpec(pages=20, seed=3), tmp_path)
    server = nginx_factory(site_server_block(tmp_path, free_port()), "once", access_log=True)
    await check_async(CONFIG, collect_inputs([server.url("/")]))
    requests = Counter((e.method, e.uri) for e in server.access_log_entries())
    # A redirect chain's last hop is part of checking the chain, so its target may be asked twice;
    # a failed HEAD is confirmed once with GET, which the method tells apart.
    allowed = {key: 2 if key[1] in truth.redirect_targets.values() else 1 for key in requests}
    assert {key: n for key, n in requests.items() if n > allowed[key]} == {}


async def test_folder_on_disk_equals_crawl_over_http(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    from harness.ports import free_port
    from harness.sitegen import SiteSpec, generate_site

    site = tmp_path / "public"
    generate_site(SiteSpec(pages=30, seed=11), site)
    # The same files, served as plain static files (no server-side rules).
    port = free_port()
    server = nginx_factory(f"server {{ listen 127.0.0.1:{port}; root {site}; }}", "static")
    base = server.url("/")
    over_http = broken(await check_async(CONFIG, collect_inputs([base])))
    on_disk = broken(await check_async(CONFIG, collect_inputs([str(site)], base_url=base)))
    assert over_http
    assert on_disk == over_http


async def test_folder_without_base_url_uses_file_urls(tmp_path: Path) -> None:
    from harness.sitegen import SiteSpec, generate_site

    site = tmp_path / "public"
    truth = generate_site(SiteSpec(pages=15, seed=5, redirect_chains=0), site)
    report = await check_async(CONFIG, collect_inputs([str(site)]))
    root = site.resolve().as_uri()
    found = {url.removeprefix(root) for url in broken(report)}
    # Without a server, every target that is not a file (410, 500, loops) is missing on disk.
    assert set(truth.broken) <= found
    assert all(url.startswith("file://") for url in broken(report))


async def test_a_crawl_big_enough_for_the_parser_process_finds_exactly_the_truth(
    nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    """Past 30 documents the pages are parsed, and their links resolved, in the second process."""
    from harness.ports import free_port
    from harness.sitegen import SiteSpec, generate_site

    truth = generate_site(SiteSpec(pages=400, seed=7), tmp_path)
    server = nginx_factory(site_server_block(tmp_path, free_port()), "parser-process")
    base = server.url("/")
    report = await check_async(CONFIG, collect_inputs([base]))
    root = base.rstrip("/")
    expected = {
        root + path: {(root + page, line) for page, line in refs} for path, refs in truth.referrers.items()
    }
    assert broken(report) == expected
    assert report.summary.pages_crawled >= 400
