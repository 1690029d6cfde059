"""Non-standard HTTP statuses in real use: Cloudflare, AWS load balancers, IIS, LinkedIn and others.

nginx's own codes live in :mod:`.statuses_nginx`. The public API is :mod:`linkdoctor.classify.statuses`;
this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.statuses_model import Origin, StatusInfo

_CF = Origin.CLOUDFLARE
_CF_REF = "Cloudflare docs: Troubleshooting Cloudflare 5XX errors"
_AWS_REF = "AWS docs: Troubleshoot your Application Load Balancers (HTTP error codes)"
_RETRY = ("Retry later; if it persists, report it to the site's operator.",)
_BROWSER = ("Check the link in a browser; if it works there, the site refuses automated clients.",)

ENTRIES: Final[tuple[StatusInfo, ...]] = (
    # --- Cloudflare: errors between Cloudflare's edge and the origin server ---------------------------
    StatusInfo(
        code=520,
        name="Web Server Returned an Unknown Error",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare: the origin answered with something empty, invalid or unexpected.",
        causes=(
            "The origin crashed or reset the connection mid-response.",
            "Response headers over Cloudflare's limit, or an empty response.",
        ),
        client_fix=_RETRY,
        operator_fix=("Check the origin's error log for the request; look for crashes and huge headers.",),
    ),
    StatusInfo(
        code=521,
        name="Web Server Is Down",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare: the origin refused the connection.",
        causes=(
            "The origin web server is stopped.",
            "A firewall on the origin blocks Cloudflare's IP ranges.",
        ),
        client_fix=_RETRY,
        operator_fix=("Start the web server; allow Cloudflare's IP ranges in the origin firewall.",),
    ),
    StatusInfo(
        code=522,
        name="Connection Timed Out",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare: the TCP connection to the origin timed out.",
        causes=("The origin is overloaded or offline.", "Packets from Cloudflare are dropped by a firewall."),
        client_fix=_RETRY,
        operator_fix=("Check the origin's load and that its firewall accepts Cloudflare's IP ranges.",),
    ),
    StatusInfo(
        code=523,
        name="Origin Is Unreachable",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare: it could not reach the origin at all (routing or DNS).",
        causes=("A wrong origin IP address in the DNS record.", "Network routing problems to the origin."),
        client_fix=_RETRY,
        operator_fix=("Check the A/AAAA records in the Cloudflare DNS settings point at the right origin.",),
    ),
    StatusInfo(
        code=524,
        name="A Timeout Occurred",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare: it connected to the origin but got no HTTP response within 100 seconds.",
        causes=("A slow request on the origin (reports, exports, long queries).",),
        client_fix=_RETRY,
        operator_fix=("Speed up the request or move long jobs to background processing.",),
    ),
    StatusInfo(
        code=525,
        name="SSL Handshake Failed",
        origin=_CF,
        reference=_CF_REF,
        meaning=(
            "Cloudflare: the TLS handshake between Cloudflare and the origin server failed (SSL mode Full or "
            "Full (strict)). The visitor's connection to Cloudflare is fine."
        ),
        causes=(
            "The origin has no TLS on port 443, or no certificate for this host name (SNI).",
            "No cipher suite or TLS version in common between Cloudflare and the origin.",
            "The origin requires a client certificate that Cloudflare does not send (Authenticated Origin "
            "Pulls misconfigured).",
        ),
        client_fix=_RETRY,
        operator_fix=(
            "Test the origin directly: openssl s_client -connect ORIGIN_IP:443 -servername HOST",
            "Install a certificate on the origin (a Cloudflare Origin CA certificate works) and enable TLS 1.2+.",
            "If the origin verifies client certificates, enable Authenticated Origin Pulls or trust "
            "Cloudflare's origin-pull CA in ssl_client_certificate.",
        ),
        example="openssl s_client -connect ORIGIN_IP:443 -servername www.example.com </dev/null",
    ),
    StatusInfo(
        code=526,
        name="Invalid SSL Certificate",
        origin=_CF,
        reference=_CF_REF,
        meaning="Cloudflare (SSL mode Full (strict)): the origin's certificate could not be validated.",
        causes=(
            "The origin certificate expired, is self-signed, or does not cover the host name.",
            "The origin does not send its intermediate certificates.",
        ),
        client_fix=_RETRY,
        operator_fix=(
            "Install a valid certificate (public CA or Cloudflare Origin CA) with its full chain.",
        ),
    ),
    StatusInfo(
        code=527,
        name="Railgun Error",
        origin=_CF,
        reference=_CF_REF + " (Railgun, retired)",
        meaning="Cloudflare: the connection through a Railgun listener to the origin failed (Railgun is retired).",
        causes=("A Railgun listener that is down or misconfigured.",),
        client_fix=_RETRY,
        operator_fix=("Remove the Railgun configuration and connect Cloudflare to the origin directly.",),
    ),
    StatusInfo(
        code=530,
        name="Origin DNS / Frozen Site",
        origin=_CF,
        reference=_CF_REF + " (530 with a 1xxx error)",
        meaning=(
            "Cloudflare sends 530 together with a 1xxx error in the page body, e.g. 1016 'Origin DNS error' or "
            "1033 'Cloudflare Tunnel error'. (Pantheon hosting uses 530 for a frozen site.)"
        ),
        causes=("The origin host name does not resolve.", "A Cloudflare Tunnel is not connected."),
        client_fix=_RETRY,
        operator_fix=("Read the 1xxx code in the page and fix the origin DNS record or the tunnel.",),
    ),
    # --- AWS Elastic Load Balancing (Application Load Balancer) ---------------------------------------
    StatusInfo(
        code=460,
        name="Client Closed Connection",
        origin=Origin.AWS,
        reference=_AWS_REF,
        meaning="ALB access-log code: the client closed the connection before the idle timeout elapsed.",
        causes=("The client's timeout is shorter than the target's response time.",),
        client_fix=("Raise --timeout if the page is legitimately slow.",),
        operator_fix=("Find out why the target responds so slowly.",),
    ),
    StatusInfo(
        code=463,
        name="Too Many X-Forwarded-For Addresses",
        origin=Origin.AWS,
        reference=_AWS_REF,
        meaning="ALB: the X-Forwarded-For header holds more than 30 IP addresses.",
        causes=("A proxy chain or loop appending to X-Forwarded-For.",),
        client_fix=("Do not send an X-Forwarded-For header yourself.",),
        operator_fix=("Look for a forwarding loop between proxies.",),
    ),
    StatusInfo(
        code=464,
        name="Incompatible Protocol Versions",
        origin=Origin.AWS,
        reference=_AWS_REF,
        meaning="ALB: the request's protocol does not match the target group's protocol version.",
        causes=("HTTP/1.1 requests to a gRPC or HTTP/2-only target group, or the reverse.",),
        client_fix=("Report it to the site's operator.",),
        operator_fix=("Set the target group's protocol version to match the clients.",),
    ),
    StatusInfo(
        code=561,
        name="Unauthorized",
        origin=Origin.AWS,
        reference=_AWS_REF,
        meaning="ALB: a listener rule authenticates users and the identity provider returned an error.",
        causes=("A misconfigured OIDC or Cognito authenticate action.",),
        client_fix=("Report it to the site's operator.",),
        operator_fix=("Check the identity provider settings of the listener rule.",),
    ),
    # --- Microsoft IIS and Windows ---------------------------------------------------------------------
    StatusInfo(
        code=440,
        name="Login Time-out",
        origin=Origin.IIS,
        reference="Microsoft IIS / Exchange (Outlook Web Access)",
        meaning="IIS (Exchange, OWA): the session expired and the user must log in again.",
        causes=("An expired session cookie.",),
        client_fix=("The target needs a login; link to a public page instead.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=449,
        name="Retry With",
        origin=Origin.IIS,
        reference="Microsoft IIS extension",
        meaning="IIS: the request lacks information; retry after performing the action the server asks for.",
        causes=("Exchange ActiveSync or another Microsoft service requiring more parameters.",),
        client_fix=("The URL is a service endpoint, not a page.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=450,
        name="Blocked by Windows Parental Controls",
        origin=Origin.MICROSOFT,
        reference="Microsoft Windows parental controls",
        meaning="Windows parental controls blocked access to the page on the checking machine.",
        causes=("Family-safety filtering on the machine running the check.",),
        client_fix=("Run the check on a machine without parental controls.",),
        operator_fix=(),
    ),
    # --- other vendors and frameworks --------------------------------------------------------------------
    StatusInfo(
        code=999,
        name="Request Denied",
        origin=Origin.LINKEDIN,
        reference="LinkedIn (undocumented bot protection)",
        meaning="LinkedIn refuses requests it believes come from bots; the link usually works in a browser.",
        causes=("Any automated request to linkedin.com without a logged-in browser session.",),
        client_fix=(*_BROWSER, "Accept it with --accept 999, or exclude linkedin.com with --exclude."),
        operator_fix=(),
    ),
    StatusInfo(
        code=509,
        name="Bandwidth Limit Exceeded",
        origin=Origin.APACHE,
        reference="Apache / cPanel (mod_bw and hosting panels)",
        meaning="The hosting account used up its bandwidth quota.",
        causes=("Traffic above the hosting plan's limit.",),
        client_fix=_RETRY,
        operator_fix=(
            "Raise the bandwidth limit or upgrade the hosting plan; serve large files from a CDN.",
        ),
    ),
    StatusInfo(
        code=598,
        name="Network Read Timeout Error",
        origin=Origin.PROXY,
        reference="Informal; some HTTP proxies",
        meaning="A proxy timed out reading the response from the server behind it.",
        causes=("A slow upstream behind a proxy.",),
        client_fix=_RETRY,
        operator_fix=("Find the slow upstream; check the proxy's read timeout.",),
    ),
    StatusInfo(
        code=599,
        name="Network Connect Timeout Error",
        origin=Origin.PROXY,
        reference="Informal; some HTTP proxies and client libraries (e.g. Tornado)",
        meaning="A proxy (or a client library) could not connect to the server in time.",
        causes=("The upstream host is down or unreachable.",),
        client_fix=_RETRY,
        operator_fix=("Check the upstream's availability and the network path to it.",),
    ),
    StatusInfo(
        code=419,
        name="Page Expired",
        origin=Origin.LARAVEL,
        reference="Laravel framework (CSRF protection)",
        meaning="Laravel: the CSRF token is missing or expired (usually on form submissions).",
        causes=("A POST without a valid CSRF token or session.",),
        client_fix=("The URL expects a form submission; link to the form page instead.",),
        operator_fix=("Exclude the route from CSRF checks if it must accept external requests.",),
    ),
    StatusInfo(
        code=420,
        name="Enhance Your Calm",
        origin=Origin.TWITTER,
        reference="Twitter API v1 (replaced by 429)",
        meaning="Twitter's old API rate limit response. (Spring once used 420 'Method Failure'.)",
        causes=("Too many requests.",),
        client_fix=("Slow down: lower --max-per-host or add --host-interval.",),
        operator_fix=("Use the standard 429 Too Many Requests.",),
    ),
    StatusInfo(
        code=430,
        name="Security Rejection",
        origin=Origin.SHOPIFY,
        reference="Shopify",
        meaning="Shopify rejected the request as suspicious (formerly also sent for too many requests).",
        causes=("Bot protection or rate limiting on a Shopify storefront.",),
        client_fix=(*_BROWSER, "Slow down checks of the store (--max-per-host, --host-interval)."),
        operator_fix=(),
    ),
    StatusInfo(
        code=498,
        name="Invalid Token",
        origin=Origin.ESRI,
        reference="Esri ArcGIS Server",
        meaning="Esri ArcGIS: the access token is expired or invalid.",
        causes=("An expired token in the URL.",),
        client_fix=("Link to the service without a token, or with a fresh one.",),
        operator_fix=(),
    ),
    StatusInfo(
        code=529,
        name="Site Is Overloaded",
        origin=Origin.QUALYS,
        reference="Qualys SSL Labs API",
        meaning="Qualys SSL Labs: the service is overloaded.",
        causes=("Too many assessments running.",),
        client_fix=("Retry later, more slowly.",),
        operator_fix=(),
    ),
)
