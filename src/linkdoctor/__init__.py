"""linkdoctor: find every broken link on a website and say exactly why it broke and how to fix it.

The public library API. Everything else in the package is internal and may change between releases.

>>> import linkdoctor
>>> config = linkdoctor.CheckConfig(max_pages=50)
>>> inputs = linkdoctor.collect_inputs(["https://example.org/"])  # URLs, files, folders or globs
>>> # report = linkdoctor.run_check(config, inputs)
>>> # [r.url for r in report.results if r.category is linkdoctor.Category.BROKEN]

The names are loaded on first use, so ``import linkdoctor`` stays cheap (a worker or the parser process
that imports one submodule does not pay for the HTTP stack).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkdoctor._version import __version__

if TYPE_CHECKING:
    from linkdoctor.api import check_async, run_check
    from linkdoctor.config import CheckConfig
    from linkdoctor.engine.inputs import Inputs, collect_inputs
    from linkdoctor.errors import ConfigError, LinkdoctorError
    from linkdoctor.fix.apply import apply_plan
    from linkdoctor.fix.model import FixPlan, FixSettings
    from linkdoctor.fix.run import plan_fixes
    from linkdoctor.models import Category, CheckResult, Diagnosis, Referrer, Report

__all__ = [
    "Category",
    "CheckConfig",
    "CheckResult",
    "ConfigError",
    "Diagnosis",
    "FixPlan",
    "FixSettings",
    "Inputs",
    "LinkdoctorError",
    "Referrer",
    "Report",
    "__version__",
    "apply_plan",
    "check_async",
    "collect_inputs",
    "plan_fixes",
    "run_check",
]

_HOMES = {
    "CheckConfig": "linkdoctor.config",
    "Inputs": "linkdoctor.engine.inputs",
    "collect_inputs": "linkdoctor.engine.inputs",
    "check_async": "linkdoctor.api",
    "run_check": "linkdoctor.api",
    "ConfigError": "linkdoctor.errors",
    "LinkdoctorError": "linkdoctor.errors",
    "Category": "linkdoctor.models",
    "CheckResult": "linkdoctor.models",
    "Diagnosis": "linkdoctor.models",
    "Referrer": "linkdoctor.models",
    "Report": "linkdoctor.models",
    "FixPlan": "linkdoctor.fix.model",
    "FixSettings": "linkdoctor.fix.model",
    "plan_fixes": "linkdoctor.fix.run",
    "apply_plan": "linkdoctor.fix.apply",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'linkdoctor' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
