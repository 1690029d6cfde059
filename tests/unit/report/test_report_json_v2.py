"""The JSON report version 2: pages once, results grouped by target document with their fragments inside,
the problems and their counts; version 1 stays available as ``json-v1``."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

from tests.unit.report.report_checks import validate_json_report, validate_json_v1_report
from tests.unit.report.report_sample import sample_context, sample_report

from linkdoctor.classify.codes import make
from linkdoctor.models import Category, CheckResult, Referrer, Report, Summary
from linkdoctor.report.formats import FORMATS
from linkdoctor.report.json_pieces import Deferred
from linkdoctor.report.json_v2 import link_verdicts, report_to_dict_v2

SITE = "https://docs.example.org/"


def _report(results: list[CheckResult]) -> Report:
    ordered = tuple(sorted(results, key=lambda r: r.url))
    return Report(Summary.from_results(ordered), ordered)


def _render(name: str, report: Report) -> str:
    out = io.StringIO()
    FORMATS[name].write(report, out, sample_context())
    return out.getvalue()


def _gone(url: str, *pages: tuple[str, int]) -> CheckResult:
    refs = tuple(Referrer(SITE + page, line, "see") for page, line in pages)
    return CheckResult(
        url, Category.BROKEN, 404, "Not Found", diagnosis=make("http.not-found"), referrers=refs
    )


def test_fragment_links_sit_inside_their_target_with_their_own_referrers() -> None:
    results = [_gone(SITE + "changelog.html", ("a.html", 1))]
    results += [_gone(f"{SITE}changelog.html#v{i}", ("a.html", 10 + i), ("b.html", 3)) for i in range(3)]
    document = validate_json_report(_render("json", _report(results)))
    (entry,) = document["results"]
    assert entry["url"] == SITE + "changelog.html" and entry["status"] == 404 and "reason" not in entry
    assert entry["diagnosis"] == {
        "code": "http.not-found",
        "summary": "The server has no resource at this URL (404)",
    }
    assert document["codes"]["http.not-found"]["fix"] == list(make("http.not-found").fix)
    assert [link.get("fragment", "") for link in entry["links"]] == ["", "v0", "v1", "v2"]
    assert entry["links"][2]["referrers"] == [[0, 11, "see"], [1, 3, "see"]]
    assert document["pages"] == [SITE + "a.html", SITE + "b.html"]
    (problem,) = document["problems"]
    assert (problem["links"], problem["pages"], problem["result"]) == (7, 2, 0)
    assert document["problem_counts"]["headline"] == "1 problem: 1 missing page (linked 7 times from 2 pages)"


def test_a_missing_anchor_is_given_on_its_link_only() -> None:
    ok = CheckResult(SITE + "guide.html", Category.OK, 200, "OK", referrer_count=40)
    anchor = CheckResult(
        SITE + "guide.html#setup", Category.BROKEN, 200, "OK",
        diagnosis=make("http.fragment-missing", "no id 'setup'"), referrers=(Referrer(SITE, 4, "setup"),),
    )  # fmt: skip
    document = validate_json_report(_render("json", _report([ok, anchor])))
    (entry,) = document["results"]
    assert entry["category"] == "ok" and "diagnosis" not in entry
    assert entry["links"][0] == {"count": 40}
    assert entry["links"][1]["category"] == "broken"
    assert entry["links"][1]["diagnosis"]["code"] == "http.fragment-missing"
    assert document["problems"][0]["kind"] == "anchor" and document["problems"][0]["anchor"] == "setup"


def test_a_target_split_by_a_url_sorting_inside_it_is_still_one_entry() -> None:
    results = [
        _gone(SITE + "a.html", ("x.html", 1)),
        _gone(SITE + "a.html!b", ("x.html", 2)),
        _gone(SITE + "a.html#c", ("x.html", 3)),
    ]
    document = validate_json_report(_render("json", _report(results)))
    assert [r["url"] for r in document["results"]] == [SITE + "a.html", SITE + "a.html!b"]
    assert [len(r["links"]) for r in document["results"]] == [2, 1]
    assert [document["results"][p["result"]]["url"] for p in document["problems"]] == [
        SITE + "a.html",
        SITE + "a.html!b",
    ]


def test_the_problem_counts_are_those_of_the_console_summary() -> None:
    document = report_to_dict_v2(sample_report())
    console = _render("console", sample_report())
    counts: dict[str, Any] = document["problem_counts"]
    assert counts["headline"] in console
    assert (counts["problems"], counts["links"], counts["pages"]) == (6, 7, 4)


def test_version_1_stays_available_as_json_v1() -> None:
    document = validate_json_v1_report(_render("json-v1", sample_report()))
    assert document["version"] == 1
    assert len(document["results"]) == len(sample_report().results)
    assert json.loads(_render("json", sample_report()))["version"] == 2


def test_link_verdicts_list_the_links_as_version_1_did() -> None:
    version_1 = json.loads(_render("json-v1", sample_report()))
    version_2 = json.loads(_render("json", sample_report()))
    flat = {pair for result in version_2["results"] for pair in link_verdicts(result)}
    assert flat == {(r["url"], r["category"]) for r in version_1["results"]}


def test_a_plain_result_is_written_as_the_encoder_would() -> None:
    from linkdoctor.report import json_v2

    pages = {SITE: 0, SITE + "a.html": 1}
    plain = [
        CheckResult(SITE, Category.OK, 200, "OK", final_url=SITE, elapsed_ms=12.34, referrer_count=3),
        CheckResult(SITE + "x", Category.OK, 200, "Fine", final_url=SITE + "y", elapsed_ms=7,
                    referrers=(Referrer(SITE, None, 'a "quoted" ü'), Referrer(SITE + "a.html", 4, ""))),
        CheckResult(SITE + "z", Category.EXCLUDED),
        CheckResult(SITE + "w", Category.REDIRECTED, 301, "Moved Permanently", precise_status=301),
    ]  # fmt: skip
    for result in plain:
        written = json_v2._plain_json(result.url, [result], pages)
        assert written == json_v2._dumps(
            json_v2._result(result.url, [result], pages, {}, Deferred(json_v2._dumps))
        )

    # A page and its #fragment links (and a "page#" kept as written), alike but for their referrers.
    page = plain[0]
    members = [
        page,
        page.for_link(SITE + "#intro", (Referrer(SITE + "a.html", 2, "intro"),)),
        page.for_link(SITE + "#", (), 5),
    ]
    written = json_v2._plain_json(SITE, members, pages)
    assert written is not None
    assert written == json_v2._dumps(json_v2._result(SITE, members, pages, {}, Deferred(json_v2._dumps)))
    # Links to one page that differ in more than that take the encoder's way.
    missing = replace(members[1], category=Category.BROKEN, diagnosis=make("http.fragment-missing", "#intro"))
    assert json_v2._plain_json(SITE, [page, missing], pages) is None
    assert json_v2._plain_json(SITE, [page, replace(members[1], elapsed_ms=99.0)], pages) is None


def test_orjson_writes_what_the_standard_encoder_would(monkeypatch: Any) -> None:
    from linkdoctor.report import json_v2

    fast = _render("json", sample_report())
    monkeypatch.setattr(json_v2, "_dumps", json_v2._encode)
    assert fast == _render("json", sample_report())


def test_what_orjson_refuses_is_written_by_the_standard_encoder() -> None:
    """A lone surrogate: a redirect's ``Location`` that is not UTF-8, kept as the transport decoded it."""
    odd = SITE + "caf\udce9.html"
    report = _report([replace(_gone(SITE + "cafe", ("index.html", 3)), final_url=odd)])
    written = json.loads(_render("json", report))
    assert written["results"][0]["final_url"] == odd
