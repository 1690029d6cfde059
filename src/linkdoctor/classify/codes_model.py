"""The shape of one diagnosis-code catalogue entry, shared by the data modules and :mod:`.codes`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CLIENT: Final = "client"
OPERATOR: Final = "operator"
EITHER: Final = "either"
ACTORS: Final = frozenset({CLIENT, OPERATOR, EITHER})


@dataclass(frozen=True, slots=True)
class DiagnosisInfo:
    """One catalogue entry. ``actor`` says who must act: the ``client`` (whoever runs the check or
    writes the link), the ``operator`` (whoever runs the server) or ``either``."""

    code: str
    title: str
    summary: str
    explanation: str
    fix: tuple[str, ...]
    actor: str
    related_status: tuple[int, ...] = ()
