"""A scan is compared with the previous one by problem keys, and a gone problem is read whole only when it is
shown (SQLite and PostgreSQL): recovered problems are listed in the order they alerted, one per key even
when results of one key group apart (other statuses), and a diff's fixed problems keep the order of the
stored scan's grouping (by category on a tie)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from linkdoctor.classify.codes import make
from linkdoctor.models import Category, CheckResult, Referrer, Summary
from linkdoctor.monitor.model import Alert, SiteSpec
from linkdoctor.monitor.scan import ScanJob, ScanOutcome
from linkdoctor.monitor.service import Monitor

SITE = "http://127.0.0.1:9/"
NOT_FOUND = make("http.not-found")
TIMEOUT = make("net.timeout")


def referrers(count: int, tag: str) -> tuple[Referrer, ...]:
    return tuple(Referrer(f"{SITE}{tag}{i}.html", i + 1) for i in range(count))


class Canned:
    """A monitor whose scans return the given results, one list a scan, and whose alerts are kept."""

    def __init__(self, db_url: str, scans: Sequence[Sequence[CheckResult]], *, alert_after: int = 1) -> None:
        self.queue = [tuple(results) for results in scans]
        self.sent: list[Alert] = []
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.monitor = Monitor.open(
            db_url, job_runner=self.run, notifier=self.notify, certs=None, clock=self.clock
        )
        spec = SiteSpec(
            name="s", url=SITE, every=None, notify=("json://127.0.0.1:1/",), alert_after=alert_after
        )
        self.site = self.monitor.add_site(spec)

    def run(self, job: ScanJob) -> ScanOutcome:
        results = self.queue.pop(0)
        return ScanOutcome(results, Summary(total=len(results)), checks=len(results))

    def notify(self, alert: Alert) -> bool:
        self.sent.append(alert)
        return True

    def clock(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def scan(self) -> int:
        return self.monitor.run_scan(self.monitor.request_scan(self.site.id).id, owner="test").id

    def __enter__(self) -> Canned:
        return self

    def __exit__(self, *exc: object) -> None:
        self.monitor.close()


def test_recovered_problems_are_listed_in_the_order_they_alerted(db_url: str) -> None:
    one = CheckResult(
        SITE + "one.html", Category.BROKEN, 404, diagnosis=NOT_FOUND, referrers=referrers(1, "a")
    )
    two = CheckResult(
        SITE + "two.html", Category.BROKEN, 404, diagnosis=NOT_FOUND, referrers=referrers(3, "b")
    )
    with Canned(db_url, [[one], [one, two], []]) as run:
        for _ in range(3):
            run.scan()
    fixed = run.sent[-1].body.split("Fixed (2):", 1)[1]
    assert fixed.index("one.html") < fixed.index("two.html")


def test_a_key_whose_results_group_apart_recovers_as_one_problem(db_url: str) -> None:
    apart = [
        CheckResult(SITE + "x.html#a", Category.BROKEN, 500, referrers=referrers(1, "c")),
        CheckResult(SITE + "x.html#b", Category.BROKEN, 502, referrers=referrers(1, "d")),
    ]
    with Canned(db_url, [apart, []]) as run:
        run.scan()
        second = run.scan()
        fixed = run.monitor.diff(second).fixed_problems
    assert "1 problem fixed" in run.sent[-1].title
    assert [p.status for p in fixed] == [500, 502]  # the diff lists both


def test_fixed_problems_of_one_key_keep_the_stored_grouping_order(db_url: str) -> None:
    tied = [
        CheckResult(SITE + "y.html#a", Category.UNVERIFIED, diagnosis=TIMEOUT, referrers=referrers(1, "e")),
        CheckResult(SITE + "y.html#b", Category.BROKEN, diagnosis=TIMEOUT, referrers=referrers(1, "f")),
    ]
    with Canned(db_url, [tied, []], alert_after=5) as run:
        run.scan()
        fixed = run.monitor.diff(run.scan()).fixed_problems
    assert [p.category for p in fixed] == [Category.BROKEN, Category.UNVERIFIED]
    assert [loc.page for p in fixed for loc in p.found_on] == [SITE + "f0.html", SITE + "e0.html"]
