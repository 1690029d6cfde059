"""The site form and the API's input shapes: intervals, bounds, redaction, and the form ↔ spec round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import Site, SiteOptions, SiteSpec
from linkdoctor.web.pages import EMPTY_FORM, form_values, site_in
from linkdoctor.web.schemas import SiteIn, format_every, parse_every, redact_url


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("6h", 21600), ("1d", 86400), (" 2w ", 1209600)]
)
def test_intervals_parse_from_a_number_and_a_unit(text: str, seconds: int) -> None:
    assert parse_every(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "d", "1y", "1.5h", "-1d"])
def test_other_interval_text_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="not an interval"):
        parse_every(text)


def test_intervals_longer_than_a_year_are_refused() -> None:
    # found by schemathesis: 30000d overflowed PostgreSQL's integer column
    with pytest.raises(ConfigError, match="longer than a year"):
        parse_every("30000d")


@pytest.mark.parametrize(
    ("every", "text"),
    [(timedelta(hours=36), "36h"), (timedelta(days=14), "2w"), (timedelta(seconds=90), "90s")],
)
def test_intervals_format_in_their_largest_whole_unit(every: timedelta, text: str) -> None:
    assert format_every(every) == text


def test_notify_passwords_are_redacted_and_urls_without_one_kept() -> None:
    assert (
        redact_url("mailtos://me:pw@mail.example/?to=ops@example.org")
        == "mailtos://me:***@mail.example/?to=ops@example.org"
    )
    assert redact_url("slack://T1/B2/C3") == "slack://T1/B2/C3"


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": ""},
        {"name": "a\x00b"},
        {"url": "ftp://example.org/"},
        {"url": "http://exa mple.org/"},
        {"budget": 0},
        {"budget": 10**12},
        {"alert_after": 0},
        {"every": "soon"},
        {"every": "30000d"},
        {"cron": "0 3 * * *; rm"},
        {"notify": ["x"] * 21},
        {"options": {"accept": [99]}},
        {"options": {"accept": [1000]}},
        {"options": {"password_env": "NOT-A-NAME"}},
        {"options": {"headers_env": [{"name": "Bad Header", "env": "TOKEN"}]}},
        {"unknown": 1},
    ],
)
def test_site_input_out_of_bounds_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SiteIn.model_validate({"name": "docs", "url": "https://docs.example.org/", **overrides})


def test_site_input_defaults_to_a_daily_scan_within_1500_checks() -> None:
    spec = SiteIn.model_validate({"name": "docs", "url": "https://docs.example.org/"}).to_spec()
    assert (spec.every, spec.cron, spec.budget, spec.alert_after) == (timedelta(days=1), None, 1500, 2)


def test_empty_site_form_with_a_name_and_url_gives_the_default_spec() -> None:
    spec = site_in({**EMPTY_FORM, "name": "docs", "url": "https://docs.example.org/"}).to_spec()
    assert spec == SiteSpec(name="docs", url="https://docs.example.org/")


def test_site_form_lines_become_lists_and_headers_pairs() -> None:
    form = {
        **EMPTY_FORM,
        "name": "docs",
        "url": "https://docs.example.org/",
        "every": "",
        "cron": "0 3 * * *",
        "notify": "json://hook.example/a\n\n  mailto://ops@example.org  \n",
        "accept": "429, 999",
        "headers_env": "Authorization: DOCS_TOKEN",
        "check_fragments": False,
    }
    spec = site_in(form).to_spec()
    assert spec.every is None and spec.cron == "0 3 * * *"
    assert spec.notify == ("json://hook.example/a", "mailto://ops@example.org")
    assert spec.options.accept == (429, 999)
    assert spec.options.headers_env == (("Authorization", "DOCS_TOKEN"),)
    assert spec.options.check_fragments is False


def test_an_existing_site_round_trips_through_its_form() -> None:
    spec = SiteSpec(
        name="docs",
        url="https://docs.example.org/",
        every=timedelta(hours=6),
        budget=700,
        scope=(r"^https://docs\.example\.org/",),
        options=SiteOptions(
            depth=2,
            exclude=("/private/",),
            accept=(429,),
            headers_env=(("X-Token", "DOCS_TOKEN"),),
            pkcs12_path="/etc/linkdoctor/client.p12",
            password_env="DOCS_P12_PASSWORD",
            respect_robots=False,
        ),
        notify=("json://hook.example/a",),
        alert_after=3,
    )
    site = Site(id=1, spec=spec, created_at=datetime(2030, 1, 1, tzinfo=UTC), next_run_at=None)
    assert site_in(form_values(site)).to_spec() == spec
