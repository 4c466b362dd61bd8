"""The book pipeline: the toc is the one notebook list; data declared in notebook metadata; staging;
the time estimate printed before the notebooks run (book.forecast_notebooks)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mufno_core.book import build as book
from mufno_core.book.build import (
    assemble_source,
    datasets_needed,
    declared_parameters,
    ensure_datasets,
    forecast_notebooks,
    notebook_sweeps,
    toc_notebooks,
)
from mufno_core.sweep import run_sweep

TOC = """format: jb-book
root: book/intro
parts:
  - caption: A
    chapters:
      - file: book/reproduce
      - file: notebooks/second
        sections:
          - file: notebooks/nested
  - caption: B
    chapters:
      - file: notebooks/first
"""


def write_notebook(path, datasets=(), parameters="preset: str = 'quick'  # a preset\n"):
    cells = [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": parameters,
              "outputs": [], "execution_count": None}]
    meta = {"kernelspec": {"name": "mufno", "display_name": "mufno", "language": "python"},
            "mufno": {"datasets": list(datasets)}}
    path.write_text(json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "_toc.yml").write_text(TOC)
    (tmp_path / "_config.yml").write_text("title: test\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "book" / "executed").mkdir()  # a build product inside book/: never staged
    (tmp_path / "notebooks").mkdir()
    write_notebook(tmp_path / "notebooks" / "second.ipynb", ["darcy"])
    write_notebook(tmp_path / "notebooks" / "nested.ipynb", ["burgers", "darcy"])
    write_notebook(tmp_path / "notebooks" / "first.ipynb")
    return tmp_path


def test_toc_order_is_the_notebook_list(tree):
    assert toc_notebooks(tree / "_toc.yml") == ["second", "nested", "first"]


def test_the_repository_toc_lists_existing_notebooks():
    names = toc_notebooks("_toc.yml")
    assert names[:3] == ["mup_in_ten_minutes", "theory", "coord_check"]  # the course starts first
    for name in names:
        parameters = declared_parameters(f"notebooks/{name}.ipynb")
        assert "preset" in parameters, f"{name} has no `preset` parameter"


def test_datasets_from_metadata(tree):
    assert datasets_needed(["second", "nested", "first"], tree) == ["darcy", "burgers"]


def test_ensure_datasets_calls_the_data_module(monkeypatch, tmp_path):
    assert ensure_datasets([], "smoke", tmp_path) == []
    calls = []
    monkeypatch.setattr(book, "ensure_dataset", lambda name, preset, data_dir:
                        calls.append((name, preset)) or tmp_path / name)
    assert ensure_datasets(["darcy"], "smoke", tmp_path) == [tmp_path / "darcy"]
    assert calls == [("darcy", "smoke")]


def test_assemble_source_stages_executed_notebooks(tree, tmp_path):
    executed = tmp_path / "executed"
    executed.mkdir()
    for name in ("second", "nested"):
        write_notebook(executed / f"{name}.ipynb")
    with pytest.raises(FileNotFoundError, match="first.ipynb"):
        assemble_source(executed, tmp_path / "build", tree)
    write_notebook(executed / "first.ipynb")
    src = assemble_source(executed, tmp_path / "build", tree)
    assert sorted(p.name for p in (src / "notebooks").iterdir()) == ["first.ipynb", "nested.ipynb",
                                                                     "second.ipynb"]
    assert (src / "book" / "intro.md").exists() and not (src / "book" / "executed").exists()
    assert (src / "_toc.yml").read_text() == TOC


# --- the one repository setting: buttons, install cells, the offline note -----------------------
from mufno_core.book.build import stage_notebook  # noqa: E402
from mufno_core.book.launch import Repository, foreign_installs, install_cell, site_config  # noqa: E402

PLACEHOLDER_INSTALL = '%pip install --quiet "mufno @ git+https://github.com/mufno/mufno"'
CONFIG = {"title": "t", "repository": {"url": "", "tag": "", "path_to_book": ""},
          "launch_buttons": {"notebook_interface": "classic", "binderhub_url": "https://mybinder.org",
                             "colab_url": "https://colab.research.google.com"},
          "html": {"use_repository_button": True, "home_page_in_navbar": True}}


def notebook(*sources, minor=5):
    cells = [{"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# Title\n\nText."}]
    cells += [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "source": s, "outputs": [],
               "execution_count": None} for i, s in enumerate(sources)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": minor}


def test_without_a_repository_no_button_links_anywhere():
    config = site_config(CONFIG)
    assert "url" not in config["repository"] and "tag" not in config["repository"]
    assert not any(k in config["launch_buttons"] for k in ("binderhub_url", "colab_url", "jupyterhub_url"))
    assert config["html"]["use_repository_button"] is False
    assert config["html"]["home_page_in_navbar"] is True  # the rest is kept
    assert CONFIG["html"]["use_repository_button"] is True  # the input is not changed


def test_a_configured_repository_pins_its_tag():
    config = site_config({**CONFIG, "repository": {"url": "https://github.com/org/repo/", "tag": "v1.2"}})
    assert config["repository"] == {"url": "https://github.com/org/repo", "branch": "v1.2"}
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["html"]["use_repository_button"] is True
    repo = Repository.from_config({"repository": {"url": "https://github.com/org/repo", "tag": "v1.2"}})
    assert '"git", "clone", "--quiet", "https://github.com/org/repo"' in install_cell(repo)
    assert '"checkout", "--quiet", "v1.2"' in install_cell(repo)


@pytest.mark.parametrize("section", [
    {"url": "https://github.com/org/repo", "tag": ""},        # not pinned
    {"url": "https://github.com/org/repo", "tag": "main"},    # a moving branch
    {"url": "http://github.com/org/repo", "tag": "v1"},       # not https
    {"url": "https://github.com/org/repo; rm -rf /", "tag": "v1"},
    {"url": "https://github.com/org/repo", "tag": "v1\"; import os"},
])
def test_an_unpinned_or_odd_repository_setting_is_refused(section):
    with pytest.raises(ValueError, match="repository"):
        Repository.from_config({"repository": section})
    with pytest.raises(ValueError):
        site_config({**CONFIG, "repository": section})


def test_an_install_from_another_address_is_found():
    repo = Repository("https://github.com/org/repo", "v1")
    placeholder = notebook("import sys\nif 'google.colab' in sys.modules:\n    " + PLACEHOLDER_INSTALL)
    assert foreign_installs(placeholder, Repository()) == [PLACEHOLDER_INSTALL]
    assert foreign_installs(placeholder, repo) == [PLACEHOLDER_INSTALL]
    own = notebook('%pip install "mufno @ git+https://github.com/org/repo@v1"')
    assert foreign_installs(own, repo) == []
    assert foreign_installs(own, Repository()) != []  # not configured: no address is ours
    assert foreign_installs(notebook("!pip install numpy", "x = 'https://example.org'"), repo) == []


def test_staging_adds_the_offline_note_and_the_install_cell_only_when_configured():
    source = notebook("preset = 'quick'", "import mufno_core")
    staged = stage_notebook(source, "theory", Repository())
    kinds = [c["cell_type"] for c in staged["cells"]]
    assert kinds == ["markdown", "markdown", "markdown", "code", "code"]  # title, note, the rest of the lead
    assert staged["cells"][0]["source"] == "# Title" and staged["cells"][2]["source"] == "Text."
    note = staged["cells"][1]["source"]
    assert "Run it yourself" in note
    assert ".venv/bin/papermill notebooks/theory.ipynb out.ipynb -k mufno -p preset quick" in note
    assert "http" not in note and "pip install" not in note and "Binder" not in note
    assert len(source["cells"]) == 3  # the executed notebook itself is untouched
    staged = stage_notebook(source, "theory", Repository("https://github.com/org/repo", "v1"))
    install = staged["cells"][3]
    assert install["cell_type"] == "code" and '"https://github.com/org/repo"' in install["source"]
    assert "Binder" in staged["cells"][1]["source"]
    assert [c.get("id") for c in staged["cells"]][:4] == ["title", "mufno-run-note", "mufno-lead",
                                                          "mufno-install"]
    old = stage_notebook(notebook("x = 1", minor=4), "theory", Repository())
    assert all("id" not in c for c in old["cells"][1:2])


def test_staging_opens_with_the_verdict_and_folds_the_parameters_into_the_run_note():
    from mufno_core.analysis.verdicts import Verdict
    from mufno_core.book.answers import Answer

    box = Answer("darcy_lr", "Darcy", Verdict("Reproduced", "Reproduced: yes."), "quick").html()
    source = notebook('preset: str = "quick"  # the preset', "ch.answer()")
    source["cells"][1]["metadata"]["tags"] = ["parameters"]
    source["cells"][2]["outputs"] = [{"output_type": "display_data", "metadata": {},
                                      "data": {"text/html": box}}]
    staged = stage_notebook(source, "lr_drift_darcy", Repository())
    assert [c.get("id") for c in staged["cells"]] == ["title", "mufno-verdict", "mufno-run-note",
                                                      "mufno-lead", "c0", "c1"]
    assert 'data-verdict="Reproduced"' in staged["cells"][1]["source"]
    note = staged["cells"][2]["source"]
    assert "dropdown" in note and 'preset: str = "quick"  # the preset' in note
    assert staged["cells"][4]["metadata"]["tags"] == ["parameters", "remove-cell"]


def test_staging_refuses_a_placeholder_install(tree, tmp_path):
    executed = tmp_path / "executed"
    executed.mkdir()
    for name in ("second", "nested", "first"):
        write_notebook(executed / f"{name}.ipynb")
    data = json.loads((executed / "nested.ipynb").read_text())
    data["cells"].append({"cell_type": "code", "metadata": {}, "source": PLACEHOLDER_INSTALL,
                          "outputs": [], "execution_count": None})
    (executed / "nested.ipynb").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="nested.ipynb installs code"):
        assemble_source(executed, tmp_path / "build", tree)


def test_the_repository_config_is_unset_and_no_notebook_installs_from_elsewhere():
    import yaml

    with open("_config.yml", encoding="utf-8") as f:
        config = yaml.safe_load(f)
    repo = Repository.from_config(config)
    assert "mufno/mufno" not in json.dumps(config)
    offenders = {}
    for name in toc_notebooks("_toc.yml"):
        with open(f"notebooks/{name}.ipynb", encoding="utf-8") as f:
            found = foreign_installs(json.load(f), repo)
        if found:
            offenders[name] = found
    assert not offenders, f"notebooks that install from an unconfigured address: {offenders}"


MAX_CODE_LINES = 40
"""A chapter is prose plus library calls: at most this many non-blank lines in its code cells."""


def code_lines(path) -> int:
    """Non-blank lines in a notebook's code cells (markdown cells do not count)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    source = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
              for c in cells if c["cell_type"] == "code"]
    return sum(1 for text in source for line in text.splitlines() if line.strip())


