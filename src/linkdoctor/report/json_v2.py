"""The JSON report, version 2 (``--format json``): pages listed once, results grouped by target document,
and the problems with their headline counts. Schema: ``schemas/report-v2.schema.json``.

Version 1 (``--format json-v1``, :mod:`linkdoctor.report.json`) repeats every referring page's URL in
every referrer and gives each ``#fragment`` link its own result. Version 2 is built for size and for
reading as a diagnosis:

- ``pages`` lists every referring page once; a referrer is ``[page, line, text]``, ``page`` an index into
  it (``null`` for a start URL given on the command line);
- ``results`` holds one entry per target document (no fragment), with its verdict once and its ``links``
  inside: one per fragment used (``""`` for none), each with its referrers. A link's own ``category`` and
  ``diagnosis`` are given only when they differ from the document's (an anchor missing on a page that is
  fine);
- ``problems`` are :mod:`linkdoctor.problems`' grouping, most pages affected first, each naming its
  ``result`` (an index into ``results``, whose diagnosis gives the cause) and its locations as
  ``[page, line, fragment]``; ``problem_counts`` are the headline counts every format shows;
- ``codes`` gives each diagnosis code's title and fix steps once; a diagnosis repeats its fix steps only
  when they differ from those.

Fields with nothing to say (null, empty, a ``final_url`` equal to the URL, the standard reason phrase of
a status) are left out; a link's ``count`` is how many places it was found when its referrers are only
counted (an ``ok`` link, unless ``--all-referrers``). The header comes
first, then one problem and one result per line, so the file reads well in a diff and streams to write.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from http import HTTPStatus
from json.encoder import encode_basestring
from typing import Any, TextIO

import orjson

from linkdoctor.classify import codes as catalogue
from linkdoctor.models import (
    AlikeLink,
    Category,
    CheckResult,
    LazyResults,
    Referrer,
    Report,
    urls_and_referrers,
)
from linkdoctor.problems import (
    START_URL,
    Problem,
    ProblemCounts,
    group_problems,
    headline,
    is_missing_anchor,
    problem_counts,
)
from linkdoctor.report import json_pieces
from linkdoctor.report.json import finding_to_dict, load_schema, summary_to_dict
from linkdoctor.report.json_index import PageIndex, page_numbers, target_runs
from linkdoctor.report.json_pieces import Deferred, listed
from linkdoctor.urls import split_fragment

SCHEMA_VERSION = 2
SCHEMA_RESOURCE = "schemas/report-v2.schema.json"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(value: Any) -> str:
    """``value`` as compact JSON, by orjson (half the time of the standard encoder on a big report), or by
    the standard encoder for what orjson refuses: a lone surrogate (a redirect's Location that is not
    UTF-8), an integer past 64 bits."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _encode(value)


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the ``--format json`` document, version 2."""
    return load_schema(SCHEMA_RESOURCE)


def problem_counts_to_dict(counts: ProblemCounts) -> dict[str, Any]:
    """The headline counts: problems, links and pages, in all and per label, and the headline itself."""
    return {
        "problems": counts.problems,
        "broken": counts.broken,
        "unverified": counts.unverified,
        "links": counts.links,
        "pages": counts.pages,
        "headline": headline(counts),
        "labels": [
            {"label": c.label, "problems": c.problems, "links": c.links, "pages": c.pages}
            for c in counts.labels
        ],
    }


def link_verdicts(result: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Each link of one version 2 ``results`` entry as version 1 listed it: its URL (fragment and all) and
    its category. For readers moving from version 1::

        broken = {url for r in document["results"] for url, c in link_verdicts(r) if c == "broken"}
    """
    for link in result["links"]:
        fragment = link.get("fragment", "")
        url = link.get("url") or (f"{result['url']}#{fragment}" if fragment else result["url"])
        yield url, link.get("category", result["category"])


def report_to_dict_v2(report: Report) -> dict[str, Any]:
    """The whole version 2 document as a dict (what :func:`write_json_v2` writes, parsed)."""
    loaded: dict[str, Any] = json.loads(_render(report))
    return loaded


def _render(report: Report) -> str:
    import io

    out = io.StringIO()
    write_json_v2(report, out)
    return out.getvalue()


