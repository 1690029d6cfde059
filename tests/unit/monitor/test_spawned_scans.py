"""Scans in a spawned process (linkdoctor.monitor.spawned) and the environment rule of sites
(linkdoctor.monitor.envpolicy): the server's threads stay free while a scan holds its own GIL, a stop ends
the scan at once, errors and checkpoints cross back, and a scan never sees a variable it may not name."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping

import pytest

from linkdoctor.config import Secret
from linkdoctor.engine.frontier import Frontier
from linkdoctor.errors import ConfigError
from linkdoctor.models import Summary
from linkdoctor.monitor.envpolicy import SITE_PREFIX, EnvAllowlist
from linkdoctor.monitor.model import SiteOptions, SiteSpec
from linkdoctor.monitor.scan import Checkpoint, ScanJob, ScanOutcome, build_config
from linkdoctor.monitor.spawned import JobRunner, ScanStopped, SpawnedScans

SPEC = SiteSpec(name="s", url="https://docs.example/", every=None)


def _hog(job: ScanJob) -> ScanOutcome:
    re.search("^(.+)+!$", "a" * 64)  # backtracking re: holds this process's GIL for far longer than a test
    raise AssertionError("unreachable")


def hog_factory(env: Mapping[str, str]) -> JobRunner:
    return _hog


def _echo_env(job: ScanJob) -> ScanOutcome:
    return ScanOutcome(results=(), summary=Summary(), checks=len(ENV_SEEN), warnings=tuple(sorted(ENV_SEEN)))


ENV_SEEN: dict[str, str] = {}


def echo_env_factory(env: Mapping[str, str]) -> JobRunner:
    ENV_SEEN.update(env)
    return _echo_env


def _fail(job: ScanJob) -> ScanOutcome:
    raise ConfigError("header X: environment variable Y is not set")


def failing_factory(env: Mapping[str, str]) -> JobRunner:
    return _fail


def _checkpointing(job: ScanJob) -> ScanOutcome:
    assert job.checkpoint is not None
    answers = [job.checkpoint(Checkpoint(n, Frontier())) for n in (3, 7)]
    return ScanOutcome(results=(), summary=Summary(), checks=sum(answers))


def checkpointing_factory(env: Mapping[str, str]) -> JobRunner:
    return _checkpointing


def test_checkpoints_cross_to_the_parent_which_answers_whether_to_go_on() -> None:
    saved: list[int] = []

    def sink(checkpoint: Checkpoint) -> bool:
        saved.append(checkpoint.checks)
        return checkpoint.checks < 5

    outcome = SpawnedScans(checkpointing_factory)(ScanJob(spec=SPEC, budget=10, checkpoint=sink))
    assert saved == [3, 7] and outcome.checks == 1


def test_a_scan_that_holds_its_gil_leaves_the_server_threads_free_and_stops_at_once() -> None:
    runner = SpawnedScans(hog_factory)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            runner(ScanJob(spec=SPEC, budget=10))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(3.0)  # the child is running the pattern by now
    ticks, started = 0, time.monotonic()
    while time.monotonic() - started < 1.0:  # this process's threads run freely meanwhile
        time.sleep(0.01)
        ticks += 1
    assert ticks > 50
    stopping = time.monotonic()
    runner.close()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - stopping < 5.0
    assert len(failure) == 1 and isinstance(failure[0], ScanStopped)


def test_the_scan_process_gets_only_the_allowed_variables() -> None:
    env = {
        "LINKDOCTOR_ADMIN_PASSWORD": "admin",
        "DATABASE_URL": "db",
        "DOCS_TOKEN": "t",
        SITE_PREFIX + "X": "x",
    }
    runner = SpawnedScans(echo_env_factory, allow_env=EnvAllowlist(frozenset({"DOCS_TOKEN"})), env=env)
    outcome = runner(ScanJob(spec=SPEC, budget=1))
    assert outcome.warnings == ("DOCS_TOKEN", SITE_PREFIX + "X")


def test_an_error_in_the_scan_process_is_raised_in_the_caller() -> None:
    with pytest.raises(ConfigError, match="is not set"):
        SpawnedScans(failing_factory)(ScanJob(spec=SPEC, budget=1))


def test_a_job_naming_a_variable_that_is_not_allowed_never_starts() -> None:
    spec = SiteSpec(name="s", url="https://docs.example/", options=SiteOptions(password_env="DATABASE_URL"))
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        SpawnedScans(echo_env_factory)(ScanJob(spec=spec, budget=1))


def test_the_allowlist_takes_names_and_the_site_prefix_only() -> None:
    policy = EnvAllowlist(frozenset({"DOCS_TOKEN"}))
    assert policy.allows("DOCS_TOKEN") and policy.allows(SITE_PREFIX + "WIKI")
    assert not policy.allows(SITE_PREFIX) and not policy.allows("LINKDOCTOR_ADMIN_PASSWORD")
    spec = SiteSpec(
        name="s",
        url="https://docs.example/",
        options=SiteOptions(headers_env=(("X-A", "DOCS_TOKEN"), ("X-B", "HOME")), password_env="PGPASSWORD"),
    )
    assert policy.refused(spec) == ["headers_env X-B: HOME", "password_env: PGPASSWORD"]


def test_a_stored_site_naming_a_variable_that_is_not_allowed_fails_at_scan_time() -> None:
    spec = SiteSpec(
        name="s", url="https://docs.example/", options=SiteOptions(headers_env=(("X", "SECRET"),))
    )
    with pytest.raises(ConfigError, match="SECRET"):
        build_config(spec, budget=1, env={"SECRET": "s"}, allow_env=EnvAllowlist())
    assert build_config(spec, budget=1, env={"SECRET": "s"}).host_settings  # the library: any variable


def test_a_site_header_and_client_certificate_go_to_the_site_host_only() -> None:
    options = SiteOptions(headers_env=(("X-Token", "T"),), cert_path="c.pem", key_path="c.key")
    config = build_config(SiteSpec(name="s", url="https://docs.example:8443/a/", options=options), budget=1,
                          env={"T": "t"})  # fmt: skip
    assert config.headers == ()
    assert [h.headers for h in config.host_settings_for("docs.example")] == [(("X-Token", Secret("t")),)]
    assert config.host_settings_for("evil.example") == ()
    assert (
        config.client_cert_for("docs.example") is not None and config.client_cert_for("evil.example") is None
    )
