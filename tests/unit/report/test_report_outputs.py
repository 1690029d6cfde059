"""Specs for choosing outputs (``--format``, ``-o``) and writing them atomically."""

from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path

import pytest
from tests.unit.report.report_sample import sample_context, sample_report

from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult, Referrer, Report, Summary
from linkdoctor.report.formats import FORMAT_NAMES
from linkdoctor.report.outputs import open_outputs, plan_outputs


def described(formats: list[str], files: list[Path]) -> list[str]:
    return [str(target) for target in plan_outputs(formats, files)]


def test_console_on_stdout_when_nothing_is_asked() -> None:
    assert described([], []) == ["console:<stdout>"]


def test_bare_format_goes_to_stdout() -> None:
    assert described(["json"], []) == ["json:<stdout>"]


def test_output_file_format_comes_from_its_extension(tmp_path: Path) -> None:
    files = [tmp_path / name for name in ("r.html", "r.sarif", "r.xml", "r.md", "r.txt", "r.csv", "r.jsonl")]
    assert [t.format.name for t in plan_outputs([], files)] == [
        "html",
        "sarif",
        "junit",
        "markdown",
        "console",
        "csv",
        "jsonl",
    ]


def test_format_with_file_writes_that_file(tmp_path: Path) -> None:
    assert described([f"sarif:{tmp_path}/out.json"], []) == [f"sarif:{tmp_path}/out.json"]


def test_one_bare_format_and_one_output_are_paired(tmp_path: Path) -> None:
    assert described(["json"], [tmp_path / "out.txt"]) == [f"json:{tmp_path}/out.txt"]


def test_bare_format_stays_on_stdout_beside_several_files(tmp_path: Path) -> None:
    assert described(["console"], [tmp_path / "a.html", tmp_path / "b.sarif"]) == [
        "console:<stdout>",
        f"html:{tmp_path}/a.html",
        f"sarif:{tmp_path}/b.sarif",
    ]


def test_several_bare_formats_share_stdout() -> None:
    assert described(["console", "github"], []) == ["console:<stdout>", "github:<stdout>"]


def test_streamed_format_cannot_share_stdout() -> None:
    with pytest.raises(ConfigError, match="streamed format cannot share stdout"):
        plan_outputs(["jsonl", "console"], [])


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown format 'sraif' \(did you mean sarif\?\); known formats: console"
    ):
        plan_outputs(["sraif"], [])


def test_unknown_extension_suggests_format_name_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"extension '\.pdf'.*--format NAME:.*\.html \(html\)"):
        plan_outputs([], [tmp_path / "report.pdf"])


def test_format_with_empty_file_is_an_error() -> None:
    with pytest.raises(ConfigError, match="give a file after ':'"):
        plan_outputs(["json:"], [])


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the folder .*nowhere does not exist"):
        plan_outputs([], [tmp_path / "nowhere" / "r.json"])


def test_folder_as_output_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "r.json").mkdir()
    with pytest.raises(ConfigError, match="it is a folder"):
        plan_outputs([], [tmp_path / "r.json"])


def test_file_as_parent_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ConfigError, match="is not a folder"):
        plan_outputs([], [tmp_path / "plain" / "r.json"])


def test_same_file_twice_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="given twice"):
        plan_outputs([f"json:{tmp_path}/r.json"], [tmp_path / "r.json"])


def test_files_appear_only_when_the_run_finishes(tmp_path: Path) -> None:
    targets = plan_outputs([], [tmp_path / "r.html", tmp_path / "r.sarif"])
    with open_outputs(targets, sample_context(), stdout=io.StringIO()) as outputs:
        assert not (tmp_path / "r.html").exists()
        outputs.finish(sample_report())
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "r.sarif").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.sarif"]


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_report_naming_a_lone_surrogate_is_written_to_a_file(tmp_path: Path, name: str) -> None:
    # A report built by a library caller may hold text UTF-8 cannot encode: it is written escaped, the file
    # stays UTF-8, and the report is not lost.
    gone = "https://example.org/caf\udce9"
    result = CheckResult(gone, Category.BROKEN, status=404, referrers=(Referrer(gone + "/page", 3, "x"),))
    report = Report(Summary.from_results([result]), (result,))
    target = tmp_path / "report.out"
    with open_outputs(plan_outputs([f"{name}:{target}"], []), sample_context(), stdout=io.StringIO()) as out:
        if out.streaming:
            out.on_result(result)
        out.finish(report)
    text = target.read_bytes().decode("utf-8")  # strict: a valid UTF-8 file
    assert any(shown in text for shown in ("caf\\udce9", "caf%ED%B3%A9", "caf\ufffd"))


