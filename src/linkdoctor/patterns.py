"""User-supplied regular expressions (``--include``, ``--exclude``, ``--scope``, ``[remap]``, a monitored
site's patterns), compiled for an engine that runs in linear time, so no pattern can freeze a check or the
``serve`` process that runs it.

Python's ``re`` backtracks: ``^(.+)+!$`` against a URL of 24 characters takes a second, and each further
two characters multiply that by four, so one long link on a hostile page pins the process for good. The
patterns here run on RE2 (the ``google-re2`` package), whose matching time is linear in the URL. Measured on
this project's machine (``benchmarks``' 2,000-page generated site, 58,126 links, five typical patterns):

================================  ============================  ==================================
engine                            ``^(.+)+!$``, 10 KB URL        290,630 ordinary searches
================================  ============================  ==================================
``re``                            never ends (exponential)      0.24 s (0.8 µs each)
``regex`` with ``timeout=1``      0.0 s, but ``(x+x+)+y`` takes  0.94 s (3.2 µs each)
                                  the full second, per link
RE2 (``google-re2``)              0.3 ms                        1.43 s (4.9 µs each)
================================  ============================  ==================================

``regex`` with a timeout bounds one search, not a scan: a pattern that hits the timeout on every link costs
that timeout on each of them. RE2 is a few microseconds slower per search, which is noise next to one HTTP
request, and gives the guarantee. What RE2 cannot run (backreferences like ``\\1``, lookaround like
``(?=…)``, ``\\Z``) is refused when the pattern is given, with RE2's reason: :class:`PatternError`.

>>> compile_pattern(r"\\.pdf$").search("https://example.org/a.pdf") is not None
True
>>> check_pattern("(a)\\\\1")
Traceback (most recent call last):
...
linkdoctor.patterns.PatternError: '(a)\\\\1' is not a valid regular expression: invalid escape sequence: \\1 (patterns run on RE2, which has no backreferences or lookaround)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

MAX_PATTERN_LENGTH: Final = 2000
_MAX_MEMORY: Final = 8 << 20  # bytes of RE2 program per pattern: a huge repetition is refused, not compiled


class Pattern(Protocol):
    """What the engine asks of a pattern: :class:`UserPattern` (RE2), or a ``re.Pattern`` a library caller
    compiled on its own."""

    @property
    def pattern(self) -> str: ...

    @property
    def groups(self) -> int: ...

    @property
    def groupindex(self) -> Mapping[str, int]: ...

    def search(self, string: str, /) -> Any: ...

    def sub(self, repl: str, string: str, /, count: int = 0) -> str: ...


class PatternError(ValueError):
    """A pattern that is not a regular expression RE2 can run; ``reason`` says why."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"{text!r} is not a valid regular expression: {reason}")
        self.reason = reason


class UserPattern:
    """One compiled RE2 pattern, with the ``re.Pattern`` methods the engine uses (``search``, ``sub``).

    Pickles as its text (a scan runs in another process), and compares by its text.
    """

    __slots__ = ("_regexp", "pattern")

    def __init__(self, text: str) -> None:
        self.pattern = text
        self._regexp: Any = _compile(text)

    @property
    def groups(self) -> int:
        return int(self._regexp.groups)

    @property
    def groupindex(self) -> Mapping[str, int]:
        return dict(self._regexp.groupindex)

    def search(self, string: str, /) -> Any:
        return self._regexp.search(string)

    def sub(self, repl: str, string: str, /, count: int = 0) -> str:
        """``re.sub`` templates (``\\1``, ``\\g<1>``, ``\\g<name>``) work the same."""
        return str(self._regexp.sub(repl, string, count=count))

    def __reduce__(self) -> tuple[type[UserPattern], tuple[str]]:
        return UserPattern, (self.pattern,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UserPattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"UserPattern({self.pattern!r})"


def compile_pattern(text: str) -> UserPattern:
    """``text`` compiled for RE2; :class:`PatternError` when it cannot run there."""
    return UserPattern(text)


def check_pattern(text: str) -> str:
    """``text`` unchanged when :func:`compile_pattern` accepts it, else :class:`PatternError`."""
    compile_pattern(text)
    return text


def _compile(text: str) -> Any:
    if not isinstance(text, str) or not text:
        raise PatternError(str(text), "a pattern must be a non-empty string")
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(
            text, f"a pattern must be at most {MAX_PATTERN_LENGTH} characters, not {len(text)}"
        )
    # Imported on the first pattern: a run without --include, --exclude, --scope or [remap] never loads RE2.
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print every refused pattern on stderr
    options.max_mem = _MAX_MEMORY
    try:
        return re2.compile(text, options)
    except re2.error as exc:
        reason = (
            exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        )
        raise PatternError(
            text, f"{reason} (patterns run on RE2, which has no backreferences or lookaround)"
        ) from None
