"""JSON values with lists too long to hold, written a piece at a time.

A list kept outside memory (a link's referrers on every page of a huge site, a problem's places, read from
disk as they are listed: :class:`~linkdoctor.scratch.StoredRows`) stands in its value as a mark; the value
is encoded once, and each mark is replaced by its list, :data:`~linkdoctor.scratch.PIECE` items at a time.
What comes out is what encoding the whole value would give, to the byte.

    >>> import json
    >>> deferred = Deferred(json.JSONEncoder(separators=(",", ":")).encode)
    >>> value = {"n": 3, "items": listed(range(3), ([i] for i in range(3)), deferred)}
    >>> "".join(deferred.text(value))
    '{"n":3,"items":[[0],[1],[2]]}'
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

from linkdoctor.scratch import pieces


class Deferred:
    """:meth:`mark` stands in for a list in a value; :meth:`text` encodes the value (with ``dumps``, which
    must write a list's items with no space between them: compact JSON) with each list in its place."""

    _MARK = f"\ue000{secrets.token_hex(8)}-"  # no page can hold it: it is new for every process

    def __init__(self, dumps: Callable[[Any], str]) -> None:
        self._dumps = dumps
        self._lists: list[Iterable[Any]] = []

    def mark(self, items: Iterable[Any]) -> str:
        self._lists.append(items)
        return f"{self._MARK}{len(self._lists) - 1}\ue000"

    def text(self, value: Any) -> str | Iterator[str]:
        """``value`` encoded: a string, or pieces when a list in it was marked."""
        written = self._dumps(value)
        if not self._lists:
            return written
        lists, self._lists = self._lists, []
        return self._spliced(written, lists)

    def _spliced(self, written: str, lists: list[Iterable[Any]]) -> Iterator[str]:
        dumps, rest = self._dumps, written
        for i, items in enumerate(lists):
            head, _, rest = rest.partition(dumps(f"{self._MARK}{i}\ue000"))  # as the encoder wrote it
            yield head + "["
            separator = ""
            for piece in pieces(items):
                yield separator + dumps(piece)[1:-1]
                separator = ","
            yield "]"
        yield rest


def held(items: Sequence[Any]) -> bool:
    """Whether ``items`` is held in memory (a tuple or list), not read from a store as it is listed."""
    return isinstance(items, tuple | list)


def listed(items: Sequence[Any], rows: Iterable[Any], deferred: Deferred) -> list[Any] | str:
    """``rows`` (one per item of ``items``) as a list, or marked for ``deferred`` when ``items`` is not
    held in memory."""
    return list(rows) if held(items) else deferred.mark(rows)


def write(out: TextIO, text: str | Iterator[str]) -> None:
    """Write :meth:`Deferred.text`'s answer to ``out``."""
    if isinstance(text, str):
        out.write(text)
    else:
        out.writelines(text)
