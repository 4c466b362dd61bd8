"""The browser-only path: one setting (repository.url) turns on the Binder and Colab buttons, and the
downloaded notebooks use the python3 kernel and start with the cell that installs that version on
Colab. Built here with a test address, on the configuration and the notebooks (no Sphinx run)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from mufno_core.book.build import assemble_source
from mufno_core.book.launch import (
    INSTALL_ID,
    Repository,
    download_notebook,
    foreign_installs,
    install_cell,
    site_config,
    with_install_cell,
    write_sources,
)

ROOT = Path(__file__).resolve().parents[2]
TEST_URL = "https://github.com/example-org/mufno-test"


def config(url: str = TEST_URL, tag: str = "") -> dict:
    with open(ROOT / "_config.yml", encoding="utf-8") as f:
        out = yaml.safe_load(f)
    out["repository"] = {**out["repository"], "url": url, "tag": tag}
    return out


def test_the_address_alone_turns_on_binder_and_colab_at_the_built_commit():
    site = site_config(config(), commit="0123abc")
    assert site["repository"]["url"] == TEST_URL and site["repository"]["branch"] == "0123abc"
    assert site["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert site["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert site["html"]["use_repository_button"] is True
    assert site_config(config(tag="v1.0"), commit="0123abc")["repository"]["branch"] == "v1.0"
    off = site_config(config(url=""), commit="0123abc")
    assert "colab_url" not in off["launch_buttons"] and "binderhub_url" not in off["launch_buttons"]
    with pytest.raises(ValueError, match="pin a version"):  # an address, no tag and no git checkout
        site_config(config(), commit="")


def test_the_install_cell_clones_the_version_installs_it_and_makes_the_quick_data():
    cell = install_cell(Repository(TEST_URL, "v1.0"))
    assert f'"git", "clone", "--quiet", "{TEST_URL}"' in cell and '"checkout", "--quiet", "v1.0"' in cell
    assert "%pip install --quiet -e /content/mufno" in cell
    assert '"scripts/ensure_data.py", "--preset", "quick"' in cell and 'os.chdir("/content/mufno")' in cell
    assert cell.count('if "google.colab" in sys.modules') == 2  # nothing happens outside Colab
    compile(cell.replace("    %pip", "    pass  #"), "install", "exec")  # valid Python but the magic
    assert (ROOT / "scripts" / "ensure_data.py").exists()


@pytest.mark.parametrize("name", ["mup_in_ten_minutes", "lr_drift_darcy"])
def test_a_downloaded_notebook_runs_on_colab(name):
    source = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    repo = Repository(TEST_URL, "v1.0")
    down = download_notebook(source, repo)
    assert down["metadata"]["kernelspec"]["name"] == "python3"
    first_code = next(c for c in down["cells"] if c["cell_type"] == "code")
    assert first_code["id"] == INSTALL_ID and first_code["source"] == install_cell(repo)
    assert foreign_installs(down, repo) == []
    assert foreign_installs(down, Repository("https://github.com/someone/else", "v1"))  # refused there
    assert download_notebook(down, repo) == down  # one install cell, however often
    plain = download_notebook(source, Repository())
    assert plain["metadata"]["kernelspec"]["name"] == "python3"
    assert not any(c.get("id") == INSTALL_ID for c in plain["cells"])
    nbformat.validate(nbformat.from_dict(down))


def test_the_staged_site_with_a_test_address(tmp_path):
    """assemble_source: the site's configuration and the downloadable (staged) notebooks."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: notebooks/mup_in_ten_minutes\n")
    (root / "book").mkdir()
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "_config.yml").write_text(yaml.safe_dump(config()))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "t"], check=True)
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    executed = tmp_path / "executed"
    executed.mkdir()
    (executed / "mup_in_ten_minutes.ipynb").write_text(
        (ROOT / "notebooks" / "mup_in_ten_minutes.ipynb").read_text(encoding="utf-8"))
    src = assemble_source(executed, tmp_path / "build", root)
    site = yaml.safe_load((src / "_config.yml").read_text())
    assert site["repository"]["branch"] == commit and site["launch_buttons"]["colab_url"]
    staged = json.loads((src / "notebooks" / "mup_in_ten_minutes.ipynb").read_text())
    assert staged["metadata"]["kernelspec"]["name"] == "python3"
    first_code = next(c for c in staged["cells"] if c["cell_type"] == "code")
    assert TEST_URL in first_code["source"] and commit in first_code["source"]


def test_the_notebooks_in_git_get_the_cell_for_colab_and_lose_it_again(tmp_path):
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "mup_in_ten_minutes.ipynb"
    original = (ROOT / "notebooks" / "mup_in_ten_minutes.ipynb").read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config(tag="v1.0")))
    assert write_sources(tmp_path) == [path]
    cells = json.loads(path.read_text())["cells"]
    assert [c["id"] for c in cells if c["cell_type"] == "code"][0] == INSTALL_ID
    assert json.loads(path.read_text())["metadata"]["kernelspec"]["name"] == "mufno"  # the build's kernel
    assert write_sources(tmp_path) == []  # idempotent
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config(url="")))
    assert write_sources(tmp_path) == [path]
    assert path.read_text(encoding="utf-8") == original


def test_the_repository_notebooks_carry_no_install_cell_while_no_address_is_set():
    assert Repository.from_config(config(url="")).configured is False
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert with_install_cell(notebook, Repository())["cells"] == notebook["cells"], path.name
