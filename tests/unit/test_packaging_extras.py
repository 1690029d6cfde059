"""Without the ``[distributed]`` extra, the commands that need it (``worker``, ``check --broker``, ``serve
--broker``) exit 3 with one line naming what to install, and everything else works as before. The extra's
absence is simulated in a real ``python -m linkdoctor`` process: a ``sitecustomize`` module puts an import
blocker for ``redis``, ``celery`` and ``kombu`` first on ``sys.meta_path``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linkdoctor.cli.extras import DISTRIBUTED_INSTALL, require_distributed
from linkdoctor.errors import ConfigError

BLOCKER = '''
import sys

class _NoDistributedExtra:
    """Behaves as if redis, celery and kombu were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("redis", "celery", "kombu"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoDistributedExtra())
'''
BROKER = "redis://127.0.0.1:9/0"  # never reached: the guard stops the command first


def run_without_extra(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINKDOCTOR_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    env["HOME"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "linkdoctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def assert_names_the_extra(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert DISTRIBUTED_INSTALL in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("worker", "--broker", BROKER), id="worker"),
        pytest.param(("check", "index.html", "--broker", BROKER), id="check --broker"),
        pytest.param(
            ("serve", "--broker", BROKER, "--db", "sqlite:///x.sqlite", "--port", "9"), id="serve --broker"
        ),
    ],
)
def test_commands_needing_the_extra_exit_3_naming_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "index.html").write_text('<a href="#top" id="top">top</a>')
    assert_names_the_extra(run_without_extra(tmp_path, *args))


def test_the_blocker_really_hides_the_extra(tmp_path: Path) -> None:
    done = run_without_extra(tmp_path, "worker", "--help")
    assert done.returncode == 0  # help needs nothing of the extra …
    probe = subprocess.run(
        [sys.executable, "-c", "import redis"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
        check=False,
    )
    assert probe.returncode == 1 and "No module named 'redis'" in probe.stderr  # … and redis is gone


def test_check_without_broker_needs_no_extra(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<a href="#top" id="top">top</a>')
    done = run_without_extra(tmp_path, "check", "index.html")
    assert done.returncode == 0, done.stderr


def test_the_guard_names_the_missing_module() -> None:
    def missing_celery(name: str) -> object:
        if name == "celery":
            raise ModuleNotFoundError("No module named 'celery'", name="celery")
        return object()

    with pytest.raises(ConfigError) as caught:
        require_distributed("--broker", importer=missing_celery)
    message = str(caught.value)
    assert message.startswith("--broker needs the distributed extra")
    assert "'celery'" in message and message.endswith(DISTRIBUTED_INSTALL)
    require_distributed("--broker", importer=lambda name: object())  # installed: no error
