"""``/docs`` in real headless Chromium against a real ``linkdoctor serve``: Swagger UI comes from the
package, so the page renders with no request leaving 127.0.0.1 (on a machine with no internet it works the
same), and its "Authorize" button takes an API token because the OpenAPI document declares the bearer
scheme.

Fails (never skips) when Chromium is missing: ``apt-get install chromium``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from harness.chromium import Page, chromium_page
from tests.integration.web.served import serve_process

WAIT = 30.0


async def wait_for(page: Page, expression: str, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = await page.evaluate(expression)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; requests: {page.requested_urls()}")


async def test_docs_render_from_local_assets_with_no_request_off_the_machine(
    chromium: str, tmp_path: Path
) -> None:
    with serve_process(f"sqlite:///{tmp_path / 'ld.sqlite'}", tmp_path) as served:
        async with chromium_page(chromium) as page:
            await page.open(f"{served.base}/docs")
            title = await wait_for(
                page,
                "document.querySelector('.swagger-ui .info .title')?.textContent",
                "the Swagger UI title",
            )
            assert "linkdoctor" in title
            await wait_for(page, "document.querySelectorAll('.opblock').length > 10", "the operations")
            await page.evaluate("document.querySelector('.btn.authorize').click()")
            dialog = await wait_for(
                page, "document.querySelector('.auth-container')?.textContent", "the Authorize dialog"
            )
            assert "HTTPBearer" in dialog or "bearer" in dialog.lower()
            assert await page.evaluate("document.querySelector('.auth-container input') !== null")
            requested = [u for u in page.requested_urls() if not u.startswith("data:")]
            assert requested and all(u.startswith(f"{served.base}/") for u in requested), requested
            assert page.problems() == []


def test_the_openapi_document_declares_the_bearer_scheme_for_the_api(tmp_path: Path) -> None:
    with serve_process(f"sqlite:///{tmp_path / 'ld.sqlite'}", tmp_path) as served:
        document = httpx.get(f"{served.base}/openapi.json", timeout=10).json()
        page = httpx.get(f"{served.base}/docs", timeout=10)
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()
    name = next(iter(schemes))
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert {name: []} in operation.get("security", []), path
    assert "cdn." not in page.text and "/docs-assets/swagger-ui-bundle.js" in page.text
