"""``linkdoctor fix``: the check's flags and configuration, plus the fix flags (:func:`linkdoctor.options.
fix_flags`, readable from the config file's ``[fix]`` table) → a :class:`~linkdoctor.fix.model.FixPlan` →
a unified diff or JSON on stdout, the edits written with ``--apply``, and an exit code (2 with ``--check``
when there is something to fix).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from linkdoctor.cli import UsageError
from linkdoctor.cli.check import _url_lists, build_config
from linkdoctor.cli.flags import schema_options
from linkdoctor.cli.merge import merge_config_file
from linkdoctor.config import ExitCode
from linkdoctor.config_file import FileConfig, apply_sections
from linkdoctor.engine.inputs import Inputs, LocalSite, collect_inputs
from linkdoctor.engine.runner import run_sync
from linkdoctor.errors import ConfigError
from linkdoctor.fix.apply import apply_plan
from linkdoctor.fix.model import ArchiveMode, FixSettings
from linkdoctor.fix.render import plan_to_dict, summary_lines, unified_diff
from linkdoctor.fix.run import plan_fixes
from linkdoctor.fix.saved import load_report
from linkdoctor.options import cli_options, fix_flags

# The check's flags that configure what is checked and how; its report, cache and distribution flags are not
# fix's (fix has its own --format).
_CHECK_FLAGS = (
    "config",
    "no_config",
    "urls_from",
    *(o.name for o in cli_options() if o.field is not None and o.name != "diagnose"),
)
_EXPLICIT = frozenset({ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT})


def settings_from(opts: dict[str, Any]) -> FixSettings:
    """The :class:`FixSettings` of the fix flags (after the ``[fix]`` table was merged in)."""
    endpoint = opts["fix_archive_endpoint"]
    if not str(endpoint).startswith(("http://", "https://")):
        raise ConfigError(f"--archive-endpoint {endpoint!r} must be an http:// or https:// URL")
    return FixSettings(
        redirects=opts["fix_redirects"],
        https_upgrades=opts["fix_https_upgrades"],
        moved_anchors=opts["fix_moved_anchors"],
        moved_files=opts["fix_moved_files"],
        allow_hosts=tuple(opts["fix_allow_host"]),
        deny_hosts=tuple(opts["fix_deny_host"]),
        archive=opts["fix_archive"],
        archive_endpoint=endpoint,
        archive_mode=ArchiveMode(opts["fix_archive_mode"]),
    )


@click.command()
@click.argument("inputs", nargs=-1)
@schema_options(tuple(o.name for o in fix_flags()))
@schema_options(_CHECK_FLAGS)
@click.pass_context
def fix(ctx: click.Context, /, inputs: tuple[str, ...], **opts: Any) -> None:
    """Repair the links a check proves wrong, in the Markdown and HTML sources: permanent redirects,
    http → https upgrades, moved #fragments and moved local files; dead external links get an archived
    copy as a suggestion (written with --apply --archive). Prints a unified diff unless --apply.

    \b
    linkdoctor fix docs/ README.md
    linkdoctor fix ./public --base-url https://example.org/ --apply
    linkdoctor fix --from report.json --format json
    linkdoctor fix docs/ --check          # exit 2 when there is something to fix

    Exit codes: 0 done (or nothing to fix), 2 fixes available with --check, 3 usage or config error.
    """
    try:
        code = _run(ctx, inputs, opts)
    except ConfigError as exc:
        raise UsageError(exc) from exc
    ctx.exit(code)


def _merge(ctx: click.Context, inputs: tuple[str, ...], opts: dict[str, Any]) -> tuple[str, ...]:
    """The config file's values for every flag not given: the check's keys, then the ``[fix]`` table."""
    opts.update(fmt=(), output=())  # the file's report keys are checked by the shared merge, then dropped
    inputs, file = merge_config_file(ctx, inputs, opts)
    opts.pop("fmt")
    opts.pop("output")
    opts["_file"] = file
    if file is not None:
        for name, value in file.fix:
            if ctx.get_parameter_source(name) not in _EXPLICIT:
                opts[name] = tuple(value) if isinstance(value, list) else value
    return inputs


def _inputs(inputs: tuple[str, ...], opts: dict[str, Any], base_url: str | None) -> Inputs:
    if inputs or opts["urls_from"] or opts["fix_from"] is None:
        return collect_inputs(inputs, base_url=base_url, url_lists=_url_lists(opts["urls_from"]))
    # a saved report alone: its sources are read where it names them (under --base-url: this folder)
    return Inputs(sites=(LocalSite(Path.cwd().resolve(), base_url),) if base_url else ())


def _run(ctx: click.Context, inputs: tuple[str, ...], opts: dict[str, Any]) -> int:
    inputs = _merge(ctx, inputs, opts)
    file: FileConfig | None = opts.pop("_file")
    settings = settings_from(opts)
    config = apply_sections(build_config(opts), file, environ=os.environ)
    collected = _inputs(inputs, opts, config.base_url)
    results, since_ns = None, None
    if opts["fix_from"] is not None:
        results, since_ns = load_report(Path(opts["fix_from"]))
    roots = None if collected.documents else (Path.cwd().resolve(),)
    plan = run_sync(plan_fixes(config, collected, settings, results=results, since_ns=since_ns, roots=roots))
    root = Path.cwd()
    if opts["fix_format"] == "json":
        json.dump(plan_to_dict(plan, root=root), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(unified_diff(plan, root=root))
        for line in summary_lines(plan, root=root):
            click.echo(f"linkdoctor: {line}", err=True)
    if not opts["fix_apply"]:
        if not plan.edits:
            click.echo("linkdoctor: nothing to fix", err=True)
        return ExitCode.BROKEN if opts["fix_check"] and plan.edits else ExitCode.OK
    outcome = apply_plan(plan)
    for warning in outcome.warnings:
        click.echo(f"linkdoctor: warning: {warning}", err=True)
    written = sum(1 for e in plan.edits if e.path in outcome.written)
    click.echo(f"linkdoctor: {written} edits written to {len(outcome.written)} files", err=True)
    return ExitCode.BROKEN if opts["fix_check"] and len(outcome.written) < len(plan.files()) else ExitCode.OK
