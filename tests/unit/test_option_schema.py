"""Every option is declared once, in ``linkdoctor.options``; each face that spells options out is compared with
it here, so a flag, key, default or field that drifts from the schema fails a test: the library's
``CheckConfig``, ``check``'s flags, the configuration file's keys and ``config show``, the worker wire format,
and the monitored site's options (model, API schema, ``sites add`` flags, and the scan's mapping)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import click
import pytest

from linkdoctor import config_file
from linkdoctor.cli.check import build_config, check
from linkdoctor.cli.config import render_toml
from linkdoctor.cli.credentials import client_cert_options
from linkdoctor.cli.flags import click_type
from linkdoctor.cli.sites import add as sites_add
from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Method, Secret
from linkdoctor.distributed.wire import FetchSpec, HostRef
from linkdoctor.monitor.model import SiteOptions, SiteSpec
from linkdoctor.monitor.scan import build_config as site_config
from linkdoctor.options import (
    OPTIONS,
    SECTIONS,
    Context,
    Option,
    cli_options,
    file_keys,
    in_context,
    option,
)
from linkdoctor.report.formats import FORMAT_NAMES
from linkdoctor.web.schemas import SiteOptionsIn

SCALARS = (int, float, str, bool)


def _top_level(o: Option) -> bool:
    """An option of the run as a whole, not a key of a [[hosts]] or [[tls.client]] table."""
    return not o.name.startswith(("hosts.", "tls."))


def _fields(cls: Any) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


# --- the schema itself ---------------------------------------------------------------------------------------
def test_names_and_keys_are_unique() -> None:
    names = [o.name for o in OPTIONS]
    keys = [o.key for o in OPTIONS if o.key is not None]
    assert len(names) == len(set(names))
    assert len(keys) == len(set(keys))


def test_every_file_key_has_a_validator_and_every_validator_a_key() -> None:
    for o in OPTIONS:
        if o.key is not None and o.key not in SECTIONS:
            assert o.validator is not None, o.name
        if o.validator is not None:
            assert o.key is not None, o.name


def test_flags_are_the_names_with_dashes() -> None:
    for o in cli_options():
        long = next(f for f in o.flags if f.startswith("--")).split("/")[0]
        if o.name != "fmt":
            assert long == "--" + o.name.replace("_", "-"), o.name
        if o.key is not None:
            assert o.key == long[2:].replace("-", "_"), o.name


def test_secrets_are_only_ever_environment_variable_names() -> None:
    for o in OPTIONS:
        if "password" in o.name or "password" in (o.key or ""):
            assert o.secret_env and (o.name.endswith("_env") or o.name == "basic_auth"), o.name


# --- the library ---------------------------------------------------------------------------------------------
def test_every_checkconfig_field_is_set_by_an_option() -> None:
    declared = {o.field for o in in_context(Context.CHECK) if o.field is not None and _top_level(o)}
    assert declared == set(_fields(CheckConfig))


def test_checkconfig_defaults_are_the_schema_defaults() -> None:
    defaults = CheckConfig()
    for o in filter(_top_level, in_context(Context.CHECK)):
        if o.field is None or o.type not in SCALARS or o.multiple or o.field == "client_certs":
            continue
        value = getattr(defaults, o.field)
        expected = (not o.default) if o.negated else o.default
        assert (value.value if isinstance(value, Method) else value) == expected, o.name


def test_method_choices_are_the_method_enum() -> None:
    assert option("method").choices == tuple(m.value for m in Method)


def test_section_options_set_fields_of_their_value_types() -> None:
    host_fields = {o.field for o in OPTIONS if o.key and o.key.startswith("hosts.")}
    assert host_fields == set(_fields(HostSettings))
    cert_fields = {o.field for o in OPTIONS if o.key and o.key.startswith("tls.client.")}
    assert cert_fields == set(_fields(ClientCert)) - {"password"}


# --- `linkdoctor check` ------------------------------------------------------------------------------------
def _params(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params if p.name is not None}


def test_check_takes_exactly_the_schema_flags_and_the_inputs() -> None:
    assert list(_params(check)) == ["inputs", *(o.name for o in cli_options())]


@pytest.mark.parametrize("o", cli_options(), ids=lambda o: o.name)
def test_each_check_flag_defaults_to_the_schema_default(o: Option) -> None:
    with check.make_context("check", []) as ctx:
        assert ctx.params[o.name] == o.default, o.name


@pytest.mark.parametrize("o", cli_options(), ids=lambda o: o.name)
def test_each_check_flag_is_its_schema_option(o: Option) -> None:
    param = _params(check)[o.name]
    assert isinstance(param, click.Option)
    flags = tuple(f for spec in o.flags for f in spec.split("/"))
    assert (*param.opts, *param.secondary_opts) == flags
    expected = o.help.format(formats=", ".join(FORMAT_NAMES)) if o.help and "{" in o.help else o.help
    assert param.help == expected
    assert param.multiple == o.multiple
    assert param.metavar == o.metavar
    kind = click_type(o)
    if o.type is not bool:
        assert type(param.type) is type(click.types.convert_type(kind)), o.name
    if isinstance(param.type, click.Path):
        assert param.type.exists == o.must_exist
    if isinstance(param.type, click.IntRange):
        assert (param.type.min, param.type.max) == o.bounds
    if isinstance(param.type, click.Choice):
        assert tuple(param.type.choices) == o.choices


def test_every_check_flag_reaches_its_checkconfig_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("cookies.txt", "client.pem", "ca.pem"):
        (tmp_path / name).write_text("placeholder\n")
    monkeypatch.setenv("PW", "secret")
    args = {
        "base_url": ["--base-url", "https://b.example/"], "depth": ["--depth", "2"],
        "max_pages": ["--max-pages", "5"], "include": ["--include", "a"], "exclude": ["--exclude", "b"],
        "scope": ["--scope", "c"], "recursive": ["--no-recursive"], "ignore_robots": ["--ignore-robots"],
        "fragments": ["--no-fragments"], "method": ["--method", "get"], "max_concurrency": ["--max-concurrency", "3"],
        "max_per_host": ["--max-per-host", "2"], "host_interval": ["--host-interval", "1.5"],
        "timeout": ["--timeout", "9"], "connect_timeout": ["--connect-timeout", "4"], "retries": ["--retries", "5"],
        "max_redirects": ["--max-redirects", "3"], "max_body": ["--max-body", "100"],
        "max_url_length": ["--max-url-length", "99"], "user_agent": ["--user-agent", "ua"],
        "header": ["-H", "X-A: b"], "host_header": ["--host-header", "h.example", "X-B: c"],
        "basic_auth": ["--basic-auth", "h.example", "u", "PW"],
        "cookie_jar": ["--cookie-jar", str(tmp_path / "cookies.txt")], "accept": ["--accept", "429"],
        "dns_server": ["--dns-server", "127.0.0.1:5353"],
        "cert": ["--cert", str(tmp_path / "client.pem")], "key": [], "pkcs12": [], "key_password_env": [],
        "cert_host": ["--cert-host", "h.example"], "cacert": ["--cacert", str(tmp_path / "ca.pem")],
        "insecure": ["--insecure"], "diagnose": ["--diagnose"], "all_referrers": ["--all-referrers"],
        "max_urls": ["--max-urls", "7"], "max_sitemap_urls": ["--max-sitemap-urls", "8"], "max_time": ["--max-time", "2.5"], "max_queries": ["--max-queries", "4"],
        "max_path_depth": ["--max-path-depth", "6"], "trap_depth": ["--trap-depth", "0"],
        "trap_ids": ["--trap-ids", "3"], "max_links_per_page": ["--max-links-per-page", "9"],
        "soft_404": ["--no-soft-404"],
    }  # fmt: skip
    assert set(args) == {o.name for o in cli_options() if o.field is not None}
    with check.make_context("check", [a for flag in args.values() for a in flag]) as ctx:
        config = build_config(dict(ctx.params))
    defaults = CheckConfig()
    for o in cli_options():
        if o.field is not None:
            assert getattr(config, o.field) != getattr(defaults, o.field), o.name


def test_the_client_certificate_flags_of_other_commands_are_the_schema_flags() -> None:
    @click.command()
    @client_cert_options
    def command(**_: Any) -> None: ...

    for param in command.params:
        assert isinstance(param, click.Option) and param.name is not None
        assert tuple(param.opts) == option(param.name).flags
        assert param.help == option(param.name).help


# --- the configuration file and `config show` ----------------------------------------------------------------
def test_file_keys_are_the_schema_keys_in_its_order() -> None:
    assert dict(config_file.OPTION_KEYS) == {key: o.name for key, o in file_keys().items()}
    assert list(config_file._HOST_KEYS) == list(file_keys("hosts."))
    assert list(config_file._CLIENT_KEYS) == list(file_keys("tls.client."))


def test_every_top_level_key_is_a_check_parameter() -> None:
    params = _params(check)
    for o in file_keys().values():
        assert o.name in params, o.key


def test_file_sections_hold_the_schema_keys() -> None:
    assert set(_fields(config_file.HostEntry)) == set(file_keys("hosts."))
    assert set(_fields(ClientCert)) - {"password"} == set(file_keys("tls.client."))


def test_config_show_prints_every_key_in_the_schema_order(tmp_path: Path) -> None:
    options = {o.name: o.default for o in OPTIONS}
    text = render_toml(options, None)
    not_set = [key for key, o in file_keys().items() if o.default is None]
    assert f"# not set: {', '.join(not_set)}\n" in text
    shown = re.findall(r"^(\w+) = ", text, flags=re.M)
    assert shown == [key for key, o in file_keys().items() if key not in not_set]


# --- the worker wire format ----------------------------------------------------------------------------------
def test_the_wire_carries_the_worker_options_with_the_schema_defaults() -> None:
    spec = _fields(FetchSpec)
    worker = [o for o in in_context(Context.WORKER) if o.field and _top_level(o)]
    wire_name = {"host_settings": "hosts", "client_certs": "certs"}
    assert set(spec) == {wire_name.get(o.field, o.field) for o in worker if o.field} | {"allow_private"}
    for o in worker:
        if o.field in spec and o.type in SCALARS and not o.multiple and o.field != "user_agent":
            assert _default(spec[o.field]) == o.default, o.name
    # the user agent travels only when set: "" means the worker's default, which is the schema's
    assert FetchSpec().to_config(env={}).user_agent == option("user_agent").default


def test_the_wire_host_settings_are_the_host_options() -> None:
    assert set(_fields(HostRef)) == {o.field for o in OPTIONS if o.key and o.key.startswith("hosts.")}


# --- the monitored site ------------------------------------------------------------------------------------
SITE_OPTIONS = [o for o in OPTIONS if Context.SITE in o.contexts and o.site_field is not None]
SITE_SPEC_ONLY = {"scope"}  # kept on SiteSpec next to the URL it widens


def test_site_options_are_the_site_options_of_the_schema() -> None:
    assert set(_fields(SiteOptions)) == {o.site_field for o in SITE_OPTIONS} - SITE_SPEC_ONLY
    assert set(_fields(SiteSpec)) >= SITE_SPEC_ONLY


def test_site_option_defaults_mean_the_check_defaults() -> None:
    fields = _fields(SiteOptions)
    for o in SITE_OPTIONS:
        if o.site_field in SITE_SPEC_ONLY:
            continue
        default = _default(fields[str(o.site_field)])
        if o.type is bool:  # stored as the CheckConfig field: --ignore-robots is respect_robots
            assert default == ((not o.default) if o.negated else o.default), o.name
        else:
            assert default in (None, ()), o.name


def test_the_api_schema_has_the_site_options_and_their_defaults() -> None:
    api = SiteOptionsIn.model_fields
    assert set(api) == set(_fields(SiteOptions))
    plain = SiteOptionsIn()
    for name, f in _fields(SiteOptions).items():
        value = getattr(plain, name)
        assert (tuple(value) if isinstance(value, list) else value) == _default(f), name


def test_sites_add_flags_are_the_schema_site_flags() -> None:
    params = _params(sites_add)
    for o in SITE_OPTIONS:
        if o.site_flag is None:
            continue
        param = params[str(o.site_field)]
        assert isinstance(param, click.Option)
        assert param.opts == [o.site_flag], o.name
        assert param.multiple == o.multiple, o.name
        assert param.help == o.site_help, o.name
    site_params = {o.site_field for o in SITE_OPTIONS if o.site_flag}
    spec_params = {"url", "name", "every_text", "cron", "manual", "budget", "notify", "alert_after"}
    assert set(params) == site_params | spec_params


def test_a_scan_maps_every_site_option_to_its_check_field(tmp_path: Path) -> None:
    options = SiteOptions(
        max_pages=7, depth=3, include=("a",), exclude=("b",), accept=(429,), headers_env=(("X-T", "TOKEN"),),
        cert_path="c.pem", key_path="c.key", password_env="KEY_PW", cert_hosts=("h.example",),
        cacert_path="ca.pem", check_fragments=False, respect_robots=False,
    )  # fmt: skip
    spec = SiteSpec(name="s", url="https://s.example/", scope=("c",), options=options)
    config = site_config(spec, budget=5, env={"TOKEN": "t", "KEY_PW": "pw"})
    defaults = CheckConfig()
    for o in SITE_OPTIONS:
        if o.field is not None and o.field != "headers":
            assert getattr(config, o.field) != getattr(defaults, o.field), o.name
    # the site's headers go to its own host only, never to the other hosts its pages link to
    assert config.headers == ()
    assert [h.headers for h in config.host_settings_for("s.example")] == [(("X-T", Secret("t")),)]
    assert config.host_settings_for("other.example") == ()
    cert = config.client_cert_for("h.example")
    assert cert is not None and (cert.cert, cert.key, cert.hosts) == (
        Path("c.pem"),
        Path("c.key"),
        ("h.example",),
    )
    assert config.cacert_for("any.example") == Path("ca.pem")