def write_json_v2(report: Report, out: TextIO) -> None:
    """Write the version 2 document: three passes over ``report.results`` (pages and targets, problems,
    results), holding an index per run of links to one target rather than the results themselves; on disk
    for results kept outside memory (:mod:`linkdoctor.report.json_index`)."""
    results = report.results
    outside_memory = isinstance(results, LazyResults) and results.outside_memory
    pages = page_numbers(outside_memory)

    def urls() -> Iterator[str]:  # one pass for both the runs and the referring pages
        for url, referrers in urls_and_referrers(results):
            if referrers:  # an ok link's are only counted: most have none
                pages.update(r.url for r in referrers)
            yield url

    runs = target_runs(urls(), outside_memory)
    problems = group_problems(results)
    for problem in problems:
        pages.update(loc.page for loc in problem.locations if loc.page != START_URL)
    pages.rank()
    result_at = runs.position_of(p.target for p in problems)

    head = {
        "version": SCHEMA_VERSION,
        "summary": summary_to_dict(report.summary),
        "problem_counts": problem_counts_to_dict(problem_counts(results)),
    }
    out.write(json.dumps(head, indent=1, ensure_ascii=False)[:-2])
    out.write(',\n "pages":')
    _write_lines(out, (_dumps(page) for page in pages))
    out.write(',\n "problems":')
    deferred = Deferred(_dumps)
    _write_lines(out, (deferred.text(_problem(p, pages, result_at, deferred)) for p in problems))
    out.write(',\n "results":')
    codes: dict[str, tuple[str, ...]] = {}
    alike = results.alike if isinstance(results, LazyResults) else None

    def result_json(target: str, indices: list[int]) -> str | Iterator[str]:
        shared = None if alike is None else alike(indices)
        if shared is None:
            return _result_json(target, [results[i] for i in indices], pages, codes, deferred)
        result, links = shared  # a plain one is written without building each link's result
        written = _plain_json_of(target, result, links, pages)
        if written is not None:
            return written
        members = [result.for_link(url, referrers, count) for url, referrers, count in links]
        return deferred.text(_result(target, members, pages, codes, deferred))

    _write_lines(out, (result_json(target, indices) for target, indices in runs.groups()))
    out.write(',\n "codes":')
    out.write(json.dumps(_codes_to_dict(codes), ensure_ascii=False, indent=1).replace("\n", "\n "))
    out.write("\n}\n")


@functools.cache
def _standard_reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _write_lines(out: TextIO, items: Iterator[str | Iterator[str]]) -> None:
    """A JSON array with one item per line (a reader can take the file a line at a time); an item may come
    in pieces (:class:`~linkdoctor.report.json_pieces.Deferred`)."""
    separator = "[\n  "
    for item in items:
        out.write(separator)
        json_pieces.write(out, item)
        separator = ",\n  "
    out.write("[]" if separator == "[\n  " else "\n ]")


def write_json_v2_report(report: Report, out: TextIO, context: object = None) -> None:
    """:func:`write_json_v2` as a format's writer (it needs no render context)."""
    write_json_v2(report, out)


def _page(page: str, page_index: PageIndex) -> int | None:
    return None if page == START_URL else page_index[page]


def _problem(
    problem: Problem, page_index: PageIndex, result_at: Callable[[str], int | None], deferred: Deferred
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": problem.id,
        "kind": problem.kind.value,
        "target": problem.target,
    }
    if problem.anchor:
        data["anchor"] = problem.anchor
    data |= {
        "category": problem.category.value,
        "code": problem.code,
        "links": problem.links,
        "pages": problem.pages,
    }
    result = result_at(problem.target)
    if result is not None:
        data["result"] = result
    locations = problem.locations
    data["locations"] = listed(
        locations, ([_page(loc.page, page_index), loc.line, loc.fragment] for loc in locations), deferred
    )
    return data


def document_result(members: Sequence[CheckResult]) -> CheckResult:
    """The document's own verdict: a member's that is not an anchor missing; when every link into it names
    a missing anchor, theirs without the anchor's category and diagnosis (the document itself is fine)."""
    for member in members:
        if not is_missing_anchor(member):
            return member
    first = members[0]
    category = Category.REDIRECTED if first.redirects else Category.OK
    return CheckResult(
        first.url, category, first.status, first.reason, first.precise_status, first.final_url,
        first.redirects, first.elapsed_ms, first.error, first.error_message, None, (), first.findings,
    )  # fmt: skip


def _result_json(
    target: str,
    members: Sequence[CheckResult],
    page_index: PageIndex,
    codes: dict[str, tuple[str, ...]],
    deferred: Deferred,
) -> str | Iterator[str]:
    """One result's line: :func:`_result` encoded, or, for the common plain one (no diagnosis, no redirect,
    no error, its links alike but for their fragments and referrers), the same text written directly (a
    site's ok pages and their #fragment links, at a third of the cost)."""
    plain = _plain_json(target, members, page_index)
    if plain is not None:
        return plain
    return deferred.text(_result(target, members, page_index, codes, deferred))


def _plain_json(target: str, members: Sequence[CheckResult], page_index: PageIndex) -> str | None:
    result = members[0]
    if split_fragment(result.url)[0] != target:
        return None
    for other in members[1:]:
        if not (
            _bare(other)
            and other.category is result.category
            and other.status == result.status
            and other.precise_status == result.precise_status
            and other.reason == result.reason
            and other.final_url == result.final_url
            and other.elapsed_ms == result.elapsed_ms
        ):
            return None
    links = [(member.url, member.referrers, member.referrer_count) for member in members]
    return _plain_json_of(target, result, links, page_index)


