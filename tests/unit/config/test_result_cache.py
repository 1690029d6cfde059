"""Specs for the results cache (linkdoctor.engine.cache): what is kept, for how long, under which settings, and
that neither garbage on disk nor a killed writer can break it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from linkdoctor.config import CheckConfig, HostSettings, Method, Secret
from linkdoctor.engine.cache import ResultCache, parse_duration, settings_fingerprint
from linkdoctor.errors import ConfigError
from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
)

OK = CheckResult("https://e.org/a.png", Category.OK, status=200, reason="OK", final_url="https://e.org/a.png")
MOVED = CheckResult(
    "https://e.org/old",
    Category.REDIRECTED,
    status=200,
    final_url="https://e.org/new",
    redirects=(Redirect("https://e.org/old", 301),),
    elapsed_ms=12.5,
    diagnosis=Diagnosis("http.redirected", "moved permanently", ("update the link",)),
    referrers=(Referrer("https://e.org/", 3, "old"),),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def open_cache(path: Path, clock: Clock | None = None, **kwargs: object) -> ResultCache:
    return ResultCache.open(path, clock=clock or Clock(), **kwargs)  # type: ignore[arg-type]


def test_a_stored_result_comes_back_without_referrers(tmp_path: Path) -> None:
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(MOVED)
        cache.flush()
        assert cache.get(MOVED.url) == CheckResult(
            MOVED.url,
            Category.REDIRECTED,
            status=200,
            final_url="https://e.org/new",
            redirects=MOVED.redirects,
            elapsed_ms=12.5,
            diagnosis=MOVED.diagnosis,
        )


def test_a_stored_result_comes_back_without_findings(tmp_path: Path) -> None:
    finding = Finding("tls.server-cert-expired", Severity.WARNING, "operator", "expires soon")
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(replace(OK, findings=(finding,)))
        cache.flush()
        assert cache.get(OK.url) == OK


def test_a_row_written_in_the_first_format_still_loads(tmp_path: Path) -> None:
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(MOVED)
    first_format = json.dumps(
        {
            "category": "redirected",
            "status": 200,
            "reason": "",
            "precise_status": None,
            "final_url": "https://e.org/new",
            "redirects": [["https://e.org/old", 301]],
            "elapsed_ms": 12.5,
            "error_message": "",
            "diagnosis": ["http.redirected", "moved permanently", ["update the link"]],
        }
    )
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        db.execute("UPDATE results SET result = ?", (first_format,))
    db.close()
    with open_cache(tmp_path / "c.sqlite") as cache:
        assert cache.get(MOVED.url) == replace(MOVED, referrers=())


def test_a_row_that_does_not_decode_is_a_miss(tmp_path: Path) -> None:
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(OK)
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        db.execute("UPDATE results SET result = ?", ('["not", "a", "result"]',))
    db.close()
    with open_cache(tmp_path / "c.sqlite") as cache:
        assert cache.get(OK.url) is None
        assert (cache.hits, cache.misses) == (0, 1)


def test_a_check_that_wants_the_body_is_served_only_leaf_results(tmp_path: Path) -> None:
    pdf = CheckResult("https://e.org/manual.pdf", Category.OK, status=200)
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(OK)  # checked without its body: it may be a page with links
        cache.put(pdf, leaf=True)  # fetched for its body, which held nothing to parse
        cache.flush()
        assert cache.get(OK.url, leaf_only=True) is None
        assert cache.get(pdf.url, leaf_only=True) == pdf
        assert cache.get(pdf.url) == pdf


def test_results_survive_closing_and_reopening(tmp_path: Path) -> None:
    clock = Clock()
    with open_cache(tmp_path / "c.sqlite", clock) as cache:
        cache.put(OK)  # pending until close
    with open_cache(tmp_path / "c.sqlite", clock) as cache:
        assert cache.get(OK.url) == OK
        assert (cache.hits, cache.misses) == (1, 0)


@pytest.mark.parametrize(
    "result",
    [
        CheckResult("https://e.org/x", Category.BROKEN, status=404),
        CheckResult("https://e.org/x", Category.UNVERIFIED, status=429),
        CheckResult("https://e.org/x", Category.EXCLUDED, error=ErrorKind.FILTERED),
    ],
    ids=["broken", "unverified", "excluded"],
)
def test_only_ok_and_redirected_results_are_kept(tmp_path: Path, result: CheckResult) -> None:
    with open_cache(tmp_path / "c.sqlite") as cache:
        cache.put(result)
        cache.flush()
        assert cache.get(result.url) is None
        assert cache.stored == 0


def test_results_older_than_max_age_are_not_served(tmp_path: Path) -> None:
    clock = Clock()
    with open_cache(tmp_path / "c.sqlite", clock, max_age=3600.0) as cache:
        cache.put(OK)
        cache.flush()
        clock.now += 3599
        assert cache.get(OK.url) == OK
        clock.now += 2
        assert cache.get(OK.url) is None


def test_expired_results_are_dropped_from_the_file(tmp_path: Path) -> None:
    clock = Clock()
    with open_cache(tmp_path / "c.sqlite", clock, max_age=60.0) as cache:
        cache.put(OK)
    clock.now += 120
    open_cache(tmp_path / "c.sqlite", clock, max_age=60.0).close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT count(*) FROM results").fetchone() == (0,)


def test_results_checked_with_other_settings_are_not_served(tmp_path: Path) -> None:
    clock = Clock()
    with open_cache(tmp_path / "c.sqlite", clock, fingerprint="accept-200") as cache:
        cache.put(OK)
    with open_cache(tmp_path / "c.sqlite", clock, fingerprint="accept-429") as cache:
        assert cache.get(OK.url) is None


def test_the_fingerprint_follows_settings_but_not_passwords() -> None:
    base = CheckConfig()
    assert settings_fingerprint(base) == settings_fingerprint(CheckConfig())
    assert settings_fingerprint(base) != settings_fingerprint(CheckConfig(accept=frozenset({429})))
    assert settings_fingerprint(base) != settings_fingerprint(CheckConfig(method=Method.GET))
    with_pw = CheckConfig(host_settings=(HostSettings(("a",), basic_auth=("bob", Secret("one"))),))
    other_pw = CheckConfig(host_settings=(HostSettings(("a",), basic_auth=("bob", Secret("two"))),))
    assert settings_fingerprint(with_pw) == settings_fingerprint(other_pw)


def test_the_fingerprint_follows_a_header_read_from_the_environment() -> None:
    def header(value: str) -> CheckConfig:
        return CheckConfig(
            host_settings=(HostSettings(("a",), headers=(("Accept-Language", Secret(value, "L")),)),)
        )

    assert settings_fingerprint(header("fr")) == settings_fingerprint(header("fr"))
    assert settings_fingerprint(header("fr")) != settings_fingerprint(header("de"))


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    open_cache(tmp_path / "c.sqlite").close()
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    with open_cache(tmp_path / ".linkdoctor" / "cache.sqlite") as cache:
        cache.put(OK)
    assert (tmp_path / ".linkdoctor" / "cache.sqlite").is_file()


def test_a_file_that_is_not_a_cache_is_refused_and_left_exactly_as_it_is(tmp_path: Path) -> None:
    """``--cache-file notes.txt`` (or another program's database, or a device) is never replaced."""
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"precious notes\n" + os.urandom(4096))
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name)")
        db.execute("INSERT INTO users VALUES ('ann')")
    before = {path: path.read_bytes() for path in (notes, other)}
    for path in (notes, other):
        with pytest.raises(ConfigError, match=r"is not a linkdoctor cache .*left as it is"):
            open_cache(path)
        assert path.read_bytes() == before[path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db", "notes.txt"]  # no -wal, no -shm
    with pytest.raises(ConfigError, match="not a regular file"):
        open_cache(Path("/dev/null"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_damaged_cache_and_one_of_an_earlier_version_are_rebuilt_with_a_warning(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.sqlite"
    with open_cache(damaged) as cache:
        cache.put(OK)
    raw = bytearray(damaged.read_bytes())
    raw[100:] = os.urandom(len(raw) - 100)  # our header, pages gone
    damaged.write_bytes(bytes(raw))
    earlier = tmp_path / "earlier.sqlite"
    with sqlite3.connect(earlier) as db:  # the first schema: no application id, version 1
        db.execute("CREATE TABLE results (url TEXT PRIMARY KEY, result TEXT)")
        db.execute("PRAGMA user_version = 1")
    for path in (damaged, earlier):
        warnings: list[str] = []
        with open_cache(path, warn=warnings.append) as cache:
            cache.put(OK)
            cache.flush()
            assert cache.get(OK.url) == OK
        assert len(warnings) == 1 and "rebuilt empty" in warnings[0], warnings


def test_a_cache_path_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot create the cache folder"):
        open_cache(tmp_path / "file" / "cache.sqlite")


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from linkdoctor.engine.cache import ResultCache
    from linkdoctor.models import Category, CheckResult

    cache = ResultCache.open(Path(sys.argv[1]))
    n = 0
    while True:  # killed from outside
        cache.put(CheckResult(f"https://e.org/{n}", Category.OK, status=200))
        n += 1
    """
)


def test_a_writer_killed_mid_run_leaves_a_consistent_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)])
    try:
        deadline = time.monotonic() + 20
        rows = 0
        while rows < 2000 and time.monotonic() < deadline:  # at least a few committed batches
            time.sleep(0.05)
            try:
                with sqlite3.connect(path, timeout=5) as db:
                    rows = db.execute("SELECT count(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0  # the table is not created yet
        assert rows >= 2000, "the writer did not commit in time"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count = db.execute("SELECT count(*) FROM results").fetchone()[0]
    assert count % 500 == 0  # whole batches only: no half-written transaction survived
    warnings: list[str] = []
    with ResultCache.open(path, warn=warnings.append) as cache:
        assert cache.get("https://e.org/0") is not None
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1d", 86400.0),
        ("12h", 43200.0),
        ("30m", 1800.0),
        ("45s", 45.0),
        ("90", 90.0),
        ("1h30m", 5400.0),
        (7, 7.0),
    ],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "1y", "d", "-5", "1d 2h", "1.5.2h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(text)
