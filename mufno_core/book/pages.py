"""Pages the site build writes from the executed notebooks: the intro's answers (every chapter's
verdict box, one line each, and the exponent figure), the execution statistics, and the chapter's
opening (the verdict first, then a collapsed "Run it yourself" with the parameters).

Nothing here computes a verdict: the lines are the chapters' own boxes
(:class:`~mufno_core.book.answers.Answer`), read back from the executed notebooks, so the intro
cannot say what a chapter does not.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mufno_core.analysis.summary import exponents_of_store, plot_exponent_summary
from mufno_core.book.answers import TITLES

VERDICT_CLASS = "admonition mufno-verdict"
_ATTR = re.compile(r'data-([a-z]+)="([^"]*)"')
_BOX = re.compile(r'<div class="admonition mufno-verdict"[^>]*>')
ANSWERS_MARKER = "<!-- mufno:answers -->"
STATUS_MARKER = "<!-- mufno:execution-statistics -->"
TABLE_MARKER = "<!-- mufno:verdict-table -->"
UNMEASURED = "Measured"
"""The label of a chapter that measures without a pass/fail verdict (coord check, √log K, calibrated)."""


@dataclass(frozen=True)
class Box:
    """A verdict box found in an executed chapter: its notebook, the box's HTML and attributes."""

    notebook: str
    html: str
    attrs: dict

    @property
    def label(self) -> str:
        return html.unescape(self.attrs.get("verdict", ""))

    @property
    def title(self) -> str:
        return html.unescape(self.attrs.get("title", ""))

    @property
    def measured(self) -> str:
        return html.unescape(self.attrs.get("measured", ""))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def verdict_boxes(notebook: dict, name: str) -> list[Box]:
    """The verdict boxes among a notebook's outputs, in order (each HTML once)."""
    found: list[Box] = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            text = _text(output.get("data", {}).get("text/html", ""))
            for part in re.split(r'(?=<div class="admonition mufno-verdict")', text):
                match = _BOX.match(part)
                if match and all(b.html != part for b in found):
                    found.append(Box(name, part.strip(), dict(_ATTR.findall(match.group(0)))))
    return found


def answers_markdown(boxes: list[Box], preset: str, results: str) -> str:
    """The intro's answer: one line per verdict box, linked to its chapter."""
    judged = [b for b in boxes if b.label != UNMEASURED]
    measured = [b for b in boxes if b.label == UNMEASURED]
    lines = []
    for b in judged:
        numbers = f" {b.measured}." if b.measured else ""
        lines.append(f"- {_span(b)} {{doc}}`{b.title} </notebooks/{b.notebook}>`.{numbers}")
    if measured:
        links = ", ".join(f"{{doc}}`{b.title} </notebooks/{b.notebook}>`" for b in measured)
        lines += ["", f"Measured without a pass/fail verdict: {links}."]
    lines += ["", f"Computed while this page was built, from the results store `{results}` at the "
                  f"**{preset}** preset; each chapter opens with its verdict and the evidence."]
    return "\n".join(lines)


def _span(box: Box) -> str:
    return (f"<span class=\"mufno-answer\" data-experiment=\"{box.attrs.get('experiment', '')}\" "
            f"data-verdict=\"{html.escape(box.label)}\">{html.escape(box.label)}</span>")


def verdict_table(boxes: list[Box]) -> str:
    """Every chapter's verdict and numbers as one Markdown table (the Guide's)."""
    lines = ["| chapter | verdict | measured |", "|---|---|---|"]
    for b in boxes:
        measured = b.measured.replace("|", "\\|") or "see the chapter"
        lines.append(f"| {{doc}}`{b.title} </notebooks/{b.notebook}>` | {_span(b)} | {measured} |")
    return "\n".join(lines)


def figure_markdown(svg: str, caption: str, name: str = "fig-exponents") -> str:
    """A numbered MyST figure."""
    return "\n".join([f":::{{figure}} {svg}", f":name: {name}", ":width: 100%",
                      ":alt: the exponent of the optimal learning rate over K, per experiment", "",
                      caption, ":::"])


