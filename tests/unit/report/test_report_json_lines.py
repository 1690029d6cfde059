"""``--format json`` writes each result as the json module would encode ``result_to_dict``, byte for byte,
whatever the strings and numbers hold."""

from __future__ import annotations

import io
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Report,
    Severity,
    Summary,
)
from linkdoctor.report.json import report_to_dict, result_to_dict, write_json

_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", 'a "quoted" \\ path', "\x00\x1f\x7f", "é ☃ 🙂", "\u2028\u2029", "https://h/p?q=1#f"]
)
_STATUS = st.none() | st.integers(min_value=0, max_value=999)
_ELAPSED = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 1.5, 1e-7, 123456789.1])
_REFERRERS = st.lists(st.builds(Referrer, _TEXT, st.none() | st.integers(0, 10**6), _TEXT), max_size=4)
_RESULTS = st.builds(
    CheckResult,
    url=_TEXT,
    category=st.sampled_from(Category),
    status=_STATUS,
    reason=_TEXT,
    precise_status=_STATUS,
    final_url=_TEXT,
    redirects=st.lists(st.builds(Redirect, _TEXT, st.integers(300, 399)), max_size=2).map(tuple),
    elapsed_ms=_ELAPSED,
    error=st.none() | st.sampled_from(ErrorKind),
    error_message=_TEXT,
    diagnosis=st.none() | st.builds(Diagnosis, _TEXT, _TEXT, st.lists(_TEXT, max_size=2).map(tuple)),
    referrers=_REFERRERS.map(tuple),
    findings=st.lists(
        st.builds(
            Finding, _TEXT, st.sampled_from(Severity), _TEXT, _TEXT, st.just((("k", "v"),)), st.just(("f",))
        ),
        max_size=1,
    ).map(tuple),
    referrer_count=st.none() | st.integers(0, 10**6),
)


@pytest.mark.slow
@given(st.lists(_RESULTS, min_size=1, max_size=4))
def test_each_line_is_the_json_modules_encoding_of_the_result(results: list[CheckResult]) -> None:
    out = io.StringIO()
    write_json(Report(Summary.from_results(results), tuple(results)), out)
    lines = out.getvalue().split("\n")  # not splitlines(): U+2028 and friends stay inside strings
    start = lines.index('  "results": [') + 1
    written = [line.strip().removesuffix(",") for line in lines[start : start + len(results)]]
    assert written == [
        json.dumps(result_to_dict(r), ensure_ascii=False, separators=(", ", ": ")) for r in results
    ]
    if all(math.isfinite(r.elapsed_ms) for r in results):
        assert json.loads(out.getvalue()) == report_to_dict(
            Report(Summary.from_results(results), tuple(results))
        )


def test_lines_stay_exact_when_the_memo_of_encoded_strings_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("linkdoctor.report.json._ENCODED_LIMIT", 2)
    referrers = tuple(Referrer(f"https://h/p{i % 5}.html", i, f'text {i % 3} \u00e9"') for i in range(12))
    results = [CheckResult(f"https://h/t{i}", Category.OK, referrers=referrers[i:]) for i in range(6)]
    out = io.StringIO()
    write_json(Report(Summary.from_results(results), tuple(results)), out)
    assert json.loads(out.getvalue()) == report_to_dict(Report(Summary.from_results(results), tuple(results)))
    lines = out.getvalue().split("\n")
    start = lines.index('  "results": [') + 1
    lines = [line.strip().removesuffix(",") for line in lines[start : start + len(results)]]
    assert lines == [
        json.dumps(result_to_dict(r), ensure_ascii=False, separators=(", ", ": ")) for r in results
    ]
