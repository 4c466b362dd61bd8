"""Building the book: which notebooks, running them with papermill, assembling and building the site.

``_toc.yml`` is the one list of chapters. Every entry ``file: notebooks/<name>`` is a notebook whose
source (without outputs) is ``notebooks/<name>.ipynb``; it is executed, in table-of-contents order,
into ``<executed>/<name>.ipynb`` with the parameters ``preset`` and ``results_dir`` injected (only
those the notebook declares in its ``parameters`` cell). The site is built from a staging copy of
the book sources in ``<build>/src`` in which the executed copies sit at ``notebooks/<name>.ipynb``:
the page paths then match the repository. Staging also writes the site configuration
(:func:`mufno_core.book.launch.site_config`: launch and repository buttons only when ``repository.url`` is
set), puts a "Run it yourself" note under each chapter's title (the offline command; Binder and the
pinned install cell only with a configured repository) and refuses a notebook that installs code
from any other address.

A notebook that needs data sets lists them in its metadata, ``{"mufno": {"datasets": ["darcy"]}}``;
:func:`ensure_datasets` creates them (through ``mufno_core.data.ensure_dataset``) before the run.
"""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import yaml

from mufno_core.book import pages, shared_kernel
from mufno_core.book.launch import (
    Repository,
    current_commit,
    download_notebook,
    foreign_installs,
    run_note,
    site_config,
)
from mufno_core.data import ensure_dataset
from mufno_core.sweep import forecast
from mufno_core.sweep.estimate import format_duration
from mufno_core.sweep.malloc import keep_freed_memory

NOTEBOOK_DIR = "notebooks"
BOOK_SOURCES = ("_toc.yml", "book", "_static")  # _config.yml is written by site_config
KERNEL = "mufno"


def _toc_files(entry: dict) -> Iterator[str]:
    """Every ``file:`` of a _toc.yml entry and of its parts, chapters and sections, in order."""
    for key in ("root", "file"):
        if key in entry:
            yield str(entry[key])
    for key in ("parts", "chapters", "sections"):
        for child in entry.get(key, []) or []:
            yield from _toc_files(child)


