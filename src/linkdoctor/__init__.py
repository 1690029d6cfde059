"""linkdoctor: find every broken link on a website and say exactly why it broke and how to fix it."""

from __future__ import annotations

__version__ = "0.1.0"
