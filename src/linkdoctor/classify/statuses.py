"""The HTTP status registry: every IANA-registered status plus the vendor codes met in the wild.

Each entry says what a status means, its usual causes, and what the client and the site's operator can
do about it. Codes missing from the registry are explained by their class, so every number from 100 to
999 gets an answer::

    >>> explain_status(496).origin
    <Origin.NGINX: 'nginx'>
    >>> explain_status(299).name
    'Unassigned 2xx status (Successful)'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from linkdoctor.classify import (
    statuses_iana_4xx,
    statuses_iana_5xx,
    statuses_iana_ok,
    statuses_nginx,
    statuses_vendor,
)
from linkdoctor.classify.statuses_model import Origin, StatusInfo

__all__ = ["STATUSES", "Origin", "StatusInfo", "explain_status", "status_class"]

STATUSES: Final[Mapping[int, StatusInfo]] = MappingProxyType(
    {
        entry.code: entry
        for entry in sorted(
            (
                *statuses_iana_ok.ENTRIES,
                *statuses_iana_4xx.ENTRIES,
                *statuses_iana_5xx.ENTRIES,
                *statuses_nginx.ENTRIES,
                *statuses_vendor.ENTRIES,
            ),
            key=lambda entry: entry.code,
        )
    }
)

_REPORT = "If it persists, report the status to the site's operator."

# (class name, meaning, client fix, operator fix) for codes that nobody registered or uses.
_CLASSES: Final[Mapping[int, tuple[str, str, tuple[str, ...], tuple[str, ...]]]] = MappingProxyType(
    {
        1: (
            "Informational",
            "An interim response: the server received the request and is continuing; a final status follows.",
            ("Wait for the final response; an interim status alone is not an answer.",),
            ("Send a registered 1xx code or none at all.",),
        ),
        2: (
            "Successful",
            "The request succeeded; clients treat an unregistered 2xx like 200 OK.",
            ("Nothing to do: the link works.",),
            ("Prefer a registered 2xx code such as 200 so that every client understands it.",),
        ),
        3: (
            "Redirection",
            "The client must go elsewhere to complete the request; clients treat an unregistered 3xx like "
            "300 Multiple Choices and follow its Location header only if they choose to.",
            ("Update the link to the final URL if one is given.",),
            ("Use 301/308 (permanent) or 302/307 (temporary) with a Location header.",),
        ),
        4: (
            "Client Error",
            "The server says the request is at fault; clients treat an unregistered 4xx like 400 Bad Request.",
            ("Check the URL for typos, then check the link in a browser.", _REPORT),
            ("Send a registered 4xx code that names the problem, such as 403, 404 or 429.",),
        ),
        5: (
            "Server Error",
            "The server failed to handle a valid request; clients treat an unregistered 5xx like 500 "
            "Internal Server Error.",
            ("Retry later.", _REPORT),
            ("Read the server's error log for the request; send a registered 5xx code.",),
        ),
    }
)


def status_class(code: int) -> int:
    """The class digit of a status (1 to 5), or 0 for non-standard codes 600-999.

    >>> status_class(404), status_class(999)
    (4, 0)
    """
    _check_range(code)
    first = code // 100
    return first if first <= 5 else 0


def explain_status(code: int) -> StatusInfo:
    """The registry entry for ``code``, or an explanation by its class when the code is not listed.

    >>> explain_status(404).name
    'Not Found'

    Raises :class:`ValueError` for numbers outside 100-999, which are not HTTP status codes.
    """
    _check_range(code)
    entry = STATUSES.get(code)
    return entry if entry is not None else _by_class(code)


def _check_range(code: int) -> None:
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 999:
        raise ValueError(f"{code!r} is not an HTTP status code: status codes are three digits, 100 to 999")


def _by_class(code: int) -> StatusInfo:
    klass = status_class(code)
    if klass == 0:
        return StatusInfo(
            code=code,
            name=f"Non-standard status {code}",
            origin=Origin.UNASSIGNED,
            reference="RFC 9110, Section 15 (status codes are 100-599)",
            meaning=(
                f"{code} is outside the standard classes 1xx-5xx and has no registered meaning; a server "
                "or an intermediary invented it. Clients usually treat it as a failure."
            ),
            causes=("A custom application or proxy status.", "A bot-protection layer refusing the request."),
            client_fix=("Check the link in a browser.", _REPORT),
            operator_fix=("Send a registered status code so that clients and checkers understand it.",),
        )
    name, meaning, client_fix, operator_fix = _CLASSES[klass]
    return StatusInfo(
        code=code,
        name=f"Unassigned {klass}xx status ({name})",
        origin=Origin.UNASSIGNED,
        reference="RFC 9110, Section 15 (unrecognised status codes are treated as x00 of their class)",
        meaning=f"{code} is not registered with IANA nor in known vendor use. Class {klass}xx: {meaning}",
        causes=(f"A custom status chosen by the application or an intermediary in the {klass}xx class.",),
        client_fix=client_fix,
        operator_fix=operator_fix,
    )
