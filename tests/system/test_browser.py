"""The smoke-preset book in a real browser: every page renders, every figure loads, the math is typeset,
no page links to or installs from an address the project has not configured, every output fits the
page column (or scrolls inside it with a visible scrollbar), every result page names its source, and
the summary leads with its exponent figure.

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
import tempfile
import time
from html import unescape
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
INSTALL_FROM_ADDRESS = re.compile(r"git\+(?:https?|ssh|git)://|pip install[^\n<]*https?://")
PLACEHOLDER = re.compile(r"github\.com/mufno|example\.(?:com|org)/|your[-_ ]?(?:org|fork|user)|<your",
                         re.IGNORECASE)
NO_TRIAL_RECORDS = {"notebooks/theory.html", "notebooks/coord_check.html"}
"""Chapters whose figures are not read from trial records (theory curves, the coord check's own
measurement): the provenance test does not ask them for a "Source:" line."""
BUILD = Path(os.environ.get("MUFNO_SMOKE_BUILD", ROOT / "_build" / "smoke"))
"""Where the smoke book is built (MUFNO_SMOKE_BUILD: another folder, e.g. with MUFNO_REUSE_SITE=1)."""
HTML = BUILD / "html"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--remote-allow-origins=*",
]
PAGE_STATE = """(() => {
  const images = Array.from(document.images);
  return {
    fresh: window.__mufnoPrevious === undefined,
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

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=await_promise)
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


def committed_stores() -> dict[str, tuple[int, int]]:
    """Every file of the committed results stores (results/, reruns aside): size and mtime."""
    return {p.relative_to(ROOT).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in (ROOT / "results").rglob("*")
            if p.is_file() and not p.relative_to(ROOT / "results").parts[0].startswith("rerun-")}


STORES_BEFORE_BUILD: dict[str, tuple[int, int]] = {}
"""The committed stores as the site fixture found them before `make book` (empty: site reused)."""


@pytest.fixture(scope="module")
def site(chromium, module_processes) -> Path:
    """Build the smoke-preset book (data, notebooks, site) exactly as a user would.

    MUFNO_REUSE_SITE=1 reuses an existing _build/smoke/html (for iterating on this test only).
    """
    if os.environ.get("MUFNO_REUSE_SITE") == "1" and (HTML / "index.html").exists():
        return HTML
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    STORES_BEFORE_BUILD.update(committed_stores())
    start = time.perf_counter()
    proc = module_processes.run(["make", "book", "PRESET=smoke", f"BUILD={BUILD}"], cwd=ROOT,
                                env=env, timeout=900)
    assert proc.returncode == 0, f"make book failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    print(f"smoke book built in {time.perf_counter() - start:.0f} s")
    return HTML


def test_building_the_book_trains_and_writes_nothing_in_the_committed_stores(site):
    """Every trial, study and table the smoke book reads is committed: `make book` in a fresh
    clone leaves `git status` clean (a study added without its toy records wrote 40 of them)."""
    if not STORES_BEFORE_BUILD:
        pytest.skip("the site was reused, not built")
    now = committed_stores()
    added = sorted(set(now) - set(STORES_BEFORE_BUILD))
    changed = sorted(p for p in set(now) & set(STORES_BEFORE_BUILD) if now[p] != STORES_BEFORE_BUILD[p])
    assert not added and not changed, (f"{len(added)} added, e.g. {added[:3]}; "
                                       f"{len(changed)} changed, e.g. {changed[:3]}")


CHROMIUM_TMP: dict = {}
"""The TMPDIR the browser fixture gives Chromium and when it started it."""


@pytest.fixture(scope="module")
def browser(site, chromium, tmp_path_factory, module_processes):
    port = free_port()
    server = module_processes.start([sys.executable, "-m", "http.server", str(port), "--bind",
                                     "127.0.0.1", "--directory", str(site)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profile = tmp_path_factory.mktemp("chromium-profile")
    # its own TMPDIR too: Chromium leaves an org.chromium.Chromium.* folder there at every run
    scratch = tmp_path_factory.mktemp("chromium-tmp")
    CHROMIUM_TMP.update(folder=scratch, started=time.time())
    proc = module_processes.start([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                   "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True, env={**os.environ, "TMPDIR": str(scratch)})
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
        tools.page("Emulation.setDeviceMetricsOverride", **DESKTOP)
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
    """Open ``url`` and wait until the page (or the page it redirects to) is loaded and titled, its
    images decoded and its math typeset."""
    tools.evaluate("window.__mufnoPrevious = true")  # gone once the new document is there
    tools.page("Page.navigate", url=url)
    deadline = time.time() + timeout
    while True:
        state = tools.evaluate(PAGE_STATE) or {}
        done = (state.get("fresh") and state.get("ready") == "complete" and state.get("title")
                and not state.get("broken") and state.get("typeset", 0) >= state.get("math", 0))
        if done or time.time() > deadline:
            return state
        time.sleep(0.05)


DESKTOP = {"width": 1280, "height": 1400, "deviceScaleFactor": 1, "mobile": False}


def on_a_phone(tools: DevTools) -> dict:
    """The loaded page measured on a 390 px phone screen (:data:`PAGE_WIDTH`): the viewport is
    switched under it, as turning a phone re-lays a page out without reloading it, and back."""
    tools.page("Emulation.setDeviceMetricsOverride", width=PHONE, height=844, deviceScaleFactor=1,
               mobile=True)
    try:
        tools.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
                       await_promise=True)
        return tools.evaluate(PAGE_WIDTH)
    finally:
        tools.page("Emulation.setDeviceMetricsOverride", **DESKTOP)


@pytest.fixture(scope="module")
def rendered(site, browser) -> dict[str, dict]:
    """Every page loaded once, with what each test below reads from it: the page state, the output
    widths, the "Source:" lines, the figure scales, the first figure of the article, and how wide
    the page is on a phone with every display equation that sticks out or is cut there. (One load
    per page: a second pass at 390 px cost Chromium about 10 s of CPU, typesetting every page's
    math again.)"""
    tools, origin = browser
    pages = {}
    for page in book_pages(site):
        pages[page] = {"state": load(tools, f"{origin}/{page}"),
                       "widths": tools.evaluate(OUTPUT_WIDTHS),
                       "sources": tools.evaluate(SOURCE_LINES),
                       "scales": tools.evaluate(FIGURE_SCALES),
                       "lead": tools.evaluate(LEAD_FIGURE),
                       "outputs": tools.evaluate(OUTPUT_TEXTS),
                       "phone": on_a_phone(tools)}
    return pages


def test_site_has_the_toc_pages(site):
    pages = book_pages(site)
    for page in ("book/intro.html", "book/reproduce.html", "book/summary.html", "book/references.html",
                 "notebooks/theory.html", "notebooks/coord_check.html"):
        assert page in pages
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()


def test_every_page_renders_with_figures_and_math(rendered, browser):
    _, origin = browser
    problems = []
    checked = {page: seen["state"] for page, seen in rendered.items()}
    for page, state in checked.items():
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
    first_figure = "document.querySelector('.cell_output img')"
    deadline = time.monotonic() + 30
    while not tools.evaluate(f"{first_figure}.complete && {first_figure}.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the first figure never loaded"
        time.sleep(0.1)
    box = tools.evaluate(f"(() => {{ const r = {first_figure}.getBoundingClientRect();"
                         " return {x: r.left + window.scrollX, y: r.top + window.scrollY,"
                         " width: r.width, height: r.height}; })()")
    assert box["width"] > 100 and box["height"] > 100, f"the first figure is not displayed: {box}"
    for _ in range(10):  # on a busy machine a capture can come before the figure is painted
        tools.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
                       await_promise=True)
        figure = base64.b64decode(tools.page("Page.captureScreenshot", format="png",
                                             captureBeyondViewport=True,
                                             clip={**box, "scale": 1})["data"])
        if len(figure) > 20_000:
            break
        time.sleep(0.5)
    (BUILD / "screenshot_figure.png").write_bytes(figure)
    for name in ("screenshot.png", "screenshot_figure.png"):
        assert (BUILD / name).stat().st_size > 20_000  # a real rendering, not a blank page


def notebook_pages(html: Path) -> list[str]:
    return [p for p in book_pages(html) if p.startswith("notebooks/")]


def repository_configured() -> bool:
    import yaml

    from mufno_core.book.launch import Repository

    with open(ROOT / "_config.yml", encoding="utf-8") as f:
        return Repository.from_config(yaml.safe_load(f) or {}).configured


def test_no_page_links_to_or_installs_from_an_unconfigured_address(site):
    """Pages and the notebooks they offer for download: no placeholder address, no external script or
    stylesheet, and, with ``repository.url`` unset, no launch or repository button and no install."""
    from html.parser import HTMLParser

    class Refs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.external, self.links = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "script" and re.match(r"(https?:)?//", attrs.get("src") or ""):
                self.external.append(f"<script src={attrs['src']}>")
            if tag == "link" and re.match(r"(https?:)?//", attrs.get("href") or ""):
                self.external.append(f"<link href={attrs['href']}>")
            if tag == "a" and attrs.get("href"):
                self.links.append((attrs["href"], attrs.get("class") or ""))

    configured = repository_configured()
    problems = []
    for page in book_pages(site):
        text = (site / page).read_text(encoding="utf-8")
        if PLACEHOLDER.search(text):
            problems.append(f"{page}: placeholder address {PLACEHOLDER.search(text).group(0)!r}")
        refs = Refs()
        refs.feed(text)
        problems += [f"{page}: external {ref}" for ref in refs.external]
        if not configured:
            launch = [h for h, cls in refs.links if re.search(r"mybinder|colab\.research", h)
                      or ("btn" in cls and re.search(r"github|gitlab|bitbucket", h))]
            if launch:
                problems.append(f"{page}: launch/repository links without repository.url: {launch}")
            if INSTALL_FROM_ADDRESS.search(unescape(re.sub(r"<[^>]+>", "", text))):
                problems.append(f"{page}: an install without repository.url")
    downloads = sorted((site / "_sources").rglob("*.ipynb"))
    assert downloads, "no downloadable notebooks in _sources"
    for path in downloads:
        text = path.read_text(encoding="utf-8")
        if PLACEHOLDER.search(text) or (not configured and INSTALL_FROM_ADDRESS.search(text)):
            problems.append(f"download {path.relative_to(site)}: installs or names an unconfigured address")
    assert not problems, "\n".join(problems)


def test_every_chapter_offers_the_offline_rerun(site):
    """With or without a repository: the download button and the one command that reruns the chapter."""
    problems = []
    for page in notebook_pages(site):
        name = Path(page).stem
        text = (site / page).read_text(encoding="utf-8")
        words = unescape(re.sub(r"<[^>]+>", "", text))
        if f"../_sources/notebooks/{name}.ipynb" not in text:
            problems.append(f"{page}: no download button for the notebook")
        if f".venv/bin/papermill notebooks/{name}.ipynb out.ipynb -k mufno -p preset quick" not in words:
            problems.append(f"{page}: no 'Run it yourself' command")
    assert not problems, "\n".join(problems)


OUTPUT_WIDTHS = """(() => {
  const column = document.querySelector('article.bd-article');
  if (!column) return null;  // the index redirect
  const box = column.getBoundingClientRect();
  const width = column.clientWidth;
  const describe = el => (el.tagName.toLowerCase() + '.' + (el.className || '').toString().split(' ')[0]
                          + ' "' + (el.innerText || el.alt || '').trim().slice(0, 50) + '"');
  const bad = [];
  let checked = 0;
  for (const el of column.querySelectorAll('table, pre, .cell_output .output, .cell_output img')) {
    if (!el.offsetParent) continue;  // hidden (a folded cell)
    checked += 1;
    const r = el.getBoundingClientRect();
    if (el.scrollWidth <= width + 1 && r.right <= box.right + 1) continue;
    let cue = false;  // an ancestor (or the element) scrolls inside the column and shows a scrollbar
    for (let a = el; a && a !== column; a = a.parentElement) {
      const s = getComputedStyle(a);
      const ar = a.getBoundingClientRect();
      if (['auto', 'scroll'].includes(s.overflowX) && ar.right <= box.right + 1
          && a.clientWidth <= width + 1 && a.offsetHeight - a.clientHeight - parseFloat(s.borderTopWidth)
             - parseFloat(s.borderBottomWidth) > 0) { cue = true; break; }
    }
    if (!cue) bad.push(`${describe(el)}: ${el.scrollWidth}px in a ${width}px column`);
  }
  return {width, checked, bad};
})()"""


def test_outputs_fit_the_content_column(rendered):
    """At 1280 px: no table, pre or output is wider than the article column, unless it scrolls inside
    it with a visible scrollbar (the cue that there is more)."""
    problems, checked = [], 0
    for page, seen in rendered.items():
        result = seen["widths"]
        if result is None:
            continue
        assert result["width"] > 500, f"{page}: the content column is {result['width']} px wide"
        checked += result["checked"]
        problems += [f"{page}: {b}" for b in result["bad"]]
    assert checked > 50
    assert not problems, "\n".join(problems)


SOURCE_LINES = """(() => {
  const column = document.querySelector('article.bd-article');
  return column ? column.innerText.split('\\n').map(l => l.trim()).filter(l => l.startsWith('Source:'))
                : [];
})()"""


def test_result_figures_carry_their_source(site, rendered):
    """Every chapter page that shows a figure read from trial records has a line "Source: ..." (the
    provenance of :func:`mufno_core.provenance.provenance_line`) in its text, not only in an image."""
    missing, with_figures = [], 0
    for page in notebook_pages(site):
        if page in NO_TRIAL_RECORDS or not rendered[page]["state"].get("figures"):
            continue
        with_figures += 1
        if not rendered[page]["sources"]:
            missing.append(page)
    assert with_figures >= 3
    assert not missing, f"result figures without a 'Source:' line: {missing}"


LEAD_FIGURE = """(() => {
  const img = document.querySelector('article.bd-article .cell_output img');
  if (!img) return null;
  const cell = img.closest('.cell') || img.parentElement;
  const around = [img.alt || '', img.title || ''];
  const fig = img.closest('figure');
  if (fig && fig.querySelector('figcaption')) around.push(fig.querySelector('figcaption').innerText);
  around.push(cell.innerText);
  let prev = cell.previousElementSibling;
  for (let i = 0; prev && i < 3; i += 1, prev = prev.previousElementSibling) around.push(prev.innerText);
  if (cell.nextElementSibling) around.push(cell.nextElementSibling.innerText);
  const r = img.getBoundingClientRect();
  return {text: around.join(' '), width: r.width, height: r.height, top: r.top + window.scrollY,
          figures: document.querySelectorAll('article.bd-article .cell_output img').length};
})()"""


def test_summary_leads_with_the_exponent_figure(rendered):
    """The summary's first figure is the answer at a glance: its alt text or caption, or the text
    around it, names the exponent."""
    source = (ROOT / "notebooks" / "summary.ipynb").read_text(encoding="utf-8")
    if "exponent" not in source.lower():
        pytest.skip("notebooks/summary.ipynb has no exponent figure yet (issue 13, item 2)")
    lead = rendered["notebooks/summary.html"]["lead"]
    assert lead, "the summary page shows no figure"
    assert lead["width"] > 300 and lead["height"] > 150, f"the lead figure is not displayed: {lead}"
    assert "exponent" in lead["text"].lower(), (
        f"the summary's first figure is not captioned as the exponent figure: {lead['text'][:300]!r}")


FIGURE_SCALES = """Array.from(document.querySelectorAll('article.bd-article .cell_output img'))
  .filter(i => i.offsetParent && i.naturalWidth > 0)
  .map(i => ({src: i.src.split('/').pop().slice(0, 12),
               scale: i.getBoundingClientRect().width / i.naturalWidth}))"""


def test_figures_are_readable_at_page_width(site, rendered):
    """A figure drawn much wider than the column is shrunk, and its legend and labels with it: at
    1280 px every figure is shown at 70% of its drawn size or more."""
    shrunk = []
    for page in notebook_pages(site):
        shrunk += [f"{page}: {f['src']} shown at {f['scale']:.0%}" for f in rendered[page]["scales"]
                   if f["scale"] < 0.7]
    assert not shrunk, "figures shrunk below 70% of their size:\n" + "\n".join(shrunk)


PHONE = 390
PAGE_WIDTH = """(() => {
  const doc = document.documentElement;
  const screen = 390;  // a mobile viewport widens to its content: compare with the screen
  const describe = el => el.tagName.toLowerCase() + '.' + (el.className || '').toString().split(' ')[0]
                         + ' "' + (el.innerText || '').trim().slice(0, 60) + '"';
  const equations = [];
  for (const el of document.querySelectorAll('mjx-container[display="true"]')) {
    const r = el.getBoundingClientRect();
    const box = el.closest('div.math') || el;
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
                    || ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    if (r.right > screen + 1 || (el.scrollWidth > el.clientWidth + 1 && !scrolls))
      equations.push(describe(el));
  }
  const wide = [];
  if (Math.max(doc.scrollWidth, window.innerWidth) > screen + 1)
    for (const el of document.querySelectorAll('article *'))
      if (el.getBoundingClientRect().right > screen + 1 && el.children.length === 0 && el.offsetParent
          && !el.closest('pre, .table-wrapper, .cell_output .output'))
        wide.push(describe(el));
  return {page: Math.max(doc.scrollWidth, window.innerWidth), viewport: screen, equations,
          wide: wide.slice(0, 3)};
})()"""


def test_no_page_scrolls_sideways_on_a_phone(rendered):
    """At 390 px no page is wider than the screen (a long inline code span wraps), and every display
    equation fits or scrolls inside its own box."""
    problems = []
    for page, seen in rendered.items():
        width = seen["phone"]
        if width["page"] > width["viewport"] + 1:
            problems.append(f"{page}: {width['page']} px wide on a {width['viewport']} px screen: "
                            f"{width['wide']}")
        problems += [f"{page}: equation cut or outside the screen: {e}" for e in width["equations"]]
    assert not problems, "\n".join(problems)


OUTPUT_TEXTS = """Array.from(document.querySelectorAll('article.bd-article .cell_output'))
  .filter(o => o.offsetParent).map(o => o.innerText)"""
RAW_OUTPUT = {
    "a raw nan": re.compile(r"(?<![\w.])[+-]?nan\b", re.IGNORECASE),
    "a pandas dtype line": re.compile(r"dtype: \w+"),
    "a printed dict": re.compile(r"\{'[^']*': "),
    "an enum-style name": re.compile(r"\((?:MUP|SP|CAL)\)"),
    "a float printed with 6 decimals": re.compile(r"\b\d+\.\d{6}\b"),
    "a dirty code id": re.compile(r"\+dirty"),
    "a printed verdict": re.compile(r"^Verdict:", re.MULTILINE),
    "an object's repr": re.compile(r"<[\w.]+ object( at 0x[0-9a-f]+)?>"),
}


def test_no_raw_output_in_the_book(rendered):
    """What a notebook prints reaches the reader as words and tables: no nan, dict, dtype line,
    '(MUP)', 0.783000 or +dirty, and no verdict as print output (a verdict is a box)."""
    problems = []
    for page, seen in rendered.items():
        for text in seen["outputs"] or []:
            for what, pattern in RAW_OUTPUT.items():
                match = pattern.search(text)
                if match:
                    start = max(match.start() - 40, 0)
                    problems.append(f"{page}: {what}: ...{text[start:match.end() + 40]!r}")
    assert not problems, "\n".join(problems[:40])


def test_every_page_and_the_readme_agree(site):
    """One truth: one verdict per experiment on every page (chapter boxes, intro, Guide), no sentence
    that says μP over- or under-corrects where the verdict says otherwise, the README's table (checked
    against a site of its preset), and the README's computation from the same store as the site."""
    from mufno_core.book.answers import store_answers
    from mufno_core.book.pages import disagreements, page_verdicts

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not disagreements(site, readme), "\n".join(disagreements(site, readme))
    found = page_verdicts(site)
    intro = found.get("book/intro.html", {})
    chapters = {e: labels for page, by in found.items() if page.startswith("notebooks/")
                for e, labels in by.items()}
    assert len(intro) >= 6 and set(intro) <= set(chapters), (sorted(intro), sorted(chapters))
    computed = {a.key: a.label for a in store_answers(str(ROOT / "results" / "smoke"), "smoke")}
    assert computed and all(chapters[k] == {label} for k, label in computed.items()), (computed, chapters)


def test_chromium_leaves_nothing_in_the_system_temporary_folder(browser):
    """Chromium's singleton folder (it outlives a terminated Chromium) goes to the test's own
    temporary folder: 93 of them had piled up in /tmp."""
    assert list(CHROMIUM_TMP["folder"].glob("org.chromium.Chromium.*"))
    stray = [p for p in Path(tempfile.gettempdir()).glob("org.chromium.Chromium.*")
             if p.stat().st_mtime >= CHROMIUM_TMP["started"] - 1]
    assert not stray, stray

