"""The records a distributed crawl keeps in Redis (each URL written once, read back exactly), and the index of\nthe URLs a report lists."""

from __future__ import annotations

import doctest
import json
import sqlite3
from collections.abc import Iterator

import pytest

import linkdoctor.distributed.staterecords
from linkdoctor.distributed.statelists import EmittedIndex
from linkdoctor.distributed.staterecords import StoredResource, link_record, target_of
from linkdoctor.engine.state import LinkEntry, ResourceEntry
from linkdoctor.scratch import blob

PAGE = "https://example.org/docs/page.html"


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(linkdoctor.distributed.staterecords)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    "urls",
    [
        [PAGE, PAGE + "#top", PAGE + "#", PAGE + "#a#b"],
        # Not a resource's own links, but what a record holds must come back as it was written.
        [PAGE + "l", "https://other.example/", PAGE + "?q=1#x", "#" + PAGE, "", "!", "!#x", "#"],
        [],
    ],
)
def test_a_resource_record_keeps_its_links_urls_exactly(urls: list[str]) -> None:
    resource = StoredResource(None, PAGE, 2, crawl=True)
    resource.urls = list(urls)
    record = resource.record()
    assert StoredResource.from_record(None, PAGE, record).urls == urls
    assert StoredResource.from_record(None, PAGE, record.encode()).urls == urls


def test_a_resource_record_does_not_repeat_its_url_for_its_own_links() -> None:
    resource = StoredResource(None, PAGE, 0, crawl=True)
    resource.urls = [PAGE, PAGE + "#install", PAGE + "#usage"]
    assert resource.record().count(PAGE) == 0
    assert json.loads(resource.record().partition("\n")[2]) == ["", "#install", "#usage"]


@pytest.mark.parametrize("url", [PAGE, PAGE + "#top", PAGE + "#"])
def test_a_link_record_names_its_own_resource_without_repeating_it(url: str) -> None:
    link = LinkEntry(url, url.partition("#")[2], ResourceEntry(PAGE, 1, crawl=False), [])
    record = json.loads(link_record(link))
    assert PAGE not in link_record(link)
    assert target_of(url, record[1]) == PAGE


def test_a_link_record_names_another_or_no_resource_in_full() -> None:
    elsewhere = LinkEntry(PAGE, "", ResourceEntry("https://example.org/moved", 1, crawl=False), [])
    assert target_of(PAGE, json.loads(link_record(elsewhere))[1]) == "https://example.org/moved"
    preset = LinkEntry(PAGE, "", None, [])
    assert target_of(PAGE, json.loads(link_record(preset))[1]) is None


def test_the_report_s_index_sorts_urls_as_redis_does_once_each_and_starts_over_when_built_again() -> None:
    index = EmittedIndex()
    urls = [
        "https://b.example/",
        "https://a.example/\udce9",
        "https://a.example/\U0001f600",
        "https://a.example/z",
    ]
    pieces = [[blob(urls[0]), blob(urls[1])], [blob(urls[2]), blob(urls[0])], [blob(urls[3])]]
    assert index.build(pieces) == 4  # HSCAN may give a field twice: one row
    assert index.urls(0, 10) == sorted(urls, key=blob)  # Redis compares bytes: as code points do
    assert sorted(urls, key=blob) == sorted(urls)
    assert index.urls(1, 3) == sorted(urls)[1:3]

    def failing() -> Iterator[list[bytes]]:
        yield [blob("https://c.example/")]
        raise ConnectionError("Redis went away")

    with pytest.raises(ConnectionError):
        index.build(failing())
    assert index.build([[blob("https://d.example/")]]) == 1
    assert index.urls(0, 10) == ["https://d.example/"]


def test_a_full_scratch_disk_while_the_index_is_built_raises_its_own_error() -> None:
    index = EmittedIndex()
    index.build([])
    db = index._db
    assert db is not None
    db.execute("PRAGMA max_page_count = 8")  # a disk that fills at once

    with pytest.raises(sqlite3.OperationalError, match="full"):
        index.build([[blob(f"https://e.org/{n:06}" + "x" * 200)] for n in range(2000)])
