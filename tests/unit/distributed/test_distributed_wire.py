"""What crosses the broker: fetch settings without secrets, fetch keys, pages that round-trip exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Method, Secret
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_from_json, page_to_json
from linkdoctor.engine.check import Fetched
from linkdoctor.engine.fetching import read_page
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult, Diagnosis, Redirect

CERT_CONFIG = CheckConfig(
    client_certs=(ClientCert(cert=Path("/etc/ld/client.pem"), key=Path("/etc/ld/client.key"),
                             password=Secret("hunter2"), hosts=("*.corp.example",)),),
    host_settings=(HostSettings(("api.example",), headers=(("X-Team", "docs"),),
                                basic_auth=("ann", Secret("pa55")), max_concurrency=2, interval=0.5),),
    accept=frozenset({496}),
    method=Method.GET,
    timeout=7.0,
)  # fmt: skip
ENV = {"LD_KEY_PASSWORD": "hunter2", "LD_API_PASSWORD": "pa55"}


def test_secrets_travel_as_environment_variable_names() -> None:
    spec = FetchSpec.from_config(CERT_CONFIG, env=ENV)
    text = repr(spec.to_json())
    assert "hunter2" not in text and "pa55" not in text
    assert spec.certs[0].password_env == "LD_KEY_PASSWORD"
    assert spec.hosts[0].basic_auth == ("ann", "LD_API_PASSWORD")


def test_a_secret_not_from_the_environment_cannot_be_distributed() -> None:
    with pytest.raises(ConfigError, match="environment variable"):
        FetchSpec.from_config(CERT_CONFIG, env={"LD_KEY_PASSWORD": "hunter2"})


def test_the_worker_rebuilds_the_fetch_settings_from_its_own_environment() -> None:
    spec = FetchSpec.from_json(FetchSpec.from_config(CERT_CONFIG, env=ENV).to_json())
    config = spec.to_config(env=ENV)
    assert config.client_certs == CERT_CONFIG.client_certs
    assert config.host_settings == CERT_CONFIG.host_settings
    assert (config.accept, config.method, config.timeout) == (frozenset({496}), Method.GET, 7.0)


def test_a_worker_without_the_password_variable_says_which_is_missing() -> None:
    spec = FetchSpec.from_config(CERT_CONFIG, env=ENV)
    with pytest.raises(ConfigError, match="LD_KEY_PASSWORD"):
        spec.to_config(env={"LD_API_PASSWORD": "pa55"})


HEADER_CONFIG = CheckConfig(
    headers=(("Authorization", "Bearer abc123"), ("Accept-Language", "fr")),
    host_settings=(
        HostSettings(("api.example",), headers=(("X-Team", "docs"), ("X-Key", Secret("k3y-from-env")))),
    ),
)
HEADER_ENV = {"LD_AUTH": "Bearer abc123", "LD_KEY": "k3y-from-env"}


def test_secret_and_credential_headers_travel_as_environment_variable_names() -> None:
    batch = Batch("scan-1", "b1", FetchSpec.from_config(HEADER_CONFIG, env=HEADER_ENV), ())
    sent = json.dumps(batch.to_json())
    assert "abc123" not in sent and "k3y-from-env" not in sent
    assert "LD_AUTH" in sent and "LD_KEY" in sent and '"fr"' in sent and '"docs"' in sent
    config = Batch.from_json(json.loads(sent)).spec.to_config(env=HEADER_ENV)
    assert config.headers == HEADER_CONFIG.headers
    assert config.host_settings == HEADER_CONFIG.host_settings


def test_a_secret_travels_as_the_variable_it_was_read_from_not_another_of_the_same_value() -> None:
    config = CheckConfig(
        host_settings=(
            HostSettings(
                ("a.example",),
                headers=(("X-Preview", Secret("1", "DOCS_PREVIEW")),),
                basic_auth=("ann", Secret("1", "DOCS_PASSWORD")),
            ),
        )
    )
    env = {"CI": "1", "DOCS_PASSWORD": "1", "DOCS_PREVIEW": "1"}
    host = FetchSpec.from_config(config, env=env).hosts[0]
    assert host.headers == (("X-Preview", "DOCS_PREVIEW", True),)
    assert host.basic_auth == ("ann", "DOCS_PASSWORD")


def test_a_credential_header_not_from_the_environment_cannot_be_distributed() -> None:
    with pytest.raises(ConfigError, match="Authorization header must come from an environment variable"):
        FetchSpec.from_config(HEADER_CONFIG, env={"LD_KEY": "k3y-from-env"})
    with pytest.raises(ConfigError, match="X-Key header must come from an environment variable"):
        FetchSpec.from_config(HEADER_CONFIG, env={"LD_AUTH": "Bearer abc123"})


def test_a_worker_without_a_header_variable_says_which_is_missing() -> None:
    spec = FetchSpec.from_config(HEADER_CONFIG, env=HEADER_ENV)
    with pytest.raises(
        ConfigError,
        match="X-Key header: environment variable LD_KEY is not set on this worker, or not allowed there",
    ):
        spec.to_config(env={"LD_AUTH": "Bearer abc123"})


def test_fetch_keys_differ_by_kind_of_fetch_and_not_by_object() -> None:
    page = FetchItem("https://a.example/", True)
    assert page.key == FetchItem("https://a.example/", True).key
    assert page.key != FetchItem("https://a.example/", False).key
    assert page.key != FetchItem("https://a.example/", True, raw=True).key


def test_a_batch_round_trips() -> None:
    batch = Batch("scan-1", "b1", FetchSpec(), (FetchItem("https://a.example/x", False, "get"),))
    assert Batch.from_json(batch.to_json()) == batch


def test_a_parsed_page_round_trips_exactly() -> None:
    result = CheckResult(
        "https://a.example/", Category.REDIRECTED, status=200, final_url="https://a.example/home",
        redirects=(Redirect("https://a.example/", 301),), diagnosis=Diagnosis("x.y", "summary", ("fix",)),
    )  # fmt: skip
    body = b'<html><base href="/b/"><a id="top" href="p.html">P</a><img src="i.png"></html>'
    page = read_page(Fetched(result, body, "text/html; charset=utf-8"), result.url)
    assert page.extraction is not None and page.extraction.links
    assert page_from_json(page_to_json(page)) == page


def test_a_sitemap_and_raw_text_round_trip() -> None:
    ok = CheckResult("https://a.example/sitemap.xml", Category.OK, status=200)
    xml = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/1</loc></url></urlset>'
    sitemap = read_page(Fetched(ok, xml, "application/xml"), ok.url)
    robots = read_page(Fetched(ok, b"User-agent: *\nDisallow: /private", "text/plain"), ok.url, raw=True)
    assert sitemap.sitemap is not None and sitemap.sitemap.locs == ("https://a.example/1",)
    assert page_from_json(page_to_json(sitemap)) == sitemap
    assert page_from_json(page_to_json(robots)) == robots
    assert re.search("Disallow", robots.text or "")


def test_an_error_page_is_not_parsed_for_links() -> None:
    gone = CheckResult("https://a.example/gone", Category.BROKEN, status=410)
    page = read_page(Fetched(gone, b'<a href="/elsewhere">x</a>', "text/html"), gone.url)
    assert page.extraction is None and page.body_read


def test_the_module_examples_hold() -> None:
    import doctest

    import linkdoctor.distributed.wire

    result = doctest.testmod(linkdoctor.distributed.wire)
    assert result.attempted > 0 and result.failed == 0