def test_code_lines_counts_code_cells_without_blank_lines(tmp_path):
    cells = [{"cell_type": "code", "source": ["a = 1\n", "\n", "   \n", "b = 2"]},
             {"cell_type": "markdown", "source": "prose\nmore prose"},
             {"cell_type": "code", "source": "c = 3\n"}]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert code_lines(path) == 3


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_a_chapter_is_prose_plus_calls(path):
    lines = code_lines(path)
    assert lines <= MAX_CODE_LINES, (
        f"{path} has {lines} code lines (limit {MAX_CODE_LINES}): move the logic into mufno_core")


def test_the_injected_parameters_replace_the_defaults_in_one_cell():
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Title"},
             {"cell_type": "code", "metadata": {"tags": ["parameters"]},
              "source": ['preset: str = "quick"  # smoke | quick: which grid (μP)\n',
                         'results_dir: str = "results/quick"  # the store\n', "seed: int = 0  # seed"]},
             {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]},
              "source": '# Parameters\npreset = "smoke"\nresults_dir = "/tmp/ä"\n'},
             {"cell_type": "code", "metadata": {}, "source": "print(preset)"}]
    merged = book.merge_injected_parameters(cells)
    assert len(merged) == 3 and merged[2] is cells[3]
    assert merged[1]["metadata"]["tags"] == ["parameters"]
    assert merged[1]["source"].splitlines() == [
        'preset: str = "smoke"  # smoke | quick: which grid (μP)',
        'results_dir: str = "/tmp/ä"  # the store', "seed: int = 0  # seed"]
    assert book.merge_injected_parameters(cells[:2]) == cells[:2]  # nothing injected: unchanged


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", toc_notebooks(ROOT / "_toc.yml"))
def test_a_notebook_declares_the_sweeps_its_chapter_runs(name):
    source = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"] if c["cell_type"] == "code")
    run = set(re.findall(r'Chapter\.run\("([a-z_0-9]+)"', source))
    sweeps = notebook_sweeps(ROOT / "notebooks" / f"{name}.ipynb")
    declared = {s if isinstance(s, str) else s[0] for s in sweeps}
    assert run <= declared


