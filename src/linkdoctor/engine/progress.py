"""The crawl's live counters, which progress displays read while the engine updates them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Progress:
    """Live counters for progress displays; the engine updates them, readers only read.

    ``links`` and ``done`` count links as the report does (one per unique URL, fragment and all): those
    found, and those with a verdict; ``broken`` counts the links with a broken verdict, so it never passes
    ``done``, and at the end ``done`` and ``broken`` are the summary's ``total`` and ``broken``. ``checked``
    and ``queued`` count the resources requested (a refetch for anchors counts again). ``problems`` counts
    them as :mod:`linkdoctor.problems` groups them (a broken document once, a missing anchor each)."""

    pages: int = 0
    checked: int = 0
    broken: int = 0
    queued: int = 0
    links: int = 0
    done: int = 0
    problems: int = 0
    started: float = field(default_factory=time.monotonic)
