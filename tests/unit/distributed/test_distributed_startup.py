"""With no broker, nothing of the distributed mode loads: ``linkdoctor check`` imports neither Celery nor
Redis, and the CLI lists the worker command without importing it."""

from __future__ import annotations

import subprocess
import sys

from linkdoctor.cli import SUBCOMMANDS


def test_check_command_imports_neither_celery_nor_redis() -> None:
    code = (
        "import sys, linkdoctor.cli.check, linkdoctor.engine.runner, linkdoctor.engine.crawl\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'kombu', 'redis')"
        " or m.startswith('linkdoctor.distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_worker_is_a_registered_subcommand() -> None:
    assert SUBCOMMANDS["worker"] == "linkdoctor.cli.worker:worker"
