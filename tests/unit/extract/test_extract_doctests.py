"""The usage examples in the extraction modules' docstrings run and stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "chunks", "css", "html", "markdown", "slug", "source", "values"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(
        "linkdoctor.extract" if name == "__init__" else f"linkdoctor.extract.{name}"
    )
    result = doctest.testmod(module)
    assert result.attempted > 0, f"{module.__name__} has no usage example"
    assert result.failed == 0
