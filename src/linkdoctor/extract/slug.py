"""GitHub-style heading anchors: the ids GitHub gives Markdown headings, so ``#fragment`` links can be checked.

Lower-case the heading text, drop everything but letters, marks, numbers, connector punctuation (``_``),
hyphens and spaces, turn each space into ``-``; repeated slugs get ``-1``, ``-2``… in order.
"""

from __future__ import annotations

import unicodedata


def github_slug(text: str) -> str:
    """Return the slug of one heading's plain text, ignoring earlier headings.

    >>> github_slug("Hello, World! (v2.0)")
    'hello-world-v20'
    """
    kept = [char for char in text.lower() if char in " -" or _is_word_char(char)]
    return "".join(kept).replace(" ", "-")


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc"


class HeadingSlugger:
    """Hands out unique slugs for the headings of one document, numbering repeats as GitHub does.

    >>> slugger = HeadingSlugger()
    >>> [slugger.slug(title) for title in ("Usage", "Usage", "Usage-1", "Usage")]
    ['usage', 'usage-1', 'usage-1-1', 'usage-2']
    """

    __slots__ = ("_occurrences",)

    def __init__(self) -> None:
        self._occurrences: dict[str, int] = {}

    def slug(self, text: str) -> str:
        """Return the next unique slug for a heading with this plain text."""
        base = github_slug(text)
        occurrences = self._occurrences
        result = base
        while result in occurrences:
            occurrences[base] += 1
            result = f"{base}-{occurrences[base]}"
        occurrences[result] = 0
        return result
