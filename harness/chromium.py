"""A small headless-Chromium driver over the DevTools protocol (aiohttp's WebSocket client), for
checking the HTML report and the dashboard in a real browser.

Chromium is Debian's ``chromium`` package (``./scripts/test`` installs it when run as root). It runs
with a fresh profile, no network services of its own, and ``--remote-debugging-port=0``; the port it
picked is read from ``DevToolsActivePort`` in the profile. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser")
INSTALL_HINT = "apt-get install chromium (./scripts/test does it when run as root)"
CHROMIUM_MISSING = f"headless Chromium is required for the HTML report and dashboard tests: {INSTALL_HINT}"
START_TIMEOUT = 30.0
COMMAND_TIMEOUT = 15.0
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def require_chromium() -> str:
    """The Chromium binary path; raises ``RuntimeError(CHROMIUM_MISSING)`` when there is none."""
    binary = find_chromium()
    if binary is None:
        raise RuntimeError(CHROMIUM_MISSING)
    return binary


@dataclass
class Page:
    """One browser tab: send DevTools commands, and see the events that came in."""

    ws: aiohttp.ClientWebSocketResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self._ids)
        await self.ws.send_json({"id": command_id, "method": method, "params": params})
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while (remaining := deadline - time.monotonic()) > 0:
            message = await self.ws.receive(timeout=remaining)
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"DevTools connection ended during {method}: {message.type}")
            data: dict[str, Any] = json.loads(message.data)
            if data.get("id") == command_id:
                if "error" in data:
                    raise RuntimeError(f"{method} failed: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self.events.append(data)
        raise TimeoutError(f"no answer to {method} within {COMMAND_TIMEOUT} s")

    async def evaluate(self, expression: str) -> Any:
        """Run JavaScript in the page and return its (JSON-serialisable) value."""
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def open(self, url: str) -> None:
        """Navigate to ``url`` and wait (bounded) until the document has loaded."""
        await self.send("Page.navigate", url=url)
        for _ in range(100):
            if await self.evaluate("document.readyState") == "complete":
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{url} did not finish loading")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and failed or blocked loads seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(f"log: {params['entry'].get('text')}")
            elif method == "Network.loadingFailed":
                found.append(f"load failed: {params}")
        return found

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]


async def _debugger_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode} before it was ready")
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        await asyncio.sleep(0.05)
    raise TimeoutError(f"chromium did not open its DevTools port within {START_TIMEOUT} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """End the browser and its helper processes: the process group it leads (started by us)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(process.wait(), timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await asyncio.wait_for(process.wait(), timeout=10)
    # Helpers may still be flushing into the profile for a moment after the group is gone.
    await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def chromium_page(binary: str) -> AsyncIterator[Page]:
    """A fresh headless Chromium with one blank page whose Runtime, Log and Network events are on."""
    with tempfile.TemporaryDirectory(prefix="linkdoctor-chromium-", ignore_cleanup_errors=True) as profile:
        process = await asyncio.create_subprocess_exec(
            binary,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = await _debugger_port(Path(profile), process)
            timeout = aiohttp.ClientTimeout(total=COMMAND_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                page_target = next(t for t in targets if t.get("type") == "page")
                async with session.ws_connect(page_target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = Page(ws)
                    for domain in ("Runtime", "Log", "Network", "Page"):
                        await page.send(f"{domain}.enable")
                    yield page
        finally:
            await _stop(process)
