"""The usage examples in the monitor's docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "linkdoctor.engine.frontier",
    "linkdoctor.engine.http.ssrf",
    "linkdoctor.monitor.accounts",
    "linkdoctor.monitor.alerts",
    "linkdoctor.monitor.certpaths",
    "linkdoctor.monitor.db",
    "linkdoctor.monitor.diff",
    "linkdoctor.monitor.grouping",
    "linkdoctor.monitor.model",
    "linkdoctor.monitor.schedule",
    "linkdoctor.cli.sites",
    "linkdoctor.web.charts",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0, f"{name} has no usage example"
    assert result.failed == 0
