"""The learning-rate chapters' method prose is written once (book/reading_an_lr_chapter.md) and each
chapter links to it, instead of four notebooks carrying the same paragraphs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "book" / "reading_an_lr_chapter.md"
LR_NOTEBOOKS = ("lr_drift_burgers", "lr_drift_darcy", "lr_drift_navier_stokes", "pino_darcy")


def page_paragraphs() -> list[str]:
    """The page's prose paragraphs of more than 100 characters (headings and labels left out)."""
    blocks = [b.strip() for b in PAGE.read_text(encoding="utf-8").split("\n\n")]
    return [b for b in blocks if len(b) > 100 and not b.startswith(("#", "("))]


def notebook_markdown(name: str) -> str:
    cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_the_page_is_in_the_book_before_the_chapters_it_serves():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert toc.index("book/reading_an_lr_chapter") < min(toc.index(f"notebooks/{n}") for n in LR_NOTEBOOKS)


@pytest.mark.parametrize("name", LR_NOTEBOOKS)
def test_a_chapter_links_every_section_and_copies_no_paragraph(name):
    text = notebook_markdown(name)
    labels = set(re.findall(r"^\(([a-z-]+)\)=$", PAGE.read_text(encoding="utf-8"), flags=re.M))
    assert labels == {"lr-curves", "lr-optima", "lr-exponent", "lr-drift"}
    for label in labels:
        assert f"<{label}>`" in text or f"{{ref}}`{label}`" in text, label
    copied = [p[:60] for p in page_paragraphs() if p in text]
    assert copied == []
