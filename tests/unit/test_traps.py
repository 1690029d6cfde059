"""The trap guard (linkdoctor.engine.traps): each defence turns away its trap, counts what it turned away
under its own code, and lets a real site's URLs through."""

from __future__ import annotations

from datetime import date, timedelta

from linkdoctor.config import CheckConfig
from linkdoctor.engine.traps import ROBOTS_MAX_CHARS, TrapGuard, TrapLimits, robots_rules, trap_limits
from linkdoctor.models import Category, CheckResult, Diagnosis

SITE = "https://docs.test"
DEFAULTS = trap_limits(CheckConfig())


def _codes(guard: TrapGuard) -> dict[str, int]:
    return {item.code: item.count for item in guard.left_out()}


def _crawl_chain(guard: TrapGuard, urls: list[str]) -> int:
    """Admit ``urls`` as a chain (each found on the previous one); how many were taken."""
    return sum(guard.admit(url, depth=depth, crawl=True) for depth, url in enumerate(urls, start=1))


def test_a_calendar_that_links_to_the_next_day_forever_is_cut_by_its_depth() -> None:
    guard = TrapGuard(DEFAULTS)
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(200)]
    taken = _crawl_chain(guard, [f"{SITE}/trap/{d:%Y/%m/%d}" for d in days])
    assert taken == DEFAULTS.trap_depth + 1
    assert _codes(guard) == {"crawl.trap-suspected": 200 - taken}


def test_a_long_numbered_chain_of_pages_is_not_a_calendar() -> None:
    guard = TrapGuard(DEFAULTS)
    assert _crawl_chain(guard, [f"{SITE}/blog/page/{n}/" for n in range(200)]) == 200
    assert _crawl_chain(guard, [f"{SITE}/p{n}.html" for n in range(200)]) == 200
    assert guard.left_out() == ()


def test_a_path_that_repeats_a_block_of_segments_is_a_trap() -> None:
    guard = TrapGuard(DEFAULTS)
    assert guard.admit(f"{SITE}/a/b/a/b/", depth=2, crawl=True)
    assert not guard.admit(f"{SITE}/a/b/a/b/a/b/", depth=3, crawl=True)
    assert not guard.admit(f"{SITE}/huge/more/more/more/", depth=3, crawl=True)
    assert _codes(guard) == {"crawl.trap-suspected": 2}


def test_session_ids_in_paths_are_cut_after_trap_ids_of_them() -> None:
    guard = TrapGuard(DEFAULTS)
    ids = [f"sess{n:028x}" for n in range(1, 40)]
    taken = sum(guard.admit(f"{SITE}/s/{sid}/docs/page.html", depth=2, crawl=True) for sid in ids)
    params = sum(
        guard.admit(f"{SITE}/shop/item.html;jsessionid=A{n:08d}", depth=2, crawl=True) for n in range(40)
    )
    assert taken == params == DEFAULTS.trap_ids
    assert _codes(guard) == {"crawl.trap-suspected": 39 - taken + 40 - params}


def test_an_id_at_the_end_of_a_path_names_a_page_and_is_not_a_session() -> None:
    guard = TrapGuard(DEFAULTS)
    assert all(guard.admit(f"{SITE}/commit/{n:040x}", depth=2, crawl=True) for n in range(1, 200))
    assert guard.left_out() == ()


def test_distinct_query_strings_on_one_path_are_capped() -> None:
    guard = TrapGuard(TrapLimits(max_queries=5))
    taken = sum(guard.admit(f"{SITE}/search?q={n}", depth=1, crawl=False) for n in range(12))
    assert taken == 5
    assert guard.admit(f"{SITE}/other?q=1", depth=1, crawl=False)
    assert _codes(guard) == {"crawl.query-cap": 7}


def test_a_path_deeper_than_the_limit_is_not_crawled_but_a_leaf_is_checked() -> None:
    guard = TrapGuard(TrapLimits(max_path_depth=4))
    deep = f"{SITE}/a/b/c/d/e/f"
    assert not guard.admit(deep, depth=1, crawl=True)
    assert guard.admit(deep + "/img.png", depth=1, crawl=False)
    assert _codes(guard) == {"crawl.path-too-deep": 1}


def test_links_past_the_per_page_cap_are_counted_not_read() -> None:
    guard = TrapGuard(TrapLimits(max_links_per_page=100))
    assert guard.links_to_read(f"{SITE}/index", 40) == 40
    assert guard.links_to_read(f"{SITE}/huge", 250_000) == 100
    (line,) = guard.left_out()
    assert (line.code, line.count, line.examples) == ("crawl.link-cap", 249_900, (f"{SITE}/huge",))
    assert "--max-links-per-page 100" in line.line()


def test_the_url_budget_turns_away_new_urls_once_spent_and_counts_each_once() -> None:
    guard = TrapGuard(TrapLimits(max_urls=3))
    assert guard.admit(f"{SITE}/", depth=0, crawl=True, seed=True)
    assert guard.admit(f"{SITE}/a", depth=1, crawl=True)
    assert guard.admit(f"{SITE}/b", depth=1, crawl=False)
    for _ in range(3):  # the same link on three pages
        assert not guard.admit(f"{SITE}/c", depth=1, crawl=True)
    assert not guard.admit(f"{SITE}/d", depth=1, crawl=True)
    assert _codes(guard) == {"crawl.url-budget": 2}