def toc_notebooks(toc: str | Path = "_toc.yml") -> list[str]:
    """Names of the notebooks in the table of contents, in reading order (``notebooks/<name>``)."""
    with open(toc, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    names = []
    for file in _toc_files(spec):
        path = Path(file)
        if path.parent.as_posix() == NOTEBOOK_DIR:
            names.append(path.stem)
    return names


def notebook_source(name: str, root: str | Path = ".") -> Path:
    """The notebook in git (no outputs): ``<root>/notebooks/<name>.ipynb``."""
    return Path(root) / NOTEBOOK_DIR / f"{name}.ipynb"


def notebook_datasets(path: str | Path) -> list[str]:
    """Data sets a notebook declares in its metadata under ``mufno.datasets``."""
    with open(path, encoding="utf-8") as f:
        meta = json.load(f).get("metadata", {})
    return list(meta.get("mufno", {}).get("datasets", []))


def notebook_sweeps(path: str | Path) -> list[str | tuple[str, dict]]:
    """Sweeps a notebook runs, from its metadata ``mufno.sweeps``: experiment names, or
    ``{"experiment": name, "overrides": {...}}`` for a grid with overrides."""
    with open(path, encoding="utf-8") as f:
        meta = json.load(f).get("metadata", {})
    return [s if isinstance(s, str) else (s["experiment"], dict(s.get("overrides", {})))
            for s in meta.get("mufno", {}).get("sweeps", [])]


def forecast_notebooks(names: Iterable[str], preset: str, results_dir: str | Path,
                       root: str | Path = ".") -> str:
    """One line per sweep the notebooks will run with trials still to train, and the total
    expected on this machine (:func:`mufno_core.sweep.forecast`); one line if all are stored."""
    sweeps = [s for name in names for s in notebook_sweeps(notebook_source(name, root))]
    estimates, total = forecast(sweeps, preset, str(results_dir), data_dir=str(Path(root) / "data"))
    todo = [e for e in estimates if e.trials or math.isnan(e.seconds)]
    if not todo:
        return f"notebooks: every trial of the book's sweeps is in {results_dir}: rendering only"
    lines = [f"notebooks: {e.line(_sweep_name(s))}" for s, e in zip(sweeps, estimates) if e in todo]
    unknown = sum(1 for e in todo if math.isnan(e.seconds))
    lines.append(f"notebooks: {sum(e.trials for e in todo)} trials to train, expected "
                 f"{format_duration(total)} of sweeps on this machine (plus rendering)"
                 + (f"; {unknown} sweep(s) without an estimate" if unknown else ""))
    return "\n".join(lines)


def _sweep_name(sweep: str | tuple[str, dict]) -> str:
    return sweep if isinstance(sweep, str) else f"{sweep[0]} {sweep[1]}"


def datasets_needed(names: Iterable[str], root: str | Path = ".") -> list[str]:
    """The union of the data sets the given notebooks declare, in first-use order."""
    needed: list[str] = []
    for name in names:
        for dataset in notebook_datasets(notebook_source(name, root)):
            if dataset not in needed:
                needed.append(dataset)
    return needed


def ensure_datasets(datasets: Iterable[str], preset: str, data_dir: str | Path = "data") -> list[Path]:
    """Create the data sets (if missing) with ``mufno_core.data.ensure_dataset``; returns their paths.

    Prints a message and returns ``[]`` when nothing is needed.
    """
    datasets = list(datasets)
    if not datasets:
        print("data: no notebook of the book declares a data set; nothing to do")
        return []
    paths = []
    for dataset in datasets:
        start = time.perf_counter()
        path = Path(ensure_dataset(dataset, preset, data_dir=str(data_dir)))
        print(f"data: {dataset} ({preset}) -> {path}  [{time.perf_counter() - start:.1f} s]")
        paths.append(path)
    return paths


def declared_parameters(path: str | Path) -> set[str]:
    """Names of the parameters in a notebook's ``parameters``-tagged cell."""
    import papermill

    return set(papermill.inspect_notebook(str(path)))


def execute_notebook(
    name: str,
    preset: str,
    results_dir: str | Path,
    executed_dir: str | Path,
    root: str | Path = ".",
    kernel: str = KERNEL,
    manager: Any = None,
) -> float:
    """Run ``notebooks/<name>.ipynb`` with papermill into ``<executed_dir>/<name>.ipynb``; seconds taken.

    The kernel's working directory is ``root`` (the repository), so relative paths such as
    ``results_dir`` mean the same inside the notebook as on the command line. With ``manager``
    (:func:`mufno_core.book.shared_kernel.shared_kernel`) the notebook runs in that kernel, reset
    first to what a fresh one offers; without, in a kernel of its own.
    """
    import papermill

    source = notebook_source(name, root)
    if not source.exists():
        raise FileNotFoundError(f"{source} is listed in _toc.yml but does not exist")
    target = Path(executed_dir) / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    offered = {"preset": preset, "results_dir": str(results_dir)}
    declared = declared_parameters(source)
    parameters = {key: value for key, value in offered.items() if key in declared}
    start = time.perf_counter()
    partial = partial_path(target)  # where a failed run is kept: the target appears only whole
    target.unlink(missing_ok=True)  # a failed run leaves no older copy for the site to publish
    shutil.copyfile(source, partial)  # names the notebook that runs (scripts/run_notebooks.py)
    if manager is not None:
        shared_kernel.reset(manager)
    # papermill writes the notebook once at the end, or with its error cell when one fails (not
    # before and after every cell: 40 writes of a notebook full of figures, seconds of CPU)
    executed = papermill.execute_notebook(
        str(source), str(partial), parameters=parameters, kernel_name=kernel,
        cwd=str(Path(root).resolve()), progress_bar=False, request_save_on_cell_execute=False,
        **({} if manager is None else {"km": manager}),
    )
    if manager is not None:
        import nbformat

        nbformat.write(shared_kernel.renumber_executions(executed), str(partial))
    os.replace(partial, target)
    return time.perf_counter() - start


def partial_path(target: Path) -> Path:
    """Where ``target`` is written while its notebook runs: the source until papermill is done,
    then the executed notebook, renamed to ``target`` (after a failure: with its error, kept)."""
    return target.with_name(f".{target.stem}.partial.ipynb")


def execute_all(
    preset: str,
    results_dir: str | Path,
    executed_dir: str | Path,
    root: str | Path = ".",
    names: Iterable[str] | None = None,
    estimate: bool = True,
    fresh_kernels: bool = False,
) -> dict[str, float]:
    """Execute the notebooks of the table of contents (or ``names``) in order; seconds per notebook.
    First (``estimate``) print the time the sweeps still to train are expected to take here.
    They share one kernel, reset before each (:mod:`mufno_core.book.shared_kernel`), unless
    ``fresh_kernels``."""
    names = toc_notebooks(Path(root) / "_toc.yml") if names is None else list(names)
    keep_freed_memory()  # the kernels, and the sweep workers they start, inherit the setting
    if estimate:
        print(forecast_notebooks(names, preset, results_dir, root), flush=True)
    timings = {}
    with (nullcontext() if fresh_kernels else shared_kernel.shared_kernel(KERNEL, root)) as manager:
        for name in names:
            print(f"notebooks: running {name} (preset={preset}) ...", flush=True)
            timings[name] = execute_notebook(name, preset, results_dir, executed_dir, root,
                                             manager=manager)
            print(f"notebooks: {name} done in {timings[name]:.1f} s", flush=True)
    timings_file = Path(executed_dir) / "timings.json"
    timings_file.parent.mkdir(parents=True, exist_ok=True)
    timings_file.write_text(json.dumps({"preset": preset, "seconds": timings}, indent=1) + "\n")
    return timings


def _cell(cell_type: str, source: str, cell_id: str, tags: list[str]) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": {"tags": tags}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def merge_injected_parameters(cells: list[dict]) -> list[dict]:
    """The cells with papermill's ``injected-parameters`` cell folded into the ``parameters`` cell:
    each injected value replaces its default in place (the comment that documents it stays), so
    the page shows one parameters cell with the values the run used. Cells without both are
    returned as they are."""
    tags = [cell.get("metadata", {}).get("tags", []) for cell in cells]
    declared = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    injected = next((i for i, t in enumerate(tags) if "injected-parameters" in t), None)
    if declared is None or injected is None:
        return cells
    values = {node.targets[0].id: ast.get_source_segment(_source(cells[injected]), node.value)
              for node in ast.parse(_source(cells[injected])).body
              if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    lines = _source(cells[declared]).split("\n")
    for node in ast.parse(_source(cells[declared])).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id in values and node.value is not None \
                and node.value.lineno == node.value.end_lineno:
            row, start, end = node.value.lineno - 1, node.value.col_offset, node.value.end_col_offset
            line = lines[row].encode()  # ast offsets count UTF-8 bytes
            lines[row] = (line[:start] + values[target.id].encode() + line[end:]).decode()
    merged = {**cells[declared], "source": "\n".join(lines)}
    return [merged if i == declared else cell for i, cell in enumerate(cells) if i != injected]


def stage_notebook(notebook: dict, name: str, repo: Repository) -> dict:
    """The executed notebook as the site shows it: one parameters cell holding the values of the
    run (:func:`merge_injected_parameters`), the "Run it yourself" note after the first
    markdown cell (the title) and, with a configured repository, the pinned install cell before
    the first code cell. Raises ValueError if the notebook installs code from another address."""
    foreign = foreign_installs(notebook, repo)
    if foreign:
        raise ValueError(
            f"notebooks/{name}.ipynb installs code from an address that is not repository.url in "
            f"_config.yml: {foreign}. Delete that cell: the build writes the install cell itself, "
            "and only for a configured repository")
    staged = dict(notebook)
    cells = merge_injected_parameters(list(notebook.get("cells", [])))
    with_ids = (notebook.get("nbformat", 4), notebook.get("nbformat_minor", 0)) >= (4, 5)
    params = next((i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])),
                  None)
    parameters = ""
    if params is not None:  # shown inside the run note; the cell stays papermill's, hidden on the page
        parameters = _source(cells[params])
        tags = list(cells[params].get("metadata", {}).get("tags", []))
        cells[params] = {**cells[params], "metadata": {**cells[params].get("metadata", {}),
                                                       "tags": [*tags, "remove-cell"]}}
    note = _cell("markdown", pages.run_block(run_note(name, repo), parameters), "mufno-run-note", [])
    opening = [note]
    boxes = pages.verdict_boxes(notebook, name)
    if boxes:
        opening.insert(0, _cell("markdown", "\n".join(b.html for b in boxes), "mufno-verdict", []))
    if not with_ids:
        for cell in opening:
            cell.pop("id")
    first_md = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"), -1)
    if first_md >= 0:  # the title alone, then the verdict and the run note, then the rest of that cell
        title, _, rest = _source(cells[first_md]).lstrip().partition("\n")
        if title.startswith("# ") and rest.strip():
            cells[first_md] = {**cells[first_md], "source": title}
            after = _cell("markdown", rest.strip(), "mufno-lead", [])
            if not with_ids:
                after.pop("id")
            opening.append(after)
    cells[first_md + 1:first_md + 1] = opening
    staged["cells"] = cells
    return download_notebook(staged, repo)  # the python3 kernel; the install cell first if configured


