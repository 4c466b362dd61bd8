"""The book pipeline: the toc is the one notebook list; data declared in notebook metadata; staging."""

import json

import pytest

from mufno_core import book
from mufno_core.book import (
    assemble_source,
    datasets_needed,
    declared_parameters,
    ensure_datasets,
    toc_notebooks,
)

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
    assert names[:2] == ["theory", "coord_check"]
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
