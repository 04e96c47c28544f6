"""Browser tests' helpers: an ASGI app served on a loopback port from a thread, and Debian's
headless Chromium driven by Playwright (its own browser downloads are not available here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import uvicorn

CHROMIUM = "/usr/bin/chromium"
# as root, and without the background connections a closed network refuses
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serves ``app`` on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A page of headless Chromium whose requests are recorded in ``page.requested`` (URLs)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.requested = []  # type: ignore[attr-defined]
            page.on("request", lambda request: page.requested.append(request.url))  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def off_loopback(urls: list[str]) -> list[str]:
    """The URLs that leave the machine (anything but loopback, data: and about:)."""
    return [
        u
        for u in urls
        if urlparse(u).scheme in ("http", "https", "ws", "wss")
        and urlparse(u).hostname not in ("127.0.0.1", "localhost", "::1")
    ]


def screenshot(page: Any, name: str) -> Path:
    """Saves a full-page screenshot as a test artifact (tests/artifacts/<name>.png)."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=False)
    return path
