"""The catalogue of stable diagnosis codes: what each one means, why it happens and how to fix it.

A diagnosis code (``tls.client-cert-required``, ``http.not-found``…) names the *cause* of a broken
link, like a linter's rule id. Codes are stable: reports, tests and users rely on them, and
``linkdoctor explain CODE`` prints the entry. Engine code attaches a diagnosis to a result with
:func:`make`::

    >>> make("http.not-found").code
    'http.not-found'
    >>> make("net.timeout", "no answer within 10 s").summary
    'The server did not answer in time: no answer within 10 s'
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from linkdoctor.classify import codes_crawl, codes_doctor, codes_http, codes_tls
from linkdoctor.classify.codes_model import ACTORS, CLIENT, EITHER, OPERATOR, DiagnosisInfo
from linkdoctor.models import Diagnosis

__all__ = ["ACTORS", "CLIENT", "CODES", "EITHER", "OPERATOR", "DiagnosisInfo", "info", "make"]

CODES: Final[Mapping[str, DiagnosisInfo]] = MappingProxyType(
    {
        entry.code: entry
        for entry in (*codes_tls.ENTRIES, *codes_doctor.ENTRIES, *codes_http.ENTRIES, *codes_crawl.ENTRIES)
    }
)


def info(code: str) -> DiagnosisInfo:
    """Return the catalogue entry for ``code``.

    >>> info("http.gone").actor
    'client'

    Raises :class:`KeyError` naming the code and the closest known codes when it is unknown.
    """
    try:
        return CODES[code]
    except KeyError:
        raise KeyError(_unknown_message(code)) from None


def make(code: str, detail: str = "") -> Diagnosis:
    """Build the :class:`~linkdoctor.models.Diagnosis` for ``code``, with an optional detail appended.

    >>> make("tls.client-cert-expired", "expired 2024-01-01").summary.endswith(": expired 2024-01-01")
    True
    """
    entry = info(code)
    summary = f"{entry.summary}: {detail}" if detail else entry.summary
    return Diagnosis(code=entry.code, summary=summary, fix=entry.fix)


def _unknown_message(code: str) -> str:
    close = difflib.get_close_matches(code, CODES.keys(), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown diagnosis code {code!r}{hint} (see 'linkdoctor explain --list')"
