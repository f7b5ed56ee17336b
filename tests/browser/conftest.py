"""Headless Debian Chromium driven by Playwright (no `playwright install`: the system
browser is used through ``executable_path``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="pip install playwright (no browser download needed)")
    exe = chromium_path()
    if exe is None:
        pytest.skip("Debian package chromium is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=exe, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()
