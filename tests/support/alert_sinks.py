"""Real receivers for alert tests: an SMTP server (aiosmtpd) and a webhook server (http.server), both on
free ports on 127.0.0.1 (or another loopback address), recording what they receive.

    with smtp_sink() as smtp, webhook_sink() as hook:
        notify = (smtp.apprise_url, hook.apprise_url)
"""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from harness.ports import free_port


@dataclass
class SmtpSink:
    port: int
    messages: list[Message] = field(default_factory=list)
    host: str = "127.0.0.1"

    @property
    def apprise_url(self) -> str:
        return (
            f"mailto://{self.host}:{self.port}?from=linkdoctor@example.org&to=ops@example.org&mode=insecure"
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self.messages.append(email.message_from_bytes(raw))
        return "250 OK"


@dataclass
class WebhookSink:
    port: int
    payloads: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0  # answer this many of the next posts with 503, recording nothing
    host: str = "127.0.0.1"

    @property
    def apprise_url(self) -> str:
        return f"json://{self.host}:{self.port}/hook"


@contextmanager
def smtp_sink(host: str = "127.0.0.1") -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port(), host=host)
    controller = Controller(sink, hostname=host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@contextmanager
def webhook_sink(host: str = "127.0.0.1") -> Iterator[WebhookSink]:
    sink = WebhookSink(free_port(), host=host)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length))
            if sink.failures > 0:
                sink.failures -= 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            sink.payloads.append(payload)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, sink.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
