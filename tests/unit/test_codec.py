"""Specs for the result codec (linkdoctor.codec): one JSON form of a result for the frontier, the cache, the
workers and the monitor, that comes back equal and still reads what earlier versions wrote."""

from __future__ import annotations

import doctest
import json

from hypothesis import given
from hypothesis import strategies as st

from linkdoctor import codec
from linkdoctor.codec import result_from_json, result_to_json
from linkdoctor.engine.frontier import Frontier
from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
)

_TEXT = st.text(max_size=8)
_STATUS = st.none() | st.integers(min_value=0, max_value=999)
_RESULTS = st.builds(
    CheckResult,
    url=_TEXT,
    category=st.sampled_from(Category),
    status=_STATUS,
    reason=_TEXT,
    precise_status=_STATUS,
    final_url=_TEXT,
    redirects=st.lists(st.builds(Redirect, _TEXT, st.integers(300, 399)), max_size=2).map(tuple),
    elapsed_ms=st.floats(min_value=0, max_value=1e9),
    error=st.none() | st.sampled_from(ErrorKind),
    error_message=_TEXT,
    diagnosis=st.none() | st.builds(Diagnosis, _TEXT, _TEXT, st.lists(_TEXT, max_size=2).map(tuple)),
    referrers=st.lists(st.builds(Referrer, _TEXT, st.none() | st.integers(0, 10**6), _TEXT), max_size=3).map(
        tuple
    ),
    findings=st.lists(
        st.builds(
            Finding,
            _TEXT,
            st.sampled_from(Severity),
            _TEXT,
            _TEXT,
            st.lists(st.tuples(_TEXT, _TEXT), max_size=2).map(tuple),
            st.lists(_TEXT, max_size=2).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
)

FULL = CheckResult(
    "https://e.org/old",
    Category.BROKEN,
    status=400,
    reason="Bad Request",
    precise_status=496,
    final_url="https://e.org/new",
    redirects=(Redirect("https://e.org/old", 301),),
    elapsed_ms=12.5,
    error=ErrorKind.TLS,
    error_message="certificate required",
    diagnosis=Diagnosis("tls.client-cert-required", "no certificate", ("pass --cert",)),
    referrers=(Referrer("https://e.org/", 3, "old"),),
    findings=(
        Finding(
            "tls.client-cert-expired", Severity.ERROR, "client", "expired", (("cert", "a.pem"),), ("renew",)
        ),
    ),
)


@given(_RESULTS, st.booleans())
def test_every_result_comes_back_equal_through_json_text(result: CheckResult, compact: bool) -> None:
    text = json.dumps(result_to_json(result, compact=compact))
    assert result_from_json(json.loads(text)) == result


def test_the_compact_form_leaves_out_the_defaults() -> None:
    assert result_to_json(CheckResult("https://e.org/", Category.OK)) == {
        "url": "https://e.org/",
        "category": "ok",
    }


def test_the_full_form_holds_every_field() -> None:
    assert result_to_json(CheckResult("https://e.org/", Category.OK), compact=False) == {
        "url": "https://e.org/",
        "category": "ok",
        "status": None,
        "reason": "",
        "precise_status": None,
        "final_url": "",
        "redirects": [],
        "elapsed_ms": 0.0,
        "error": None,
        "error_message": "",
        "diagnosis": None,
        "referrers": [],
        "findings": [],
        "referrer_count": None,
    }


def test_the_compact_form_of_a_full_result_is_the_one_frontiers_were_saved_in() -> None:
    # The shape saved frontiers (version 1) hold: a change here breaks resuming them.
    assert result_to_json(FULL) == {
        "url": "https://e.org/old",
        "category": "broken",
        "status": 400,
        "reason": "Bad Request",
        "precise_status": 496,
        "final_url": "https://e.org/new",
        "redirects": [["https://e.org/old", 301]],
        "elapsed_ms": 12.5,
        "error": "tls",
        "error_message": "certificate required",
        "diagnosis": ["tls.client-cert-required", "no certificate", ["pass --cert"]],
        "referrers": [["https://e.org/", 3, "old"]],
        "findings": [
            ["tls.client-cert-expired", "error", "client", "expired", [["cert", "a.pem"]], ["renew"]]
        ],
    }


def test_a_url_given_apart_replaces_a_missing_one() -> None:
    assert result_from_json({"category": "ok", "status": 200}, url="https://e.org/") == CheckResult(
        "https://e.org/", Category.OK, status=200
    )


def test_a_frontier_saved_before_the_codec_still_loads() -> None:
    saved = {
        "version": 1,
        "scope_prefixes": ["https://e.org/"],
        "pages_started": 1,
        "resources": [
            [
                "https://e.org/",
                0,
                True,
                True,
                False,
                True,
                {"url": "https://e.org/", "category": "ok", "status": 200},
                ["top"],
            ],
            ["https://e.org/next", 1, True, False, True, False, None, None],
        ],
        "links": [["https://e.org/#top", "top", "https://e.org/", [["https://e.org/", 4, "Top"]], None]],
    }
    frontier = Frontier.from_json(saved)
    assert frontier.resources[0].result == CheckResult("https://e.org/", Category.OK, status=200)
    assert frontier.links[0].referrers == (Referrer("https://e.org/", 4, "Top"),)
    assert frontier.to_json() == saved


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(codec)
    assert result.attempted > 0 and result.failed == 0
