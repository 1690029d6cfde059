"""Catalogue entries for HTTP statuses, redirects, network failures, URLs, local files and policy skips.

The public API is :mod:`linkdoctor.classify.codes`; this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.codes_model import CLIENT, EITHER, OPERATOR, DiagnosisInfo

ENTRIES: Final[tuple[DiagnosisInfo, ...]] = (
    # --- HTTP statuses -----------------------------------------------------------------------------
    DiagnosisInfo(
        code="http.not-found",
        title="Not found",
        summary="The server has no resource at this URL (404)",
        explanation=(
            "The page was moved, renamed or deleted, or the link has a typo. 404 does not say whether the "
            "absence is permanent."
        ),
        fix=(
            "Fix or remove the link; search the target site for the new location.",
            "Operator: when a page moves, redirect the old URL with 301 to its new location.",
        ),
        actor=EITHER,
        related_status=(404,),
    ),
    DiagnosisInfo(
        code="http.soft-404",
        title="Soft 404",
        summary='The page answers 200 OK but is the site\'s "not found" page',
        explanation=(
            "The server answers a missing URL with its error template and a success status, so the link "
            "looks fine by its status alone. linkdoctor probes each host once with a random path that "
            "cannot exist; when that answers 200, each page it fetched anyway is compared with it (title, "
            'size, text similarity, "not found" phrases in common languages). The guard against false '
            "positives: the site root and pages redirected to it are never flagged, a host whose probe "
            "lands on the root's content (an SPA shell, a catch-all redirect) is never judged, and a match "
            "needs the same non-empty title, at least 85% similar text and a size within 30% (an untitled "
            'page: a "not found" phrase on both and 92%), or the same landing URL as the probe when that page says "not found"; where the '
            "site root has the probe's title too (one title site-wide), the page must also say \"not "
            'found". A host '
            "whose probe answers 404/410 gets no comparison at all. --no-soft-404 turns the probe off."
        ),
        fix=(
            "Fix or remove the link: the page it points to does not exist (the evidence names the probe "
            "it matched).",
            "Operator: answer missing URLs with a real 404 status (nginx: try_files $uri $uri/ =404; an "
            "SPA: a 404 route that sets the status), so every client and search engine sees them.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="http.gone",
        title="Gone",
        summary="The resource was removed on purpose and will not come back (410)",
        explanation="The operator marked the URL as permanently removed.",
        fix=("Remove the link or replace it with a current resource or an archived copy.",),
        actor=CLIENT,
        related_status=(410,),
    ),
    DiagnosisInfo(
        code="http.server-error",
        title="Server error",
        summary="The server failed while handling the request (5xx)",
        explanation=(
            "An internal error occurred in the application or server (500, 501, 505-508, 510, or a "
            "non-standard 5xx). The fault is on the server side."
        ),
        fix=(
            "Retry later; if it persists, report it to the site's operator.",
            "Operator: read the application and server error logs for the request's time.",
        ),
        actor=OPERATOR,
        related_status=(500, 501, 505, 506, 507, 508, 510),
    ),
    DiagnosisInfo(
        code="http.bad-gateway",
        title="Bad gateway",
        summary="A proxy or gateway got an invalid answer from the upstream server (502)",
        explanation=(
            "The front server (nginx, a load balancer, a CDN) could not get a valid response from the "
            "application behind it: the backend is down, crashed mid-response, or sent an invalid header."
        ),
        fix=(
            "Retry later; report it to the operator if it persists.",
            "Operator: check that the upstream is running and reachable (nginx error log: 'connect() "
            "failed' or 'upstream prematurely closed connection').",
        ),
        actor=OPERATOR,
        related_status=(502, 520, 521, 523),
    ),
    DiagnosisInfo(
        code="http.unavailable",
        title="Service unavailable",
        summary="The server is temporarily unable to handle the request (503)",
        explanation=(
            "The server is overloaded or in maintenance. A Retry-After header, when present, says when to "
            "try again."
        ),
        fix=(
            "Retry later (linkdoctor honours Retry-After).",
            "Operator: end the maintenance window or add capacity; send Retry-After during planned downtime.",
        ),
        actor=OPERATOR,
        related_status=(503, 529),
    ),
    DiagnosisInfo(
        code="http.gateway-timeout",
        title="Gateway timeout",
        summary="A proxy or gateway did not get an answer from the upstream server in time (504)",
        explanation="The application behind the proxy is too slow or hung.",
        fix=(
            "Retry later.",
            "Operator: find the slow request in the application; raise proxy_read_timeout only if the "
            "slowness is expected.",
        ),
        actor=OPERATOR,
        related_status=(504, 522, 524),
    ),
    DiagnosisInfo(
        code="http.rate-limited",
        title="Rate limited",
        summary="The server refused the request because too many requests were sent (429)",
        explanation=(
            "The server limits request rates per client. Link checkers trip such limits when they check "
            "many links on one host quickly."
        ),
        fix=(
            "Lower the per-host concurrency (--max-per-host) or add a delay between requests to the host "
            "(--host-interval), then check again.",
            "Keep retries on (--retries): linkdoctor waits for Retry-After, up to a limit, before retrying.",
        ),
        actor=CLIENT,
        related_status=(429, 420),
    ),
    DiagnosisInfo(
        code="http.bot-protection",
        title="Blocked by bot protection",
        summary="The site blocks automated clients; the link may work in a browser",
        explanation=(
            "A bot-protection layer (Cloudflare challenge, LinkedIn's 999, Akamai, a WAF) answered with a "
            "challenge or refusal instead of the page. The link itself is probably fine."
        ),
        fix=(
            "Check the link in a browser; if it works, accept that status or exclude the host "
            "(--accept, --exclude).",
            "Operator (if it is your site): allow the checker's User-Agent or IP in the WAF rules.",
        ),
        actor=CLIENT,
        related_status=(403, 429, 999),
    ),
    DiagnosisInfo(
        code="http.forbidden",
        title="Forbidden",
        summary="The server refuses to serve this URL (403)",
        explanation=(
            "Access is denied regardless of authentication: file permissions, an IP allow-list, a 'deny' "
            "rule, or a directory without an index file."
        ),
        fix=(
            "Check whether the link is meant to be public.",
            "Operator: check file permissions, allow/deny rules and the index directive.",
        ),
        actor=EITHER,
        related_status=(403,),
    ),
    DiagnosisInfo(
        code="http.unauthorized",
        title="Authentication required",
        summary="The URL requires authentication (401)",
        explanation="The server asks for credentials (see its WWW-Authenticate header).",
        fix=(
            "If the check should be authenticated, pass credentials with --header 'Authorization: …' or "
            "--basic-auth.",
            "Otherwise link to a public page instead.",
        ),
        actor=CLIENT,
        related_status=(401, 407),
    ),
    DiagnosisInfo(
        code="http.client-error",
        title="Client error",
        summary="The server rejected the request as invalid (4xx)",
        explanation="A 4xx status without a more specific diagnosis; see 'linkdoctor explain STATUS'.",
        fix=(
            "Run 'linkdoctor explain STATUS' for the status received.",
            "Check the URL for typos and unusual characters.",
        ),
        actor=EITHER,
        related_status=(400, 406, 409, 411, 412, 414, 415, 416, 417, 421, 422, 451),
    ),
    DiagnosisInfo(
        code="http.method-not-allowed",
        title="Method not allowed",
        summary="The server does not allow the request method for this URL (405)",
        explanation=(
            "Some servers reject HEAD (or GET) for certain URLs. linkdoctor retries a refused HEAD as GET; "
            "this diagnosis means GET was refused too."
        ),
        fix=(
            "Operator: allow HEAD and GET on pages that are linked to.",
            "If the URL is an API endpoint, it is probably not meant to be linked.",
        ),
        actor=EITHER,
        related_status=(405, 501),
    ),
    DiagnosisInfo(
        code="http.redirect-loop",
        title="Redirect loop",
        summary="The redirects lead back to a URL already visited",
        explanation=(
            "Typical causes are conflicting http→https and https→http rules, a www/non-www pair redirecting "
            "to each other, or a proxy that does not forward X-Forwarded-Proto to the application."
        ),
        fix=(
            "Inspect the chain: curl -sIL --max-redirs 10 URL",
            "Operator: make the canonical-host and HTTPS redirects agree; behind a proxy, pass "
            "'proxy_set_header X-Forwarded-Proto $scheme;'.",
        ),
        actor=OPERATOR,
        related_status=(301, 302, 307, 308),
    ),
    DiagnosisInfo(
        code="http.too-many-redirects",
        title="Too many redirects",
        summary="The redirect chain is longer than the allowed maximum",
        explanation="Each hop costs a round trip; long chains usually mean outdated links or stacked rules.",
        fix=(
            "Update the link to the final URL of the chain.",
            "Operator: redirect old URLs directly to their final destination.",
            "Raise --max-redirects only if the chain is legitimate.",
        ),
        actor=EITHER,
        related_status=(301, 302, 303, 307, 308),
    ),
    DiagnosisInfo(
        code="http.fragment-missing",
        title="Fragment not found",
        summary="The page exists but has no element with the link's #fragment id",
        explanation=(
            "The part after '#' must match an id (or <a name>) in the target page. Headings renamed or "
            "regenerated ids break such links silently."
        ),
        fix=(
            "Update the fragment to an existing id in the target page.",
            "Operator: keep stable ids on headings that are linked to.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="http.protocol-error",
        title="HTTP protocol error",
        summary="The server's answer is not valid HTTP",
        explanation=(
            "The response could not be parsed: a malformed status line or header, a broken chunked body, "
            "or a non-HTTP service on the port."
        ),
        fix=(
            "Check the raw answer: curl -v URL",
            "Operator: check the server or application generating malformed headers.",
        ),
        actor=OPERATOR,
    ),
    # --- network -----------------------------------------------------------------------------------
    DiagnosisInfo(
        code="net.dns",
        title="DNS resolution failed",
        summary="The host name could not be resolved",
        explanation="The domain does not exist (NXDOMAIN), has expired, has no A/AAAA record, or DNS failed.",
        fix=(
            "Check the host name for typos: dig +short HOST",
            "If the domain expired or moved, update or remove the link.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="net.refused",
        title="Connection refused",
        summary="Nothing is listening on the host's port (connection refused)",
        explanation="The host answered with a TCP reset: the server is down or listens on another port.",
        fix=(
            "Check the port in the link.",
            "Operator: start the service, or check the listen directive and firewall.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="net.timeout",
        title="Timed out",
        summary="The server did not answer in time",
        explanation="The connection or the response took longer than the timeout: a slow server, a "
        "firewall dropping packets, or an unreachable host.",
        fix=(
            "Retry later, or raise --timeout for slow hosts.",
            "Operator: check the firewall and the server's load.",
        ),
        actor=EITHER,
        related_status=(408, 504, 598, 599),
    ),
    DiagnosisInfo(
        code="net.reset",
        title="Connection reset",
        summary="The connection was reset by the peer",
        explanation="The server or a middlebox aborted the TCP connection (RST) during the exchange.",
        fix=(
            "Retry later.",
            "Operator: check the server and firewall logs; a crashing worker or an IPS can cause resets.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="net.connection-closed",
        title="Connection closed",
        summary="The connection was closed before the exchange finished",
        explanation="The peer closed the connection (FIN) unexpectedly, for example during TLS setup or "
        "mid-body.",
        fix=("Retry later.", "Operator: check keepalive and timeout settings and the error log."),
        actor=EITHER,
    ),
    # --- URLs and local files ----------------------------------------------------------------------
    DiagnosisInfo(
        code="url.invalid",
        title="Invalid URL",
        summary="The link is not a valid URL",
        explanation="It cannot be parsed: bad characters, an invalid host or port, or a broken escape.",
        fix=("Fix the link in the source document; percent-encode spaces and special characters.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="url.too-long",
        title="URL too long",
        summary="The URL is longer than servers accept",
        explanation="Most servers reject request lines over about 8 KiB (414 URI Too Long).",
        fix=("Shorten the URL; move large data out of the query string.",),
        actor=CLIENT,
        related_status=(414,),
    ),
    DiagnosisInfo(
        code="url.unsupported-scheme",
        title="Unsupported scheme",
        summary="The link uses a scheme linkdoctor does not check",
        explanation="Only http, https and file links are checked; others (ftp:, tel:, javascript:…) are not.",
        fix=("Nothing to fix if the scheme is intended; add an --exclude pattern to silence it.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="url.file-on-web",
        title="file: link on a web page",
        summary="A web page links to a file: URL, which visitors' browsers will not open",
        explanation=(
            "A file: URL names a file on the reader's own computer. Browsers refuse to follow one from an "
            "http(s) page, so for visitors the link leads nowhere. linkdoctor never looks the path up on "
            "the checking machine's disk: the result is the same whether such a file exists there or not."
        ),
        fix=(
            "Link to the file's http(s) address on the site instead (a canonical link must be absolute http(s)).",
            "If the page is meant to be read from disk, check the folder itself (linkdoctor check ./folder).",
        ),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="file.not-found",
        title="Local file not found",
        summary="The linked local file does not exist",
        explanation="A relative or file: link points to a path that is missing from the checked files.",
        fix=("Fix the path (check case and the relative base) or add the missing file.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="file.anchor-missing",
        title="Anchor not found in a local file",
        summary="The local file exists but has no element with the link's #fragment id",
        explanation=(
            "The part after '#' must match an id (or <a name>) in the target file; in Markdown, a heading's "
            "anchor is made from its text the way GitHub makes it. A renamed heading breaks such links "
            "silently. The same check over HTTP is http.fragment-missing."
        ),
        fix=(
            "Update the fragment to an existing id or heading anchor of the target file "
            "(linkdoctor fix rewrites it when one heading matches).",
            "Or give the heading the id the links use (an explicit id attribute, or {#id} where the "
            "Markdown flavour supports it).",
        ),
        actor=CLIENT,
    ),
    # --- policy ------------------------------------------------------------------------------------
    DiagnosisInfo(
        code="robots.disallowed",
        title="Disallowed by robots.txt",
        summary="The site's robots.txt forbids fetching this URL",
        explanation="linkdoctor respects robots.txt and did not fetch the URL, so its state is unknown.",
        fix=("Check the link by hand, or use --ignore-robots only for sites you are allowed to check.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="filter.excluded",
        title="Excluded by a filter",
        summary="The URL matched an exclude rule and was not checked",
        explanation="An --exclude pattern (or a URL outside the --include patterns) skipped it.",
        fix=("Remove or narrow the matching exclude rule if the URL should be checked.",),
        actor=CLIENT,
    ),
)
