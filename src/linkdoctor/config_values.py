"""Value types of the configuration file: each converter checks one TOML value and returns it shaped the way
the ``check`` command's click parameters would (``Path`` for files, tuples for lists), or raises
:class:`Invalid` with the reason. :mod:`linkdoctor.config_file` adds the file and key to the message.
:func:`parse_duration` is the one parser of durations (``30m``, ``1d``), for the file, the flags and the cache.

>>> integer(1)(64, ValueContext(Path(".")))
64
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkdoctor.patterns import PatternError, check_pattern
from linkdoctor.urls import scheme_of

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STATUS_PART = re.compile(r"(\d{3})(?:\.\.(\d{3}))?")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class Invalid(Exception):
    """A bad value; ``where`` is the key path below the key being read (``[2]``, ``.match``)."""

    def __init__(self, reason: str, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where


@dataclass(frozen=True, slots=True)
class ValueContext:
    base_dir: Path


Converter = Callable[[Any, ValueContext], Any]
Nameserver = tuple[str, int]


def show(value: object) -> str:
    """A value as TOML would spell it, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | list | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def boolean(value: Any, _ctx: ValueContext) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(f"must be true or false, got {show(value)}")


def string(value: Any, _ctx: ValueContext) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise Invalid(f"must be a non-empty string, got {show(value)}")


def integer(minimum: int, maximum: int | None = None) -> Converter:
    if maximum is not None:
        phrase = f"an integer from {minimum} to {maximum}"
    else:
        phrase = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"

    def convert(value: Any, _ctx: ValueContext) -> int:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= minimum
            and (maximum is None or value <= maximum)
        ):
            return value
        raise Invalid(f"must be {phrase}, got {show(value)}")

    return convert


def seconds(*, positive: bool) -> Converter:
    phrase = "a positive number of seconds" if positive else "a number of seconds (0 or more)"

    def convert(value: Any, _ctx: ValueContext) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if number and (value > 0 if positive else value >= 0):
            return float(value)
        raise Invalid(f"must be {phrase}, got {show(value)}")

    return convert


def choice(*choices: str) -> Converter:
    def convert(value: Any, _ctx: ValueContext) -> str:
        if value in choices:
            return str(value)
        raise Invalid(f"must be one of {', '.join(choices)}, got {show(value)}")

    return convert


def file_path(*, must_exist: bool) -> Converter:
    def convert(value: Any, ctx: ValueContext) -> Path:
        text = string(value, ctx)
        path = ctx.base_dir / Path(text).expanduser()
        if must_exist and not path.is_file():
            raise Invalid(f"file not found: {path}")
        return path

    return convert


def regex(value: Any, ctx: ValueContext) -> str:
    """A user pattern that RE2 can run (see :mod:`linkdoctor.patterns`), kept as its text."""
    text = string(value, ctx)
    try:
        check_pattern(text)
    except PatternError as exc:
        raise Invalid(f"{show(text)} is not a valid regular expression: {exc.reason}") from None
    return text


def env_name(value: Any, _ctx: ValueContext) -> str:
    if isinstance(value, str) and _ENV_NAME.fullmatch(value):
        return value
    raise Invalid(f"must name an environment variable (letters, digits and _), got {show(value)}")


def statuses(value: Any, _ctx: ValueContext) -> str:
    """``200..299``, ``429`` or ``"200..299,429"`` (the ``--accept`` syntax), kept as the flag's string."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and text.strip():
        for part in text.split(","):
            match = _STATUS_PART.fullmatch(part.strip())
            if match is None:
                break
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            if not 100 <= low <= high <= 999:
                break
        else:
            return text
    raise Invalid(f"must be a status (429) or a range (200..299) from 100 to 999, got {show(value)}")


def header(value: Any, ctx: ValueContext) -> str:
    text = string(value, ctx)
    name, sep, _ = text.partition(":")
    if not sep or not name.strip():
        raise Invalid(f"must look like 'Name: value', got {show(value)}")
    return text


def header_list(value: Any, ctx: ValueContext) -> tuple[str, ...]:
    """A list of ``"Name: value"`` (like ``--header``), or a table ``{Name = "value"}``."""
    if isinstance(value, dict):
        return tuple(f"{name}: {v}" for name, v in string_table(value, ctx, string))
    headers: tuple[str, ...] = list_of(header)(value, ctx)
    return headers


def parse_duration(value: str | float) -> float:
    """Seconds in ``value``: a number of seconds, or ``30m``, ``12h``, ``1d``, ``1w``, ``1h30m``.

    >>> parse_duration("1d"), parse_duration("1h30m"), parse_duration(90)
    (86400.0, 5400.0, 90.0)

    Raises ``ValueError`` with the reason for anything else (negative numbers, unknown units).
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like 30m, 12h, 1d or seconds, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return float(value)
    text = value.strip().lower()
    total = 0.0
    position = 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"must be a duration like 30m, 12h, 1d or seconds, got {value!r}")
    return total