def test_the_time_budget_ends_checks_and_says_so() -> None:
    now = [100.0]
    guard = TrapGuard(TrapLimits(max_time=30), clock=lambda: now[0])
    assert not guard.out_of_time()
    now[0] = 130.0
    assert guard.out_of_time()
    guard.not_checked(f"{SITE}/late")
    (line,) = guard.left_out()
    assert line.code == "crawl.time-budget"
    assert "--max-time ended the run" in line.line()


def test_a_cut_body_is_counted_once_per_page() -> None:
    guard = TrapGuard(TrapLimits(max_body=1000))
    cut = CheckResult(f"{SITE}/big", Category.OK, diagnosis=Diagnosis("http.body-truncated", "cut"))
    guard.saw(cut)
    guard.saw(cut)
    guard.saw(CheckResult(f"{SITE}/small", Category.OK))
    (line,) = guard.left_out()
    assert (line.code, line.count) == ("http.body-truncated", 1)
    assert "--max-body 1,000 bytes" in line.line() and "links past the cut were not checked" in line.line()


def test_turned_off_limits_let_everything_through() -> None:
    guard = TrapGuard(TrapLimits())
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(100)]
    assert _crawl_chain(guard, [f"{SITE}/trap/{d:%Y/%m/%d}" for d in days]) == 100
    assert guard.links_to_read(SITE, 10**6) == 10**6
    assert guard.left_out() == ()


def test_a_docs_tree_with_numbered_pages_and_versions_raises_nothing() -> None:
    guard = TrapGuard(DEFAULTS)
    urls = [f"{SITE}/"]
    for version in ("3.10", "3.11", "3.12"):
        urls += [f"{SITE}/{version}/whatsnew/{version}.html", f"{SITE}/{version}/library/os.html"]
    urls += [f"{SITE}/page-{n}.html" for n in range(2000)]
    urls += [f"{SITE}/sub/page-{n}.html" for n in range(2000)]
    urls += [f"{SITE}/_static/pygments.css?v={n:08x}" for n in range(20)]
    urls += [f"{SITE}/_images/{n:032x}.png" for n in range(50)]
    for index, url in enumerate(urls):
        assert guard.admit(url, depth=1 + index % 12, crawl=True), url
    assert guard.left_out() == ()


def test_sitemaps_give_at_most_max_sitemap_urls_in_all_and_the_rest_is_counted() -> None:
    guard = TrapGuard(TrapLimits(max_sitemap_urls=2500))
    locs = [f"{SITE}/p{n}" for n in range(1000)]
    taken = [len(guard.sitemap_locs(f"{SITE}/sitemaps/{k}.xml", 1000, locs=locs)) for k in range(5)]
    assert taken == [1000, 1000, 500, 0, 0]
    assert _codes(guard) == {"crawl.url-budget": 2500}
    assert "--max-sitemap-urls 2500" in guard.left_out()[0].detail


def test_once_the_sitemaps_being_read_will_fill_the_budget_further_sitemaps_are_checked_not_read() -> None:
    guard = TrapGuard(TrapLimits(max_sitemap_urls=5000))
    assert not guard.sitemap_not_read(f"{SITE}/sitemap-index.xml")
    children = [f"{SITE}/sitemaps/{k}.xml" for k in range(1000)]
    assert guard.sitemap_locs(f"{SITE}/sitemap-index.xml", 1000, locs=children, index=True) == children
    read = [url for url in children if not guard.sitemap_not_read(url)]
    assert len(read) == 4  # 1000 taken + 4 being read, each as big as the biggest so far: the budget
    assert _codes(guard) == {"crawl.url-budget": 996}
    assert not guard.sitemap_not_read(f"{SITE}/other.xml")  # only what an index listed: the rest is read


def test_a_site_whose_sitemaps_fit_the_budget_reads_them_all() -> None:
    guard = TrapGuard(DEFAULTS)
    children = [f"{SITE}/sitemap-{k}.xml" for k in range(40)]
    assert guard.sitemap_locs(f"{SITE}/sitemap.xml", 40, locs=children, index=True) == children
    assert not any(guard.sitemap_not_read(url) for url in children[:8])
    for url in children[:8]:
        assert len(guard.sitemap_locs(url, 200, locs=[f"{url}/p{n}" for n in range(200)])) == 200
    assert not any(guard.sitemap_not_read(url) for url in children[8:])
    assert guard.left_out() == ()


def test_only_the_first_500_kib_of_a_robots_txt_is_obeyed_cut_at_a_line() -> None:
    text = "User-agent: *\n" + "".join(f"Disallow: /private/{n:08d}/\n" for n in range(200_000))
    rules = robots_rules(text)
    assert len(rules) <= ROBOTS_MAX_CHARS < len(text)
    assert text.startswith(rules) and rules.endswith("/\n")
    assert robots_rules("User-agent: *\nDisallow: /a") == "User-agent: *\nDisallow: /a"


def test_a_sitemap_repeating_one_url_spends_one_url_of_the_budget() -> None:
    guard = TrapGuard(TrapLimits(max_sitemap_urls=100))
    assert guard.sitemap_locs(f"{SITE}/bomb.xml", 50_000, locs=[f"{SITE}/x"] * 50_000) == [f"{SITE}/x"]
    assert len(guard.sitemap_locs(f"{SITE}/s.xml", 99, locs=[f"{SITE}/p{n}" for n in range(99)])) == 99
    assert guard.left_out() == ()
