"""The HTTP layer: the aiohttp session factory and per-host politeness."""
