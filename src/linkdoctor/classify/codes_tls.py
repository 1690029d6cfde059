"""Catalogue entries for TLS problems: client certificates (mutual TLS), server certificates, handshakes,
and the request failures nginx hides behind a wire 400 (494, 497) or a dropped connection (444).

The public API is :mod:`linkdoctor.classify.codes`; this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.codes_model import CLIENT, EITHER, OPERATOR, DiagnosisInfo

_CURL_CERT = "curl --cert client.pem --key client.key URL"
_OPENSSL_S_CLIENT = "openssl s_client -connect HOST:443 -servername HOST -showcerts </dev/null"

ENTRIES: Final[tuple[DiagnosisInfo, ...]] = (
    # --- mutual TLS: the client certificate -------------------------------------------------------
    DiagnosisInfo(
        code="tls.client-cert-required",
        title="Client certificate required",
        summary="The server requires a TLS client certificate (mutual TLS) and none was sent",
        explanation=(
            "The server is configured for mutual TLS: it asks the client to prove its identity with a "
            "certificate during the TLS handshake. No certificate was presented, so the server refused the "
            "request. nginx (ssl_verify_client on) does not send its internal status 496 on the wire: it "
            "answers 'HTTP/1.1 400 Bad Request' with the page '400 No required SSL certificate was sent'. "
            "Other servers abort the handshake with a 'certificate required' alert (TLS 1.3, alert 116) or "
            "'handshake failure'."
        ),
        fix=(
            "Configure a client certificate for this host with --cert/--key, or in the config file "
            "under [[tls.client]] (cert and key, or a PKCS#12 file, plus the hosts it applies to).",
            f"Check the certificate by hand: {_CURL_CERT}",
            "If the link is meant to be public, ask the operator to use 'ssl_verify_client optional' "
            "(nginx) for that location or move the page out of the mutual-TLS virtual host.",
        ),
        actor=CLIENT,
        related_status=(400, 496),
    ),
    DiagnosisInfo(
        code="tls.client-cert-rejected",
        title="Client certificate rejected",
        summary="The server rejected the TLS client certificate that was sent",
        explanation=(
            "A client certificate was presented but the server's verification failed for a reason it did "
            "not name: the issuing CA is not among its trusted client CAs, the chain is longer than its "
            "verify depth, the certificate is revoked (CRL/OCSP), or it failed a policy check. nginx "
            "reports this as its internal status 495, sent on the wire as 'HTTP/1.1 400 Bad Request' with "
            "the page '400 The SSL certificate error'; the nginx error log names the exact reason."
        ),
        fix=(
            "Check the certificate's dates, issuer and key usage: openssl x509 -in client.pem -noout "
            "-dates -issuer -ext extendedKeyUsage",
            "Ask the operator which CA signs client certificates (the file named by ssl_client_certificate "
            "in nginx) and obtain a certificate from that CA.",
            "Operator: read the nginx error log; it says 'client SSL certificate verify error: (N:reason)'.",
            "Operator: if the chain has intermediates, raise ssl_verify_depth (default 1) to cover them.",
        ),
        actor=EITHER,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code="tls.client-cert-expired",
        title="Client certificate expired",
        summary="The TLS client certificate has expired (its notAfter date is in the past)",
        explanation=(
            "Servers verifying client certificates check their validity period. An expired certificate is "
            "rejected; nginx answers 400 with '400 The SSL certificate error' (internal status 495) and "
            "logs 'certificate has expired'."
        ),
        fix=(
            "Renew the client certificate with the issuing CA and configure the new file with --cert/--key "
            "or [[tls.client]].",
            "Inspect the dates: openssl x509 -in client.pem -noout -dates",
            "Automate renewal so that a new certificate is in place well before notAfter.",
        ),
        actor=CLIENT,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code="tls.client-cert-not-yet-valid",
        title="Client certificate not yet valid",
        summary="The TLS client certificate is not valid yet (its notBefore date is in the future)",
        explanation=(
            "The certificate's validity starts later than the verifier's clock. Either it was issued with "
            "a future start date or one of the two machines has a wrong clock. nginx rejects it as 495 "
            "(sent as 400 '400 The SSL certificate error') and logs 'certificate is not yet valid'."
        ),
        fix=(
            "Compare the notBefore date (openssl x509 -in client.pem -noout -dates) with the current time.",
            "Make sure both the client and the server synchronise their clocks (NTP).",
            "Wait until notBefore, or reissue the certificate with a correct start date.",
        ),
        actor=EITHER,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code="tls.client-cert-untrusted-ca",
        title="Client certificate from an untrusted CA",
        summary="The TLS client certificate is not issued by a CA the server trusts for clients",
        explanation=(
            "The server verifies client certificates against its own list of client CAs (nginx: "
            "ssl_client_certificate, or ssl_trusted_certificate). A certificate from any other CA, a "
            "self-signed one, or a chain missing its intermediate fails with 'unable to get local issuer "
            "certificate'. The CA names the server accepts are listed in its CertificateRequest message."
        ),
        fix=(
            "List the CAs the server accepts: openssl s_client -connect HOST:443 -servername HOST "
            "</dev/null | grep -A5 'Acceptable client certificate CA names'",
            "Obtain a client certificate from one of those CAs.",
            "If an intermediate CA signed it, put the intermediate after the leaf in the --cert PEM file.",
            "Operator: add the issuing CA to the ssl_client_certificate bundle and reload nginx.",
        ),
        actor=EITHER,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code="tls.client-cert-wrong-usage",
        title="Client certificate not allowed for client authentication",
        summary="The TLS client certificate lacks the clientAuth extended key usage",
        explanation=(
            "When a certificate has an Extended Key Usage extension, verifiers require it to contain "
            "clientAuth (1.3.6.1.5.5.7.3.2) for client authentication. A server-only certificate "
            "(serverAuth) is rejected with 'unsupported certificate purpose'. A Key Usage extension, when "
            "present, must also allow digitalSignature."
        ),
        fix=(
            "Inspect the extensions: openssl x509 -in client.pem -noout -ext extendedKeyUsage,keyUsage",
            "Reissue the certificate with extendedKeyUsage = clientAuth (and keyUsage = digitalSignature).",
        ),
        actor=CLIENT,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code="tls.client-cert-key-mismatch",
        title="Client certificate and key do not match",
        summary="The private key does not belong to the client certificate",
        explanation=(
            "A TLS client proves ownership of its certificate by signing with the matching private key. A "
            "key from another certificate cannot be loaded with it ('key values mismatch'), so no mutual-TLS "
            "connection is possible."
        ),
        fix=(
            "Compare the public keys: openssl x509 -in client.pem -noout -pubkey and "
            "openssl pkey -in client.key -pubout must print the same key.",
            "Pass the key that was generated with the certificate's signing request, or reissue both.",
        ),
        actor=CLIENT,
    ),
    # --- HTTP-level failures nginx hides behind a 400 --------------------------------------------
    DiagnosisInfo(
        code="http.plain-http-to-https-port",
        title="Plain HTTP sent to an HTTPS port",
        summary="A plain-HTTP request reached a port that expects TLS",
        explanation=(
            "The link uses http:// with a port that serves HTTPS (for example http://host:443/). nginx "
            "answers 'HTTP/1.1 400 Bad Request' with the page '400 The plain HTTP request was sent to HTTPS "
            "port' (internal status 497). Other servers close the connection or answer with garbage."
        ),
        fix=(
            "Change the link to https:// (or drop the explicit port).",
            "Operator: redirect instead of failing, e.g. 'error_page 497 =301 https://$host$request_uri;' "
            "in the nginx server block.",
        ),
        actor=EITHER,
        related_status=(400, 497),
    ),
    DiagnosisInfo(
        code="http.request-header-too-large",
        title="Request header too large",
        summary="The server refused the request because a header or the cookies were too large",
        explanation=(
            "A request line or header exceeded the server's buffer. nginx answers 'HTTP/1.1 400 Bad Request' "
            "with '400 Request Header Or Cookie Too Large' (internal status 494) or 414 for a long request "
            "line; other servers use 431. Common causes are many or large cookies, or a huge URL."
        ),
        fix=(
            "Send fewer or smaller cookies/headers; check what --header options add.",
            "Operator: raise large_client_header_buffers (nginx), e.g. 'large_client_header_buffers 4 16k;'.",
        ),
        actor=EITHER,
        related_status=(400, 431, 494),
    ),
    DiagnosisInfo(
        code="http.connection-closed-no-response",
        title="Connection closed without a response",
        summary="The server closed the connection without sending any HTTP response",
        explanation=(
            "The connection was accepted and the request sent, but the server closed it without a status "
            "line. nginx does this on purpose for 'return 444;' (often used to drop requests to unknown "
            "Host names or from blocked clients); a crashing backend or an overloaded proxy can also do it."
        ),
        fix=(
            "Check that the link's host name is one the server actually serves (server_name).",
            "Operator: look for 'return 444' in the matching nginx server/location block and the access log "
            "entry with status 444.",
            "Retry later; if it persists, the operator must check the backend's error log for crashes.",
        ),
        actor=EITHER,
        related_status=(444,),
    ),
    # --- server certificates ---------------------------------------------------------------------
    DiagnosisInfo(
        code="tls.server-cert-expired",
        title="Server certificate expired",
        summary="The server's TLS certificate has expired",
        explanation=(
            "The certificate the server presented is past its notAfter date, so no browser or client will "
            "trust the connection. Usually an automatic renewal (certbot, ACME) stopped working, or the "
            "server was not reloaded after renewal."
        ),
        fix=(
            f"Check the dates: {_OPENSSL_S_CLIENT} | openssl x509 -noout -dates",
            "Operator: renew the certificate (e.g. certbot renew) and reload the server (nginx -s reload).",
            "Operator: monitor expiry so renewal failures are noticed early.",
        ),
        actor=OPERATOR,
    ),
    DiagnosisInfo(
        code="tls.server-cert-not-yet-valid",
        title="Server certificate not yet valid",
        summary="The server's TLS certificate is not valid yet (its notBefore date is in the future)",
        explanation=(
            "The certificate the server presented starts being valid later than the checking machine's "
            "clock says it is now. Either that clock is behind (a machine without NTP, a container or VM "
            "restored from a snapshot), or a certificate was installed before its start date: a "
            "certificate issued with a future notBefore, or one from a clock-skewed signing system."
        ),
        fix=(
            f"Check the dates: {_OPENSSL_S_CLIENT} | openssl x509 -noout -dates",
            "Client: compare the checking machine's clock with a reference (timedatectl status) and "
            "enable NTP if it is behind.",
            "Operator: if the notBefore date really is in the future, install a certificate that is "
            "valid now (the previous one, or re-issue) and reload the server (nginx -s reload).",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="tls.server-cert-hostname-mismatch",
        title="Server certificate does not match the host name",
        summary="The server's TLS certificate is not valid for the link's host name",
        explanation=(
            "None of the certificate's subjectAltName entries matches the host in the URL. Typical causes: "
            "a www/non-www variant missing from the certificate, a virtual host without its own certificate "
            "(the default server's certificate is served), or a client without SNI."
        ),
        fix=(
            f"See which names the certificate covers: {_OPENSSL_S_CLIENT} | openssl x509 -noout -ext "
            "subjectAltName",
            "Operator: issue a certificate that includes this host name and configure it in the matching "
            "server block.",
            "Or change the link to a host name the certificate covers.",
        ),
        actor=OPERATOR,
    ),
    DiagnosisInfo(
        code="tls.server-cert-self-signed",
        title="Self-signed server certificate",
        summary="The server presented a self-signed TLS certificate",
        explanation=(
            "The certificate is signed by its own key rather than by a trusted CA, so it cannot be verified. "
            "This is common on test and internal servers."
        ),
        fix=(
            "Operator: use a certificate from a public CA (e.g. Let's Encrypt) for public sites.",
            "For internal sites, trust the internal CA explicitly with --cacert; never disable verification.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="tls.server-cert-untrusted",
        title="Server certificate from an untrusted CA",
        summary="The server's TLS certificate is issued by a CA that is not trusted",
        explanation=(
            "The chain ends in a root that is not in the trust store in use: a private/corporate CA, a "
            "distrusted CA, or a TLS-intercepting proxy in between. This is told apart from a missing "
            "intermediate (tls.server-cert-incomplete-chain) by the chain the server sent: a chain that "
            "ends in a self-signed root, carries its CA certificates, or is a leaf that does not name a "
            "published issuer (Authority Information Access caIssuers, which public CAs' intermediates "
            "set) is read as issued by an untrusted root."
        ),
        fix=(
            "Client: if the CA is a legitimate private or internal CA, trust it explicitly with --cacert "
            "ca.pem (or add it to this machine's trust store); never disable verification.",
            f"Inspect the chain: {_OPENSSL_S_CLIENT}",
            "Operator: for public sites, use a certificate from a publicly trusted CA; if your CA issues "
            "through an intermediate, serve it too (nginx: ssl_certificate fullchain.pem).",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="tls.server-cert-incomplete-chain",
        title="Incomplete server certificate chain",
        summary="The server does not send the intermediate CA certificate(s)",
        explanation=(
            "The server sends only its leaf certificate, and the leaf names the intermediate that issued "
            "it (Authority Information Access caIssuers) without the server sending it. Browsers often "
            "hide the problem by fetching or "
            "caching intermediates, but other clients (curl, Python, mobile apps) fail with 'unable to get "
            "local issuer certificate'."
        ),
        fix=(
            "Operator: configure the full chain, leaf first then intermediates (nginx: ssl_certificate "
            "fullchain.pem, not cert.pem), and reload.",
            f"Verify that several certificates are sent: {_OPENSSL_S_CLIENT}",
        ),
        actor=OPERATOR,
    ),
    DiagnosisInfo(
        code="tls.handshake-failed",
        title="TLS handshake failed",
        summary="The TLS handshake with the server failed",
        explanation=(
            "Client and server could not establish TLS: no common protocol version or cipher suite, a "
            "server that aborts the handshake, a middlebox interfering, or a non-TLS service on the port."
        ),
        fix=(
            f"Reproduce with details: {_OPENSSL_S_CLIENT}",
            "Operator: enable TLS 1.2 and 1.3 with modern cipher suites (nginx: ssl_protocols TLSv1.2 "
            "TLSv1.3;).",
            "Find the versions the server accepts: add -tls1_2 or -tls1_3 to the openssl s_client command.",
        ),
        actor=EITHER,
        related_status=(525,),
    ),
)
