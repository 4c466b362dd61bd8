"""Where a reader runs a chapter: the one repository setting, its launch buttons and install cell.

The book links to, launches from and installs code from exactly one address, ``repository.url`` in
``_config.yml`` (empty by default), at one version: ``repository.tag`` if set, else the commit the
book is built from (never a moving branch). Without the address no page carries a launch or
repository button or an install cell, and every chapter offers what works offline: the notebook's
download button and the one command that reruns it (:func:`run_note`). With it, the staged site
configuration (:func:`site_config`) gets the repository button and the Binder and Colab buttons,
and every chapter's downloadable notebook (:func:`download_notebook`) uses the standard ``python3``
kernel and starts with a code cell that, on Colab, clones that version (the code, the committed
quick store ``results/quick``), installs it and generates the quick data (:func:`install_cell`).
Colab's button opens the notebook in git: ``python -m mufno_core.book.launch --write-sources``
(``make launch-cells``) puts the same cell into the notebooks in git, or takes it out again.

The build refuses a notebook that installs from any other address (:func:`foreign_installs`).
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

BINDERHUB = "https://mybinder.org"
COLAB = "https://colab.research.google.com"
INSTALL_ID = "mufno-install"
PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}
CLONE = "/content/mufno"  # where the install cell puts the repository on Colab
MOVING_BRANCHES = {"main", "master", "head", "develop", "dev", "trunk"}
LAUNCH_PROVIDERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url")
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")
_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~-]+)+")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_INSTALL = re.compile(r"pip\s+install|git\+|git\s+clone|\"clone\"|easy_install|conda\s+install",
                      re.IGNORECASE)
_ADDRESS = re.compile(r"(?:git\+)?(?:https?|ssh|git)://[^\s\"'@]+|github\.com/[^\s\"'@]+")


@dataclass(frozen=True)
class Repository:
    """The repository the book may link to and install from (``url`` empty: none) at ``tag``."""

    url: str = ""
    tag: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any], commit: str = "") -> Repository:
        """Read and check ``repository.url`` / ``repository.tag`` of a ``_config.yml`` mapping; an
        empty tag means ``commit`` (the commit the book is built from)."""
        section = config.get("repository") or {}
        url = str(section.get("url") or "").strip().rstrip("/")
        tag = str(section.get("tag") or "").strip() or commit.strip()
        if not url:
            return cls()
        if not _URL.fullmatch(url):
            raise ValueError(f"repository.url must be an https:// address of a repository, not {url!r}")
        if not _TAG.fullmatch(tag) or tag.lower() in MOVING_BRANCHES:
            raise ValueError(
                f"repository.tag must pin a version (a tag or a commit of {url}), not {tag!r}: "
                "readers install and launch exactly that version (empty: the commit the book is "
                "built from, which needs a git checkout)")
        return cls(url, tag)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def requirement(self) -> str:
        """The pip requirement of the pinned version, ``mufno @ git+URL@TAG``."""
        return f"mufno @ git+{self.url}@{self.tag}"


def current_commit(root: str | Path = ".") -> str:
    """The commit checked out at ``root`` ("" outside a git checkout)."""
    done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def read_config(path: str | Path = "_config.yml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def site_config(config: Mapping[str, Any], commit: str = "") -> dict[str, Any]:
    """The Jupyter Book configuration the site is built with: buttons only for a configured repository.

    Unconfigured: no ``repository`` address, no launch provider, no repository/issues/edit button.
    Configured: ``repository.branch`` is the pinned version (the tag, else ``commit``), the
    repository button is on, and Binder (``launch_buttons.binderhub_url``, default mybinder.org;
    it builds ``environment.yml`` + ``postBuild``) and Colab (``launch_buttons.colab_url``) launch it.
    """
    repo = Repository.from_config(config, commit)
    out = copy.deepcopy(dict(config))
    section = dict(out.get("repository") or {})
    section.pop("tag", None)
    html = dict(out.get("html") or {})
    launch = dict(out.get("launch_buttons") or {})
    binderhub = launch.get("binderhub_url") or BINDERHUB
    colab = launch.get("colab_url") or COLAB
    for key in LAUNCH_PROVIDERS:
        launch.pop(key, None)
    for key in REPOSITORY_BUTTONS:
        html[key] = False
    if repo.configured:
        section.update(url=repo.url, branch=repo.tag)
        html["use_repository_button"] = True
        launch["binderhub_url"], launch["colab_url"] = binderhub, colab
    else:
        section.pop("url", None)
        section.pop("branch", None)
    out["repository"], out["html"], out["launch_buttons"] = section, html, launch
    return out


def install_cell(repo: Repository) -> str:
    """Source of the code cell that, on Colab, clones the pinned version (code and the committed
    quick store), installs it, moves into it and generates the quick data; elsewhere it does nothing."""
    if not repo.configured:
        raise ValueError("no repository.url is set: the book installs nothing")
    return (f"# On Colab: mufno {repo.tag} from {repo.url}, with its quick results store and data\n"
            "import os\nimport subprocess\nimport sys\n\n"
            f'if "google.colab" in sys.modules and not os.path.isdir("{CLONE}"):\n'
            f'    subprocess.run(["git", "clone", "--quiet", "{repo.url}", "{CLONE}"], check=True)\n'
            f'    subprocess.run(["git", "-C", "{CLONE}", "checkout", "--quiet", "{repo.tag}"], check=True)\n'
            f"    %pip install --quiet -e {CLONE}\n"
            'if "google.colab" in sys.modules:\n'
            f'    os.chdir("{CLONE}")\n'
            f'    sys.path.insert(0, "{CLONE}")\n'
            '    subprocess.run([sys.executable, "scripts/ensure_data.py", "--preset", "quick"], check=True)')


def _is_install(cell: Mapping[str, Any]) -> bool:
    return cell.get("id") == INSTALL_ID or INSTALL_ID in cell.get("metadata", {}).get("tags", [])


def with_install_cell(notebook: Mapping[str, Any], repo: Repository) -> dict:
    """A copy of ``notebook`` whose first code cell is the install cell of ``repo`` (none when the
    repository is not configured); an install cell it had is replaced."""
    out = copy.deepcopy(dict(notebook))
    cells = [cell for cell in out.get("cells", []) if not _is_install(cell)]
    if repo.configured:
        cell = {"cell_type": "code", "execution_count": None, "id": INSTALL_ID,
                "metadata": {"tags": ["hide-input", INSTALL_ID]}, "outputs": [], "source": install_cell(repo)}
        if (out.get("nbformat", 4), out.get("nbformat_minor", 0)) < (4, 5):
            cell.pop("id")
        first_code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
        cells.insert(first_code, cell)
    out["cells"] = cells
    return out


def download_notebook(notebook: Mapping[str, Any], repo: Repository) -> dict:
    """The notebook as a reader downloads it: the standard ``python3`` kernel and, with a
    configured repository, the install cell first (:func:`with_install_cell`)."""
    out = with_install_cell(notebook, repo)
    out["metadata"] = {**out.get("metadata", {}), "kernelspec": dict(PYTHON3)}
    return out


def run_note(name: str, repo: Repository) -> str:
    """Markdown for the top of chapter ``name``: how to run it, offline first."""
    lines = [
        ":::{admonition} Run it yourself",
        ":class: tip",
        "Download this notebook (the download button at the top of the page, `.ipynb`) or take "
        f"`notebooks/{name}.ipynb` from the repository, and rerun it from the repository root "
        "after `make setup`:",
        "",
        "```bash",
        f".venv/bin/papermill notebooks/{name}.ipynb out.ipynb -k mufno -p preset quick",
        "```",
        "",
        "`-p preset smoke` runs it in seconds from the committed smoke store: an empty `results_dir` "
        "means `results/PRESET`, so a rerun reads that preset's finished trials instead of training "
        "again (`-p results_dir /tmp/mine` starts a store of your own). A list parameter takes a "
        "string: `-p modes \"[2, 14]\"`.",
    ]
    if repo.configured:
        lines += [
            "",
            f"Or launch it on Binder or Colab (the rocket button above; version `{repo.tag}` of "
            f"{repo.url}): on Colab the first code cell clones that version, installs it and makes "
            "the quick data (a few minutes). The downloaded notebook has the same first cell.",
        ]
    lines.append(":::")
    return "\n".join(lines)


def foreign_installs(notebook: Mapping[str, Any], repo: Repository) -> list[str]:
    """Lines of the notebook's code cells that install code from an address other than ``repo``'s.

    Any install line that names an address counts unless the address is ``repo.url`` (with or
    without ``@tag``); with no repository configured, every such line counts.
    """
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            if not _INSTALL.search(line):
                continue
            addresses = [a.removeprefix("git+").rstrip("/") for a in _ADDRESS.findall(line)]
            if any(not (repo.configured and a in (repo.url, repo.url.removeprefix("https://")))
                   for a in addresses):
                found.append(line.strip())
    return found


def write_sources(root: str | Path = ".") -> list[Path]:
    """Put the install cell of ``_config.yml``'s repository into every ``notebooks/*.ipynb`` in git
    (or take it out when none is set), so that Colab's button opens a notebook that runs; returns
    the notebooks changed."""
    import nbformat

    root = Path(root)
    repo = Repository.from_config(read_config(root / "_config.yml"), current_commit(root))
    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(text, as_version=4)
        new = nbformat.writes(nbformat.from_dict(with_install_cell(notebook, repo))) + "\n"
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the book's one repository setting")
    parser.add_argument("--write-sources", action="store_true",
                        help="write (or remove) the install cell in notebooks/*.ipynb per _config.yml")
    args = parser.parse_args(argv)
    if args.write_sources:
        changed = write_sources()
        print(f"launch: {len(changed)} notebook(s) changed: {', '.join(p.name for p in changed) or '-'}")
    else:
        repo = Repository.from_config(read_config(), current_commit())
        print(f"launch: {repo.url or 'no repository.url set'} {repo.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
