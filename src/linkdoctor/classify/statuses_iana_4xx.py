"""IANA-registered HTTP 4xx statuses: the server judged the request to be at fault.

The public API is :mod:`linkdoctor.classify.statuses`; this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.statuses_model import Origin, StatusInfo

_STD = Origin.STANDARD

ENTRIES: Final[tuple[StatusInfo, ...]] = (
    StatusInfo(
        code=400,
        name="Bad Request",
        origin=_STD,
        reference="RFC 9110, Section 15.5.1",
        meaning=(
            "The server could not process the request because it considers it malformed. nginx also sends "
            "400 for its internal statuses 494-497 (header too large, client-certificate errors, plain HTTP "
            "to an HTTPS port), with a special error page naming the real cause; linkdoctor reads that page "
            "and reports the precise status."
        ),
        causes=(
            "Invalid characters or encoding in the URL or headers.",
            "nginx: no client certificate sent to a mutual-TLS server (page '400 No required SSL certificate "
            "was sent', status 496), or a rejected one ('400 The SSL certificate error', 495).",
            "nginx: plain HTTP sent to an HTTPS port ('400 The plain HTTP request was sent to HTTPS port', 497).",
            "nginx: oversized headers or cookies ('400 Request Header Or Cookie Too Large', 494).",
        ),
        client_fix=(
            "Run 'linkdoctor explain 494' … '497' if the body names one of nginx's special pages.",
            "Check the URL for unescaped spaces and special characters.",
        ),
        operator_fix=("Check the server's error log for the reason it rejected the request.",),
    ),
    StatusInfo(
        code=401,
        name="Unauthorized",
        origin=_STD,
        reference="RFC 9110, Section 15.5.2",
        meaning="The resource needs authentication; the WWW-Authenticate header names the scheme.",
        causes=("The page is behind a login (Basic, Bearer, …).", "Credentials were sent but are invalid."),
        client_fix=(
            "Pass credentials with --header 'Authorization: …' or --basic-auth if the check "
            "should be authenticated.",
            "Otherwise link to a public page.",
        ),
        operator_fix=("If the page is meant to be public, remove the auth requirement for its location.",),
    ),
    StatusInfo(
        code=402,
        name="Payment Required",
        origin=_STD,
        reference="RFC 9110, Section 15.5.3",
        meaning="Reserved for future use; some services send it when a subscription or quota is exhausted.",
        causes=("An account or API quota ran out, or a paywall.",),
        client_fix=("Check the account or subscription used to access the resource.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=403,
        name="Forbidden",
        origin=_STD,
        reference="RFC 9110, Section 15.5.4",
        meaning="The server understood the request but refuses it; authenticating will not help.",
        causes=(
            "File system permissions, 'deny' rules or an IP allow-list.",
            "A directory without an index file and listing disabled.",
            "A WAF or bot protection blocking automated clients.",
        ),
        client_fix=("Check the link in a browser; if it works there, the site blocks automated clients.",),
        operator_fix=(
            "Check permissions (the nginx worker user must read the file) and allow/deny rules.",
            "Add an index file or 'autoindex on;' for directories that should be browsable.",
        ),
    ),
    StatusInfo(
        code=404,
        name="Not Found",
        origin=_STD,
        reference="RFC 9110, Section 15.5.5",
        meaning="The server has no resource at this URL (and does not say whether that is permanent).",
        causes=("The page moved or was deleted.", "A typo in the link.", "A wrong relative path."),
        client_fix=("Fix the link or remove it; search the site for the new location.",),
        operator_fix=("Redirect moved pages with 301 to their new URL.",),
    ),
    StatusInfo(
        code=405,
        name="Method Not Allowed",
        origin=_STD,
        reference="RFC 9110, Section 15.5.6",
        meaning="The method (often HEAD) is not allowed for this URL; the Allow header lists allowed ones.",
        causes=(
            "A server or framework that does not implement HEAD.",
            "An API endpoint accepting only POST.",
        ),
        client_fix=("linkdoctor retries with GET; if GET is refused too, the URL is not a page.",),
        operator_fix=("Allow HEAD and GET on linked pages.",),
    ),
    StatusInfo(
        code=406,
        name="Not Acceptable",
        origin=_STD,
        reference="RFC 9110, Section 15.5.7",
        meaning="No representation matches the request's Accept headers.",
        causes=("A strict Accept/Accept-Language negotiation, or a WAF rule (mod_security) using 406.",),
        client_fix=("Check the Accept headers configured for the host.",),
        operator_fix=("Fall back to a default representation instead of refusing.",),
    ),
    StatusInfo(
        code=407,
        name="Proxy Authentication Required",
        origin=_STD,
        reference="RFC 9110, Section 15.5.8",
        meaning="A proxy between the client and the server requires authentication.",
        causes=("A corporate proxy requires credentials.",),
        client_fix=("Configure proxy credentials, or run the check from a network without the proxy.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=408,
        name="Request Timeout",
        origin=_STD,
        reference="RFC 9110, Section 15.5.9",
        meaning="The server gave up waiting for the complete request.",
        causes=("A slow or stalled client connection.", "An idle keep-alive connection being closed."),
        client_fix=("Retry; linkdoctor retries idempotent requests.",),
        operator_fix=("Check client_header_timeout / client_body_timeout (nginx) if it happens often.",),
    ),
    StatusInfo(
        code=409,
        name="Conflict",
        origin=_STD,
        reference="RFC 9110, Section 15.5.10",
        meaning="The request conflicts with the current state of the resource.",
        causes=("Concurrent edits or version conflicts in an API.",),
        client_fix=("A link that returns 409 is usually an API endpoint, not a page.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=410,
        name="Gone",
        origin=_STD,
        reference="RFC 9110, Section 15.5.11",
        meaning="The resource was removed on purpose and will not return.",
        causes=("The operator deleted the page and marked it as permanently gone.",),
        client_fix=("Remove the link or point it to a replacement or an archived copy.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=411,
        name="Length Required",
        origin=_STD,
        reference="RFC 9110, Section 15.5.12",
        meaning="The server requires a Content-Length header.",
        causes=("A request body sent without Content-Length.",),
        client_fix=("Send Content-Length with the body.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=412,
        name="Precondition Failed",
        origin=_STD,
        reference="RFC 9110, Section 15.5.13",
        meaning="A condition in the request headers (If-Match, If-Unmodified-Since) evaluated to false.",
        causes=("Conditional request against a changed resource.",),
        client_fix=("Retry without the conditional headers.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=413,
        name="Content Too Large",
        origin=_STD,
        reference="RFC 9110, Section 15.5.14",
        meaning="The request body is larger than the server accepts (formerly 'Payload Too Large').",
        causes=("An upload above the limit (nginx: client_max_body_size, 1 MiB by default).",),
        client_fix=("Send a smaller body.",),
        operator_fix=("Raise client_max_body_size (nginx) for the location that accepts uploads.",),
    ),
    StatusInfo(
        code=414,
        name="URI Too Long",
        origin=_STD,
        reference="RFC 9110, Section 15.5.15",
        meaning="The request URI is longer than the server accepts.",
        causes=("Huge query strings, or a redirect loop that keeps appending to the URL.",),
        client_fix=("Shorten the URL.",),
        operator_fix=("Raise large_client_header_buffers (nginx) if long URLs are legitimate.",),
    ),
    StatusInfo(
        code=415,
        name="Unsupported Media Type",
        origin=_STD,
        reference="RFC 9110, Section 15.5.16",
        meaning="The request body's media type is not supported.",
        causes=("Wrong Content-Type for an API endpoint.",),
        client_fix=("Send the Content-Type the endpoint expects.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=416,
        name="Range Not Satisfiable",
        origin=_STD,
        reference="RFC 9110, Section 15.5.17",
        meaning="The requested byte range lies outside the resource.",
        causes=("A Range request on a file that is shorter or changed.",),
        client_fix=("Retry without the Range header.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=417,
        name="Expectation Failed",
        origin=_STD,
        reference="RFC 9110, Section 15.5.18",
        meaning="The server cannot meet the request's Expect header.",
        causes=("A proxy that does not support 'Expect: 100-continue'.",),
        client_fix=("Retry without the Expect header.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=418,
        name="(Unused) / I'm a teapot",
        origin=_STD,
        reference="RFC 9110, Section 15.5.19; RFC 2324 (April Fools)",
        meaning=(
            "Reserved because of the 'I'm a teapot' joke of RFC 2324; some sites send it deliberately to "
            "refuse bots."
        ),
        causes=("A joke endpoint, or bot protection answering 418 to automated clients.",),
        client_fix=("Check the link in a browser; if it works, the site refuses automated clients.",),
        operator_fix=("Use 403 or 429 to refuse clients so that the reason is clear.",),
    ),
    StatusInfo(
        code=421,
        name="Misdirected Request",
        origin=_STD,
        reference="RFC 9110, Section 15.5.20",
        meaning=(
            "The request reached a server that cannot answer for this host name, usually because a TLS "
            "connection was reused for another host. nginx answers 421 when the Host header names a "
            "different server than the TLS SNI and that server verifies client certificates."
        ),
        causes=(
            "HTTP/2 connection coalescing across hosts sharing a certificate.",
            "Host header and SNI name different virtual hosts, with mutual TLS on one of them.",
        ),
        client_fix=("Retry on a new connection; make sure SNI and Host name the same host.",),
        operator_fix=("Give mutual-TLS hosts their own certificate (not a wildcard shared with others).",),
    ),
    StatusInfo(
        code=422,
        name="Unprocessable Content",
        origin=_STD,
        reference="RFC 9110, Section 15.5.21",
        meaning="The request is well-formed but semantically invalid (validation errors).",
        causes=("Invalid input to an API or form.",),
        client_fix=("A link returning 422 usually targets an API endpoint, not a page.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=423,
        name="Locked",
        origin=_STD,
        reference="RFC 4918, Section 11.3 (WebDAV)",
        meaning="WebDAV: the resource is locked.",
        causes=("Another client holds a WebDAV lock.",),
        client_fix=("Retry later.",),
        operator_fix=("Release stale locks.",),
    ),
    StatusInfo(
        code=424,
        name="Failed Dependency",
        origin=_STD,
        reference="RFC 4918, Section 11.4 (WebDAV)",
        meaning="WebDAV: the method failed because an action it depended on failed.",
        causes=("A preceding WebDAV operation failed.",),
        client_fix=("Retry later.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=425,
        name="Too Early",
        origin=_STD,
        reference="RFC 8470, Section 5.2",
        meaning="The server will not process a request sent in TLS 1.3 early data (0-RTT), to avoid replays.",
        causes=("The request arrived as 0-RTT early data.",),
        client_fix=("Retry after the handshake completes (clients do this automatically).",),
        operator_fix=(),
    ),
    StatusInfo(
        code=426,
        name="Upgrade Required",
        origin=_STD,
        reference="RFC 9110, Section 15.5.22",
        meaning="The server refuses the current protocol; the Upgrade header names the one to use.",
        causes=("An endpoint that requires another HTTP version or TLS.",),
        client_fix=("Use the protocol named in the Upgrade header (often https://).",),
        operator_fix=("Prefer a 301/308 redirect to https:// for plain-HTTP page requests.",),
    ),
    StatusInfo(
        code=428,
        name="Precondition Required",
        origin=_STD,
        reference="RFC 6585, Section 3",
        meaning="The server requires a conditional request (If-Match) to prevent lost updates.",
        causes=("An API that requires optimistic concurrency control.",),
        client_fix=("Send the conditional headers the API requires.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=429,
        name="Too Many Requests",
        origin=_STD,
        reference="RFC 6585, Section 4",
        meaning="The client sent too many requests in a given time (rate limiting); see Retry-After.",
        causes=("Checking many links on one host quickly.", "A shared IP address exceeding the limit."),
        client_fix=(
            "Lower the per-host concurrency (--max-per-host) or add a delay between requests (--host-interval).",
            "Keep retries on: linkdoctor waits for Retry-After before retrying.",
        ),
        operator_fix=("Send Retry-After with 429 so that well-behaved clients know when to come back.",),
    ),
    StatusInfo(
        code=431,
        name="Request Header Fields Too Large",
        origin=_STD,
        reference="RFC 6585, Section 5",
        meaning="A header field, or all of them together, is too large. nginx uses 400 (internal 494) instead.",
        causes=("Large or many cookies.", "Very long Referer or custom headers."),
        client_fix=("Send fewer or smaller cookies and headers.",),
        operator_fix=("Raise the server's header size limit if large headers are legitimate.",),
    ),
    StatusInfo(
        code=451,
        name="Unavailable For Legal Reasons",
        origin=_STD,
        reference="RFC 7725",
        meaning=(
            "Access is denied for legal reasons (censorship, a court order, geo-blocking for regulation). "
            "Microsoft Exchange ActiveSync (IIS) also uses 451 for a different purpose, 'Redirect': the "
            "mailbox is on another server, whose address is in the X-MS-Location header."
        ),
        causes=("Legal demands in the client's or the server's jurisdiction.", "Exchange: mailbox moved."),
        client_fix=("Link to an accessible source, or note that the resource is blocked in some regions.",),
        operator_fix=('Send a Link header with rel="blocked-by" naming who requested the block.',),
    ),
)
