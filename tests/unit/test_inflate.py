"""Capped inflation (linkdoctor.engine.http.inflate): real compressed pages come out whole, a bomb is cut
after a few hundred kilobytes, and a corrupt body is an error."""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Callable

import pytest

from linkdoctor.engine.http.inflate import BOMB_FLOOR, InflateError, Inflater

MB = 1024 * 1024


def page(size: int) -> bytes:
    """HTML that compresses like a real, link-heavy page (about 5 to 10 times)."""
    rng = random.Random(7)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randrange(4, 12))) for _ in range(500)]
    rows, total = [], 0
    while total < size:
        word = rng.choice(words)
        rows.append(f'<li><a href="/docs/{word}-{rng.randrange(10**6)}.html">{word.title()}</a></li>\n')
        total += len(rows[-1])
    return "".join(rows).encode()[:size]


def inflate(data: bytes, encoding: str, *, limit: int, step: int = 65536) -> tuple[bytes, Inflater]:
    inflater = Inflater.for_encoding(encoding)
    out = b""
    for start in range(0, len(data), step):
        if inflater.bomb or inflater.finished or len(out) >= limit:
            break
        out += inflater.feed(data[start : start + step], room=limit - len(out))
    return out, inflater


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", raw_deflate)],
    ids=["gzip", "deflate", "raw-deflate"],
)
def test_a_real_page_comes_out_whole(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    body = page(3 * MB)
    out, inflater = inflate(compress(body), encoding, limit=10 * MB)
    assert out == body
    assert inflater.finished and not inflater.bomb


def test_a_page_longer_than_the_limit_is_cut_at_the_limit() -> None:
    out, inflater = inflate(gzip.compress(page(2 * MB)), "gzip", limit=MB)
    assert len(out) == MB
    assert not inflater.finished and not inflater.bomb


def test_a_gzip_bomb_is_cut_after_a_few_hundred_kilobytes() -> None:
    out, inflater = inflate(gzip.compress(bytes(64 * MB), 9), "gzip", limit=10 * MB)
    assert inflater.bomb
    assert len(out) <= BOMB_FLOOR + 65536
    assert inflater.consumed < 10_000


def test_a_corrupt_body_is_an_error() -> None:
    packed = bytearray(gzip.compress(page(100_000)))
    packed[40:60] = bytes(20)
    with pytest.raises(InflateError, match="corrupt gzip body"):
        inflate(bytes(packed), "gzip", limit=MB)
