"""The web side of ``linkdoctor serve``: the FastAPI app (dashboard pages, the ``/api/v1`` REST API, login,
CSRF) and the SSRF guard that keeps server-mode scans off private networks.

Everything here calls :class:`linkdoctor.monitor.service.Monitor`; nothing here touches the database.
"""
