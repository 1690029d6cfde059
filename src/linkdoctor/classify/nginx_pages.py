"""Fingerprints of nginx's special error pages, which hide 494–497 behind a wire ``400 Bad Request``.

Only a bounded prefix of the body is ever inspected (:data:`FINGERPRINT_BYTES`).
"""

from __future__ import annotations

FINGERPRINT_BYTES = 4096

# nginx writes these titles into its built-in error pages (ngx_http_special_response.c).
_PAGES: tuple[tuple[bytes, int], ...] = (
    (b"400 No required SSL certificate was sent", 496),
    (b"400 The SSL certificate error", 495),
    (b"400 The plain HTTP request was sent to HTTPS port", 497),
    (b"400 Request Header Or Cookie Too Large", 494),
)


def precise_nginx_status(status: int | None, body_prefix: bytes) -> int | None:
    """The status nginx really meant when it sent a wire 400 with one of its special pages, else ``None``.

    >>> precise_nginx_status(400, b"<title>400 No required SSL certificate was sent</title>")
    496
    """
    if status != 400 or not body_prefix:
        return None
    head = body_prefix[:FINGERPRINT_BYTES]
    for marker, code in _PAGES:
        if marker in head:
            return code
    return None


def looks_like_nginx(server_header: str | None, body_prefix: bytes = b"") -> bool:
    """Whether a response came from nginx, by its ``Server`` header or the footer of its error pages."""
    if server_header and "nginx" in server_header.lower():
        return True
    return b"<center>nginx" in body_prefix[:FINGERPRINT_BYTES]
