"""The package version, in a module of its own so that every module can read it without importing the
public API (``linkdoctor/__init__``) and the engine behind it."""

__version__ = "0.1.0"
