"""Extraction: pure functions that turn a document's text into the raw links it holds (no I/O, no resolving).

``extract_html``, ``extract_markdown`` and ``extract_css`` accept any text and never raise; each returns an
:class:`Extraction` whose link rows (:class:`RawLink` values through ``.links``) keep URLs exactly as
written, with their source lines.

>>> from linkdoctor.extract import extract_html
>>> [link.url for link in extract_html('<img src="a.png" srcset="b.png 2x">').links]
['a.png', 'b.png']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkdoctor.extract.css import extract_css
from linkdoctor.extract.html import extract_html
from linkdoctor.extract.model import Extraction, RawLink

if TYPE_CHECKING:
    from linkdoctor.extract.markdown import extract_markdown


def __getattr__(name: str) -> Any:
    # markdown-it is imported when Markdown is first extracted, not by every HTML crawl.
    if name == "extract_markdown":
        from linkdoctor.extract.markdown import extract_markdown

        return extract_markdown
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Extraction", "RawLink", "extract_css", "extract_html", "extract_markdown"]
