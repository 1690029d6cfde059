"""The result model: what a link is, where it was found, and what checking it told us.

Everything here is a frozen value. A broken link is a :class:`CheckResult` with
``category=Category.BROKEN``, never an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol, runtime_checkable


class Category(StrEnum):
    """The verdict for one link, as users filter on it."""

    OK = "ok"
    REDIRECTED = "redirected"
    BROKEN = "broken"
    EXCLUDED = "excluded"
    UNVERIFIED = "unverified"


class ErrorKind(StrEnum):
    """Why no trustworthy HTTP answer was obtained (``CheckResult.error``)."""

    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    RESET = "reset"
    CONNECTION_CLOSED = "connection-closed"
    TLS = "tls"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    REDIRECT_LOOP = "redirect-loop"
    INVALID_URL = "invalid-url"
    BODY_TOO_LARGE = "body-too-large"
    PROTOCOL = "protocol"
    FILE_MISSING = "file-missing"
    UNSUPPORTED_SCHEME = "unsupported-scheme"
    ROBOTS = "robots"
    FILTERED = "filtered"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Referrer:
    """One place a link was found: the referring page (or file URL), its line, and the link's text or element."""

    url: str
    line: int | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Redirect:
    """One hop of a redirect chain: the URL that answered and the status it answered with."""

    url: str
    status: int


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A named cause with a stable ``code`` (see ``linkdoctor explain``), a one-line summary and fix steps."""

    code: str
    summary: str
    fix: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything known about one unique URL after checking it.

    ``status`` is what came over the wire; ``precise_status`` is the real cause behind it (for example
    nginx's 496 behind a wire 400). ``error`` is set when no trustworthy HTTP answer was obtained.
    ``referrer_count`` is set when ``referrers`` lists fewer than all the places the link was found (an
    ``ok`` link keeps only their count, see :mod:`linkdoctor.engine.state`): it is their number.
    """

    url: str
    category: Category
    status: int | None = None
    reason: str = ""
    precise_status: int | None = None
    final_url: str = ""
    redirects: tuple[Redirect, ...] = ()
    elapsed_ms: float = 0.0
    error: ErrorKind | None = None
    error_message: str = ""
    diagnosis: Diagnosis | None = None
    referrers: Sequence[Referrer] = ()
    findings: tuple[Finding, ...] = ()
    referrer_count: int | None = None

    @property
    def is_failure(self) -> bool:
        return self.category is Category.BROKEN

    @property
    def referrers_found(self) -> int:
        """How many places the link was found, listed in ``referrers`` or only counted."""
        return len(self.referrers) if self.referrer_count is None else self.referrer_count

    def for_link(
        self, url: str, referrers: Sequence[Referrer], referrer_count: int | None = None
    ) -> CheckResult:
        """This result as the result of one link to the same resource: ``dataclasses.replace`` of ``url``,
        ``referrers`` and ``referrer_count``, at a third of its cost (a report builds one per link)."""
        return CheckResult(
            url, self.category, self.status, self.reason, self.precise_status, self.final_url,
            self.redirects, self.elapsed_ms, self.error, self.error_message, self.diagnosis, referrers,
            self.findings, referrer_count,
        )  # fmt: skip


class Severity(StrEnum):
    """How serious a finding is, from the doctor or the nginx linter."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding of the TLS doctor attached to a result by ``check --diagnose``."""

    code: str
    severity: Severity
    actor: str
    summary: str
    evidence: tuple[tuple[str, str], ...] = ()
    fix: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LeftOut:
    """What a run left out on purpose, grouped by reason: ``count`` URLs (or pages, for a cut body) under the
    diagnosis ``code`` (``crawl.url-budget``, ``http.body-truncated`` …), ``detail`` saying why in one line,
    and a few ``examples``. Reports show each as one counted line, so nothing is left out silently."""

    code: str
    count: int
    detail: str
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        """``code: count detail (e.g. URL)``, the one line every report format shows."""
        example = f" (e.g. {self.examples[0]})" if self.examples else ""
        return f"{self.code}: {self.count:,} {self.detail}{example}"


