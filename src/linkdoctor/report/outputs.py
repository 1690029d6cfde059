"""Where reports go: turning ``--format`` / ``-o`` into targets, and writing them all atomically.

``--format NAME`` writes to stdout (several bare names are written one after the other);
``--format NAME:FILE`` and ``-o FILE`` (format from the extension) write files. One bare ``--format``
with one ``-o`` pairs them (``--format json -o out.txt``), as before several outputs existed.
Every problem — unknown format or extension, a folder that does not exist, a path that cannot be
written — is a :class:`ConfigError` raised before anything is checked.

Files are written to a temporary file beside the target and renamed over it only once the whole
report is written, so a crash or interrupt never leaves a half-written report::

    targets = plan_outputs(["console", "sarif:out/results.sarif"], [Path("report.html")])
    with open_outputs(targets, RenderContext(), stdout=sys.stdout) as outputs:
        report = run_check(config, inputs, on_result=outputs.on_result)
        outputs.finish(report)
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from linkdoctor.errors import ConfigError
from linkdoctor.models import CheckResult, Report
from linkdoctor.report.context import RenderContext
from linkdoctor.report.formats import Format, format_for_path, format_named

DEFAULT_FORMAT = "console"
NEW_FILE_MODE = 0o644


@dataclass(frozen=True, slots=True)
class OutputTarget:
    """One report to write: a format and a file, or stdout when ``path`` is ``None``."""

    format: Format
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.format.name}:{self.path if self.path is not None else '<stdout>'}"


def _parse_format(value: str) -> OutputTarget:
    name, sep, file = value.partition(":")
    fmt = format_named(name.strip())
    if not sep:
        return OutputTarget(fmt)
    if not file:
        raise ConfigError(f"--format {value!r}: give a file after ':' (NAME:FILE), or just NAME for stdout")
    return OutputTarget(fmt, Path(file))


def _check_writable(path: Path) -> None:
    parent = path.parent
    if path.is_dir():
        raise ConfigError(f"cannot write the report to {path}: it is a folder")
    if not parent.exists():
        raise ConfigError(f"cannot write the report to {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise ConfigError(f"cannot write the report to {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write the report to {path}: the folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"cannot write the report to {path}: the file is read-only")


def plan_outputs(formats: Sequence[str], files: Sequence[Path]) -> tuple[OutputTarget, ...]:
    """Turn ``--format`` values and ``-o`` files into targets, and check each file can be written.

    >>> [str(t) for t in plan_outputs(["json:r.json"], [Path("r.sarif")])]
    ['json:r.json', 'sarif:r.sarif']
    >>> [str(t) for t in plan_outputs([], [])]
    ['console:<stdout>']
    """
    parsed = [_parse_format(value) for value in formats]
    bare = [t for t in parsed if t.path is None]
    if len(bare) == 1 and len(files) == 1:
        # The single-output form: --format NAME -o FILE, whatever FILE's extension.
        targets = [OutputTarget(bare[0].format, files[0]) if t is bare[0] else t for t in parsed]
    else:
        targets = [*parsed, *(OutputTarget(format_for_path(f), f) for f in files)]
    if not targets:
        targets = [OutputTarget(format_named(DEFAULT_FORMAT))]
    _check_targets(targets)
    return tuple(targets)


def _check_targets(targets: list[OutputTarget]) -> None:
    on_stdout = [t for t in targets if t.path is None]
    if len(on_stdout) > 1 and any(t.format.write_result for t in on_stdout):
        names = ", ".join(t.format.name for t in on_stdout)
        raise ConfigError(
            f"--format {names}: a streamed format cannot share stdout with others; "
            "write one of them to a file with --format NAME:FILE"
        )
    seen: dict[Path, OutputTarget] = {}
    for target in targets:
        if target.path is None:
            continue
        key = target.path.resolve()
        if key in seen:
            raise ConfigError(f"{target.path} is given twice (as {seen[key]} and {target})")
        seen[key] = target
        _check_writable(target.path)


def streams_to_stdout(targets: Sequence[OutputTarget]) -> bool:
    """Whether a target streams results to stdout (a live progress bar would garble a terminal)."""
    return any(t.path is None and t.format.write_result is not None for t in targets)


@dataclass(slots=True)
class _Open:
    target: OutputTarget
    stream: TextIO
    temp: Path | None = None  # written beside ``real``, then renamed over it
    real: Path | None = None  # the file a symlinked target leads to
    owned: bool = False  # a stream this run opened (a device or FIFO written in place): closed at the end


@dataclass(slots=True)
class Outputs:
    """The open targets of one run: feed streamed results to :meth:`on_result`, then :meth:`finish`."""

    context: RenderContext
    opened: list[_Open] = field(default_factory=list)
    finished: bool = False

    @property
    def streaming(self) -> bool:
        return any(o.target.format.write_result is not None for o in self.opened)

    def on_result(self, result: CheckResult) -> None:
        for out in self.opened:
            write_result = out.target.format.write_result
            if write_result is not None:
                write_result(result, out.stream, self.context)

    def finish(self, report: Report) -> None:
        """Write every non-streamed format; files are renamed into place when the block ends."""
        for out in self.opened:
            try:
                if out.target.format.write_result is None:
                    out.target.format.write(report, out.stream, self.context)
                out.stream.flush()
            except OSError as exc:  # a full disk, a closed pipe: one line, not a traceback
                where = out.target.path if out.target.path is not None else "stdout"
                raise ConfigError(f"cannot write the report to {where}: {exc.strerror}") from None
        self.finished = True


# How a report file is encoded: UTF-8, and a character UTF-8 cannot hold (a lone surrogate, which a
# library caller's report may name) written as Python shows it, never an error that loses the report.
_UNENCODABLE = "backslashreplace"


def _open_temp(path: Path) -> tuple[TextIO, Path]:
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {path}: {exc.strerror}") from exc
    return os.fdopen(fd, "w", encoding="utf-8", errors=_UNENCODABLE, newline=""), Path(name)


def _commit(out: _Open) -> None:
    assert out.real is not None and out.temp is not None
    out.stream.flush()
    os.fsync(out.stream.fileno())
    out.stream.close()
    try:
        mode = out.real.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    os.chmod(out.temp, mode)
    os.replace(out.temp, out.real)


def _open_target(target: OutputTarget) -> _Open:
    """A file target opened for this run. A regular file (or a new one) is written beside itself and renamed
    over it at the end, through a symlink to the file it leads to (the symlink stays); a device, a FIFO or
    a socket (``/dev/stdout``, ``/dev/null``, a pipe) is written in place, never replaced."""
    assert target.path is not None
    try:
        kind = target.path.stat().st_mode  # through a symlink (``/dev/stdout`` leads to the process's own)
    except FileNotFoundError:
        kind = stat.S_IFREG
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {target.path}: {exc.strerror}") from exc
    if not stat.S_ISREG(kind):
        try:
            device = open(target.path, "w", encoding="utf-8", errors=_UNENCODABLE, newline="")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(f"cannot write the report to {target.path}: {exc.strerror}") from exc
        return _Open(target, device, owned=True)
    real = Path(os.path.realpath(target.path))
    stream, temp = _open_temp(real)
    return _Open(target, stream, temp, real)


@contextlib.contextmanager
def open_outputs(
    targets: Sequence[OutputTarget], context: RenderContext, *, stdout: TextIO
) -> Iterator[Outputs]:
    """Open every target (files as temporary files beside them) for the duration of a run.

    Files replace their targets only when the block ends normally after :meth:`Outputs.finish`;
    otherwise the temporary files are removed and the targets are left as they were.
    """
    outputs = Outputs(context)
    try:
        for target in targets:
            if target.path is None:
                outputs.opened.append(_Open(target, stdout))
            else:
                outputs.opened.append(_open_target(target))
        yield outputs
        if outputs.finished:
            for out in outputs.opened:
                if out.temp is not None:
                    _commit(out)
    finally:
        for out in outputs.opened:
            if out.temp is not None:
                out.stream.close()
                out.temp.unlink(missing_ok=True)
            elif out.owned:
                with contextlib.suppress(OSError):  # what failed was said when it was written
                    out.stream.close()
