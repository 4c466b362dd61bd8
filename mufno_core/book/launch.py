"""Where a reader runs a chapter: the one repository setting, its launch buttons and install cell.

The book links to, launches from and installs code from exactly one address, ``repository.url`` in
``_config.yml``, at the pinned version ``repository.tag`` (a tag or a commit, never a moving
branch). Both are empty by default. Then no page carries a launch or repository button or an
install cell, and every chapter offers what works offline: the notebook's download button and the
one command that reruns it (:func:`run_note`). With the setting, the staged site configuration
(:func:`site_config`) gets the repository button and a Binder button (Binder builds the pinned
version from ``environment.yml`` + ``postBuild``), and every chapter's downloadable notebook gets a
first code cell that installs that version on Colab (:func:`install_cell`).

The source notebooks in git never carry an install cell: :func:`foreign_installs` finds one that
installs from any other address, and the build refuses it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BINDERHUB = "https://mybinder.org"
MOVING_BRANCHES = {"main", "master", "head", "develop", "dev", "trunk"}
LAUNCH_PROVIDERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url")
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")
_URL = re.compile(r"https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~-]+)+")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_INSTALL = re.compile(r"pip\s+install|git\+|easy_install|conda\s+install", re.IGNORECASE)
_ADDRESS = re.compile(r"(?:git\+)?(?:https?|ssh|git)://[^\s\"'@]+|github\.com/[^\s\"'@]+")


@dataclass(frozen=True)
class Repository:
    """The repository the book may link to and install from (``url`` empty: none) at ``tag``."""

    url: str = ""
    tag: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Repository:
        """Read and check ``repository.url`` / ``repository.tag`` of a ``_config.yml`` mapping."""
        section = config.get("repository") or {}
        url = str(section.get("url") or "").strip().rstrip("/")
        tag = str(section.get("tag") or "").strip()
        if not url:
            return cls()
        if not _URL.fullmatch(url):
            raise ValueError(f"repository.url must be an https:// address of a repository, not {url!r}")
        if not _TAG.fullmatch(tag) or tag.lower() in MOVING_BRANCHES:
            raise ValueError(
                f"repository.tag must pin a version (a tag or a commit of {url}), not {tag!r}: "
                "readers install and launch exactly that version")
        return cls(url, tag)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def requirement(self) -> str:
        """The pip requirement of the pinned version, ``mufno @ git+URL@TAG``."""
        return f"mufno @ git+{self.url}@{self.tag}"


def site_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The Jupyter Book configuration the site is built with: buttons only for a configured repository.

    Unconfigured: no ``repository`` address, no launch provider, no repository/issues/edit button.
    Configured: ``repository.branch`` is the pinned tag, the repository button is on and Binder
    (``launch_buttons.binderhub_url``, default mybinder.org) launches the tag. No Colab button: Colab
    opens the notebook in git, which has no install cell; the downloaded notebook has one.
    """
    repo = Repository.from_config(config)
    out = copy.deepcopy(dict(config))
    section = dict(out.get("repository") or {})
    section.pop("tag", None)
    html = dict(out.get("html") or {})
    launch = dict(out.get("launch_buttons") or {})
    binderhub = launch.get("binderhub_url") or BINDERHUB
    for key in LAUNCH_PROVIDERS:
        launch.pop(key, None)
    for key in REPOSITORY_BUTTONS:
        html[key] = False
    if repo.configured:
        section.update(url=repo.url, branch=repo.tag)
        html["use_repository_button"] = True
        launch["binderhub_url"] = binderhub
    else:
        section.pop("url", None)
        section.pop("branch", None)
    out["repository"], out["html"], out["launch_buttons"] = section, html, launch
    return out


def install_cell(repo: Repository) -> str:
    """Source of the code cell that installs the pinned version on Colab (configured repository only)."""
    if not repo.configured:
        raise ValueError("no repository.url is set: the book installs nothing")
    return ("import sys\n\n"
            f'if "google.colab" in sys.modules:  # on Colab: install mufno {repo.tag} from {repo.url}\n'
            f'    %pip install --quiet "{repo.requirement}"')


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
        "`-p preset smoke` runs it in seconds; the results store makes a rerun at the same preset "
        "read the finished trials instead of training again.",
    ]
    if repo.configured:
        lines += [
            "",
            f"Or launch it on Binder (the rocket button above; version `{repo.tag}` of {repo.url}). "
            "On Colab, upload the downloaded notebook: its first code cell installs mufno "
            f"`{repo.tag}` from that repository.",
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
