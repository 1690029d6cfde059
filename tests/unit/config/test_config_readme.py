"""The complete example in the README's Configuration section loads, covers every key, and every key in it
takes effect in the run's configuration."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from linkdoctor.cli.check import build_config, check
from linkdoctor.cli.merge import merge_config_file
from linkdoctor.config import CheckConfig, ClientCert, Method, Secret
from linkdoctor.config_file import OPTION_KEYS, apply_sections

README = Path(__file__).resolve().parents[3] / "README.md"
FILES = (
    "extra-urls.txt",
    "cookies.txt",
    "certs/client.pem",
    "certs/client.key",
    "certs/ca.pem",
    "certs/corp-ca.pem",
    "certs/corp-client.pem",
    "certs/corp-client.key",
    "certs/partner.p12",
)
ENV = {
    "STAGING_PASSWORD": "staging-pw",
    "CLIENT_KEY_PASSWORD": "client-pw",
    "CORP_TOKEN": "Bearer corp-token",
    "CORP_PASSWORD": "corp-pw",
    "CORP_KEY_PASSWORD": "corp-key-pw",
    "PARTNER_P12_PASSWORD": "partner-pw",
}
# Values the example sets to their default, since the opposite would be poor advice.
SAME_AS_DEFAULT = {"recursive", "fragments", "insecure"}


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Configuration section has one complete TOML example"
    return str(blocks[0])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("placeholder\n")
    (tmp_path / "linkdoctor.toml").write_text(readme_example(), encoding="utf-8")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def effective(args: list[str]) -> tuple[tuple[str, ...], dict[str, Any], CheckConfig]:
    """What ``check ARGS`` would run with: merged options and the built configuration."""
    with check.make_context("check", args) as ctx:
        opts = dict(ctx.params)
        inputs = tuple(opts.pop("inputs"))
        inputs, file = merge_config_file(ctx, inputs, opts)
        return inputs, opts, apply_sections(build_config(opts), file, environ=os.environ)


def test_the_example_covers_every_key() -> None:
    document = tomllib.loads(readme_example())
    # pkcs12 (the alternative to cert/key) and broker (distributed mode) are named in the text instead
    assert set(OPTION_KEYS) - set(document) == {"pkcs12", "broker"}
    assert 'pkcs12 = "client.p12"' in README.read_text(encoding="utf-8")
    assert 'broker = "redis://' in README.read_text(encoding="utf-8")
    assert {"hosts", "tls", "remap"} <= set(document)
    assert set(document["hosts"][0]) == {
        "match",
        "headers",
        "headers_env",
        "user",
        "password_env",
        "cacert",
        "max_concurrency",
        "interval",
    }
    assert {key for table in document["tls"]["client"] for key in table} == {
        "hosts",
        "cert",
        "key",
        "pkcs12",
        "password_env",
    }


def test_every_key_of_the_example_takes_effect(project: Path) -> None:
    document = tomllib.loads(readme_example())
    _, defaults, _ = effective(["--no-config"])
    inputs, opts, _ = effective([])
    assert inputs == ("https://docs.example.org/",)
    for key, dest in OPTION_KEYS.items():
        if key not in document or key == "inputs":
            continue
        if key in SAME_AS_DEFAULT:
            assert opts[dest] == document[key] == defaults[dest], key
        else:
            assert opts[dest] != defaults[dest], f"{key} did not take effect"


def test_the_example_builds_the_expected_run_configuration(project: Path) -> None:
    _, _, config = effective([])
    assert (config.max_concurrency, config.max_per_host, config.host_interval) == (64, 8, 0.1)
    assert (config.timeout, config.connect_timeout, config.retries, config.max_redirects) == (15.0, 5.0, 3, 5)
    assert (config.depth, config.max_pages, config.max_body, config.max_url_length) == (
        6,
        20000,
        5_000_000,
        4096,
    )
    assert config.method is Method.GET
    assert not config.respect_robots
    assert {429, 496, 200, 299} <= config.accept
    assert [p.pattern for p in config.exclude] == ["^https://twitter\\.com/", "/logout$"]
    assert config.cacert == project / "certs" / "ca.pem"
    assert config.cookie_jar == project / "cookies.txt"
    assert config.diagnose is True
    corp = config.host_settings_for("docs.corp.example")
    assert corp[0].headers == (("X-Team", "docs"), ("Authorization", Secret("Bearer corp-token")))
    assert corp[0].basic_auth == ("ci", Secret("corp-pw"))
    assert config.host_limits("docs.corp.example") == (2, 0.5)
    assert config.host_limits("docs.example.org") == (8, 0.1)
    staging = config.host_settings_for("staging.example.org")
    assert staging[0].basic_auth == ("ci", Secret("staging-pw"))
    assert config.client_cert_for("api.example.org") == ClientCert(
        cert=project / "certs" / "client.pem",
        key=project / "certs" / "client.key",
        password=Secret("client-pw"),
        hosts=("api.example.org",),
    )
    assert config.client_cert_for("x.corp.example") == ClientCert(
        cert=project / "certs" / "corp-client.pem",
        key=project / "certs" / "corp-client.key",
        password=Secret("corp-key-pw"),
        hosts=("*.corp.example", "api.example.com"),
    )
    partner = config.client_cert_for("partner.example.net")
    assert partner is not None and partner.pkcs12 == project / "certs" / "partner.p12"
    (pattern, template), *_ = config.remap
    assert pattern.sub(template, "https://old.example.org/a/b") == "https://docs.example.org/a/b"


def test_the_example_runs_the_cache_and_reports_it_asks_for(project: Path) -> None:
    _, opts, _ = effective([])
    assert opts["cache"] is True
    assert opts["cache_file"] == project / ".linkdoctor" / "cache.sqlite"
    assert opts["max_cache_age"] == "12h"
    assert opts["fmt"] == ("console", f"sarif:{project / 'reports' / 'links.sarif'}")
    assert opts["output"] == (project / "reports" / "links.html",)


def test_flags_still_win_over_the_example(project: Path) -> None:
    _, opts, config = effective(["--max-concurrency", "3", "--no-cache", "--method", "head"])
    assert (config.max_concurrency, config.method, opts["cache"]) == (3, Method.HEAD, False)
