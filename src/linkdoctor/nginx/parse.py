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

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import crossplane

from linkdoctor.errors import ConfigError

_IN_FILE_SUFFIX = re.compile(r" in \S+:\d+$")


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
    payload: dict[str, Any] = crossplane.parse(
        str(main), catch_errors=True, check_ctx=False, check_args=True, comments=False
    )
    errors: list[dict[str, Any]] = payload.get("errors") or []
    if errors:  # every one of them, so one run shows all there is to fix
        first, *rest = (_problem(error, main) for error in errors)
        raise NginxParseError(first.message, file=first.file, line=first.line, more=tuple(rest))
    configs: list[dict[str, Any]] = payload["config"]
    directives = _build(configs[0]["parsed"], configs, Path(configs[0]["file"]), (), (main,))
    files = tuple(dict.fromkeys(Path(c["file"]) for c in configs))
    return NginxConfig(path=main, prefix=main.parent, files=files, directives=directives)


def _build(
    statements: list[dict[str, Any]],
    configs: list[dict[str, Any]],
    file: Path,
    context: tuple[str, ...],
    stack: tuple[Path, ...],
) -> tuple[Directive, ...]:
    out: list[Directive] = []
    for stmt in statements:
        name: str = stmt["directive"]
        line: int = stmt["line"]
        if name == "include" and "includes" in stmt:
            for index in stmt["includes"]:
                included = configs[index]
                target = Path(included["file"])
                if target in stack:
                    raise NginxParseError(f"include cycle: {target} includes itself", file=file, line=line)
                out.extend(_build(included["parsed"], configs, target, context, (*stack, target)))
            continue
        directive = Directive(
            name=name, args=tuple(stmt.get("args") or ()), file=file, line=line, context=context
        )
        if "block" in stmt:
            inner = _build(stmt["block"], configs, file, directive.block_context, stack)
            directive = Directive(
                name=name, args=directive.args, file=file, line=line, context=context, block=inner
            )
        out.append(directive)
    return tuple(out)


def _problem(error: dict[str, Any], main: Path) -> ParseProblem:
    message = _IN_FILE_SUFFIX.sub("", str(error.get("error", "cannot parse"))).strip()
    message = re.sub(r"^\[Errno \d+\] ", "", message)
    file = Path(error["file"]) if error.get("file") else main
    line = error.get("line")
    return ParseProblem(message, file, line if isinstance(line, int) else None)
