"""``mufno sweep EXPERIMENT --preset PRESET``: run or resume a sweep, then print its summary.

Progress shows trials done / left and an ETA; the summary gives the optimal LR per K (with a 95%
seed-bootstrap interval) and the drift lr*(K_max)/lr*(K_min) for SP and μP, or the best batch size
/ β2 per K with the shift of the located optimum from K_min to K_max (``hparam_shift``). Failed
trials come first, in one line with the commonest reason, then one line per reason with the record
that keeps its traceback; they are left out of the tables. Ctrl-C (exit 130) and SIGTERM (exit
143) stop cleanly: finished trials are stored, and the same command resumes.
A sweep that cannot run (a bad setting, a data file that does not fit) ends before its first trial
with one line per problem (exit 2).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import pandas as pd

from mufno_core.analysis.optima import NoEvidence, hparam_shift, lr_drift, lr_exponent, optimal_hparam_per_k
from mufno_core.analysis.summary import summary_table
from mufno_core.axes import hparam_axis
from mufno_core.checks import check_folder
from mufno_core.sweep.budget import sweep_flops
from mufno_core.sweep.errors import error_report
from mufno_core.sweep.executors import EXECUTORS, SweepInterrupted, run_sweep_trials
from mufno_core.sweep.experiments import EXPERIMENTS, PRESETS, get_experiment, grid, in_grid
from mufno_core.sweep.store import ResultsStore, finished_trials, load_results
from mufno_core.sweep.trial import resolve_device


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("experiment", nargs="?", help=f"one of: {', '.join(EXPERIMENTS)}")
    parser.add_argument("--list", action="store_true",
                        help="list the experiments (or only EXPERIMENT) and their presets")
    parser.add_argument("--flops", action="store_true",
                        help="with --list: each grid's training FLOPs (counted on the meta device)")
    parser.add_argument("--preset", default="quick", choices=PRESETS, help="grid size (default quick)")
    parser.add_argument("--results", default=None, help="results directory (default results/PRESET)")
    parser.add_argument("--executor", default="inline", choices=EXECUTORS)
    parser.add_argument("--workers", type=int, default=None,
                        help="processes (process executor) or LocalCluster workers (default: CPUs)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address tcp://HOST:PORT (default: start a LocalCluster)")
    parser.add_argument("--data-dir", default="data", help="where data sets live (default data/)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    parser.add_argument("--stack", action=argparse.BooleanOptionalAction, default=None,
                        help="train trials that share K side by side (default: the preset's choice)")
    parser.add_argument("--limit", type=int, default=None, help="run at most the first N trials")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a grid axis or setting, e.g. --set steps=300 --set modes=3,24")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def format_listing(flops: bool = False, experiment: str | None = None) -> str:
    """The experiments (or only ``experiment``) and their presets; with ``flops``, each grid's
    training FLOPs too."""
    cost = f" {'train FLOPs':>11}" if flops else ""
    lines = [f"{'experiment':<18} {'preset':<6} {'swept':<10} {'trials':>6}{cost}  description"]
    for exp in [get_experiment(experiment)] if experiment else EXPERIMENTS.values():
        for name, preset in exp.presets.items():
            cost = f" {sweep_flops(grid(exp.name, name)):>11.2e}" if flops else ""
            lines.append(f"{exp.name:<18} {name:<6} {exp.swept:<10} {preset.size():>6}{cost}  "
                         f"K={','.join(map(str, preset.modes))}  "
                         + (exp.description if name == "smoke" else ""))
    return "\n".join(lines)


def _scalar(text: str):
    text = text.strip()
    if text.lower() in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_overrides(items: list[str]) -> dict:
    """``["steps=300", "modes=3,24"]`` -> ``{"steps": 300, "modes": (3, 24)}``."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        values = [_scalar(v) for v in value.split(",")]
        overrides[key.strip().replace("-", "_")] = tuple(values) if len(values) > 1 else values[0]
    return overrides


def summarise(df, swept: str) -> str:
    """The end-of-sweep table: lr* per K and the drift, or the best batch size / β2 per K and the
    shift of its located optimum.

    Only finished trials ("ok", "diverged") enter it; errors are reported by :func:`error_report`.
    With nothing to estimate from (every finished trial diverged), one sentence.
    """
    done = finished_trials(df)
    if done.empty:
        return "no finished trials"
    try:
        return _summary_tables(done, swept)
    except NoEvidence as err:
        return f"no estimate: {err}"


