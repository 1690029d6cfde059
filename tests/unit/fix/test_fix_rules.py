"""What ``fix`` may rewrite, from a result alone: permanent redirects to an ok target (chains collapsed), never
temporary ones or soft moves (login page, home page, another host's root), the host lists; which missing
anchor a heading now answers; the author's form of a replacement; a saved report read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkdoctor.fix.anchors import Heading, headings, match_anchor
from linkdoctor.fix.model import FixKind, FixSettings, Proposal, Skipped
from linkdoctor.fix.plan import written_form
from linkdoctor.fix.probe import closest_snapshot
from linkdoctor.fix.rules import (
    host_blocked,
    https_candidate,
    is_dead_external,
    judge_redirect,
    soft_move,
)
from linkdoctor.fix.saved import load_report
from linkdoctor.models import Category, CheckResult, Diagnosis, ErrorKind, Redirect, Referrer

A = "https://a.example"


def redirected(*hops: tuple[str, int], final: str, category: Category = Category.REDIRECTED) -> CheckResult:
    return CheckResult(
        hops[0][0], category, 200, final_url=final, redirects=tuple(Redirect(u, s) for u, s in hops)
    )


def test_a_permanent_chain_collapses_to_its_ok_end() -> None:
    result = redirected((f"{A}/a", 301), (f"{A}/b", 308), (f"{A}/c", 301), final=f"{A}/d")
    verdict = judge_redirect(result, FixSettings())
    assert isinstance(verdict, Proposal)
    assert (verdict.new_url, verdict.kind) == (f"{A}/d", FixKind.REDIRECT)
    assert "chain of 3 hops (301 → 308 → 301)" in verdict.reason


def test_the_fragment_of_the_link_is_kept() -> None:
    result = redirected((f"{A}/a#part", 301), final=f"{A}/b")
    verdict = judge_redirect(result, FixSettings())
    assert isinstance(verdict, Proposal) and verdict.new_url == f"{A}/b#part"


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_temporary_redirect_anywhere_in_the_chain_is_never_rewritten(status: int) -> None:
    result = redirected((f"{A}/a", 301), (f"{A}/b", status), final=f"{A}/c")
    verdict = judge_redirect(result, FixSettings())
    assert isinstance(verdict, Skipped)
    assert f"temporary redirect ({status})" in verdict.reason


def test_a_redirect_to_a_broken_target_is_not_rewritten() -> None:
    result = redirected((f"{A}/a", 301), final=f"{A}/b", category=Category.BROKEN)
    verdict = judge_redirect(result, FixSettings())
    assert isinstance(verdict, Skipped) and "is not ok" in verdict.reason


@pytest.mark.parametrize(
    ("final", "why"),
    [
        (f"{A}/", "the home page"),
        ("https://b.example/", "another host's root"),
        (f"{A}/login?next=/docs/x", "a login page"),
        ("https://sso.example/auth/realms/x?redirect_uri=https://a.example/docs/x", "a login page"),
        (f"{A}/users/sign_in", "a login page"),
    ],
)
def test_soft_moves_are_skipped_and_say_why(final: str, why: str) -> None:
    result = redirected((f"{A}/docs/x", 301), final=final)
    verdict = judge_redirect(result, FixSettings())
    assert isinstance(verdict, Skipped) and why in verdict.reason


def test_a_real_move_is_not_a_soft_one() -> None:
    assert soft_move(f"{A}/docs/x", f"{A}/guide/x") is None
    assert soft_move(f"{A}/", "https://www.a.example/") is None  # a root that moves to a root
    assert soft_move(f"{A}/blog", f"{A}/blog/author/login-tips") is None


def test_host_lists() -> None:
    settings = FixSettings(allow_hosts=("*.example.org",), deny_hosts=("private.example.org",))
    assert host_blocked("https://docs.example.org/", settings) is None
    assert host_blocked("https://example.org/", settings) is None
    assert "deny list" in (host_blocked("https://private.example.org/", settings) or "")
    assert "not on the allow list" in (host_blocked("https://other.example/", settings) or "")
    assert host_blocked("file:///tmp/a.md", settings) is None


def test_denied_targets_and_switched_off_redirects_are_skipped() -> None:
    result = redirected((f"{A}/a", 301), final="https://b.example/new")
    assert isinstance(judge_redirect(result, FixSettings(deny_hosts=("b.example",))), Skipped)
    off = judge_redirect(result, FixSettings(redirects=False))
    assert isinstance(off, Skipped) and "switched off" in off.reason


def test_an_https_upgrade_is_left_to_the_probe() -> None:
    result = redirected(("http://a.example/x?q=1", 302), final="https://a.example/x?q=1")
    assert judge_redirect(result, FixSettings()) is None
    assert https_candidate(result) == "https://a.example/x?q=1"
    elsewhere = redirected(("http://a.example/x", 301), final="https://a.example/y")
    assert https_candidate(elsewhere) is None


def test_dead_external_links() -> None:
    gone = CheckResult(f"{A}/x", Category.BROKEN, 410)
    dns = CheckResult("https://gone.example/", Category.BROKEN, error=ErrorKind.DNS)
    anchor = CheckResult(f"{A}/x#y", Category.BROKEN, 200, diagnosis=Diagnosis("http.fragment-missing", ""))
    busy = CheckResult(f"{A}/x", Category.BROKEN, 503)
    local = CheckResult("file:///a.md", Category.BROKEN, error=ErrorKind.FILE_MISSING)
    assert [is_dead_external(r) for r in (gone, dns, anchor, busy, local)] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_the_availability_api_answer() -> None:
    snapshot = {"available": True, "status": "200", "url": "http://web.archive.org/web/1/x", "timestamp": "1"}
    assert (
        closest_snapshot(json.dumps({"archived_snapshots": {"closest": snapshot}}).encode())
        == snapshot["url"]
    )
    not_ok = {**snapshot, "status": "404"}
    assert closest_snapshot(json.dumps({"archived_snapshots": {"closest": not_ok}}).encode()) is None
    assert closest_snapshot(b"not json") is None
    assert (
        closest_snapshot(b'{"archived_snapshots": {"closest": {"available": true, "url": "javascript:x"}}}')
        is None
    )


# --- anchors -----------------------------------------------------------------------------------------------
def test_the_same_heading_under_a_new_id_is_the_match() -> None:
    page = '<section id="id4"><h2>Getting started<a class="headerlink" href="#id4">¶</a></h2></section>'
    assert match_anchor("getting-started", headings("html", page)).target == "id4"


def test_an_old_slug_style_matches_the_github_slug() -> None:
    places = headings("markdown", "# Guide\n\n## Step 1: Install it\n")
    assert match_anchor("Step_1_Install_it", places).target == "step-1-install-it"


def test_two_headings_with_the_same_words_are_ambiguous_not_guessed() -> None:
    places = (Heading("setup-linux", "Setup"), Heading("setup-mac", "Setup"), Heading("other", "Other"))
    match = match_anchor("setup", places)
    assert match.target is None and match.candidates == ("setup-linux", "setup-mac")


def test_a_renamed_heading_with_other_words_has_no_match() -> None:
    places = headings("markdown", "# Installation guide\n")
    assert match_anchor("setup", places).target is None


# --- the author's form -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("written", "new", "base", "expected"),
    [
        ("https://a.example/old", "https://a.example/new", "file:///d/i.md", "https://a.example/new"),
        ("/docs/old.html", "https://a.example/docs/new.html", "https://a.example/x/i.html", "/docs/new.html"),
        ("old.html", "https://a.example/x/sub/new.html", "https://a.example/x/i.html", "sub/new.html"),
        (
            "old.html",
            "https://b.example/new.html",
            "https://a.example/x/i.html",
            "https://b.example/new.html",
        ),
        ("//a.example/old", "https://a.example/new", "https://a.example/i.html", "//a.example/new"),
        ("old.html#part", "https://a.example/new.html", "https://a.example/i.html", "new.html#part"),
    ],
)
def test_a_replacement_keeps_the_form_the_author_wrote(
    written: str, new: str, base: str, expected: str
) -> None:
    assert written_form(written, Proposal("u", new, FixKind.REDIRECT, ""), base) == expected


def test_an_anchor_replacement_changes_only_the_fragment() -> None:
    proposal = Proposal("u", "file:///d/guide.md#getting-started", FixKind.ANCHOR, "")
    assert (
        written_form("./guide.md#Getting_Started", proposal, "file:///d/i.md") == "./guide.md#getting-started"
    )


# --- saved reports -------------------------------------------------------------------------------------------
def test_a_version_1_report_reads_back(tmp_path: Path) -> None:
    row = {
        "url": f"{A}/a", "final_url": f"{A}/b", "status": 200, "category": "redirected", "diagnosis": None,
        "referrers": [{"url": "file:///d/i.md", "line": 3, "text": "a"}], "redirects": [{"url": f"{A}/a", "status": 301}],
        "error": None, "extra": "ignored",
    }  # fmt: skip
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"version": 1, "summary": {}, "results": [row]}))
    (result,), _ = load_report(path)
    assert result.redirects == (Redirect(f"{A}/a", 301),)
    assert result.referrers == (Referrer("file:///d/i.md", 3, "a"),)


def test_a_version_2_report_reads_back_one_result_per_link(tmp_path: Path) -> None:
    document = {
        "version": 2, "summary": {}, "pages": ["file:///d/i.md"],
        "results": [{
            "url": f"{A}/p", "status": 200, "category": "ok",
            "links": [
                {"referrers": [[0, 2, "p"]]},
                {"fragment": "old", "category": "broken",
                 "diagnosis": {"code": "http.fragment-missing", "summary": "", "fix": []},
                 "referrers": [[0, 5, "o"], [None, None, ""]]},
            ],
        }],
    }  # fmt: skip
    path = tmp_path / "report.json"
    path.write_text(json.dumps(document))
    plain, anchored = load_report(path)[0]
    assert (plain.url, plain.category, plain.referrers) == (
        f"{A}/p",
        Category.OK,
        (Referrer("file:///d/i.md", 2, "p"),),
    )
    assert anchored.url == f"{A}/p#old" and anchored.category is Category.BROKEN
    assert anchored.diagnosis is not None and anchored.diagnosis.code == "http.fragment-missing"
    assert anchored.final_url == f"{A}/p" and len(anchored.referrers) == 1


@pytest.mark.parametrize("content", ["{", '{"results": 3}', '{"results": [{"url": "x"}]}'])
def test_a_file_that_is_not_a_report_is_one_clear_error(tmp_path: Path, content: str) -> None:
    from linkdoctor.errors import ConfigError

    path = tmp_path / "report.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"^--from .*report\.json: "):
        load_report(path)


def test_a_report_that_only_counted_where_redirected_links_were_says_how_to_save_it(tmp_path: Path) -> None:
    from linkdoctor.config import CheckConfig
    from linkdoctor.engine.runner import run_sync
    from linkdoctor.fix.plan import Planner
    from linkdoctor.fix.probe import Prober

    row = {"url": f"{A}/a", "final_url": f"{A}/b", "category": "redirected", "referrers": [], "referrer_count": 4,
           "redirects": [{"url": f"{A}/a", "status": 301}]}  # fmt: skip
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"version": 1, "results": [row]}))
    results, _ = load_report(path)
    assert results[0].referrer_count == 4

    async def planned() -> tuple[str, ...]:
        async with Prober(CheckConfig()) as prober:
            return (await Planner(FixSettings(), prober).plan(results)).warnings

    (warning,) = run_sync(planned())
    assert (
        warning.startswith("1 redirected links were saved without the places")
        and "--all-referrers" in warning
    )