def test_crash_leaves_previous_report_untouched_and_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("previous report\n", encoding="utf-8")
    targets = plan_outputs([], [target])

    def crash_mid_write() -> None:
        with open_outputs(targets, sample_context(), stdout=io.StringIO()) as outputs:
            outputs.opened[0].stream.write('{"half": ')
            raise RuntimeError("crawler crashed")

    with pytest.raises(RuntimeError):
        crash_mid_write()
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert list(tmp_path.iterdir()) == [target]


def test_interrupt_before_finish_writes_nothing(tmp_path: Path) -> None:
    targets = plan_outputs([], [tmp_path / "r.md"])
    with pytest.raises(KeyboardInterrupt), open_outputs(targets, sample_context(), stdout=io.StringIO()):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_jsonl_streams_each_result_as_it_arrives(tmp_path: Path) -> None:
    targets = plan_outputs([], [tmp_path / "r.jsonl"])
    report = sample_report()
    with open_outputs(targets, sample_context(), stdout=io.StringIO()) as outputs:
        assert outputs.streaming
        outputs.on_result(report.results[0])
        temp = outputs.opened[0].temp
        assert temp is not None
        assert temp.read_text(encoding="utf-8").count("\n") == 1  # flushed before the run ends
        outputs.on_result(report.results[1])
        outputs.finish(report)
    assert (tmp_path / "r.jsonl").read_text(encoding="utf-8").count("\n") == 2


def test_stdout_targets_write_to_the_given_stream(tmp_path: Path) -> None:
    stdout = io.StringIO()
    with open_outputs(plan_outputs(["github"], []), sample_context(), stdout=stdout) as outputs:
        assert not outputs.streaming
        outputs.finish(sample_report())
    assert stdout.getvalue().startswith("::error file=index.html,line=7,")


def test_new_report_is_readable_by_others(tmp_path: Path) -> None:
    with open_outputs(plan_outputs([], [tmp_path / "r.csv"]), sample_context(), stdout=io.StringIO()) as out:
        out.finish(sample_report())
    assert stat.S_IMODE((tmp_path / "r.csv").stat().st_mode) == 0o644


def test_replaced_report_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old")
    target.chmod(0o600)
    with open_outputs(plan_outputs([], [target]), sample_context(), stdout=io.StringIO()) as out:
        out.finish(sample_report())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8").startswith("page,file,line")


def device(folder: Path, name: str, minor: int) -> Path:
    """A character device of the memory driver (null: 3, full: 7): a node of its own in ``folder`` when root
    may make one (a regression then replaces that node, never the machine's), else ``/dev``'s."""
    if os.geteuid() != 0:
        return Path("/dev") / name
    node = folder / name
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    return node


def test_a_device_or_fifo_is_written_in_place_and_a_symlinked_file_replaced_where_it_leads(
    tmp_path: Path,
) -> None:
    """``-o /dev/null``, a FIFO, ``/dev/stdout``: written to, never replaced by a regular file (as root,
    ``/dev/full`` was); a symlink to a report stays a symlink and its file gets the report."""
    null = device(tmp_path, "null", 3)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    (tmp_path / "real.csv").write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    targets = plan_outputs([f"csv:{null}", f"csv:{fifo}", f"csv:{link}"], [])
    with open_outputs(targets, sample_context(), stdout=io.StringIO()) as outputs:
        outputs.finish(sample_report())
    reader.join(timeout=10)
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and received[0].startswith(b"page,file,line")
    assert link.is_symlink() and (tmp_path / "real.csv").read_text(encoding="utf-8").startswith(
        "page,file,line"
    )


def test_a_full_disk_is_one_error_naming_the_target(tmp_path: Path) -> None:
    full = device(tmp_path, "full", 7)
    with (
        pytest.raises(ConfigError, match=f"cannot write the report to {full}: No space left on device"),
        open_outputs(plan_outputs([f"csv:{full}"], []), sample_context(), stdout=io.StringIO()) as outputs,
    ):
        outputs.finish(sample_report())
    assert stat.S_ISCHR(full.lstat().st_mode)
