"""``fix`` trusts neither the sites it checks, nor an archive, nor a saved report, nor the tree's symlinks: a
redirect's ``Location`` or a page's heading id that would end a Markdown link or an HTML attribute is written
percent-encoded, a ``javascript:`` target is skipped, and only regular files inside the folders and files
given are edited (a saved report alone: the working directory), never a file a symlink or a ``..`` leads to,
nor a FIFO that would hang the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from aiohttp import web
from tests.support.aiohttp_site import serving

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.fix.apply import apply_plan
from linkdoctor.fix.model import FixSettings
from linkdoctor.fix.run import plan_fixes
from linkdoctor.fix.saved import load_report

INJECTIONS = {
    "/html": '/new"><script>alert(1)</script><a x="',
    "/attr": '/new"/onmouseover="alert(1)',
    "/md": "/new)![t](/track.png)[x](/evil",
    "/angle": "/new>[x](/evil",
}


async def hostile(request: web.Request) -> web.StreamResponse:
    if request.path in INJECTIONS:  # the Location as it is, not encoded by the framework
        return web.Response(status=301, headers={"Location": INJECTIONS[request.path]})
    if request.path == "/page.html":
        return web.Response(text="""<h2 id="x'onmouseover='go()">Setup</h2>""", content_type="text/html")
    return web.Response(text="<p>ok</p>", content_type="text/html")


async def test_a_redirect_or_an_id_that_would_break_out_of_the_link_is_written_percent_encoded(
    tmp_path: Path,
) -> None:
    async with serving(hostile) as base:
        (tmp_path / "page.html").write_text(
            f'<a href="{base}html">a</a>\n<a href="{base}attr">b</a>\n<a href=\'{base}page.html#setup\'>c</a>\n'
        )
        (tmp_path / "page.md").write_text(f"[a]({base}md)\n<{base}angle>\n")
        plan = await plan_fixes(
            CheckConfig(retries=0), collect_inputs([str(tmp_path)]), FixSettings(), cwd=tmp_path
        )
        apply_plan(plan)
    html = (tmp_path / "page.html").read_text()
    markdown = (tmp_path / "page.md").read_text()
    assert f'<a href="{base}new%22%3E%3Cscript%3Ealert%281%29%3C/script%3E%3Ca%20x=%22">a</a>' in html
    assert f'<a href="{base}new%22/onmouseover=%22alert%281%29">b</a>' in html
    assert f"<a href='{base}page.html#x%27onmouseover=%27go%28%29'>c</a>" in html
    assert f"[a]({base}new%29!%5Bt%5D%28/track.png%29%5Bx%5D%28/evil)" in markdown
    assert f"<{base}new%3E%5Bx%5D%28/evil>" in markdown
    assert "<script>" not in html and "onmouseover=" not in html.replace("onmouseover=%", "")


def write_report(path: Path, final_url: str, *referrers: str) -> Path:
    results = [
        {
            "url": "http://127.0.0.1:9/old",
            "category": "redirected",
            "status": 200,
            "final_url": final_url,
            "redirects": [{"url": "http://127.0.0.1:9/old", "status": 301}],
            "referrers": [{"url": referrer, "line": 1} for referrer in referrers],
        }
    ]
    path.write_text(json.dumps({"version": 1, "results": results}))
    return path


async def test_a_saved_report_cannot_write_a_script_link_or_edit_a_file_outside_the_working_directory(
    tmp_path: Path,
) -> None:
    work, outside = tmp_path / "work", tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    for folder in (work, outside):
        (folder / "a.md").write_text("[x](http://127.0.0.1:9/old)\n")
    report = write_report(
        tmp_path / "report.json",
        "http://127.0.0.1:9/new",
        (outside / "a.md").as_uri(),
        f"{work.as_uri()}/../outside/a.md",
        (work / "a.md").as_uri(),
    )
    results, written = load_report(report)
    plan = await plan_fixes(
        CheckConfig(), collect_inputs([], url_lists=[("-", ["http://127.0.0.1:9/"])]), FixSettings(),
        results=results, since_ns=written + 10**12, cwd=work,
    )  # fmt: skip
    assert [(e.path, e.new) for e in plan.edits] == [((work / "a.md").resolve(), "http://127.0.0.1:9/new")]
    assert sum("outside the folders and files given; not edited" in w for w in plan.warnings) == 2

    script = write_report(tmp_path / "script.json", "javascript:alert(1)//", (work / "a.md").as_uri())
    results, written = load_report(script)
    plan = await plan_fixes(
        CheckConfig(), collect_inputs([], url_lists=[("-", ["http://127.0.0.1:9/"])]), FixSettings(),
        results=results, since_ns=written + 10**12, cwd=work,
    )  # fmt: skip
    assert plan.edits == ()
    assert [s.reason for s in plan.skipped] == [
        "the new URL 'javascript:alert(1)//' is not a plain http(s) URL; not written"
    ]


async def test_symlinks_out_of_the_folder_and_a_fifo_are_left_alone(tmp_path: Path) -> None:
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    docs.mkdir()
    async with serving(hostile) as base:
        link = f"[x]({base}html)\n"
        (outside / "victim.md").write_text(link)
        (outside / "dir" / "inside.md").write_text(link)
        (docs / "link.md").symlink_to(outside / "victim.md")
        (docs / "sub").symlink_to(outside / "dir")
        (docs / "index.md").write_text(f"[v](link.md) [i](sub/inside.md) {link}")
        plan = await plan_fixes(
            CheckConfig(retries=0), collect_inputs([str(docs)]), FixSettings(), cwd=tmp_path
        )
        os.mkfifo(docs / "pipe.md")
        fifo = write_report(tmp_path / "fifo.json", f"{base}new", (docs / "pipe.md").as_uri())
        results, written = load_report(fifo)
        from_fifo = await plan_fixes(
            CheckConfig(), collect_inputs([str(docs)]), FixSettings(),
            results=results, since_ns=written + 10**12, cwd=tmp_path,
        )  # fmt: skip
    assert {e.path for e in plan.edits} == {(docs / "index.md").resolve()}
    assert sum("leads outside the folders and files given" in w for w in plan.warnings) == 2
    assert any("pipe.md: not a regular file; not edited" in w for w in from_fifo.warnings)
    assert from_fifo.edits == ()
