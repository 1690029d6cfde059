"""User patterns run on RE2 (linkdoctor.patterns): linear time, the ``re`` methods the engine uses, and a
clear refusal of what RE2 cannot run."""

from __future__ import annotations

import pickle
import re
import time

import pytest

from linkdoctor.config import CheckConfig
from linkdoctor.engine.filters import excluded_result
from linkdoctor.patterns import PatternError, UserPattern, check_pattern, compile_pattern
from linkdoctor.urls import Scope, remap_url

LONG_URL = "https://example.org/" + "a" * 10_000


@pytest.mark.parametrize("pattern", ["^(.+)+!$", "(x+x+)+y", "(a|aa)+$", "(.*a){12}"])
def test_a_catastrophic_pattern_matches_a_10_kb_url_in_linear_time(pattern: str) -> None:
    compiled = compile_pattern(pattern)
    started = time.perf_counter()
    compiled.search(LONG_URL)
    compiled.search(LONG_URL.replace("a", "x"))
    assert time.perf_counter() - started < 0.5


def test_an_exclude_filter_with_a_catastrophic_pattern_answers_at_once() -> None:
    config = CheckConfig(exclude=(compile_pattern("^(.+)+!$"),))
    started = time.perf_counter()
    assert excluded_result(LONG_URL[:2000], config) is None
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(a)\1", "escape"), ("a(?=b)", "perl operator"), ("(?<!a)b", "perl operator"), ("(", "missing )")],
)
def test_what_re2_cannot_run_is_refused_with_its_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        check_pattern(pattern)
    assert reason in caught.value.reason and "RE2" in caught.value.reason
    assert str(caught.value).startswith(f"{pattern!r} is not a valid regular expression:")


def test_an_empty_or_huge_pattern_is_refused() -> None:
    for bad in ("", "a" * 5000, "((a{100}){100}){100}"):
        with pytest.raises(PatternError):
            compile_pattern(bad)


def test_search_and_sub_behave_like_re() -> None:
    for pattern, url, template in [
        (r"^https://old\.example/(.*)", "https://old.example/a/b", r"https://new.example/\1"),
        (r"^https://old\.example/(?P<rest>.*)", "https://old.example/x", r"https://new.example/\g<rest>"),
        (r"(?i)/DOCS/", "https://e.org/docs/a", "/d/"),
    ]:
        ours, theirs = compile_pattern(pattern), re.compile(pattern)
        assert (ours.search(url) is None) == (theirs.search(url) is None)
        assert ours.sub(template, url, count=1) == theirs.sub(template, url, count=1)
        assert (ours.groups, dict(ours.groupindex)) == (theirs.groups, dict(theirs.groupindex))


def test_the_engine_reads_user_patterns_for_scope_and_remap() -> None:
    scope = Scope(patterns=(compile_pattern(r"^https://docs\.example/"),))
    assert scope.contains("https://docs.example/a") and not scope.contains("https://other.example/")
    rules = [(compile_pattern("^https://old.example/(.*)"), r"https://new.example/\1")]
    assert remap_url("https://old.example/a", rules) == "https://new.example/a"


def test_a_pattern_pickles_as_its_text_and_compares_by_it() -> None:
    pattern = compile_pattern(r"\.pdf$")
    copy = pickle.loads(pickle.dumps(pattern))
    assert isinstance(copy, UserPattern) and copy == pattern and hash(copy) == hash(pattern)
    assert copy.search("https://e.org/a.pdf") is not None
