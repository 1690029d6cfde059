"""Specs for nginx versions (linkdoctor.nginx.version): parsing, detection and version facts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from linkdoctor.errors import ConfigError
from linkdoctor.nginx.version import (
    NginxVersion,
    affected_by_cve_2025_23419,
    detect_nginx_version,
    trusted_certificate_suffices,
)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("1.26.2", NginxVersion(1, 26, 2)),
        ("nginx/1.22.1", NginxVersion(1, 22, 1)),
        ("nginx version: nginx/1.25.5 (Ubuntu)", NginxVersion(1, 25, 5)),
        ("1.27", NginxVersion(1, 27, 0)),
    ],
)
def test_versions_are_parsed(text: str, version: NginxVersion) -> None:
    assert NginxVersion.parse(text) == version


def test_a_non_version_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not an nginx version"):
        NginxVersion.parse("latest")


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("1.11.3", False),
        ("1.11.4", True),
        ("1.22.1", True),
        ("1.26.2", True),
        ("1.26.3", False),
        ("1.27.0", True),
        ("1.27.3", True),
        ("1.27.4", False),
        ("1.28.0", False),
    ],
)
def test_cve_2025_23419_affects_releases_before_1_26_3_and_1_27_4(version: str, affected: bool) -> None:
    assert affected_by_cve_2025_23419(NginxVersion.parse(version)) is affected


def test_ssl_trusted_certificate_alone_suffices_from_1_27_2() -> None:
    assert not trusted_certificate_suffices(NginxVersion(1, 27, 1))
    assert trusted_certificate_suffices(NginxVersion(1, 27, 2))


def test_detection_reads_nginx_dash_v() -> None:
    calls: list[Sequence[str]] = []

    def run(argv: Sequence[str]) -> str:
        calls.append(argv)
        return "nginx version: nginx/1.24.0\n"

    assert detect_nginx_version(run, binary="/opt/nginx") == NginxVersion(1, 24, 0)
    assert calls == [["/opt/nginx", "-v"]]


def test_detection_without_an_answer_is_none() -> None:
    def fail(argv: Sequence[str]) -> str:
        raise FileNotFoundError(argv[0])

    assert detect_nginx_version(fail, binary="/nope/nginx") is None
    assert detect_nginx_version(lambda argv: "garbage", binary="/opt/nginx") is None


def test_the_installed_nginx_is_detected(installed_nginx_version: NginxVersion) -> None:
    assert installed_nginx_version >= NginxVersion(1, 0, 0)
