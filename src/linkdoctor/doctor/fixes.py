"""Wording shared by the doctor's findings: nginx snippets for operators and human-sized durations.

A fix step that changes nginx reads as a short instruction followed by the directives, indented, so the
console shows them as a block and JSON keeps them in one string::

    >>> print(nginx_snippet("in the server block", "ssl_verify_depth 2;"))
    nginx, in the server block:
        ssl_verify_depth 2;
"""

from __future__ import annotations

from datetime import timedelta


def nginx_snippet(instruction: str, *directives: str) -> str:
    """One fix step: ``nginx, <instruction>:`` and the directives on their own indented lines."""
    return "\n".join((f"nginx, {instruction}:", *(f"    {line}" for line in directives)))


def days_text(delta: timedelta) -> str:
    """``3 days``, ``1 day``, ``5 hours`` or ``less than an hour`` for a positive duration.

    >>> days_text(timedelta(days=2, hours=3))
    '2 days'
    """
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours >= 1 else "less than an hour"
