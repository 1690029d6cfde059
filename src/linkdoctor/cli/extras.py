"""The guard of the optional extras: a command that needs the ``[distributed]`` extra (``worker``, and
``check``/``serve`` with ``--broker``) checks for it before anything else, and without it exits 3 with one
line saying what to install, never a ``ModuleNotFoundError`` traceback.

>>> require_distributed("--broker", importer=lambda name: None)  # installed: nothing happens
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from linkdoctor.errors import ConfigError

DISTRIBUTED_MODULES = ("redis", "celery")
DISTRIBUTED_INSTALL = "pip install 'linkdoctor[distributed]'"


def require_distributed(what: str, *, importer: Callable[[str], object] = importlib.import_module) -> None:
    """Raise a :class:`ConfigError` naming the extra when Redis' or Celery's client cannot be imported."""
    for name in DISTRIBUTED_MODULES:
        try:
            importer(name)
        except ImportError as exc:
            missing = getattr(exc, "name", None) or name
            raise ConfigError(
                f"{what} needs the distributed extra (the module {missing!r} is not installed): "
                f"{DISTRIBUTED_INSTALL}"
            ) from None
