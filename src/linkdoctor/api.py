"""The run functions that ``import linkdoctor`` offers: the engine's check, with the doctor's findings
attached to TLS failures when ``config.diagnose`` is set, exactly as ``linkdoctor check --diagnose`` does.

The engine knows nothing of the doctor (:mod:`linkdoctor.engine.runner`); this module composes the two, so
a library caller gets one function whatever the configuration asks for::

    >>> # report = run_check(CheckConfig(diagnose=True), collect_inputs(["https://intranet.example/"]))
"""

from __future__ import annotations

from linkdoctor.config import CheckConfig
from linkdoctor.engine import runner
from linkdoctor.engine.crawl import ResultSink
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.transport import Transport
from linkdoctor.models import Report

__all__ = ["check_async", "run_check"]


async def check_async(
    config: CheckConfig,
    inputs: Inputs,
    *,
    on_result: ResultSink | None = None,
    transport: Transport | None = None,
) -> Report:
    """Crawl and check ``inputs``; ``on_result`` sees each unique URL's result as soon as it is final.

    ``transport`` sends the requests instead of a new aiohttp one (a test's in-memory site, a proxy); the
    caller closes it. With ``config.diagnose``, TLS failures reach ``on_result`` once they carry the
    doctor's findings."""

    async def check(sink: ResultSink | None) -> Report:
        return await runner.check_async(config, inputs, on_result=sink, transport=transport)

    if not config.diagnose:
        return await check(on_result)
    from linkdoctor.doctor.attach import check_diagnosed  # pyOpenSSL and the probe load only when asked for

    return await check_diagnosed(config, check, on_result=on_result)


def run_check(config: CheckConfig, inputs: Inputs, *, on_result: ResultSink | None = None) -> Report:
    """:func:`check_async` on its own event loop (uvloop when installed); blocks until the report is done."""
    return runner.run_sync(check_async(config, inputs, on_result=on_result))