INTERRUPTED: Final = "crawl.interrupted"
"""The :class:`LeftOut` code of a run stopped by a signal (its report is partial)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for a whole run: links per category, pages crawled, time taken and warnings. A monitored
    scan's counts (``linkdoctor.monitor.model.Scan.counts``) are one too, with the per-category counts only.
    """

    total: int = 0
    ok: int = 0
    redirected: int = 0
    broken: int = 0
    excluded: int = 0
    unverified: int = 0
    pages_crawled: int = 0
    elapsed_s: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    left_out: tuple[LeftOut, ...] = ()

    @property
    def interrupted(self) -> bool:
        """Whether a signal stopped the run (a ``crawl.interrupted`` line): the report is partial."""
        return any(line.code == INTERRUPTED for line in self.left_out)

    @classmethod
    def from_results(
        cls,
        results: Iterable[CheckResult],
        *,
        pages_crawled: int = 0,
        elapsed_s: float = 0.0,
        warnings: tuple[str, ...] = (),
        left_out: tuple[LeftOut, ...] = (),
    ) -> Summary:
        return cls.from_categories(
            (r.category for r in results),
            pages_crawled=pages_crawled,
            elapsed_s=elapsed_s,
            warnings=warnings,
            left_out=left_out,
        )

    @classmethod
    def from_categories(
        cls,
        categories: Iterable[Category],
        *,
        pages_crawled: int = 0,
        elapsed_s: float = 0.0,
        warnings: tuple[str, ...] = (),
        left_out: tuple[LeftOut, ...] = (),
    ) -> Summary:
        """The counts of one category per result: a crawl counts its links' verdicts without building them."""
        counts = dict.fromkeys(Category, 0)
        for category in categories:
            counts[category] += 1
        return cls(
            total=sum(counts.values()),
            ok=counts[Category.OK],
            redirected=counts[Category.REDIRECTED],
            broken=counts[Category.BROKEN],
            excluded=counts[Category.EXCLUDED],
            unverified=counts[Category.UNVERIFIED],
            pages_crawled=pages_crawled,
            elapsed_s=elapsed_s,
            warnings=warnings,
            left_out=left_out,
        )


AlikeLink = tuple[str, Sequence[Referrer], int | None]
"""A link's URL, referrers and ``referrer_count`` (None unless its referrers are only counted)."""
Alike = tuple[CheckResult, list[AlikeLink]]
"""Results that differ only in their URL and referrers (the links to one fetched document, none with a
verdict of its own): their shared result, and each one's :data:`AlikeLink`."""


@runtime_checkable
class LazyResults(Protocol):
    """Results built as they are read (a crawl's), which can give some of what they hold without building
    every result: those of some categories, each one's URL and referrers, and the links to one document
    that are alike (:data:`Alike`), or None when those at ``indices`` are not. ``outside_memory``: they
    are read from a store outside memory, so what is derived from all of them is kept outside it too."""

    outside_memory: bool

    def of_categories(self, categories: Collection[Category]) -> Sequence[CheckResult]: ...

    def urls_and_referrers(self) -> Iterator[tuple[str, Sequence[Referrer]]]: ...

    def alike(self, indices: Sequence[int]) -> Alike | None: ...


def results_in(results: Iterable[CheckResult], categories: Collection[Category]) -> Iterable[CheckResult]:
    """The results of ``categories``, in order. A crawl's report picks them by its links' verdicts, so the
    ok results of a large site are never built just to be skipped.

    >>> [r.url for r in results_in([CheckResult("a", Category.OK), CheckResult("b", Category.BROKEN)], {Category.BROKEN})]
    ['b']
    """
    if isinstance(results, LazyResults):
        return results.of_categories(categories)
    return (result for result in results if result.category in categories)


def urls_and_referrers(results: Iterable[CheckResult]) -> Iterator[tuple[str, Sequence[Referrer]]]:
    """Each result's URL and referrers, in order (a crawl's results give them without being built)."""
    if isinstance(results, LazyResults):
        return results.urls_and_referrers()
    return ((result.url, result.referrers) for result in results)


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one run: a summary and the results, in a stable order (by URL). A crawl's results are
    built as they are read (``linkdoctor.engine.results.ResultView``); ``tuple(report.results)`` holds them."""

    summary: Summary
    results: Sequence[CheckResult]
