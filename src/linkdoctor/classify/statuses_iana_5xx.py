"""IANA-registered HTTP 5xx statuses: the server failed to answer a valid request.

The public API is :mod:`linkdoctor.classify.statuses`; this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.statuses_model import Origin, StatusInfo

_STD = Origin.STANDARD
_RETRY = ("Retry later; if it persists, report it to the site's operator.",)

ENTRIES: Final[tuple[StatusInfo, ...]] = (
    StatusInfo(
        code=500,
        name="Internal Server Error",
        origin=_STD,
        reference="RFC 9110, Section 15.6.1",
        meaning="The server hit an unexpected condition (usually an application exception).",
        causes=("A bug or crash in the application.", "A broken configuration (e.g. .htaccess syntax)."),
        client_fix=_RETRY,
        operator_fix=("Read the application's error log at the time of the request and fix the exception.",),
    ),
    StatusInfo(
        code=501,
        name="Not Implemented",
        origin=_STD,
        reference="RFC 9110, Section 15.6.2",
        meaning="The server does not support the request method at all (some answer HEAD this way).",
        causes=("HEAD or another method is not implemented.",),
        client_fix=("linkdoctor retries with GET; if GET fails too, report it.",),
        operator_fix=("Implement HEAD for pages (most frameworks derive it from GET).",),
    ),
    StatusInfo(
        code=502,
        name="Bad Gateway",
        origin=_STD,
        reference="RFC 9110, Section 15.6.3",
        meaning="A proxy or gateway received an invalid response, or none, from the upstream server.",
        causes=(
            "The application behind nginx or a load balancer is down or crashed.",
            "The upstream closed the connection or sent invalid headers (too large for proxy_buffer_size).",
        ),
        client_fix=_RETRY,
        operator_fix=(
            "Check that the upstream runs and is reachable; the nginx error log says 'connect() failed' or "
            "'upstream prematurely closed connection'.",
            "Raise proxy_buffer_size if the log says 'upstream sent too big header'.",
        ),
    ),
    StatusInfo(
        code=503,
        name="Service Unavailable",
        origin=_STD,
        reference="RFC 9110, Section 15.6.4",
        meaning="The server is temporarily overloaded or down for maintenance; see Retry-After.",
        causes=(
            "Maintenance mode.",
            "Overload, or all upstreams marked unavailable.",
            "nginx limit_req/limit_conn.",
        ),
        client_fix=("Retry later; linkdoctor honours Retry-After.",),
        operator_fix=(
            "Send Retry-After during planned maintenance.",
            "Add capacity, or set limit_req_status 429 so that rate limiting is not reported as an outage.",
        ),
    ),
    StatusInfo(
        code=504,
        name="Gateway Timeout",
        origin=_STD,
        reference="RFC 9110, Section 15.6.5",
        meaning="A proxy or gateway did not get a response from the upstream server in time.",
        causes=(
            "A slow or hung application behind the proxy.",
            "An upstream that is unreachable (firewall).",
        ),
        client_fix=_RETRY,
        operator_fix=(
            "Find the slow request in the application.",
            "Raise proxy_read_timeout (nginx, 60 s by default) only if long requests are expected.",
        ),
    ),
    StatusInfo(
        code=505,
        name="HTTP Version Not Supported",
        origin=_STD,
        reference="RFC 9110, Section 15.6.6",
        meaning="The server does not support the HTTP major version of the request.",
        causes=("A very old or very restricted server.",),
        client_fix=("Report it to the site's operator.",),
        operator_fix=("Support HTTP/1.1.",),
    ),
    StatusInfo(
        code=506,
        name="Variant Also Negotiates",
        origin=_STD,
        reference="RFC 2295, Section 8.1",
        meaning="Transparent content negotiation is misconfigured: the chosen variant negotiates itself.",
        causes=("A content-negotiation configuration loop (Apache MultiViews/type maps).",),
        client_fix=("Report it to the site's operator.",),
        operator_fix=("Fix the negotiation configuration so that variants are plain resources.",),
    ),
    StatusInfo(
        code=507,
        name="Insufficient Storage",
        origin=_STD,
        reference="RFC 4918, Section 11.5 (WebDAV)",
        meaning="The server cannot store what is needed to complete the request.",
        causes=("A full disk or quota on the server.",),
        client_fix=_RETRY,
        operator_fix=("Free disk space or raise the quota.",),
    ),
    StatusInfo(
        code=508,
        name="Loop Detected",
        origin=_STD,
        reference="RFC 5842, Section 7.2 (WebDAV)",
        meaning="The server found an infinite loop while processing a request with 'Depth: infinity'.",
        causes=(
            "WebDAV bindings that form a cycle.",
            "CloudLinux shared hosting sends 508 'Resource Limit Is Reached'.",
        ),
        client_fix=_RETRY,
        operator_fix=("Remove the cycle, or raise the hosting account's resource limits.",),
    ),
    StatusInfo(
        code=510,
        name="Not Extended",
        origin=_STD,
        reference="RFC 2774, Section 7 (obsoleted)",
        meaning="Obsoleted: the request lacks an HTTP extension the server requires.",
        causes=("An experimental HTTP extension framework (RFC 2774, now historic).",),
        client_fix=("Report it to the site's operator.",),
        operator_fix=("Stop requiring RFC 2774 extensions.",),
    ),
    StatusInfo(
        code=511,
        name="Network Authentication Required",
        origin=_STD,
        reference="RFC 6585, Section 6",
        meaning="A captive portal (hotel, airport Wi-Fi) intercepts requests until the user logs in.",
        causes=("The checking machine is behind a captive portal.",),
        client_fix=("Log in to the network, or run the check from another network; every link is affected.",),
        operator_fix=(),
    ),
)
