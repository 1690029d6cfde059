"""A page's hostile links end in a report in every format: a link urlsplit refuses does not lose the run's
reports, and an escape sequence or a bidirectional override a page wrote never reaches a terminal."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from linkdoctor.cli import cli
from linkdoctor.report.formats import EXTENSIONS, FORMATS

LINKS = (
    "http://[x]/",  # brackets around no IP address: urlsplit raises
    "http://127.0.0.1:99999/\x1b[2J\x1b]0;owned\x07",  # a bad port: invalid, kept as written
    "http://127.0.0.1:1/a\u2028b\u202ec",  # valid: nothing listens on port 1
)


def test_a_page_of_hostile_links_is_reported_in_every_format(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("".join(f'<a href="{link}">x</a>\n' for link in LINKS), encoding="utf-8")
    extension = {name: ext for ext, name in EXTENSIONS.items()}
    outputs = {name: tmp_path / f"report-{name}{extension.get(name, '.txt')}" for name in FORMATS}
    args = [f"--format={name}:{path}" for name, path in outputs.items()]
    result = CliRunner().invoke(cli, ["check", "--no-progress", *args, str(page)])
    assert result.exit_code == 2, result.output  # broken links, not a crash
    for name, path in outputs.items():
        text = path.read_text(encoding="utf-8")
        assert "[x]" in text, name
        assert not set(text) & {"\x1b", "\x07", "\u202e", "\u2028"}, name
    assert "http://127.0.0.1:99999/%1B[2J%1B]0;owned%07" in outputs["json"].read_text(encoding="utf-8")
    assert "http://127.0.0.1:1/a%E2%80%A8b%E2%80%AEc" in outputs["json"].read_text(encoding="utf-8")


def test_an_invalid_link_is_never_mistaken_for_the_valid_link_it_is_shown_as(tmp_path: Path) -> None:
    # A CSS escape gives a lone surrogate (invalid); shown percent-encoded it reads as a valid link's URL,
    # which is still checked on its own.
    page = tmp_path / "index.html"
    page.write_text(
        '<style>a{background:url("http://127.0.0.1:1/\\D800")}</style>\n'
        '<a href="http://127.0.0.1:1/%ED%A0%80">valid</a>\n',
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["check", "--no-progress", f"--format=json:{report}", str(page)])
    assert result.exit_code == 2, result.output
    text = report.read_text(encoding="utf-8")
    assert '"url.invalid"' in text
    assert '"net.refused"' in text  # the valid link was checked
