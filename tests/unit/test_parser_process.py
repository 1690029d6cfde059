"""The parser process: extraction in a second process gives what extraction here gives."""

from __future__ import annotations

import asyncio
import codecs
import os
import signal
import socket
from pathlib import Path
from typing import Any

from linkdoctor.engine.documents import (
    BIG_DOCUMENT,
    ParserProcess,
    extract_batch,
    extract_document,
    from_compact,
    links_base,
)
from linkdoctor.urls import InvalidURL, resolve

PAGE = (
    b'<html><head><base href="/docs/"><meta name="robots" content="nofollow"></head>\n'
    b'<body><h2 id="intro">Intro</h2><a name="old"></a>\n'
    b'<a href="a.html#intro">A \xc3\xa9</a> <img src="i.png" alt="pic">\n'
    b"<style>p { background: url(bg.png) }</style></body></html>"
)
CSS = b'@import "base.css";\nbody { background: url("img/bg.png") }'
HTML_TYPE = "text/html; charset=utf-8"


def test_a_flattened_extraction_rebuilds_to_the_same_extraction() -> None:
    jobs = [("html", PAGE, HTML_TYPE, None, 0), ("css", CSS, "text/css", None, 0)]
    rebuilt = [from_compact(compact) for compact in extract_batch(jobs)]
    assert rebuilt == [
        (extract_document("html", PAGE.decode()), None),
        (extract_document("css", CSS.decode()), None),
    ]


def test_links_are_resolved_against_the_base_href_as_the_crawler_would() -> None:
    page = (
        b'<base href="/docs/">\n<a href="a.html#intro">A</a> <a href="http://[x">bad</a> <a href="?q">Q</a>'
    )
    (compact,) = extract_batch([("html", page, HTML_TYPE, "http://h/site/p.html", 0)])
    extraction, resolved = from_compact(compact)
    assert links_base("http://h/site/p.html", extraction.base_href) == "http://h/docs/"
    assert resolved is not None
    assert resolved[0] == "http://h/docs/a.html#intro"
    assert isinstance(resolved[1], InvalidURL)
    assert list(resolved) == [resolve("http://h/docs/", link.url) for link in extraction.links]


def test_the_body_is_decoded_with_the_charset_of_its_content_type() -> None:
    body = '<a href="x.html">caf\xe9</a>'.encode("iso-8859-1")
    (compact,) = extract_batch([("html", body, "text/html; charset=ISO-8859-1", None, 0)])
    assert from_compact(compact)[0].links[0].text == "caf\xe9"


def test_a_byte_order_mark_names_the_encoding_whatever_the_content_type_says() -> None:
    """As browsers read it: a UTF-16 page served as ISO-8859-1 (or with no charset) still has its links."""
    text = '<p>caf\xe9</p>\n<a href="x.html">x</a>'
    for body in (
        text.encode("utf-16"),  # with this machine's byte order mark
        codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
    ):
        for content_type in ("text/html; charset=ISO-8859-1", "text/html"):
            (compact,) = extract_batch([("html", body, content_type, None, 0)])
            (link,) = from_compact(compact)[0].links
            assert (link.url, link.line) == ("x.html", 2), (body[:4], content_type)


def test_a_charset_no_browser_decodes_pages_with_is_read_as_utf8() -> None:
    """UTF-7 turned ``+ADw-a href=+ACI-x.html+ACI-+AD4-`` into a link no browser sees (a false 404)."""
    body = b'+ADw-a href=+ACI-x.html+ACI-+AD4-hidden+ADw-/a+AD4- <a href="seen.html">seen</a>'
    for charset in ("utf-7", "UTF7", "unicode_escape", "raw-unicode-escape"):
        (compact,) = extract_batch([("html", body, f"text/html; charset={charset}", None, 0)])
        assert [link.url for link in from_compact(compact)[0].links] == ["seen.html"], charset


