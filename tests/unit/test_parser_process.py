"""The parser process: extraction in a second process gives what extraction here gives."""

from __future__ import annotations

import asyncio

from linkdoctor.documents import ParserProcess, extract_batch, extract_document, from_compact

PAGE = (
    b'<html><head><base href="/docs/"><meta name="robots" content="nofollow"></head>\n'
    b'<body><h2 id="intro">Intro</h2><a name="old"></a>\n'
    b'<a href="a.html#intro">A \xc3\xa9</a> <img src="i.png" alt="pic">\n'
    b"<style>p { background: url(bg.png) }</style></body></html>"
)
CSS = b'@import "base.css";\nbody { background: url("img/bg.png") }'
HTML_TYPE = "text/html; charset=utf-8"


def test_a_flattened_extraction_rebuilds_to_the_same_extraction() -> None:
    jobs = [("html", PAGE, HTML_TYPE), ("css", CSS, "text/css")]
    rebuilt = [from_compact(compact) for compact in extract_batch(jobs)]
    assert rebuilt == [extract_document("html", PAGE.decode()), extract_document("css", CSS.decode())]


def test_the_body_is_decoded_with_the_charset_of_its_content_type() -> None:
    body = '<a href="x.html">caf\xe9</a>'.encode("iso-8859-1")
    (compact,) = extract_batch([("html", body, "text/html; charset=ISO-8859-1")])
    assert from_compact(compact).links[0].text == "caf\xe9"


async def test_documents_parsed_in_the_worker_equal_documents_parsed_here() -> None:
    parser = ParserProcess(after=0)
    try:
        first = await parser.extract("html", PAGE, HTML_TYPE)  # starts the worker, parses here meanwhile
        for _ in range(1000):  # at most 20 s
            if parser.started:
                break
            await asyncio.sleep(0.02)
        assert parser.started
        in_worker = await asyncio.gather(
            *(parser.extract(kind, body, ctype) for kind, body, ctype in
              [("html", PAGE, HTML_TYPE), ("css", CSS, "text/css"), ("html", PAGE, HTML_TYPE)])
        )  # fmt: skip
    finally:
        parser.close()
    here = extract_document("html", PAGE.decode())
    assert first == here
    assert list(in_worker) == [here, extract_document("css", CSS.decode()), here]


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
    assert await parser.extract("css", CSS, "text/css") == extract_document("css", CSS.decode())