def exponent_figure(out: Path, results: str, preset: str) -> str | None:
    """Draw the summary's exponent figure from the store into ``out`` (SVG); its caption (None
    when the store holds no LR experiment with a located exponent)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exponents = exponents_of_store(results, preset)
    if "edge" in exponents:  # an exponent on an optimum at the grid's edge is not located: not drawn
        exponents = exponents[~exponents["edge"].astype(bool)]
    n = exponents["experiment"].nunique()
    if not n:
        return None
    fig, ax = plt.subplots(figsize=(6.0, 2.2 + 0.6 * n), constrained_layout=True)
    plot_exponent_summary(exponents, ax=ax)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="svg", bbox_inches="tight")
    plt.close(fig)
    return (f"The exponent α of the optimal learning rate, η*(K) ∝ (log K)^α, for every learning-rate "
            f"experiment: measured with its 95% seed-bootstrap interval (dots), the theory's "
            f"values (dashed: −½ for SP, 0 for μP) and the paper's (crosses). Drawn while this page "
            f"was built from the results store {results}, preset {preset} "
            f"({n} experiments; the numbers are in the summary chapter).")


def run_parameters(notebook: dict) -> dict:
    """The parameters papermill ran a notebook with (its metadata)."""
    return dict(notebook.get("metadata", {}).get("papermill", {}).get("parameters", {}) or {})


def execution_row(notebook: dict, name: str) -> dict:
    """One notebook's run: its start, duration and preset from papermill's metadata."""
    meta = notebook.get("metadata", {}).get("papermill", {})
    start, duration = meta.get("start_time"), meta.get("duration")
    when = datetime.fromisoformat(start).strftime("%Y-%m-%d %H:%M UTC") if start else "—"
    return {"notebook": name, "start": when, "seconds": duration,
            "preset": run_parameters(notebook).get("preset", "—"),
            "status": "failed" if meta.get("exception") else "ok"}


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def execution_statistics(rows: list[dict]) -> str:
    """The execution-statistics table (Markdown), one row per notebook, and the total."""
    lines = ["| chapter | preset | run time | started | status |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {{doc}}`/notebooks/{r['notebook']}` | {r['preset']} | {_duration(r['seconds'])} "
                     f"| {r['start']} | {r['status']} |")
    total = sum(r["seconds"] or 0 for r in rows)
    lines += ["", f"Total: {_duration(total)} for {len(rows)} notebooks, read from the metadata papermill "
                  "wrote into each executed notebook (`metadata.papermill.duration`)."]
    return "\n".join(lines)


def run_block(note: str, parameters: str) -> str:
    """The "Run it yourself" note, collapsed, with the parameters cell's source inside it."""
    lines = note.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(":class:"):
            lines[i] = line + " dropdown"
            break
    else:
        lines.insert(1, ":class: dropdown")
    if parameters.strip():
        body = ["", "The parameters of this page's run (`-p NAME VALUE` changes one):", "",
                "```python", parameters.rstrip(), "```"]
        closing = max(i for i, line in enumerate(lines) if line.strip() == ":::")
        lines[closing:closing] = body
    return "\n".join(lines)


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- one truth: what the built pages and the README say --------------------------------------------
_SPAN = re.compile(r'data-experiment="([^"]+)"\s+data-verdict="([^"]*)"')
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL)
DIRECTIONS = {"over-correct": "up", "overshoot": "up", "under-correct": "down"}
EXPERIMENT_NAMES = (("PINO", "pino_darcy"), ("Navier–Stokes", "navier_stokes_lr"),
                    ("Burgers", "burgers_lr"), ("Darcy", "darcy_lr"))
"""Names prose uses for the LR experiments (PINO first: "PINO Darcy" is PINO's)."""


