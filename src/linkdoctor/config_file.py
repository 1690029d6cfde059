"""The configuration file: find it, parse it (stdlib ``tomllib``), validate every key, and hand back typed values.

Where: ``linkdoctor.toml``, or the ``[tool.linkdoctor]`` table of a ``pyproject.toml``, in the working
directory or the nearest parent that has one (in each directory ``linkdoctor.toml`` is tried first).

What: every ``check`` flag has a key (declared in :mod:`linkdoctor.options`) spelled like the flag with underscores (``--max-concurrency 64`` is
``max_concurrency = 64``; lists for repeatable flags: ``exclude = ["…"]``; ``format`` for ``--format``),
plus structured sections: ``[[hosts]]`` (per-host headers, basic auth, CA bundle, concurrency, interval),
``[[tls.client]]`` (client certificates per host) and ``[remap]`` (URL rewrites, regex → replacement).
Paths are relative to the file's directory. Secrets never sit in the file: ``password_env`` names an
environment variable, and a plain ``password`` key is refused.

Every unknown key and bad value is a :class:`~linkdoctor.errors.ConfigError` naming the file, the key and the
reason (``linkdoctor.toml: hosts[0].max_concurrency: must be a positive integer, got "ten"``); malformed TOML
names ``file:line:column``.

    file = load(discover(Path.cwd()))                     # FileConfig | raises ConfigError
    opts = merge_options(cli_opts, file, explicit=given)  # the command line wins
    config = apply_sections(build_config(opts), file, environ=os.environ)
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Secret
from linkdoctor.config_values import Converter, Invalid, ValueContext, key_path, show
from linkdoctor.errors import ConfigError
from linkdoctor.options import SECTIONS, file_keys
from linkdoctor.patterns import Pattern, PatternError, UserPattern, compile_pattern

CONFIG_FILE_NAME = "linkdoctor.toml"
PYPROJECT_NAME = "pyproject.toml"
_TOOL_TABLE = "tool.linkdoctor"
_TOML_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)$")
_TOML_AT_END = " (at end of document)"
_REPLACEMENT_REF = re.compile(r"\$(?:(\d+)|\{(\w+)\}|(\$))")


# --- the typed result ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HostEntry:
    """One ``[[hosts]]`` table; ``password_env`` and ``headers_env`` name environment variables."""

    match: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = ()
    headers_env: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    password_env: str | None = None
    cacert: Path | None = None
    max_concurrency: int | None = None
    interval: float | None = None


@dataclass(frozen=True, slots=True)
class RemapRule:
    """One ``[remap]`` entry: ``pattern`` (RE2, see :mod:`linkdoctor.patterns`) → ``replacement`` as written
    (``$1``), and as a ``re.sub``-style template."""

    pattern: UserPattern
    replacement: str
    template: str


@dataclass(frozen=True, slots=True)
class FileConfig:
    """A validated configuration file. ``options`` maps ``check`` parameter names (``max_concurrency``,
    ``fmt``) to values shaped like click's (tuples for repeatable flags, ``Path`` for files)."""

    path: Path
    options: tuple[tuple[str, Any], ...] = ()
    hosts: tuple[HostEntry, ...] = ()
    client_certs: tuple[ClientCert, ...] = ()  # [[tls.client]]: passwords as password_env, not yet read
    remap: tuple[RemapRule, ...] = ()
    table: str = ""  # "tool.linkdoctor." in a pyproject.toml
    fix: tuple[tuple[str, Any], ...] = ()  # [fix]: `linkdoctor fix`'s parameters (fix_redirects …)

    def option_values(self) -> dict[str, Any]:
        return dict(self.options)

    def error(self, where: str, reason: str) -> ConfigError:
        """An error about the key at ``where`` (``hosts[0].user``), naming this file."""
        return ConfigError(f"{self.path}: {self.table}{where}: {reason}")


# --- the keys --------------------------------------------------------------------------------------------
# File key → (``check`` parameter name, converter), from the option schema. Keys are the flags' names with
# underscores.
_OPTIONS: dict[str, tuple[str, Converter]] = {
    key: (o.name, o.validator) for key, o in file_keys().items() if o.validator is not None
}
OPTION_KEYS: Mapping[str, str] = {key: dest for key, (dest, _) in _OPTIONS.items()}
"""Config key → the ``check`` parameter it sets."""

