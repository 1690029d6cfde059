"""Reading an nginx configuration: crossplane's parse, with every ``include`` inlined, as frozen directives.

This module owns the syntax tree the rules read. Each :class:`Directive` keeps the file and line it came
from (also inside included files), its arguments, its block, and the crossplane context it sits in
(``("http", "server")``, ``("http", "location")``, …). Relative paths resolve the way nginx resolves them:
against the directory of the main configuration file (nginx's "conf prefix")::

    config = parse_config(Path("/etc/nginx/nginx.conf"))
    for directive in config.walk():
        print(directive.where, directive.name, directive.args)

A configuration crossplane cannot read raises :class:`NginxParseError` (a ``ConfigError``, exit code 3)
naming the file and line.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import crossplane

from linkdoctor.errors import ConfigError

_IN_FILE_SUFFIX = re.compile(r" in \S+:\d+$")
MIB = 1024 * 1024
# Limits that keep a hostile configuration from hanging or exhausting the linter. The largest honest
# configurations (geo and map files of hundreds of thousands of lines) stay well within them.
MAX_CONFIG_BYTES = 16 * MIB
MAX_FILES = 10_000
MAX_DIRECTIVES = 1_000_000
MAX_DEPTH = 100
# crossplane's messages for exceptions that carry none of their own.
_BARE_ERRORS = {
    "StopIteration": 'unexpected end of file, expecting ";" or "}"',
    "RecursionError": f"blocks and includes nested more than {MAX_DEPTH} deep",
}


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One error crossplane found: its message, and the file and line it names."""

    message: str
    file: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.line}: "
            if self.file and self.line
            else (f"{self.file}: " if self.file else "")
        )
        return f"{where}{self.message}"


