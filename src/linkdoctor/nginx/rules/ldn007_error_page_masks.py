"""LDN007: ``error_page 495|496|497`` turns the TLS client error into a 2xx or 3xx answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.parse import Directive

TLS_CLIENT_CODES: Final = frozenset({495, 496, 497})


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """One ``error_page``: its codes, the ``=`` override (``None`` absent, ``0`` a bare ``=``), its target."""

    codes: frozenset[int]
    override: int | None
    target: str


def parse_error_page(directive: Directive) -> ErrorPage | None:
    args = list(directive.args)
    if len(args) < 2:
        return None
    target = args.pop()
    override: int | None = None
    if args and args[-1].startswith("="):
        text = args.pop()[1:]
        if text and not text.isdigit():
            return None
        override = int(text) if text else 0
    codes = frozenset(int(a) for a in args if a.isdigit())
    return ErrorPage(codes, override, target)


def _is_redirect_target(target: str) -> bool:
    return "://" in target or target.startswith("$scheme")


def _named_location_status(target: str, ctx: LintContext) -> int | None:
    """The status a named location answers with ``return``, if it does so directly."""
    for d in ctx.config.walk():
        if d.name == "location" and d.args[:1] == (target,):
            for ret in d.children("return"):
                if ret.args and ret.args[0].isdigit():
                    return int(ret.args[0])
    return None


def _masked_status(page: ErrorPage, ctx: LintContext) -> str | None:
    """How the answer hides the TLS error (``200``, ``a 302 redirect``…), or ``None`` if it does not."""
    if page.override is None:
        return "a 302 redirect" if _is_redirect_target(page.target) else None
    if page.override == 0:
        if page.target.startswith("@"):
            status = _named_location_status(page.target, ctx)
            return str(status) if status is not None and status < 400 else None
        return "the status of the error page itself (200 for a file)"
    if 200 <= page.override < 400:
        return str(page.override)
    return None


def _http_to_https(page: ErrorPage) -> bool:
    """The common and correct fix for 497: send plain-HTTP requests to the https:// URL."""
    redirect = page.override is None or 300 <= page.override < 400
    return redirect and page.target.lower().startswith(("https://", "$scheme"))


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for directive in ctx.config.walk():
        if directive.name != "error_page":
            continue
        page = parse_error_page(directive)
        if page is None:
            continue
        codes = page.codes & TLS_CLIENT_CODES
        if codes == {497} and _http_to_https(page):
            continue
        if not codes:
            continue
        masked = _masked_status(page, ctx)
        if masked is None:
            continue
        listed = ", ".join(str(c) for c in sorted(codes))
        yield RULE.finding(
            directive,
            f"error_page {listed} answers with {masked}: client-certificate failures look like success "
            "to monitors and link checkers",
        )


RULE = Rule(
    id="LDN007",
    severity=Severity.WARNING,
    title="error_page hides 495/496/497 behind a 2xx or 3xx response",
    explanation=(
        "495 (certificate error), 496 (no certificate) and 497 (plain HTTP to an HTTPS port) are nginx's "
        "own codes; it sends them as 400 unless error_page changes the answer. Mapping them to a 2xx "
        "(=200, or = with a static page) or a redirect hides every client-certificate failure from "
        "uptime monitors, link checkers and logs. Redirecting 497 to the https:// URL is fine and not "
        "reported."
    ),
    fix=(
        "Serve a helpful page but keep an error status: error_page 495 496 /mtls-error.html; (the client "
        "still gets 400), or =403.",
        "Redirect only 497 (plain HTTP on the TLS port) to https://.",
    ),
    snippet=(
        "error_page 495 496 /mtls-error.html;   # still answered with 400\n"
        "error_page 497 =301 https://$host$request_uri;\n"
        "location = /mtls-error.html { internal; root /usr/share/nginx/html; }"
    ),
    tags=("error-page", "monitoring", "mtls"),
    check=check,
)