_HOST_KEYS: dict[str, Converter] = {
    key: o.validator for key, o in file_keys("hosts.").items() if o.validator is not None
}
_CLIENT_KEYS: dict[str, Converter] = {
    key: o.validator for key, o in file_keys("tls.client.").items() if o.validator is not None
}
_FIX_KEYS: dict[str, tuple[str, Converter]] = {
    key: (o.name, o.validator) for key, o in file_keys("fix.").items() if o.validator is not None
}


# --- finding and loading -----------------------------------------------------------------------------------
def discover(start: Path) -> Path | None:
    """The configuration file for a run started in ``start``: ``linkdoctor.toml``, else a ``pyproject.toml``
    with a ``[tool.linkdoctor]`` table, in ``start`` or the nearest parent directory; None when there is none.
    """
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_NAME
        if (
            pyproject.is_file()
            and _mentions_linkdoctor(pyproject)
            and _tool_table(_parse(pyproject), pyproject) is not None
        ):
            return pyproject
    return None


def load(path: Path) -> FileConfig:
    """Parse and validate ``path`` (a ``pyproject.toml`` contributes its ``[tool.linkdoctor]`` table)."""
    document = _parse(path)
    prefix = ""
    if path.name == PYPROJECT_NAME:
        table = _tool_table(document, path)
        if table is None:
            raise ConfigError(f"{path}: has no [{_TOOL_TABLE}] table")
        document, prefix = table, _TOOL_TABLE + "."
    return _Loader(path, prefix).load(document)


def find_and_load(explicit: Path | None, *, no_config: bool, cwd: Path) -> FileConfig | None:
    """What a run uses: ``--config FILE``, nothing with ``--no-config``, else the discovered file."""
    if explicit is not None and no_config:
        raise ConfigError("--config and --no-config exclude each other")
    if no_config:
        return None
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"--config {explicit}: file not found")
        return load(explicit)
    found = discover(cwd)
    return load(found) if found is not None else None


