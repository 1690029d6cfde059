"""The report of a check is written under the crawl's garbage-collection policy: it reads the whole crawl
state and allocates as much as the crawl did, and with the default threshold the collector would rescan
that state over and over while it is written."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from linkdoctor.cli import cli
from linkdoctor.report import json_v2


def test_the_report_is_written_with_the_crawls_collection_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "index.md"
    page.write_text("[a](a.md) [missing](gone.md)\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    seen: list[int] = []
    write = json_v2.write_json_v2_report

    def recording(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.get_threshold()[0])
        write(*args, **kwargs)

    monkeypatch.setattr(json_v2, "write_json_v2_report", recording)
    before = gc.get_threshold()
    result = CliRunner().invoke(cli, ["check", "--no-progress", "--format", "json", str(page)])
    assert result.exit_code == 2, result.output
    assert '"broken": 1' in result.stdout
    assert seen and seen[0] > before[0]  # raised while the report was written
    assert gc.get_threshold() == before  # and restored afterwards