def duration(value: Any, _ctx: ValueContext) -> str:
    try:
        parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise Invalid(str(exc)) from None
    return str(value)


def input_ref(value: Any, ctx: ValueContext) -> str:
    text = string(value, ctx)
    if text == "-" or scheme_of(text) in ("http", "https", "file"):
        return text
    return str(ctx.base_dir / Path(text).expanduser())


def url_list(value: Any, ctx: ValueContext) -> str:
    text = string(value, ctx)
    return text if text == "-" else str(file_path(must_exist=True)(text, ctx))


def format_spec(value: Any, ctx: ValueContext) -> str:
    """``"sarif"`` or ``"sarif:report.sarif"`` (the ``--format NAME[:FILE]`` syntax; FILE relative to the file)."""
    text = string(value, ctx)
    name, sep, target = text.partition(":")
    if not sep:
        return text
    if not name or not target:
        raise Invalid(f"must look like NAME or NAME:FILE, got {show(value)}")
    return f"{name}:{ctx.base_dir / Path(target).expanduser()}"


def one_or_list(item: Converter) -> Converter:
    """One value or a list of them (for repeatable flags where one is the common case)."""
    many = list_of(item)

    def convert(value: Any, ctx: ValueContext) -> tuple[Any, ...]:
        return many(value if isinstance(value, list) else [value], ctx)  # type: ignore[no-any-return]

    return convert


def list_of(item: Converter) -> Converter:
    def convert(value: Any, ctx: ValueContext) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise Invalid(f"must be a list, got {show(value)}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element, ctx))
            except Invalid as exc:
                raise Invalid(exc.reason, f"[{index}]{exc.where}") from None
        return tuple(out)

    return convert


def tuple_of(*items: Converter, names: str) -> Converter:
    def convert(value: Any, ctx: ValueContext) -> tuple[Any, ...]:
        if not isinstance(value, list) or len(value) != len(items):
            raise Invalid(f"must be a list [{names}], got {show(value)}")
        return tuple(item(v, ctx) for item, v in zip(items, value, strict=True))

    return convert


def string_table(value: Any, ctx: ValueContext, item: Converter) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise Invalid(f"must be a table of strings, got {show(value)}")
    out = []
    for name, element in value.items():
        try:
            out.append((name, item(element, ctx)))
        except Invalid as exc:
            raise Invalid(exc.reason, f".{key_path(name)}") from None
    return tuple(out)


def key_path(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def parse_nameserver(text: str) -> Nameserver:
    """``HOST:PORT`` (``[v6]:PORT``; port 53 when left out) → (address, port). The host must be an IP address:
    a name would need a resolver to find the resolver.

    >>> parse_nameserver("127.0.0.1:5353"), parse_nameserver("[::1]:53"), parse_nameserver("10.0.0.2")
    (('127.0.0.1', 5353), ('::1', 53), ('10.0.0.2', 53))
    """
    host, port = text.strip(), "53"
    if host.startswith("["):
        host, bracket, rest = host[1:].partition("]")
        if not bracket:
            raise ValueError(f"not HOST:PORT: {text!r}")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"not HOST:PORT: {text!r}")
            port = rest[1:]
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"the DNS server must be an IP address (with :PORT), got {text!r}") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"the DNS server's port must be from 1 to 65535, got {text!r}")
    return address, int(port)


def nameserver(value: Any, ctx: ValueContext) -> str:
    """A DNS server, ``IP[:PORT]`` (``--dns-server``), kept as its text."""
    text = string(value, ctx)
    try:
        parse_nameserver(text)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return text