def _parse(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte order mark (Windows editors) is not TOML's
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: malformed TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position is not None:
            line, column = position.group(1), position.group(2)
            message = message[: position.start()]
        else:
            lines = text.split("\n")
            line, column = str(len(lines)), str(len(lines[-1]) + 1)
            message = message.removesuffix(_TOML_AT_END)
        raise ConfigError(f"{path}:{line}:{column}: malformed TOML: {message}") from None


def _mentions_linkdoctor(path: Path) -> bool:
    """Whether a pyproject.toml may hold our table: others' files, even malformed ones, are passed over unread."""
    try:
        return b"linkdoctor" in path.read_bytes()
    except OSError:
        return False


def _tool_table(document: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The ``[tool.linkdoctor]`` table; None when there is none, an error when ``tool.linkdoctor`` is
    something else (``[tool]`` then ``linkdoctor = 5``: settings the user meant, never passed over)."""
    tool = document.get("tool")
    if not isinstance(tool, dict) or "linkdoctor" not in tool:
        return None
    table = tool["linkdoctor"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {_TOOL_TABLE}: must be a table ([{_TOOL_TABLE}]), got {show(table)}")
    return table


class _Loader:
    def __init__(self, path: Path, prefix: str) -> None:
        self._path = path
        self._prefix = prefix
        self._ctx = ValueContext(path.resolve().parent)

    def _error(self, where: str, reason: str) -> ConfigError:
        return FileConfig(self._path, table=self._prefix).error(where, reason)

    def _convert(self, where: str, converter: Converter, value: Any) -> Any:
        try:
            return converter(value, self._ctx)
        except Invalid as exc:
            raise self._error(where + exc.where, exc.reason) from None

    def _unknown(self, where: str, key: str, known: Mapping[str, object]) -> ConfigError:
        if key == "password" or (key.endswith("password") and f"{key}_env" in known):
            name = "password_env" if key == "password" else f"{key}_env"
            return self._error(
                where + key_path(key),
                f"passwords are not allowed in config files; name an environment variable with {name}",
            )
        if f"{key}_env" in known:
            return self._error(where + key_path(key), f"secrets belong in the environment: use {key}_env")
        hint = ""
        spelled = key.replace("-", "_")
        if spelled in known:
            hint = f" (keys use underscores: {spelled})"
        elif close := difflib.get_close_matches(key, list(known), n=1):
            hint = f" (did you mean {close[0]}?)"
        elif len(known) <= len(_HOST_KEYS):
            hint = f" (expected one of: {', '.join(known)})"
        return self._error(where + key_path(key), f"unknown key{hint}")

    def load(self, document: dict[str, Any]) -> FileConfig:
        known: dict[str, object] = {**_OPTIONS, **dict.fromkeys(SECTIONS)}
        options: list[tuple[str, Any]] = []
        for key in document:
            if key not in known:
                raise self._unknown("", key, known)
        for key, value in document.items():
            if key in _OPTIONS:
                dest, converter = _OPTIONS[key]
                options.append((dest, self._convert(key, converter, value)))
        return FileConfig(
            path=self._path,
            options=tuple(options),
            hosts=tuple(self._hosts(document.get("hosts", []))),
            client_certs=tuple(self._tls(document.get("tls", {}))),
            remap=tuple(self._remap(document.get("remap", {}))),
            table=self._prefix,
            fix=self._fix(document.get("fix", {})),
        )

    def _fix(self, value: Any) -> tuple[tuple[str, Any], ...]:
        """The ``[fix]`` table: ``linkdoctor fix``'s settings (kinds on/off, hosts, the web archive)."""
        if not isinstance(value, dict):
            raise self._error("fix", f"must be a table ([{self._prefix}fix]), got {show(value)}")
        values = self._entry("fix", value, {key: converter for key, (_, converter) in _FIX_KEYS.items()})
        return tuple((_FIX_KEYS[key][0], converted) for key, converted in values.items())

    def _tables(self, where: str, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self._error(
                where, f"must be an array of tables ([[{self._prefix}{where}]]), got {show(value)}"
            )
        return value

    def _entry(self, where: str, table: dict[str, Any], keys: Mapping[str, Converter]) -> dict[str, Any]:
        for key in table:  # unknown keys (and plain passwords) first, before any value is judged
            if key not in keys:
                raise self._unknown(where + ".", key, keys)
        return {
            key: self._convert(f"{where}.{key_path(key)}", keys[key], value) for key, value in table.items()
        }

    def _hosts(self, value: Any) -> list[HostEntry]:
        entries = []
        for index, table in enumerate(self._tables("hosts", value)):
            where = f"hosts[{index}]"
            values = self._entry(where, table, _HOST_KEYS)
            if not values.get("match"):
                raise self._error(
                    f"{where}.match", 'is required: the hosts this applies to, e.g. ["*.example.org"]'
                )
            if ("user" in values) != ("password_env" in values):
                missing = "password_env" if "user" in values else "user"
                raise self._error(f"{where}.{missing}", "basic auth needs both user and password_env")
            entries.append(HostEntry(**values))
        return entries

    def _tls(self, value: Any) -> list[ClientCert]:
        if not isinstance(value, dict):
            raise self._error("tls", f"must be a table, got {show(value)}")
        for key in value:
            if key != "client":
                raise self._unknown("tls.", key, {"client": None})
        entries = []
        for index, table in enumerate(self._tables("tls.client", value.get("client", []))):
            where = f"tls.client[{index}]"
            values = self._entry(where, table, _CLIENT_KEYS)
            if ("cert" in values) == ("pkcs12" in values):
                raise self._error(
                    where, "needs either cert (with key, unless the key is in the same file) or pkcs12"
                )
            if "key" in values and "cert" not in values:
                raise self._error(f"{where}.key", "needs cert")
            entries.append(ClientCert(**values))
        return entries

    def _remap(self, value: Any) -> list[RemapRule]:
        if not isinstance(value, dict):
            raise self._error("remap", f'must be a table of "regex" = "replacement", got {show(value)}')
        rules = []
        for pattern_text, replacement in value.items():
            where = f"remap.{key_path(pattern_text)}"
            try:
                pattern = compile_pattern(pattern_text)
            except PatternError as exc:
                raise self._error(where, f"not a valid regular expression: {exc.reason}") from None
            if not isinstance(replacement, str):
                raise self._error(where, f"the replacement must be a string, got {show(replacement)}")
            try:
                template = replacement_template(replacement, pattern)
            except ValueError as exc:
                raise self._error(where, str(exc)) from None
            rules.append(RemapRule(pattern, replacement, template))
        return rules


def replacement_template(replacement: str, pattern: Pattern) -> str:
    """``$1``, ``${1}``, ``${name}`` and ``$$`` (a dollar) → a ``re.sub`` template, other text literal.

    >>> replacement_template("https://new.example/$1", compile_pattern("^https://old.example/(.*)"))
    'https://new.example/\\\\g<1>'
    """
    out: list[str] = []
    position = 0
    for match in _REPLACEMENT_REF.finditer(replacement):
        out.append(replacement[position : match.start()].replace("\\", "\\\\"))
        number, name, dollar = match.groups()
        if dollar:
            out.append("$")
        else:
            group = number or name
            if group.isdigit() and int(group) > pattern.groups:
                raise ValueError(f"${group} refers to a group the pattern does not have ({pattern.groups})")
            if not group.isdigit() and group not in pattern.groupindex:
                raise ValueError(f"${{{group}}} names no group of the pattern")
            out.append(f"\\g<{group}>")
        position = match.end()
    out.append(replacement[position:].replace("\\", "\\\\"))
    return "".join(out)


# --- using it ------------------------------------------------------------------------------------------
def merge_options(
    opts: Mapping[str, Any], file: FileConfig | None, *, explicit: Callable[[str], bool]
) -> dict[str, Any]:
    """``opts`` with the file's values for every option the command line did not set explicitly."""
    merged = dict(opts)
    if file is None:
        return merged
    for dest, value in file.options:
        if dest in merged and not explicit(dest):
            merged[dest] = value
    return merged


def file_inputs(file: FileConfig | None) -> tuple[str, ...]:
    """The ``inputs`` key (used when the command line names none)."""
    if file is None:
        return ()
    return tuple(dict(file.options).get("inputs", ()))


def apply_sections(
    config: CheckConfig, file: FileConfig | None, *, environ: Mapping[str, str]
) -> CheckConfig:
    """Add the file's ``[[hosts]]``, ``[[tls.client]]`` and ``[remap]`` to ``config``, reading passwords from
    ``environ``. Command-line settings keep precedence: their headers and auth apply after the file's, and
    their client certificate is tried before the file's."""
    if file is None:
        return config

    def env(where: str, name: str) -> Secret:
        value = environ.get(name)
        if value is None:
            raise file.error(where, f"the environment variable {name} is not set")
        return Secret(value, name)

    hosts: list[HostSettings] = []
    for index, entry in enumerate(file.hosts):
        where = f"hosts[{index}]"
        headers = entry.headers + tuple(
            (name, env(f"{where}.headers_env.{key_path(name)}", var)) for name, var in entry.headers_env
        )
        auth = None
        if entry.user is not None and entry.password_env is not None:
            auth = (entry.user, env(f"{where}.password_env", entry.password_env))
        hosts.append(
            HostSettings(
                entry.match,
                headers=headers,
                basic_auth=auth,
                cacert=entry.cacert,
                max_concurrency=entry.max_concurrency,
                interval=entry.interval,
            )
        )

    def unset(where: str) -> Callable[[str], ConfigError]:
        return lambda name: file.error(where, f"the environment variable {name} is not set")

    certs = [
        entry.with_password_from(environ, missing=unset(f"tls.client[{index}].password_env"))
        for index, entry in enumerate(file.client_certs)
    ]
    return replace(
        config,
        host_settings=(*hosts, *config.host_settings),
        client_certs=(*config.client_certs, *certs),
        remap=(*config.remap, *((rule.pattern, rule.template) for rule in file.remap)),
    )