class NginxParseError(ConfigError):
    """The configuration (or a file it includes) cannot be read or parsed. ``file``, ``line`` and ``reason``
    are the first error's; ``problems`` lists every one (one line each in the message)."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        line: int | None = None,
        more: tuple[ParseProblem, ...] = (),
    ) -> None:
        self.file = file
        self.line = line
        self.reason = message
        self.problems = (ParseProblem(message, file, line), *more)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class Directive:
    """One directive: name, arguments, where it is written, and its block (``None`` for simple ones)."""

    name: str
    args: tuple[str, ...]
    file: Path
    line: int
    context: tuple[str, ...]
    block: tuple[Directive, ...] | None = None

    @property
    def where(self) -> str:
        """``file:line`` for messages."""
        return f"{self.file}:{self.line}"

    @property
    def block_context(self) -> tuple[str, ...]:
        """The context of the directives inside this block (crossplane's rules: locations do not nest)."""
        if self.context and self.context[0] == "http" and self.name == "location":
            return ("http", "location")
        return (*self.context, self.name)

    def children(self, name: str) -> tuple[Directive, ...]:
        """The directives called ``name`` directly inside this block, in order."""
        return tuple(d for d in self.block or () if d.name == name)

    def walk(self) -> Iterator[Directive]:
        """Every directive nested in this block, depth first, in file order."""
        for child in self.block or ():
            yield child
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class NginxConfig:
    """A parsed configuration: the main file, every file read, and the top-level directives."""

    path: Path
    prefix: Path
    files: tuple[Path, ...]
    directives: tuple[Directive, ...]

    def walk(self) -> Iterator[Directive]:
        """Every directive of the configuration, includes inlined, depth first."""
        for directive in self.directives:
            yield directive
            yield from directive.walk()

    def resolve(self, value: str) -> Path | None:
        """The file a path argument names, or ``None`` when it cannot be known before a request.

        Arguments with variables (``$ssl_server_name``), inline ``data:`` values and ``engine:`` keys name
        no file on disk.
        """
        if "$" in value or value.startswith(("data:", "engine:")):
            return None
        path = Path(value)
        return path if path.is_absolute() else self.prefix / path


def parse_config(path: Path) -> NginxConfig:
    """Parse ``path`` and everything it includes (globs too); raise :class:`NginxParseError` on failure."""
    main = Path(path).absolute()
    configs, errors = _read_files(main)
    if errors:  # every one of them, so one run shows all there is to fix
        first, *rest = errors
        raise NginxParseError(first.message, file=first.file, line=first.line, more=tuple(rest))
    paths = [Path(c["file"]) for c in configs]
    directives = _Inliner(configs, paths).build(configs[0]["parsed"], 0, (), (0,), 0)
    files = tuple(dict.fromkeys(paths))
    return NginxConfig(path=main, prefix=main.parent, files=files, directives=directives)


def _read_files(main: Path) -> tuple[list[dict[str, Any]], list[ParseProblem]]:
    """crossplane's parse of ``main`` and of every file it includes, each parsed once, in the order found.

    crossplane would open what an ``include`` names itself; a FIFO would hang it and ``/dev/zero`` fill the
    memory. So each file is parsed alone (``single``) once it is known to be a regular file within the
    limits, and the ``include`` statements get crossplane's ``includes`` indexes here.
    """
    problem = _unreadable(main, 0)
    if problem:
        return [], [ParseProblem(problem, main)]
    configs: list[dict[str, Any]] = []
    index = {main: 0}
    pending, total, errors = [main], main.stat().st_size, list[ParseProblem]()
    while len(configs) < len(pending):
        file = pending[len(configs)]
        payload: dict[str, Any] = crossplane.parse(
            str(file),
            onerror=lambda exc: type(exc).__name__,
            catch_errors=True,
            single=True,
            check_ctx=False,
            check_args=True,
            comments=False,
        )
        errors.extend(_problem(error, file) for error in payload.get("errors") or [])
        parsed: dict[str, Any] = (
            payload["config"][0] if payload["config"] else {"file": str(file), "parsed": []}
        )
        configs.append(parsed)
        for stmt in _includes(parsed["parsed"]):
            stmt["includes"] = []
            for target in _matches(stmt["args"][0], main.parent):
                if target not in index:
                    problem = _unreadable(target, total)
                    if problem:
                        errors.append(ParseProblem(problem, file, stmt["line"]))
                        continue
                    if len(pending) >= MAX_FILES:
                        errors.append(
                            ParseProblem(f"includes more than {MAX_FILES} files", file, stmt["line"])
                        )
                        return configs, errors
                    total += target.stat().st_size
                    index[target] = len(pending)
                    pending.append(target)
                stmt["includes"].append(index[target])
    return configs, errors


def _includes(statements: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The ``include`` statements of a parsed file, at any depth, in file order."""
    stack = [iter(statements)]
    while stack:
        stmt = next(stack[-1], None)
        if stmt is None:
            stack.pop()
        elif stmt["directive"] == "include" and stmt.get("args"):
            yield stmt
        elif "block" in stmt:
            stack.append(iter(stmt["block"]))


def _matches(pattern: str, prefix: Path) -> list[Path]:
    """The files an ``include`` names, as nginx finds them: a glob's matches sorted, a plain path as is."""
    full = os.path.join(prefix, pattern)
    if not glob.has_magic(full):
        return [Path(full)]
    found = sorted(itertools.islice(glob.iglob(full), MAX_FILES + 1))
    return [Path(name) for name in found]


def _unreadable(path: Path, total: int) -> str:
    """Why ``path`` cannot be parsed ('' when it can): missing, not a regular file, or over the limits."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"{exc.strerror or exc}: {str(path)!r}"
    except ValueError:
        return f"cannot read {str(path)!r}: its name holds a NUL byte"
    if not stat.S_ISREG(info.st_mode):
        return f"cannot read {str(path)!r}: not a regular file"
    if not os.access(path, os.R_OK):
        return f"Permission denied: {str(path)!r}"
    if total + info.st_size > MAX_CONFIG_BYTES:
        return f"cannot read {str(path)!r}: the configuration's files hold more than {MAX_CONFIG_BYTES // MIB} MiB"
    return ""


class _Inliner:
    """Builds the directives with every include inlined, within :data:`MAX_DIRECTIVES` and
    :data:`MAX_DEPTH`: a file included twice by each of 40 files would otherwise be inlined 2**40 times."""

    def __init__(self, configs: list[dict[str, Any]], paths: list[Path]) -> None:
        self.configs = configs
        self.paths = paths
        self.left = MAX_DIRECTIVES

    def build(
        self,
        statements: list[dict[str, Any]],
        file_index: int,
        context: tuple[str, ...],
        stack: tuple[int, ...],
        depth: int,
    ) -> tuple[Directive, ...]:
        file = self.paths[file_index]
        if depth > MAX_DEPTH:  # blocks and includes, which nest the same way once inlined
            raise NginxParseError(f"blocks and includes nested more than {MAX_DEPTH} deep", file=file)
        self.left -= len(statements)  # includes count too: a chain of them builds nothing
        if self.left < 0:
            raise NginxParseError(
                f"the includes expand the configuration to more than {MAX_DIRECTIVES:,} directives", file=file
            )
        out: list[Directive] = []
        for stmt in statements:
            name: str = stmt["directive"]
            line: int = stmt["line"]
            if name == "include" and "includes" in stmt:
                for index in stmt["includes"]:
                    if index in stack:
                        raise NginxParseError(
                            f"include cycle: {self.paths[index]} includes itself", file=file, line=line
                        )
                    inner = self.configs[index]["parsed"]
                    out.extend(self.build(inner, index, context, (*stack, index), depth + 1))
                continue
            args = tuple(stmt.get("args") or ())
            directive = Directive(name=name, args=args, file=file, line=line, context=context)
            if "block" in stmt:
                inner = stmt["block"]
                block = self.build(inner, file_index, directive.block_context, stack, depth + 1)
                directive = Directive(
                    name=name, args=args, file=file, line=line, context=context, block=block
                )
            out.append(directive)
        return tuple(out)


def _problem(error: dict[str, Any], main: Path) -> ParseProblem:
    message = _IN_FILE_SUFFIX.sub("", str(error.get("error", "cannot parse"))).strip()
    message = re.sub(r"^\[Errno \d+\] ", "", message)
    if not message or error.get("callback") == "RecursionError":
        message = _BARE_ERRORS.get(str(error.get("callback")), "cannot parse")
    file = Path(error["file"]) if error.get("file") else main
    line = error.get("line")
    return ParseProblem(message, file, line if isinstance(line, int) else None)