def _plain_json_of(
    target: str, result: CheckResult, links: Iterable[AlikeLink], page_index: PageIndex
) -> str | None:
    """The line of ``links`` to ``target`` that share ``result`` but for their URLs and referrers, when
    ``result`` is plain (else None)."""
    if not _bare(result) or (result.precise_status is not None and result.precise_status != result.status):
        return None
    links = list(links)
    if not all(isinstance(referrers, tuple | list) for _, referrers, _ in links):
        return None  # referrers too many to hold: written a piece at a time (_result and Deferred)
    parts = [f'{{"url":{encode_basestring(target)}']
    final_url = split_fragment(result.final_url)[0] if result.final_url else ""
    if final_url and final_url != target:
        parts.append(f',"final_url":{encode_basestring(final_url)}')
    if result.status is not None:
        parts.append(f',"status":{int(result.status)}')
        if result.reason and result.reason != _standard_reason(result.status):
            parts.append(f',"reason":{encode_basestring(result.reason)}')
    parts.append(f',"category":"{result.category.value}"')
    if result.elapsed_ms:
        elapsed = round(result.elapsed_ms, 1)
        parts.append(
            f',"elapsed_ms":{elapsed!r}' if type(elapsed) is float else f',"elapsed_ms":{int(elapsed)}'
        )
    written = ",".join(_plain_link(target, *link, page_index) for link in links)
    parts.append(f',"links":[{written}]}}')
    return "".join(parts)


def _bare(result: CheckResult) -> bool:
    """No diagnosis, redirect, error or finding: nothing but a status to write."""
    return not (
        result.diagnosis is not None
        or result.redirects
        or result.error is not None
        or result.error_message
        or result.findings
    )


def _plain_link(
    target: str,
    url: str,
    referrers: Sequence[Referrer],
    referrer_count: int | None,
    page_index: PageIndex,
) -> str:
    """:func:`_link` of a plain result's link, written directly."""
    fragment = url.partition("#")[2]  # split_fragment's, inline: once per link of the report
    link = []
    if fragment:
        link.append(f'"fragment":{encode_basestring(fragment)}')
    if url != (f"{target}#{fragment}" if fragment else target):
        link.append(f'"url":{encode_basestring(url)}')
    if referrers:
        written = ",".join(
            f"[{page_index[r.url]},{'null' if r.line is None else int(r.line)},{encode_basestring(r.text)}]"
            for r in referrers
        )
        link.append(f'"referrers":[{written}]')
    if referrer_count is not None:
        link.append(f'"count":{int(referrer_count)}')
    return f"{{{','.join(link)}}}"


def _result(
    target: str,
    members: Sequence[CheckResult],
    page_index: PageIndex,
    codes: dict[str, tuple[str, ...]],
    deferred: Deferred,
) -> dict[str, Any]:
    document = document_result(members)
    data: dict[str, Any] = {"url": target}
    final_url = split_fragment(document.final_url)[0] if document.final_url else ""
    if final_url and final_url != target:
        data["final_url"] = final_url
    if document.status is not None:
        data["status"] = document.status
        if document.reason and document.reason != _standard_reason(document.status):
            data["reason"] = document.reason
    if document.precise_status is not None and document.precise_status != document.status:
        data["precise_status"] = document.precise_status
    data["category"] = document.category.value
    if document.diagnosis is not None:
        data["diagnosis"] = _diagnosis(document, codes)
    if document.redirects:
        data["redirects"] = [{"url": r.url, "status": r.status} for r in document.redirects]
    if document.elapsed_ms:
        data["elapsed_ms"] = round(document.elapsed_ms, 1)
    if document.error is not None:
        data["error"] = document.error.value
    if document.error_message:
        data["error_message"] = document.error_message
    if document.findings:
        data["findings"] = [finding_to_dict(f) for f in document.findings]
    data["links"] = [_link(target, member, document, page_index, codes, deferred) for member in members]
    return data


def _diagnosis(result: CheckResult, codes: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """``{"code", "summary"}``; the fix steps go once per code into ``codes``, and a diagnosis gives its
    own only when they differ from those."""
    diagnosis = result.diagnosis
    assert diagnosis is not None
    data: dict[str, Any] = {"code": diagnosis.code, "summary": diagnosis.summary}
    if codes.setdefault(diagnosis.code, diagnosis.fix) != diagnosis.fix:
        data["fix"] = list(diagnosis.fix)
    return data


def _codes_to_dict(codes: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    return {
        code: {"title": catalogue.CODES[code].title if code in catalogue.CODES else code, "fix": list(fix)}
        for code, fix in sorted(codes.items())
    }


def _link(
    target: str,
    member: CheckResult,
    document: CheckResult,
    page_index: PageIndex,
    codes: dict[str, tuple[str, ...]],
    deferred: Deferred,
) -> dict[str, Any]:
    fragment = split_fragment(member.url)[1]
    data: dict[str, Any] = {}
    if fragment:
        data["fragment"] = fragment
    if member.url != (f"{target}#{fragment}" if fragment else target):
        data["url"] = member.url  # "page.html#": an empty fragment, kept as written
    if member.category is not document.category:
        data["category"] = member.category.value
    if member.diagnosis != document.diagnosis and member.diagnosis is not None:
        data["diagnosis"] = _diagnosis(member, codes)
    referrers = member.referrers
    if referrers:
        data["referrers"] = listed(
            referrers, ([page_index[r.url], r.line, r.text] for r in referrers), deferred
        )
    if member.referrer_count is not None:
        data["count"] = member.referrer_count
    return data