def test_the_calibrated_chapter_trains_no_calibrated_grid_in_the_quick_book():
    """Its calibrated sweeps are a committed study (``tests/sweep/test_studies.py``), so the quick
    book's forecast counts none of them."""
    assert notebook_sweeps(ROOT / "notebooks" / "calibrated_rule.ipynb") == []


def _book(tmp_path: Path, sweeps: list) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "chapter.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {"mufno": {"sweeps": sweeps}}, "nbformat": 4, "nbformat_minor": 5}))
    return tmp_path


def test_a_store_that_holds_every_trial_is_rendered_without_calibration(tmp_path):
    root = _book(tmp_path, ["synthetic_lr"])
    run_sweep("synthetic_lr", "smoke", str(tmp_path / "store"), stack=True, progress=False)
    assert "rendering only" in forecast_notebooks(["chapter"], "smoke", tmp_path / "store", root)


def test_missing_trials_are_counted_and_timed(tmp_path):
    root = _book(tmp_path, ["synthetic_lr"])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "30 trials to run, expected" in text and "on this machine" in text


def test_a_sweep_without_its_data_file_has_no_estimate(tmp_path):
    root = _book(tmp_path, ["burgers_lr"])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "no estimate (no data file" in text and "1 sweep(s) without an estimate" in text


def test_a_grid_the_chapter_calibrates_itself_has_no_estimate(tmp_path):
    root = _book(tmp_path, [{"experiment": "burgers_lr", "overrides": {"parametrizations": ["cal"]}}])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "no estimate (burgers_lr/smoke has no calibrated exponent" in text


@pytest.mark.parametrize("path", sorted([*ROOT.glob("book/*.md"), *ROOT.glob("notebooks/*.ipynb"),
                                         ROOT / "README.md"]), ids=lambda p: p.name)
def test_prose_holds_no_control_characters(path):
    """A LaTeX escape written from a non-raw Python string ("\\text", "\\beta") turns into a tab or
    a backspace that MathJax cannot read."""
    text = path.read_text()
    found = sorted({repr(c) for c in text if ord(c) < 32 and c not in "\n\t"}
                   | ({"tab before 'ext'"} if "\text" in text else set()))
    assert not found, f"{path.name}: {found}"
