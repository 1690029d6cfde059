"""``fix`` end to end for the library and the command line: stamp the sources, run the check (every referrer
kept, so each place a link is written is known) or take a saved report's results, then plan the edits.

    plan = run_sync(plan_fixes(CheckConfig(), collect_inputs(["docs"]), FixSettings()))
    apply_plan(plan)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.engine.transport import Transport
from linkdoctor.fix.model import FileStamp, FixPlan, FixSettings
from linkdoctor.fix.plan import Planner
from linkdoctor.fix.probe import Prober
from linkdoctor.fix.sources import source_kind, stamp
from linkdoctor.models import CheckResult


async def plan_fixes(
    config: CheckConfig,
    inputs: Inputs,
    settings: FixSettings,
    *,
    results: Sequence[CheckResult] | None = None,
    since_ns: int | None = None,
    transport: Transport | None = None,
    roots: tuple[Path, ...] | None = None,
    cwd: Path | None = None,
) -> FixPlan:
    """Check ``inputs`` (or take ``results``, a saved report's, written at ``since_ns``) and plan the edits
    that ``settings`` allow. ``roots`` are searched for moved files (default: the inputs' folders);
    ``transport`` replaces the network (tests; the caller closes it)."""
    stamps: dict[Path, FileStamp] = {}
    for path, _ in inputs.documents:
        if source_kind(path) is not None:
            try:
                stamps[path.resolve()] = stamp(path)
            except OSError:
                continue
    if results is None:
        report = await check_async(replace(config, all_referrers=True), inputs, transport=transport)
        results = tuple(report.results)
    folders = tuple(site.root for site in inputs.sites if site.root != Path(site.root.anchor))
    if roots is None:
        roots = folders
    # Only what the run was given is edited: its folders and files (a file outside them that one links to,
    # or a symlink out of them, is not), else the working directory (a saved report alone).
    loose = (path for path, _ in inputs.documents if not any(r in path.parents for r in folders))
    editable = folders + tuple(loose)
    async with Prober(config, sites=inputs.sites, transport=transport) as prober:
        planner = Planner(
            settings, prober, sites=inputs.sites, roots=roots, stamps=stamps, since_ns=since_ns, cwd=cwd,
            editable=editable,
        )  # fmt: skip
        return await planner.plan(results)
