"""nginx's own status codes: 444, 494-497 and 499.

Most of them never travel on the wire as such. nginx drops the connection for 444, logs 499 only, and
answers 494-497 with ``HTTP/1.1 400 Bad Request`` plus a special error page, unless an ``error_page``
with an explicit ``=code`` overrides the status. The public API is :mod:`linkdoctor.classify.statuses`;
this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.statuses_model import Origin, StatusInfo

_NGX = Origin.NGINX
_SSL_REF = "nginx docs: ngx_http_ssl_module, 'Error processing' (495-497)"

_MTLS_EXAMPLE = """\
server {
    listen 443 ssl;
    server_name api.example.com;

    ssl_certificate        /etc/nginx/tls/server-fullchain.pem;
    ssl_certificate_key    /etc/nginx/tls/server.key;

    # Mutual TLS: the CA certificate(s) that sign client certificates (PEM);
    # their names are sent to clients in the TLS CertificateRequest.
    ssl_client_certificate /etc/nginx/tls/client-ca.pem;
    ssl_verify_client      on;  # or "optional" + check $ssl_client_verify
    ssl_verify_depth       2;   # default 1; raise it for intermediate CAs

    # Without this, nginx answers 495/496 as "400 Bad Request" + special page.
    # "=496" sends a real "HTTP/1.1 496 " status line (empty reason phrase).
    error_page 495 496 =496 /mtls-error.html;
    location = /mtls-error.html { internal; root /usr/share/nginx/html; }
}

# Test from a client:
#   curl --cert client.pem --key client.key https://api.example.com/
#   openssl x509 -in client.pem -noout -dates -issuer -ext extendedKeyUsage"""

_MTLS_CHECKS = (
    "presence: a certificate must be sent at all (missing → 496)",
    "validity dates: notBefore ≤ now ≤ notAfter on the server's clock",
    "a trusted CA: the chain must lead to a CA in ssl_client_certificate within ssl_verify_depth",
    "usage: if the certificate has Extended Key Usage, it must include clientAuth",
)

