"""A real ``linkdoctor check`` process against a hostile site (issue #17, items 1 and 2):

* user patterns run in linear time: ``--exclude '^(.+)+!$'`` and a long link end in seconds, and a
  pattern RE2 cannot run (a backreference, lookaround) is refused with exit 3, from the flags and from the
  config file (``exclude``, ``[remap]``);
* per-host configuration (``--host-header``, ``--basic-auth``, ``[[hosts]]``) never reaches another host:
  the canary on 127.0.0.2 that the site links to receives no header and no ``Authorization``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.web.hostile_sites import HostileSite, hostile_site

CHECK_TIMEOUT = 60.0  # a frozen check (the catastrophic pattern on re) is killed and fails the test


@pytest.fixture
def site() -> Iterator[HostileSite]:
    with hostile_site() as hostile:
        yield hostile


def check(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINKDOCTOR_")}
    command = [sys.executable, "-m", "linkdoctor", "check", "--no-progress", *args]
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=environment | (env or {}),
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"linkdoctor check did not finish within {CHECK_TIMEOUT} s: {' '.join(args)}")


def test_a_catastrophic_exclude_pattern_on_a_long_link_ends_quickly(
    site: HostileSite, tmp_path: Path
) -> None:
    done = check(site.base + "/", "--exclude", "^(.+)+!$", "--exclude", "(x+x+)+y", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert any(path.startswith("/aaaa") for path, _ in site.site.requests), "the long link was checked"


@pytest.mark.parametrize("pattern", [r"(a)\1", "a(?=b)", "(?<!x)y"])
def test_a_pattern_re2_cannot_run_is_refused_with_exit_3(
    pattern: str, site: HostileSite, tmp_path: Path
) -> None:
    for flag in ("--exclude", "--include", "--scope"):
        refused = check(site.base + "/", flag, pattern, cwd=tmp_path)
        assert refused.returncode == 3, (flag, refused.stdout, refused.stderr)
        assert "RE2" in refused.stderr and flag in refused.stderr and "Traceback" not in refused.stderr
    assert site.site.requests == []


def test_the_config_file_refuses_a_pattern_re2_cannot_run(site: HostileSite, tmp_path: Path) -> None:
    (tmp_path / "linkdoctor.toml").write_text('exclude = ["ok", "(a)\\\\1"]\n')
    refused = check(site.base + "/", cwd=tmp_path)
    assert refused.returncode == 3 and "exclude[1]" in refused.stderr and "RE2" in refused.stderr
    (tmp_path / "linkdoctor.toml").write_text('[remap]\n"^(?=http)(.*)" = "$1"\n')
    refused = check(site.base + "/", cwd=tmp_path)
    assert refused.returncode == 3 and "remap" in refused.stderr and "RE2" in refused.stderr


def test_a_config_file_remap_runs_on_re2(site: HostileSite, tmp_path: Path) -> None:
    (tmp_path / "linkdoctor.toml").write_text('[remap]\n"^(.*)/canary$" = "$1/renamed"\n')
    done = check(site.base + "/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [path for path, _ in site.canary_got.requests] and all(
        path == "/renamed" for path, _ in site.canary_got.requests
    )


def test_per_host_headers_and_basic_auth_never_reach_another_host(site: HostileSite, tmp_path: Path) -> None:
    (tmp_path / "linkdoctor.toml").write_text(
        '[[hosts]]\nmatch = ["127.0.0.1"]\nheaders = { X-File = "file-secret" }\n'
        'headers_env = { X-File-Env = "FILE_TOKEN" }\n'
    )
    done = check(
        site.base + "/",
        "--host-header",
        "127.0.0.1",
        "X-Flag: flag-secret",
        "--basic-auth",
        "127.0.0.1",
        "ann",
        "SITE_PASSWORD",
        cwd=tmp_path,
        env={"SITE_PASSWORD": "password-secret", "FILE_TOKEN": "file-env-secret"},
    )
    assert done.returncode == 0, done.stderr
    sent = site.site.headers()
    assert sent and all(h.get("x-flag") == "flag-secret" and h.get("x-file") == "file-secret" for h in sent)
    assert all(h.get("x-file-env") == "file-env-secret" and "authorization" in h for h in sent)
    assert site.canary_got.headers(), "the canary link should have been checked"
    for headers in site.canary_got.headers():
        assert not {"x-flag", "x-file", "x-file-env", "authorization"} & set(headers), headers
    received = site.canary_got.values()
    assert not any(s in received for s in ("flag-secret", "file-secret", "file-env-secret"))