def _summary_tables(done, swept: str) -> str:
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        if swept == "lr":
            drift = lr_drift(done)
            drift = drift.assign(drift=[f"{r.drift:.2f} [{r.drift_low:.2f}, {r.drift_high:.2f}]"
                                        for r in drift.itertuples()])
            cols = ["parametrization", "k_min", "k_max", "drift", "moves", "theory_sp", "edge"]
            exponent = lr_exponent(done)
            exponent = exponent.assign(
                alpha=[f"{r.alpha:+.2f} [{r.alpha_low:+.2f}, {r.alpha_high:+.2f}]"
                       for r in exponent.itertuples()])
            exp_cols = ["parametrization", "ks", "alpha", "theory", "excludes_zero", "excludes_half"]
            return (f"optimal LR per K (seed-mean training loss, parabola in log LR; 95% bootstrap CI):\n"
                    f"{summary_table(done)}\n\ndrift lr*(K_max)/lr*(K_min):\n"
                    f"{drift[cols].to_string(index=False)}\n\n"
                    f"exponent α of lr* ∝ (log K)^α over all K (95% CI; theory SP −0.5, μP 0):\n"
                    f"{exponent[exp_cols].to_string(index=False)}")
        best = optimal_hparam_per_k(done, swept)
        cols = ["parametrization", "modes", f"{swept}_opt", "freq_opt", "loss_opt", "bootstrap"]
        shift = hparam_shift(done, swept)
        digits = hparam_axis(swept).number
        shift = shift.assign(**{
            f"opt_{end}": [f"{getattr(r, f'opt_{end}'):{digits}} [{getattr(r, f'opt_low_{end}'):{digits}}, "
                  f"{getattr(r, f'opt_high_{end}'):{digits}}]" for r in shift.itertuples()]
            for end in ("k_min", "k_max")},
            K=[f"{r.k_min} → {r.k_max}" for r in shift.itertuples()],
            shift=[f"{r.shift:+.2f} [{r.shift_low:+.2f}, {r.shift_high:+.2f}]"
                   for r in shift.itertuples()])
        shift_cols = ["parametrization", "K", "opt_k_min", "opt_k_max", "shift", "ratio", "moves",
                      "edge", "loss_range", "seed_sd"]
        axis = shift["axis"].iloc[0] if len(shift) else swept
        return (f"best {swept} per K (bootstrap frequency of the pick):\n"
                f"{best[cols].to_string(index=False)}\n\n"
                f"located optimum at K_min and K_max and its shift on {axis} (parabola vertex; "
                f"95% paired seed-bootstrap CI; ratio = q(K_max)/q(K_min)):\n"
                f"{shift[shift_cols].round(3).to_string(index=False)}")


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(format_listing(flops=args.flops, experiment=args.experiment))
        return 0
    if not args.experiment:
        raise ValueError("give an EXPERIMENT (see `mufno sweep --list`)")
    exp = get_experiment(args.experiment)
    configs = grid(exp, args.preset, **parse_overrides(args.set))
    if args.limit is not None:
        if args.limit < 1:
            raise ValueError(f"--limit must be positive, got {args.limit}")
        configs = configs[: args.limit]
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be a positive number of processes, got {args.workers}")
    check_folder("--data-dir", args.data_dir)
    results = check_folder("--results", f"results/{args.preset}" if args.results is None
                           else args.results)
    store = ResultsStore(results, exp.name)
    device = resolve_device(args.device)
    print(f"sweep {exp.name} [{args.preset}]: {len(configs)} trials -> {store.folder} "
          f"(executor {args.executor}, device {device})", file=sys.stderr)
    start = time.perf_counter()
    try:
        outcome = run_sweep_trials(configs, store, executor=args.executor, workers=args.workers,
                                   scheduler=args.scheduler, data_dir=args.data_dir, device=device,
                                   stack=exp.presets[args.preset].stack if args.stack is None
                                   else args.stack, progress=not args.no_progress)
    except KeyboardInterrupt as err:
        how = err.args[0] if isinstance(err, SweepInterrupted) else "interrupted"
        print(f"\n{how}: finished trials are stored in {store.folder}; resume with: "
              f"{resume_command()}", file=sys.stderr)
        return err.exit_code if isinstance(err, SweepInterrupted) else 130
    print(f"{outcome.skipped} already done, {outcome.ran} run now ({outcome.ok} ok, "
          f"{outcome.diverged} diverged, {outcome.errors} errors) in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    df = load_results(store.folder)
    df = df[in_grid(df, configs)]
    for line in error_report(df, store.folder):
        print(line)
    print(summarise(df, exp.swept))
    return 1 if outcome.errors else 0


def resume_command() -> str:
    """The command line that resumes this sweep (the same command)."""
    argv = sys.argv[1:]
    return shlex.join(["mufno", *argv]) if argv[:1] == ["sweep"] else "the same command"