ENTRIES: Final[tuple[StatusInfo, ...]] = (
    StatusInfo(
        code=444,
        name="No Response",
        origin=_NGX,
        reference="nginx docs: ngx_http_rewrite_module, return (code 444)",
        meaning=(
            "nginx closed the connection without sending any response. It is an nginx-only code written by "
            "'return 444;' and seen in the access log; the client sees an empty reply or a closed connection."
        ),
        causes=(
            "A catch-all server block drops requests for host names it does not serve.",
            "A rule drops requests from blocked clients, user agents or methods.",
        ),
        client_fix=(
            "Check that the link's host name is one the site really serves.",
            "If the site blocks automated clients, check the link in a browser.",
        ),
        operator_fix=(
            "Find the 'return 444' that matched (access log status 444) and narrow its condition.",
            "Add the host name to server_name of the intended server block.",
        ),
        example=(
            "server {\n    listen 80 default_server;\n    server_name _;\n    return 444;  # drop unknown hosts\n}"
        ),
    ),
    StatusInfo(
        code=494,
        name="Request Header Too Large",
        origin=_NGX,
        reference="nginx docs: ngx_http_core_module, large_client_header_buffers",
        meaning=(
            "A request header line was larger than nginx's header buffers. nginx sends it on the wire as "
            "'HTTP/1.1 400 Bad Request' with the page '<title>400 Request Header Or Cookie Too Large</title>' "
            "(a too-long request line gives 414 instead)."
        ),
        causes=("Large or numerous cookies for the domain.", "Long custom headers such as bearer tokens."),
        client_fix=("Send fewer or smaller cookies and headers.",),
        operator_fix=(
            "Raise large_client_header_buffers (default 4 8k), e.g. 'large_client_header_buffers 4 16k;'.",
            "Stop the application from setting oversized cookies.",
        ),
        example="http {\n    large_client_header_buffers 4 16k;\n}",
    ),
    StatusInfo(
        code=495,
        name="SSL Certificate Error",
        origin=_NGX,
        reference=_SSL_REF,
        meaning=(
            "Mutual TLS: the server asks clients for a certificate (ssl_verify_client) and the one sent "
            "failed verification. nginx never sends 495 on the wire: it answers 'HTTP/1.1 400 Bad Request' "
            "with the page '<title>400 The SSL certificate error</title>', unless 'error_page 495 =495 …' "
            "makes it send a real '495' status line (with an empty reason phrase). The handshake itself "
            "succeeds; the error log says 'client SSL certificate verify error: (N:reason)'. nginx checks "
            + "; ".join(_MTLS_CHECKS)
            + "."
        ),
        causes=(
            "The certificate has expired or is not valid yet.",
            "It was issued by a CA that is not in ssl_client_certificate, or it is self-signed.",
            "An intermediate CA is missing, or the chain is deeper than ssl_verify_depth (default 1).",
            "Its Extended Key Usage lacks clientAuth ('unsupported certificate purpose').",
            "It is revoked according to ssl_crl.",
        ),
        client_fix=(
            "Check the certificate: openssl x509 -in client.pem -noout -dates -issuer -ext extendedKeyUsage",
            "Test it by hand: curl --cert client.pem --key client.key https://host/",
            "Renew it, or obtain one from the CA the server trusts; put intermediates after the leaf in the "
            "PEM file.",
        ),
        operator_fix=(
            "Read the nginx error log for the verify error number and reason.",
            "Add the client CA (and intermediates) to the ssl_client_certificate file and reload nginx.",
            "Raise ssl_verify_depth to the chain length when intermediates sign client certificates.",
        ),
        example=_MTLS_EXAMPLE,
    ),
    StatusInfo(
        code=496,
        name="SSL Certificate Required",
        origin=_NGX,
        reference=_SSL_REF,
        meaning=(
            "Mutual TLS: the server requires a client certificate (ssl_verify_client on) and the client "
            "sent none. nginx never sends 496 on the wire: it completes the TLS handshake and answers "
            "'HTTP/1.1 400 Bad Request' with the page '<title>400 No required SSL certificate was "
            "sent</title>', unless 'error_page 496 =496 …' makes it send a real '496' status line (with an "
            "empty reason phrase). ssl_client_certificate names the CAs whose certificates are accepted; "
            "ssl_verify_depth bounds the chain length. nginx checks " + "; ".join(_MTLS_CHECKS) + "."
        ),
        causes=(
            "No client certificate is configured for this host in the checker or browser.",
            "A certificate is configured but for other host patterns, so it was not offered.",
            "Browsers offer only certificates from CAs the server names in its request, so a certificate "
            "from another CA is never sent.",
        ),
        client_fix=(
            "Configure a client certificate with --cert/--key or in [[tls.client]] in the config file.",
            "Test it by hand: curl --cert client.pem --key client.key https://host/",
            "Make sure the certificate comes from a CA the server accepts (the server lists their names: "
            "openssl s_client -connect host:443 -servername host </dev/null).",
        ),
        operator_fix=(
            "If the page should be public, use 'ssl_verify_client optional;' and require "
            "$ssl_client_verify = SUCCESS only in the protected locations.",
            "Serve a helpful page or a real status: 'error_page 496 =496 /mtls-error.html;'.",
            "Give the users who need access a certificate from the CA in ssl_client_certificate.",
        ),
        example=_MTLS_EXAMPLE,
    ),
    StatusInfo(
        code=497,
        name="HTTP Request Sent to HTTPS Port",
        origin=_NGX,
        reference=_SSL_REF,
        meaning=(
            "A plain-HTTP request arrived on a port nginx serves with TLS ('listen 443 ssl'). nginx sends it on "
            "the wire as 'HTTP/1.1 400 Bad Request' with the page '<title>400 The plain HTTP request was sent "
            "to HTTPS port</title>', unless an error_page with '=code' overrides it."
        ),
        causes=(
            "A link like http://host:443/ or http://host:8443/ (http:// with an HTTPS port).",
            "A proxy forwarding plain HTTP to an HTTPS upstream port.",
        ),
        client_fix=("Change the link to https://.",),
        operator_fix=(
            "Redirect instead of failing: 'error_page 497 =301 https://$host:$server_port$request_uri;'.",
        ),
        example=(
            "server {\n    listen 8443 ssl;\n    # Send plain-HTTP clients to the HTTPS URL on the same port\n"
            "    error_page 497 =301 https://$host:$server_port$request_uri;\n}"
        ),
    ),
    StatusInfo(
        code=499,
        name="Client Closed Request",
        origin=_NGX,
        reference="nginx source: NGX_HTTP_CLIENT_CLOSED_REQUEST (access log only)",
        meaning=(
            "nginx logs 499 when the client closed the connection before nginx sent the response; it is never "
            "sent to the client. (Esri ArcGIS uses 499 with another meaning, 'Token Required': the request "
            "needs an access token.)"
        ),
        causes=(
            "The client (or the link checker) timed out waiting for a slow upstream.",
            "A user navigated away, or a load balancer in front of nginx gave up.",
        ),
        client_fix=("Raise --timeout if the page is legitimately slow.",),
        operator_fix=(
            "Find why the upstream is slow (the access log shows request_time for 499 entries).",
            "Make the load balancer's idle timeout longer than nginx's proxy_read_timeout.",
        ),
    ),
)
