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

# C0 and C1 controls and DEL; a tab is kept (it is whitespace, never a sequence).
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_CONTROLS_BUT_NEWLINE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str, *, newlines: bool = False) -> str:
    """``text`` with each control character as ``\\xNN`` (``newlines``: a newline kept, for text that spans
    lines on purpose, like fix steps)."""
    if text.isprintable():
        return text
    controls = _CONTROLS_BUT_NEWLINE if newlines else _CONTROLS
    return controls.sub(lambda found: f"\\x{ord(found[0]):02x}", text)
