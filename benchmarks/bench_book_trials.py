"""The trials a from-scratch quick book trains: one commit against a base commit, side by side.

Each tree (a ``git worktree`` of ``--base`` and of ``--new``, default HEAD: committed code only)
lists, in a fresh process that imports its own ``mufno_core``, the trials of every sweep its book's
notebooks declare at the quick preset (``mufno.sweeps`` in their metadata, in the order of
``_toc.yml``): each trial is *trained*, or *copied* where that tree copies it from a twin trained by
an earlier sweep (``mufno_core.sweep.twins``; a tree without twins copies none). Their CPU is what
the committed records measured (``wall_time`` of each trial in this checkout's ``results/quick``
and ``results/study``, looked up by trial id, which neither tree changes), so the two sides are
counted on the same numbers:

    .venv/bin/python benchmarks/bench_book_trials.py --base ea9e4de

``--json FILE`` writes both lists.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_trials import commit_tree  # noqa: E402

CHILD = r"""
import json
try:
    from mufno_core.book.build import notebook_source, notebook_sweeps, toc_notebooks
except ImportError:  # before the layers were folders (Structure III)
    from mufno_core.book import notebook_source, notebook_sweeps, toc_notebooks
from mufno_core.sweep import grid
try:
    from mufno_core.sweep.twins import twin_configs
except ImportError:  # before twins: every trial is trained
    def twin_configs(config):
        return []
trained, copied = {}, {}
for name in toc_notebooks():
    for sweep in notebook_sweeps(notebook_source(name)):
        experiment, overrides = (sweep, {}) if isinstance(sweep, str) else sweep
        earlier = set(trained)
        for config in grid(experiment, "quick", **overrides):
            tid = config.trial_id()
            if tid in trained or tid in copied:
                continue
            twin = any(t.trial_id() in earlier for t in twin_configs(config))
            (copied if twin else trained)[tid] = f"{experiment} {config.parametrization}"
print(json.dumps({"trained": trained, "copied": copied}))
"""


def book_trials(tree: Path) -> dict[str, dict[str, str]]:
    """The tree's trained and copied trials: trial id -> "experiment parametrization"."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"listing the book's trials in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recorded_seconds(stores: list[Path]) -> dict[str, float]:
    """Trial id -> the ``wall_time`` its committed record measured (first store wins)."""
    seconds: dict[str, float] = {}
    for store in stores:
        for path in sorted(store.rglob("*.json")):
            if path.name.startswith(".") or path.name.startswith("MANIFEST"):
                continue
            record = json.loads(path.read_text())
            if isinstance(record, dict) and "trial_id" in record:
                seconds.setdefault(record["trial_id"], float(record.get("wall_time") or 0.0))
    return seconds


def summary(side: dict[str, dict[str, str]], seconds: dict[str, float]) -> dict[str, float]:
    trained = side["trained"]
    return {"trained": len(trained), "copied": len(side["copied"]),
            "cpu_min": sum(seconds.get(t, 0.0) for t in trained) / 60,
            "without_record": sum(t not in seconds for t in trained)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    seconds = recorded_seconds([REPO / "results" / "quick", REPO / "results" / "study"])
    sides = {ref: book_trials(commit_tree(ref)) for ref in (args.base, args.new)}
    base, new = (summary(sides[ref], seconds) for ref in (args.base, args.new))
    print(f"{'':10} {'trained':>8} {'copied':>7} {'CPU-min':>8} {'no record':>9}")
    for ref, row in ((args.base, base), (args.new, new)):
        print(f"{ref:10} {row['trained']:8d} {row['copied']:7d} {row['cpu_min']:8.1f} "
              f"{row['without_record']:9d}")
    gone = set(sides[args.base]["trained"]) - set(sides[args.new]["trained"])
    kinds: dict[str, list[str]] = {}
    for tid in gone:
        reason = "copied" if tid in sides[args.new]["copied"] else "not declared (a committed study)"
        kinds.setdefault(f"{sides[args.base]['trained'][tid].split()[0]}: {reason}", []).append(tid)
    for kind, ids in sorted(kinds.items()):
        print(f"  {len(ids):4d} trials, {sum(seconds.get(t, 0.0) for t in ids) / 60:6.1f} CPU-min "
              f"no longer trained: {kind}")
    print(f"from scratch the quick book trains {base['trained'] - new['trained']} trials and "
          f"{base['cpu_min'] - new['cpu_min']:.1f} recorded CPU-min fewer "
          f"({new['cpu_min'] / base['cpu_min']:.2f} of {args.base}'s)")
    if args.json:
        Path(args.json).write_text(json.dumps(sides, indent=1))


if __name__ == "__main__":
    main()
