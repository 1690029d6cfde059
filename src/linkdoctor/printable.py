"""Text from outside shown safely: what a site, a server, a configuration or a file name holds may carry
control characters, and an escape sequence printed raw drives the terminal (clears it, retitles it, hides
what follows). Every output that prints such text shows a control character as ``\\xNN``, as Python does.

>>> shown("gone\\x1b[2J.html")
'gone\\\\x1b[2J.html'
>>> shown("two\\nlines", newlines=True)
'two\\nlines'
"""

from __future__ import annotations

import re
from typing import Final

# C0 and C1 controls and DEL (a tab is kept: it is whitespace, never a sequence); the line and paragraph
# separators, which end a line for some readers; and the bidirectional formatting characters, which
# reorder what is shown around them (a link that reads as another).
_INVISIBLE: Final = "\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_CONTROLS: Final = re.compile(f"[\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f{_INVISIBLE}]")
_CONTROLS_BUT_NEWLINE: Final = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_INVISIBLE}]")


def shown(text: str, *, newlines: bool = False) -> str:
    r"""``text`` with each control character as ``\xNN`` (``newlines``: a newline kept, for text that spans
    lines on purpose, like fix steps), and each separator and bidirectional formatting character as
    ``\uNNNN``.

    >>> shown("evil\u202egnp.exe")
    'evil\\u202egnp.exe'
    """
    if text.isprintable():
        return text
    controls = _CONTROLS_BUT_NEWLINE if newlines else _CONTROLS
    return controls.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