def page_verdicts(html_dir: str | Path) -> dict[str, dict[str, set[str]]]:
    """Every page's verdict labels per experiment (boxes and answer lines): page → experiment → labels."""
    found: dict[str, dict[str, set[str]]] = {}
    root = Path(html_dir)
    for page in sorted(root.rglob("*.html")):
        for experiment, label in _SPAN.findall(page.read_text(encoding="utf-8")):
            found.setdefault(str(page.relative_to(root)), {}).setdefault(experiment, set()).add(
                html.unescape(label))
    return found


def readme_verdicts(text: str) -> dict[str, str]:
    """The README table's verdict label per experiment title (bold at the start of the last cell)."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        match = re.match(r"\*\*(.+?)\*\*", cells[-1]) if len(cells) >= 2 else None
        if match:
            out[cells[0]] = match.group(1)
    return out


def page_text(path: Path) -> str:
    """The readable text of an HTML page (tags, scripts and styles removed)."""
    return html.unescape(_TAGS.sub(" ", path.read_text(encoding="utf-8")))


def direction_claims(text: str) -> list[tuple[str, str, str]]:
    """(experiment, direction, sentence) for every sentence that says μP over- or under-corrects on
    a named LR experiment ("over-corrects on Burgers and PINO and under-corrects on Navier–Stokes")."""
    claims = []
    for sentence in re.split(r"(?<=[.;])\s+", " ".join(text.split())):
        keys = [(m.start(), DIRECTIONS[m.group(1).lower()]) for m in
                re.finditer(r"(over-correct|overshoot|under-correct)", sentence, re.IGNORECASE)]
        for i, (start, direction) in enumerate(keys):
            end = keys[i + 1][0] if i + 1 < len(keys) else len(sentence)
            segment = sentence[start:end]
            for name, experiment in EXPERIMENT_NAMES:
                if name in segment:
                    claims.append((experiment, direction, sentence))
                    segment = segment.replace(name, "")
    return claims


def disagreements(html_dir: str | Path, readme: str | None = None) -> list[str]:
    """Where the built site (and the README, when the site was built at the README's preset) disagree:
    an experiment with two verdict labels across pages, a README label that is not the site's, or a
    sentence that says μP over-/under-corrects where the experiment's computed direction is other."""
    pages_found = page_verdicts(html_dir)
    labels: dict[str, dict[str, str]] = {}
    for page, experiments in pages_found.items():
        for experiment, found in experiments.items():
            for label in found:
                labels.setdefault(experiment, {}).setdefault(label, page)
    problems = [f"{experiment}: {' / '.join(f'{lab!r} on {page}' for lab, page in by.items())}"
                for experiment, by in labels.items() if len(by) > 1]
    root = Path(html_dir)
    direction: dict[str, str] = {}
    presets: set[str] = set()
    for page in root.rglob("*.html"):
        text = page.read_text("utf-8")
        direction.update(re.findall(r'data-experiment="([^"]+)"[^>]*data-mup="([^"]*)"', text))
        presets.update(re.findall(r'data-preset="([^"]+)"', text))
    for page in sorted(root.rglob("*.html")):
        for experiment, said, sentence in direction_claims(page_text(page)):
            if experiment in direction and direction[experiment] != said:
                problems.append(f"{page.relative_to(root)}: says μP's optimum goes {said} for {experiment}, "
                                f"its verdict says {direction[experiment] or 'nothing'}: {sentence[:160]}")
    if readme is not None:
        by_title = {title: key for key, title in TITLES.items()}
        for title, label in readme_verdicts(readme).items():
            key = by_title.get(title)
            site = set(labels.get(key, {}))
            if key and site and label not in site and presets <= {"quick"}:
                problems.append(f"README: {title} is {label!r}, the site says {sorted(site)}")
        for experiment, said, sentence in direction_claims(readme):
            if experiment in direction and direction[experiment] != said:
                problems.append(f"README: says μP's optimum goes {said} for {experiment}: {sentence[:160]}")
    return problems
