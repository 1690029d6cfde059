"""The HTTP layer: the transport over aiohttp (the only home of aiohttp), the SSRF guard every caller
shares, and per-host politeness."""
