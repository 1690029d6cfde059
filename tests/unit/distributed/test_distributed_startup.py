"""With no broker, nothing of the distributed mode loads: ``linkdoctor check`` imports neither Celery nor
Redis, and the CLI lists the worker command without importing it. Each Celery app runs its own tasks."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import billiard

from linkdoctor.cli import SUBCOMMANDS
from linkdoctor.distributed.app import BATCH_TASK, _hand_back_now, create_celery
from linkdoctor.distributed.settings import SCAN_TASK, BrokerSettings


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


def test_a_broker_check_loads_no_monitor_and_no_database() -> None:
    """``check --broker`` builds the Celery app to publish batches: the scan task's monitor (the scheduler,
    SQLAlchemy, Alembic: over a second of imports and tens of MB) loads only on a worker that runs a scan."""
    code = (
        "import sys, linkdoctor.cli.check, linkdoctor.distributed.run\n"
        "from linkdoctor.distributed.app import create_celery\n"
        "from linkdoctor.distributed.settings import BrokerSettings\n"
        "create_celery(BrokerSettings('redis://127.0.0.1:1/0'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')"
        " or m.startswith(('linkdoctor.monitor', 'linkdoctor.distributed.fleet'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_each_app_runs_its_own_tasks_with_its_own_settings() -> None:
    first = BrokerSettings("redis://127.0.0.1:1/0")
    second = BrokerSettings("redis://127.0.0.1:2/0")
    create_celery(first)
    app = create_celery(second)
    for name in (BATCH_TASK, SCAN_TASK):
        # A shared task of the first app would be registered in the second and run there with `first`.
        runtime = inspect.getclosurevars(app.tasks[name].run).nonlocals["runtime"]
        assert runtime.settings is second, name


def _report_hand_back(answers: Any) -> None:
    answers.put(_hand_back_now())


def test_only_a_worker_s_main_process_waits_for_the_broker_before_handing_a_task_back() -> None:
    """A prefork child is never told of a shutdown (Celery's flags are set in its parent): waiting there for
    a broker that is down would hold the worker's warm shutdown for as long as the outage lasts."""
    assert _hand_back_now() is False  # the main process of a worker that runs
    answers: Any = billiard.Queue()
    child = billiard.Process(target=_report_hand_back, args=(answers,), name="ForkPoolWorker-1")
    child.start()
    try:
        assert answers.get(timeout=30) is True
    finally:
        child.join(timeout=30)
