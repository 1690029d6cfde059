"""Bodies in ``Content-Encoding: gzip`` or ``deflate``, inflated in small steps with a cap, so a decompression
bomb costs a few hundred kilobytes, never the gigabytes it expands to.

The transport asks for these two encodings only (:data:`ACCEPT_ENCODING`) and inflates them itself, because
it must know how much *compressed* input each step used: a body that comes out more than
:data:`BOMB_RATIO` times larger than what went in, past :data:`BOMB_FLOOR` bytes, is a bomb and is cut
there (real pages compress 3 to 20 times; a gzip bomb about 1,000). A body cut so, or at the caller's
limit, is reported as ``http.body-truncated`` like any page cut at ``--max-body``::

    inflater = Inflater.for_encoding("gzip")
    out = inflater.feed(raw_chunk, room=limit - len(body))   # at most ``room`` bytes
    if inflater.bomb: ...                                      # stop reading: the rest is not wanted
"""

from __future__ import annotations

import zlib
from typing import Final

ACCEPT_ENCODING: Final = "gzip, deflate"
ENCODINGS: Final = frozenset({"gzip", "x-gzip", "deflate"})
BOMB_RATIO: Final = 100
BOMB_FLOOR: Final = 256 * 1024
_STEP: Final = 64 * 1024  # bytes produced per step: the ratio is checked between steps


class InflateError(ValueError):
    """The compressed body is corrupt."""


class Inflater:
    """Inflates one body; see the module docstring.

    >>> import gzip
    >>> bomb = gzip.compress(bytes(10 * 1024 * 1024))
    >>> inflater = Inflater.for_encoding("gzip")
    >>> out = inflater.feed(bomb, room=10 * 1024 * 1024)
    >>> inflater.bomb, len(out) <= BOMB_FLOOR + _STEP
    (True, True)
    """

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._inflate = zlib.decompressobj(wbits=wbits)
        self._started = False
        self.consumed = 0  # compressed bytes used so far
        self.produced = 0
        self.bomb = False

    @classmethod
    def for_encoding(cls, encoding: str) -> Inflater:
        """``gzip`` (or ``x-gzip``), or ``deflate`` (zlib-wrapped, or raw as some servers send it)."""
        return cls(16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    @property
    def finished(self) -> bool:
        return self._inflate.eof

    def feed(self, data: bytes, *, room: int) -> bytes:
        """Inflate ``data`` (the next compressed bytes), producing at most ``room`` bytes; what does not fit
        is dropped (the caller stops reading). Sets :attr:`bomb` when the ratio says so."""
        out: list[bytes] = []
        pending = data
        while pending and room > 0 and not self.bomb and not self._inflate.eof:
            chunk = self._step(pending, min(room, _STEP))
            tail = self._inflate.unconsumed_tail
            self.consumed += len(pending) - len(tail)
            pending = tail
            out.append(chunk)
            room -= len(chunk)
            self.produced += len(chunk)
            if self.produced > BOMB_FLOOR and self.produced > BOMB_RATIO * max(1, self.consumed):
                self.bomb = True
            if not chunk and not tail:
                break
        return b"".join(out)

    def _step(self, data: bytes, size: int) -> bytes:
        try:
            chunk = self._inflate.decompress(data, size)
        except zlib.error as exc:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise InflateError(f"corrupt {self._name} body: {exc}") from None
            # "deflate" sent as raw deflate, without the zlib wrapper: start again that way.
            self._inflate = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
            self._wbits = -zlib.MAX_WBITS
            return self._step(data, size)
        self._started = True
        return chunk

    @property
    def _name(self) -> str:
        return "gzip" if self._wbits > zlib.MAX_WBITS else "deflate"