def assemble_source(executed_dir: str | Path, build_dir: str | Path, root: str | Path = ".") -> Path:
    """Stage the book sources, the site configuration and the executed notebooks (with their "Run it
    yourself" note, :func:`stage_notebook`) into ``<build_dir>/src``; returns that folder."""
    root, src = Path(root), Path(build_dir) / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    with open(root / "_config.yml", encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    commit = current_commit(root)
    repo = Repository.from_config(config, commit)
    (src / "_config.yml").write_text(yaml.safe_dump(site_config(config, commit), sort_keys=False,
                                                    allow_unicode=True), encoding="utf-8")
    for item in BOOK_SOURCES:
        path = root / item
        if path.is_dir():
            shutil.copytree(path, src / item, ignore=shutil.ignore_patterns("executed", ".*"))
        elif path.exists():
            shutil.copy2(path, src / item)
    missing = []
    for name in toc_notebooks(root / "_toc.yml"):
        executed = Path(executed_dir) / f"{name}.ipynb"
        if not executed.exists():
            missing.append(str(executed))
            continue
        (src / NOTEBOOK_DIR).mkdir(exist_ok=True)
        notebook = json.loads(executed.read_text(encoding="utf-8"))
        staged = stage_notebook(notebook, name, repo)
        (src / NOTEBOOK_DIR / executed.name).write_text(json.dumps(staged, indent=1, ensure_ascii=False),
                                                        encoding="utf-8")
    if missing:
        raise FileNotFoundError(
            f"executed notebooks missing: {', '.join(missing)} (run `make notebooks` first)"
        )
    write_generated(src, Path(executed_dir), toc_notebooks(root / "_toc.yml"))
    return src


def write_generated(src: Path, executed_dir: Path, names: list[str]) -> None:
    """Fill the generated parts of the staged pages from the executed notebooks: the intro's answers
    and exponent figure (``<!-- mufno:answers -->``), the Guide's table of verdicts
    (``<!-- mufno:verdict-table -->``), the execution statistics
    (``<!-- mufno:execution-statistics -->``). The store and preset are those the summary chapter
    ran with."""
    notebooks = {name: pages.read(executed_dir / f"{name}.ipynb") for name in names}
    boxes = [b for name, nb in notebooks.items() for b in pages.verdict_boxes(nb, name)]
    params = pages.run_parameters(notebooks.get("summary", next(iter(notebooks.values()), {})))
    preset, results = params.get("preset", "quick"), params.get("results_dir", "results/quick")
    for page in sorted((src / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        if pages.ANSWERS_MARKER in text:
            block = pages.answers_markdown(boxes, preset, results)
            svg = src / "book" / "_generated" / "exponents.svg"
            caption = pages.exponent_figure(svg, results, preset)
            block += "\n\n" + (pages.figure_markdown("_generated/exponents.svg", caption) if caption else
                                "No learning-rate exponent is located at this preset (every one rests on "
                                "an optimum at the edge of its grid), so there is no exponent figure.")
            text = text.replace(pages.ANSWERS_MARKER, block)
        if pages.TABLE_MARKER in text:
            text = text.replace(pages.TABLE_MARKER, pages.verdict_table(boxes))
        if pages.STATUS_MARKER in text:
            rows = [pages.execution_row(nb, name) for name, nb in notebooks.items()]
            text = text.replace(pages.STATUS_MARKER, pages.execution_statistics(rows))
        page.write_text(text, encoding="utf-8")


def build_site(
    executed_dir: str | Path, build_dir: str | Path, root: str | Path = ".", strict: bool = True
) -> Path:
    """Build the HTML book into ``<build_dir>/html`` with Jupyter Book (Sphinx); returns that folder.

    ``strict`` turns every Sphinx warning into an error (``jupyter-book build -W``).
    """
    from jupyter_book.sphinx import build_sphinx

    src = assemble_source(executed_dir, build_dir, root).resolve()
    html = Path(build_dir).resolve() / "html"
    result = build_sphinx(
        src, html, noconfig=True, path_config=str(src / "_config.yml"),
        confoverrides={"external_toc_path": str(src / "_toc.yml"), "latex_individualpages": False},
        doctreedir=Path(build_dir) / ".doctrees", builder="html", freshenv=True,
        warningiserror=strict, keep_going=strict,
    )
    if isinstance(result, Exception):
        raise result
    if result != 0:
        raise RuntimeError(f"the Sphinx build failed (exit status {result}); see the messages above")
    return html
