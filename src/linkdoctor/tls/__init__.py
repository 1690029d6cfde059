"""The TLS layer: client credentials for mutual TLS, SSL contexts, local preflight checks and the probe.

- :mod:`.certs` loads a client certificate and key (PEM, DER, encrypted keys, PKCS#12) and checks them.
- :mod:`.context` builds the verifying ``ssl.SSLContext`` per host for the HTTP layer.
- :mod:`.preflight` checks a loaded certificate locally (dates, usages, issuer) and returns findings.
- :mod:`.probe` runs one inspecting handshake with pyOpenSSL (CA names requested, alerts, chain).

TLS failures are mapped to diagnosis codes in :mod:`linkdoctor.classify.tls`. Import from the
submodules (this package re-exports nothing, which keeps ``classify.tls`` ↔ ``tls`` free of cycles).
"""
