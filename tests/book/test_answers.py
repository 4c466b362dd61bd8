"""One truth: the README's results table is the one computed from the committed store, the verdict
boxes carry what the intro and the agreement check read, and the checker finds disagreements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mufno_core.analysis.verdicts import Verdict
from mufno_core.book import answers, pages, readme

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_table_is_the_one_computed_from_the_committed_store():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    fresh = answers.replace_between(text, answers.readme_table(str(ROOT / "results" / "quick"), "quick"))
    assert fresh == text, ("README's results table is stale: "
                           "python -m mufno_core.book.readme --write README.md")


def test_the_readme_training_length_findings_are_computed_from_the_study_store():
    from mufno_core.book.horizons_chapter import readme_findings

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    findings = readme_findings(str(ROOT / "results" / "study"))
    assert "weight decay's optimum" in findings and "nan" not in findings
    fresh = answers.replace_between(text, findings, readme.HORIZONS_START, readme.HORIZONS_END)
    assert fresh == text, ("README's training-length findings are stale: "
                           "python -m mufno_core.book.readme --write README.md")


def test_a_stale_readme_table_is_found(tmp_path):
    readme_file = tmp_path / "README.md"
    table = ("| experiment | SP | μP | cal | verdict |\n|---|---|---|---|---|\n"
             "| x | 1 | 2 | — | **Reproduced**: typed |")
    readme_file.write_text(f"top\n{answers.README_START}\n{table}\n{answers.README_END}\nend\n",
                           encoding="utf-8")
    assert readme.main(["--results", str(ROOT / "results" / "quick"), "--check", str(readme_file)]) == 1


def _exponent(alpha, low, high, edge=False):
    return pd.DataFrame([{"parametrization": p, "alpha": a, "alpha_low": lo, "alpha_high": hi,
                          "edge": edge, "edge_ks": (), "no_evidence": ()}
                         for p, (a, lo, hi) in {"sp": (-0.5, -0.7, -0.3), "mup": (alpha, low, high)}.items()])


def test_an_lr_answer_says_where_mup_goes():
    up = answers.lr_answer("darcy_lr", _exponent(0.5, 0.3, 0.7), "quick")
    flat = answers.lr_answer("darcy_lr", _exponent(0.0, -0.3, 0.3), "quick")
    assert (up.mup, flat.mup, flat.label) == ("up", "holds", "Reproduced")
    assert 'data-experiment="darcy_lr"' in flat.html() and 'data-verdict="Reproduced"' in flat.html()
    assert "−0.50 [−0.70, −0.30]" in flat.measured


def test_an_optimum_on_the_edge_is_not_located_and_shows_no_exponent():
    edge = answers.lr_answer("darcy_lr", _exponent(0.0, -0.3, 0.3, edge=True), "quick")
    assert edge.mup == "not located" and "α =" not in edge.measured and edge.label == "No verdict"


def _notebook(box_html: str, duration: float = 12.5) -> dict:
    return {"metadata": {"papermill": {"duration": duration, "start_time": "2026-12-04T05:00:00",
                                       "parameters": {"preset": "smoke", "results_dir": "results/smoke"}}},
            "cells": [{"cell_type": "code", "outputs": [{"data": {"text/html": box_html}}]}]}


def test_the_intro_lines_are_the_chapters_boxes():
    box = answers.Answer("darcy_lr", "Darcy: LR", Verdict("Reproduced", "Reproduced: yes."), "smoke",
                         "SP α = −0.5")
    found = pages.verdict_boxes(_notebook(box.html()), "lr_drift_darcy")
    assert [(b.label, b.title, b.measured) for b in found] == [("Reproduced", "Darcy: LR", "SP α = −0.5")]
    text = pages.answers_markdown(found, "smoke", "results/smoke")
    assert 'data-verdict="Reproduced"' in text and "</notebooks/lr_drift_darcy>" in text


def test_the_execution_statistics_come_from_papermill_metadata():
    table = pages.execution_statistics([pages.execution_row(_notebook(""), "theory")])
    assert "| {doc}`/notebooks/theory` | smoke | 12 s | 2026-12-04 05:00 UTC | ok |" in table


def test_the_run_note_is_collapsed_and_holds_the_parameters():
    note = ":::{admonition} Run it yourself\n:class: tip\ntext\n:::"
    block = pages.run_block(note, 'preset: str = "smoke"')
    assert ":class: tip dropdown" in block and 'preset: str = "smoke"' in block and block.endswith(":::")


@pytest.mark.parametrize("sentence, claims", [
    ("μP over-corrects on Burgers and PINO and under-corrects on Navier–Stokes.",
     {("burgers_lr", "up"), ("pino_darcy", "up"), ("navier_stokes_lr", "down")}),
    ("Nothing is said about Darcy here.", set()),
])
def test_direction_claims_are_read_from_prose(sentence, claims):
    assert {(e, d) for e, d, _ in pages.direction_claims(sentence)} == claims


def test_disagreeing_pages_are_found(tmp_path):
    box = answers.lr_answer("burgers_lr", _exponent(0.0, -0.3, 0.3), "quick").html()
    (tmp_path / "a.html").write_text(box + "<p>μP over-corrects on Burgers.</p>", encoding="utf-8")
    (tmp_path / "b.html").write_text('<span data-experiment="burgers_lr" data-verdict="Borderline">x</span>',
                                     encoding="utf-8")
    readme = "| Burgers (FNO-1D): learning rate over K | a | b | c | **Partly reproduced**: typed |"
    problems = pages.disagreements(tmp_path, readme)
    assert any("'Reproduced' on a.html" in p and "'Borderline' on b.html" in p for p in problems)
    assert any("goes up for burgers_lr" in p for p in problems)
    assert any(p.startswith("README: Burgers") for p in problems)
    (tmp_path / "b.html").unlink()
    (tmp_path / "a.html").write_text(box, encoding="utf-8")
    assert pages.disagreements(tmp_path, "") == []


def test_a_figure_caption_is_readable_text():
    from mufno_core.book.chapter import caption_html

    text = caption_html("Source: 12 trials, code abc123+dirty; Source: 3 checks")
    assert text.startswith('<p class="mufno-caption">') and "<br>" in text and "+dirty" not in text


def test_the_exponent_figure_draws_only_located_exponents(tmp_path):
    svg = tmp_path / "exponents.svg"
    assert pages.exponent_figure(svg, str(ROOT / "results" / "smoke"), "smoke") is None  # all on the edge
    caption = pages.exponent_figure(svg, str(ROOT / "results" / "quick"), "quick")
    assert caption.startswith("The exponent α") and svg.read_text().lstrip().startswith("<?xml")