async def test_documents_parsed_in_the_worker_equal_documents_parsed_here() -> None:
    parser = ParserProcess(after=0)
    try:
        first, unresolved = await parser.extract("html", PAGE, HTML_TYPE, page_url="http://h/p.html")
        for _ in range(1000):  # at most 20 s
            if parser.started:
                break
            await asyncio.sleep(0.02)
        assert parser.started
        in_worker = await asyncio.gather(
            *(parser.extract(kind, body, ctype, page_url=url) for kind, body, ctype, url in
              [("html", PAGE, HTML_TYPE, "http://h/p.html"), ("css", CSS, "text/css", "http://h/s/a.css"),
               ("html", PAGE, HTML_TYPE, None)])
        )  # fmt: skip
    finally:
        parser.close()
    here = extract_document("html", PAGE.decode())
    assert (first, unresolved) == (here, None)  # parsed here while the worker started: the crawler resolves
    css = extract_document("css", CSS.decode())
    assert [extraction for extraction, _ in in_worker] == [here, css, here]
    assert in_worker[0][1] == tuple(resolve("http://h/docs/", link.url) for link in here.links)
    assert in_worker[1][1] == tuple(resolve("http://h/s/a.css", link.url) for link in css.links)
    assert in_worker[2][1] is None


async def test_a_small_crawl_never_starts_the_worker() -> None:
    parser = ParserProcess(after=5)
    for _ in range(5):
        await parser.extract("html", PAGE, HTML_TYPE)
    assert not parser.started
    parser.close()


async def test_after_close_documents_are_parsed_here() -> None:
    parser = ParserProcess(after=0)
    await parser.extract("html", PAGE, HTML_TYPE)
    parser.close()
    assert not parser.started
    assert await parser.extract("css", CSS, "text/css", page_url="http://h/a.css") == (
        extract_document("css", CSS.decode()),
        None,
    )


async def test_the_worker_holds_none_of_the_callers_sockets() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    parser = ParserProcess(after=0)
    try:
        await parser.extract("html", PAGE, HTML_TYPE)
        for _ in range(1000):  # at most 20 s
            if parser.started:
                break
            await asyncio.sleep(0.02)
        assert parser.started and parser.pid is not None
        ours = os.readlink(f"/proc/self/fd/{listener.fileno()}")
        fds = f"/proc/{parser.pid}/fd"
        theirs = {os.readlink(f"{fds}/{fd}") for fd in os.listdir(fds)}
        assert ours.startswith("socket:")
        assert ours not in theirs
        assert not any(link.startswith("socket:") for link in theirs)
    finally:
        parser.close()
        listener.close()


def test_a_capped_parse_keeps_the_first_links_and_counts_the_rest_in_either_process() -> None:
    page = "".join(f'<a href="/p{n}">{n}</a>\n' for n in range(10)).encode()
    (compact,) = extract_batch([("html", page, HTML_TYPE, "http://h/", 4)])
    extraction, resolved = from_compact(compact)
    assert [link.url for link in extraction.links] == ["/p0", "/p1", "/p2", "/p3"]
    assert extraction.dropped == 6
    assert resolved == tuple(f"http://h/p{n}" for n in range(4))
    assert extract_document("html", page.decode(), 4) == extraction
    css = b"".join(b"a { background: url(i%d.png) }\n" % n for n in range(5))
    assert extract_document("css", css.decode(), 2).dropped == 3


async def test_the_parser_process_applies_its_link_cap_before_the_pipe() -> None:
    page = "".join(f'<a href="/p{n}">{n}</a>\n' for n in range(10)).encode()
    parser = ParserProcess(after=0, max_links=3)
    try:
        here, _ = await parser.extract("html", page, HTML_TYPE)
        for _ in range(1000):  # at most 20 s
            if parser.started:
                break
            await asyncio.sleep(0.02)
        assert parser.started
        there, _ = await parser.extract("html", page, HTML_TYPE, page_url="http://h/")
    finally:
        parser.close()
    assert (len(here.rows), here.dropped) == (len(there.rows), there.dropped) == (3, 7)


async def test_a_big_document_is_parsed_in_the_worker_even_in_a_small_crawl() -> None:
    big = b"<p>" + b"x" * BIG_DOCUMENT + b'</p><a href="/far">far</a>'
    parser = ParserProcess(after=1000)
    try:
        await parser.extract("html", PAGE, HTML_TYPE)
        started_before = parser.started  # a small crawl's documents are parsed here
        extraction, resolved = await parser.extract("html", big, HTML_TYPE, page_url="http://h/")
        started_after = parser.started  # the big one waited for the worker, started for it
    finally:
        parser.close()
    assert (started_before, started_after) == (False, True)
    assert [link.url for link in extraction.links] == ["/far"]
    assert resolved == ("http://h/far",)  # resolved by the worker: it parsed the page


