"""Small edges of ``linkdoctor check`` give one clear line and exit 3, never a traceback: a cookie jar that is
not a cookies.txt file, numbers out of range (on the command line, in the configuration file and in the
library's ``CheckConfig``), an empty folder (named), ``--urls-from`` lines that are not URLs (with their
line numbers), a device given as a file (never read without end) and a configuration or saved report nested
too deeply for the parser."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest

from linkdoctor.config import CheckConfig
from linkdoctor.config_file import load
from linkdoctor.errors import ConfigError

NOWHERE = "http://127.0.0.1:9/"


def check(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", "--no-config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    return proc.returncode, proc.stderr


def assert_one_line_error(code: int, stderr: str, *needles: str) -> None:
    assert code == 3, stderr
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    for needle in needles:
        assert needle in stderr, stderr


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01\x02\xff\xfe\x89PNG\r\n\x1a\n" * 50,  # binary, not UTF-8
        b"# Netscape HTTP Cookie File\nfoo\tbar\n",  # text, but lines of the wrong shape
        b"\x00" * 100,  # UTF-8 but NULs
    ],
    ids=["binary", "bad-lines", "nuls"],
)
def test_a_cookie_jar_that_is_not_cookies_txt_is_one_line_and_exit_3(tmp_path: Path, content: bytes) -> None:
    jar = tmp_path / "cookies.bin"
    jar.write_bytes(content)
    assert_one_line_error(*check(NOWHERE, "--cookie-jar", str(jar)), "cookie jar", str(jar))


@pytest.mark.parametrize(
    ("flag", "value", "phrase"),
    [
        ("--timeout", "-5", "positive number of seconds"),
        ("--timeout", "0", "positive number of seconds"),
        ("--timeout", "nan", "positive number of seconds"),
        ("--connect-timeout", "0", "positive number of seconds"),
        ("--depth", "-1", "at least 0"),
        ("--max-pages", "0", "positive integer"),
        ("--max-concurrency", "0", "positive integer"),
        ("--max-per-host", "-3", "positive integer"),
        ("--max-body", "0", "positive integer"),
        ("--max-url-length", "0", "positive integer"),
        ("--host-interval", "-1", "0 or more"),
        ("--retries", "-1", "0<=x<=20"),
        ("--max-redirects", "-1", "0<=x<=100"),
    ],
)
def test_a_number_out_of_range_is_one_line_and_exit_3(flag: str, value: str, phrase: str) -> None:
    code, stderr = check(NOWHERE, flag, value)
    assert_one_line_error(code, stderr, flag, phrase)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout", -5.0),
        ("timeout", 0.0),
        ("connect_timeout", 0.0),
        ("depth", -1),
        ("max_pages", 0),
        ("max_concurrency", 0),
        ("max_body", -1),
        ("retries", -1),
        ("host_interval", float("inf")),
    ],
)
def test_the_library_refuses_a_number_out_of_range(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field.replace("_", "[-_]")):
        CheckConfig(**{field: value})  # type: ignore[arg-type]


def test_the_library_takes_numbers_in_range() -> None:
    config = CheckConfig(timeout=0.5, depth=0, max_checks=0, retries=0, host_interval=0.0, max_pages=1)
    assert (config.timeout, config.depth, config.max_checks) == (0.5, 0, 0)


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        ("timeout = -5", "positive number of seconds"),
        ("depth = -1", "at least 0"),
        ("timeout = 0", "positive"),
    ],
)
def test_the_configuration_file_refuses_a_number_out_of_range(tmp_path: Path, line: str, phrase: str) -> None:
    path = tmp_path / "linkdoctor.toml"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=phrase):
        load(path)


def test_an_empty_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "emptydir" / "sub").mkdir(parents=True)
    (tmp_path / "emptydir" / "notes.txt").write_text("no documents here")
    assert_one_line_error(*check("emptydir", cwd=tmp_path), "'emptydir'", "no .css, .htm, .html")


def test_urls_from_lines_that_are_not_urls_are_named_by_line(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# comment\n{NOWHERE}\nnot a url\n\ndocs/page.html\n")
    code, stderr = check("--urls-from", str(listing))
    assert_one_line_error(code, stderr, str(listing), "lines 3, 5 are not URLs", "'not a url'")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("--cert", "/dev/zero", NOWHERE), "'/dev/zero' is not a regular file"),
        (("--cookie-jar", "/dev/zero", NOWHERE), "'/dev/zero' is not a regular file"),
        (("--urls-from", "/dev/zero"), "line 1 is longer than 65,536 characters"),
    ],
    ids=["cert", "cookie-jar", "urls-from"],
)
def test_a_device_given_as_a_file_is_one_line_and_exit_3_not_a_read_without_end(
    args: tuple[str, ...], phrase: str
) -> None:
    assert_one_line_error(*check(*args), phrase)


def test_a_configuration_or_report_nested_too_deeply_is_one_line_and_exit_3(tmp_path: Path) -> None:
    (tmp_path / "linkdoctor.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", NOWHERE],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(proc.returncode, proc.stderr, "nested too deeply")
    report = tmp_path / "deep.json"
    report.write_text("[" * 100_000 + "]" * 100_000)
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "fix", "--check", "--from", str(report)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(proc.returncode, proc.stderr, "nested too deeply")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le", "utf-8-sig"])
def test_a_local_file_in_utf16_has_its_links_checked(tmp_path: Path, encoding: str) -> None:
    """A Markdown or HTML file saved as UTF-16 (Windows editors do) with its byte order mark: its links were
    read as no links at all, and the run said "no problems"."""
    mark = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-16-le": codecs.BOM_UTF16_LE}.get(encoding, b"")
    (tmp_path / "a.md").write_bytes(mark + "# T\n\n[x](missing.md)\n".encode(encoding))
    (tmp_path / "b.html").write_bytes(mark + '<p>\n<a href="gone.html">x</a>'.encode(encoding))
    code, stderr = check("a.md", "b.html", "--format", "json", "-o", "report.json", cwd=tmp_path)
    assert code == 2, stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    found = {
        (report["pages"][page].rpartition("/")[2], line, problem["target"].rpartition("/")[2])
        for problem in report["problems"]
        for page, line, _text in problem["locations"]
    }
    assert found == {("a.md", 3, "missing.md"), ("b.html", 2, "gone.html")}
