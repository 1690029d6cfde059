"""CSS link extraction: ``url()`` references and ``@import`` targets, with line numbers, via tinycss2.

Used for stylesheets and, by the HTML extractor, for ``<style>`` elements and ``style=""`` attributes.
"""

from __future__ import annotations

from typing import Any

from linkdoctor.extract.model import Extraction, LinkRow
from linkdoctor.extract.source import normalize_newlines
from linkdoctor.extract.values import is_data_uri, strip_ascii_whitespace

URL_LABEL = "css url()"
IMPORT_LABEL = "css @import"
_BLOCKS = frozenset({"() block", "[] block", "{} block"})


def extract_css(text: str, *, first_line: int = 1) -> Extraction:
    """Extract the links of a stylesheet; ``first_line`` is the line its first character sits on.

    >>> extract_css('@import "base.css";\\nbody { background: url(bg.png) }').links[1].line
    2
    """
    return Extraction(rows=tuple(css_links(text, first_line)), anchors=frozenset(), base_href=None)


def might_have_links(css: str) -> bool:
    """Cheap pre-check: can ``css`` hold a ``url()`` or ``@import`` at all? Most style attributes cannot."""
    if "(" not in css and "@" not in css:
        return False
    lowered = css.lower()
    return "url(" in lowered or "@import" in lowered


def css_links(css: str, first_line: int = 1, last_line: int | None = None) -> list[LinkRow]:
    """Return the links of ``css`` in source order, as ``(url, line, label, label)`` rows, numbering lines
    from ``first_line``.

    ``last_line`` caps line numbers, for CSS whose decoded text has more lines than its source (a
    ``style`` attribute with ``&#10;`` entities).
    """
    if not might_have_links(css):
        return []
    # Imported on the first CSS that may hold a link: most pages have none, and many runs never meet any.
    import tinycss2

    # tinycss2 counts form feeds as line breaks; HTML and our line numbers do not.
    tokens = tinycss2.parse_component_value_list(
        normalize_newlines(css).replace("\f", " "), skip_comments=True
    )
    found: list[tuple[str, int, str]] = []
    stack: list[tuple[list[Any], int]] = []
    current: list[Any] = tokens
    index = 0
    while True:
        if index >= len(current):
            if not stack:
                break
            current, index = stack.pop()
            continue
        token = current[index]
        index += 1
        kind = token.type
        if kind == "url":
            found.append((token.value, token.source_line, URL_LABEL))
        elif kind == "function":
            if token.lower_name == "url":
                _add_url_function(token, found, URL_LABEL)
            else:
                stack.append((current, index))
                current, index = token.arguments, 0
        elif kind in _BLOCKS:
            stack.append((current, index))
            current, index = token.content, 0
        elif kind == "at-keyword" and token.lower_value == "import":
            index = _add_import(current, index, found)
    return _to_links(found, first_line - 1, last_line)


def _add_url_function(token: Any, found: list[tuple[str, int, str]], label: str) -> None:
    """``url("x")`` is a function holding a string (the unquoted form is a single url token)."""
    for argument in token.arguments:
        if argument.type == "string":
            found.append((argument.value, argument.source_line, label))
            return
        if argument.type != "whitespace":
            return


def _add_import(tokens: list[Any], index: int, found: list[tuple[str, int, str]]) -> int:
    """Record the target after an ``@import`` keyword; return the index to continue from."""
    while index < len(tokens) and tokens[index].type == "whitespace":
        index += 1
    if index >= len(tokens):
        return index
    target = tokens[index]
    if target.type in ("string", "url"):
        found.append((target.value, target.source_line, IMPORT_LABEL))
        return index + 1
    if target.type == "function" and target.lower_name == "url":
        _add_url_function(target, found, IMPORT_LABEL)
        return index + 1
    return index


def _to_links(found: list[tuple[str, int, str]], offset: int, last_line: int | None) -> list[LinkRow]:
    links: list[LinkRow] = []
    for raw, line, label in found:
        url = strip_ascii_whitespace(raw)
        if not url or is_data_uri(url):
            continue
        number = line + offset
        if last_line is not None and number > last_line:
            number = last_line
        links.append((url, number, label, label))
    return links
