"""The frame of a SARIF 2.1.0 log, written once for both SARIF outputs: the link report
(:mod:`linkdoctor.report.sarif`) and the nginx linter's (:mod:`linkdoctor.nginx.formats`). It owns the
format's version and schema, and the tool driver that names linkdoctor.

    >>> log = sarif_log(tool_version="1.0", rules=[], run={"results": []})
    >>> log["version"], log["runs"][0]["tool"]["driver"]["name"]
    ('2.1.0', 'linkdoctor')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from linkdoctor.options import PROJECT_URL, TOOL_NAME

SARIF_VERSION: Final = "2.1.0"
SARIF_SCHEMA: Final = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def sarif_log(*, tool_version: str, rules: list[dict[str, Any]], run: Mapping[str, Any]) -> dict[str, Any]:
    """A SARIF log with one run: linkdoctor's driver with ``rules``, then the ``run``'s own members in order
    (its ``results`` and whatever else it holds, such as ``artifacts`` or ``columnKind``)."""
    driver = {"name": TOOL_NAME, "version": tool_version, "informationUri": PROJECT_URL, "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [{"tool": {"driver": driver}, **run}]}