def test_a_big_document_goes_to_the_worker_in_a_batch_of_its_own() -> None:
    from linkdoctor.engine.documents import ParseJob, _first_batch

    small: ParseJob = ("html", b"<p>a</p>", HTML_TYPE, None, 0)
    big: ParseJob = ("html", b"x" * (BIG_DOCUMENT + 1), HTML_TYPE, None, 0)
    pending = [(small, 1), (small, 2), (big, 3), (small, 4)]
    first, rest = _first_batch(pending)
    assert [tag for _, tag in first] == [1, 2]
    first, rest = _first_batch(rest)
    assert [tag for _, tag in first] == [3]
    first, rest = _first_batch(rest)
    assert ([tag for _, tag in first], rest) == ([4], [])


async def test_the_worker_exits_without_an_interpreters_teardown(tmp_path: Path, monkeypatch: Any) -> None:
    # Once its input closes the worker exits at once, as a forked worker would: an interpreter's teardown
    # of what its batches left (a memo of every URL resolved) is time the caller waits for at each run's end.
    marker = tmp_path / "torn-down"
    (tmp_path / "sitecustomize.py").write_text(
        f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').close())\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    parser = ParserProcess(after=0)
    await parser.extract("html", PAGE, HTML_TYPE)
    for _ in range(1000):  # at most 20 s
        if parser.started:
            break
        await asyncio.sleep(0.02)
    assert parser.started
    await parser.extract("html", PAGE, HTML_TYPE)  # a batch parsed in the worker
    parser.close()
    assert not marker.exists()


async def test_a_crawl_that_announces_its_pages_starts_the_worker_before_parsing_them() -> None:
    # A crawl that has queued more pages than `after` is a big one: the worker boots while they are fetched
    # instead of while this process parses them, and so takes the documents from the first ones on.
    parser = ParserProcess(after=3)
    for _ in range(3):
        parser.expect()
    three = parser.pid  # three pages to come: not worth a process
    parser.expect()
    assert (three, parser.pid is not None) == (None, True)
    for _ in range(1000):  # at most 20 s
        if parser.started:
            break
        await asyncio.sleep(0.02)
    assert parser.started  # and not one document parsed yet
    assert await parser.extract("html", PAGE, HTML_TYPE, page_url="http://h/p.html") == (
        extract_document("html", PAGE.decode()),
        tuple(resolve("http://h/docs/", link.url) for link in extract_document("html", PAGE.decode()).links),
    )
    parser.close()


def test_a_worker_that_never_had_a_batch_is_killed_at_close_not_waited_for() -> None:
    # Started for a crawl that ended before any page reached it (a budget, an interrupt): closing must not
    # wait for its interpreter to boot only to read the end of its input.
    parser = ParserProcess(after=0)
    parser.expect()
    worker = parser._worker
    assert worker is not None
    parser.close()
    assert worker._process.returncode == -signal.SIGKILL


def test_a_folder_of_pages_never_starts_the_worker(tmp_path: Path, monkeypatch: Any) -> None:
    # Files are read and parsed in this process (engine/local.py): announcing them would start a worker
    # that only waits to be killed.
    import linkdoctor
    from linkdoctor.engine import documents

    links = "".join(f'<a href="p{index}.html">{index}</a>' for index in range(40))
    (tmp_path / "index.html").write_text(links, encoding="utf-8")
    for index in range(40):
        (tmp_path / f"p{index}.html").write_text('<a href="index.html">home</a>', encoding="utf-8")
    started: list[object] = []
    real = documents._Worker

    def counted() -> object:
        started.append(1)
        return real()

    monkeypatch.setattr(documents, "_Worker", counted)
    report = linkdoctor.run_check(
        linkdoctor.CheckConfig(), linkdoctor.collect_inputs([str(tmp_path / "index.html")])
    )
    assert report.summary.pages_crawled > 40
    assert started == []
