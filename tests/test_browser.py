"""The smoke-preset book in a real browser: every page renders, every figure loads, the math is typeset.

Builds the site with ``make book PRESET=smoke BUILD=_build/smoke``, serves it on 127.0.0.1 and drives
headless Chromium through the DevTools protocol (package ``websocket-client``). Skipped only when
Chromium is missing outside CI (``make browser-deps`` installs it); in CI (CI set) it must run.
A screenshot of a notebook page is written to ``_build/smoke/screenshot.png``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build" / "smoke"
HTML = BUILD / "html"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*",
]
PAGE_STATE = """(() => {
  const images = Array.from(document.images);
  return {
    ready: document.readyState,
    title: document.title,
    images: images.length,
    figures: document.querySelectorAll('.cell_output img').length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src),
    math: document.querySelectorAll('span.math, div.math').length,
    typeset: document.querySelectorAll('span.math mjx-container, div.math mjx-container').length,
    errors: document.querySelectorAll('.system-message, .problematic, .output.traceback').length,
    resources: performance.getEntriesByType('resource').map(r => r.name),
  };
})()"""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevTools:
    """A minimal Chrome DevTools protocol client: one browser connection, one page session."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60)
        self.next_id = 0
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:  # skip events until our reply
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def page(self, method: str, **params) -> dict:
        return self.send(method, session=self.session, **params)

    def evaluate(self, expression: str):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: `make browser-deps` must install it")
        pytest.skip("Chromium is not installed (run `make browser-deps`)")
    return path


@pytest.fixture(scope="module")
def site(chromium) -> Path:
    """Build the smoke-preset book (data, notebooks, site) exactly as a user would.

    MUFNO_REUSE_SITE=1 reuses an existing _build/smoke/html (for iterating on this test only).
    """
    if os.environ.get("MUFNO_REUSE_SITE") == "1" and (HTML / "index.html").exists():
        return HTML
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    start = time.perf_counter()
    proc = subprocess.run(["make", "book", "PRESET=smoke", f"BUILD={BUILD}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"make book failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    print(f"smoke book built in {time.perf_counter() - start:.0f} s")
    return HTML


@pytest.fixture(scope="module")
def browser(site, chromium, tmp_path_factory):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ws_url = None
        deadline = time.time() + 60
        while ws_url is None and time.time() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            ws_url = match.group(1) if match else None
        assert ws_url, "Chromium did not start its DevTools server"
        for _ in range(50):  # wait for the HTTP server
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        tools = DevTools(ws_url)
        tools.page("Emulation.setDeviceMetricsOverride", width=1280, height=1400, deviceScaleFactor=1,
                   mobile=False)
        yield tools, f"http://127.0.0.1:{port}"
        tools.close()
    finally:
        proc.terminate()
        server.terminate()
        proc.wait(timeout=30)
        server.wait(timeout=30)


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the book: the chapters of the toc, the index redirect, index and search."""
    pages = [p.relative_to(html).as_posix() for p in html.rglob("*.html")
             if not {"_static", "_sources", "_images"} & set(p.relative_to(html).parts)]
    return sorted(pages)


def load(tools: DevTools, url: str, timeout: float = 30.0) -> dict:
    """Open ``url`` and wait until the page is loaded, its images decoded and its math typeset."""
    tools.page("Page.navigate", url=url)
    time.sleep(0.3)
    deadline = time.time() + timeout
    while True:
        state = tools.evaluate(PAGE_STATE) or {}
        done = (state.get("ready") == "complete" and not state.get("broken")
                and state.get("typeset", 0) >= state.get("math", 0))
        if done or time.time() > deadline:
            return state
        time.sleep(0.25)


def test_site_has_the_toc_pages(site):
    pages = book_pages(site)
    for page in ("book/intro.html", "book/reproduce.html", "book/summary.html", "book/references.html",
                 "notebooks/theory.html", "notebooks/coord_check.html"):
        assert page in pages
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_every_page_renders_with_figures_and_math(site, browser):
    tools, origin = browser
    problems = []
    checked = {}
    for page in book_pages(site):
        state = load(tools, f"{origin}/{page}")
        checked[page] = state
        if state.get("ready") != "complete" or not state.get("title"):
            problems.append(f"{page}: not rendered ({state.get('ready')}, title {state.get('title')!r})")
        if "404" in state.get("title", "") or state.get("errors"):
            problems.append(f"{page}: {state.get('errors')} Sphinx/notebook error element(s)")
        if state.get("broken"):
            problems.append(f"{page}: images not loaded: {state['broken']}")
        if state.get("typeset", 0) < state.get("math", 0):
            missing = state["math"] - state["typeset"]
            problems.append(f"{page}: {missing} of {state['math']} formulas not typeset")
        external = [r for r in state.get("resources", []) if not r.startswith(origin)]
        if external:
            problems.append(f"{page}: loaded from outside the site: {external}")
    assert not problems, "\n".join(problems)
    assert checked["book/intro.html"]["math"] > 5
    for notebook in ("notebooks/theory.html", "notebooks/coord_check.html"):
        assert checked[notebook]["figures"] >= 2, f"{notebook} shows no figures"
        assert checked[notebook]["math"] > 0


def test_screenshot_of_a_notebook_page(site, browser):
    """screenshot.png: the top of the theory chapter; screenshot_figure.png: its first figure."""
    tools, origin = browser
    state = load(tools, f"{origin}/notebooks/theory.html")
    assert state["figures"] > 0
    shot = tools.page("Page.captureScreenshot", format="png")
    (BUILD / "screenshot.png").write_bytes(base64.b64decode(shot["data"]))
    box = tools.evaluate("(() => { const img = document.querySelector('.cell_output img');"
                         " const r = img.getBoundingClientRect();"
                         " return {x: r.left + window.scrollX, y: r.top + window.scrollY,"
                         " width: r.width, height: r.height}; })()")
    assert box["width"] > 100 and box["height"] > 100, f"the first figure is not displayed: {box}"
    figure = tools.page("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                        clip={**box, "scale": 1})
    (BUILD / "screenshot_figure.png").write_bytes(base64.b64decode(figure["data"]))
    for name in ("screenshot.png", "screenshot_figure.png"):
        assert (BUILD / name).stat().st_size > 20_000  # a real rendering, not a blank page
