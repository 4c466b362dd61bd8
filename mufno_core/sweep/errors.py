"""Failed trials, said first and in words: they are never measurements.

:func:`error_line` is the one line that a chapter or a CLI summary prints first when its grid holds
trials that failed with an error; :func:`error_groups` lists each distinct reason with its count and
the record that keeps the full traceback.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MAX_REASON = 160
"""Characters of a reason shown in one line."""


def reason_of(message) -> str:
    """The first line of an error message, shortened to :data:`MAX_REASON` characters."""
    if not isinstance(message, str) or not message.strip():
        return "no reason recorded"
    first = message.strip().splitlines()[0]
    return first if len(first) <= MAX_REASON else first[: MAX_REASON - 1] + "…"


def _trials(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trial (the mirrored μP rows at the base K repeat an SP trial)."""
    if "mirrored" in df.columns:
        df = df[~df["mirrored"].fillna(False).astype(bool)]
    if "trial_id" in df.columns:
        df = df.drop_duplicates("trial_id")
    return df


def _errors(df: pd.DataFrame) -> pd.DataFrame:
    trials = _trials(df)
    return trials[trials["status"] == "error"]


def error_groups(df: pd.DataFrame) -> pd.DataFrame:
    """The failed trials of ``df`` grouped by reason, commonest first.

    Columns: ``reason`` (first line of the exception), ``count`` and ``trial_id`` (one trial of
    the group, whose record keeps the full traceback under the key "traceback").
    """
    columns = ["reason", "count", "trial_id"]
    if df is None or len(df) == 0 or "status" not in df.columns:
        return pd.DataFrame(columns=columns)
    errors = _errors(df)
    if errors.empty:
        return pd.DataFrame(columns=columns)
    messages = errors["error"] if "error" in errors.columns else pd.Series([None] * len(errors))
    ids = errors["trial_id"] if "trial_id" in errors.columns else pd.Series([""] * len(errors))
    frame = pd.DataFrame({"reason": [reason_of(m) for m in messages], "trial_id": list(ids)})
    grouped = frame.groupby("reason", sort=False).agg(count=("trial_id", "size"),
                                                        trial_id=("trial_id", "first"))
    grouped = grouped.reset_index().sort_values("count", ascending=False, kind="stable")
    return grouped[columns].reset_index(drop=True)


def error_line(df: pd.DataFrame) -> str | None:
    """One line when trials of ``df`` failed with an error, else None.

    ``df`` is :func:`~mufno_core.sweep.store.load_results`' frame (columns ``status`` and
    ``error``), e.g. "12 of 30 trials failed with an error (commonest: ValueError: K=100 Fourier
    modes are too many for 64 grid points …); they are left out of the analysis".
    """
    groups = error_groups(df)
    if groups.empty:
        return None
    failed, total = int(groups["count"].sum()), len(_trials(df))
    kinds = "" if len(groups) == 1 else f"; {len(groups)} different reasons"
    return (f"{failed} of {total} trials failed with an error (commonest: {groups['reason'][0]}"
            f"{kinds}); they are left out of the analysis")


def error_report(df: pd.DataFrame, folder: str | Path | None = None) -> list[str]:
    """:func:`error_line`, then one line per reason with its count and where the traceback is."""
    line = error_line(df)
    if line is None:
        return []
    lines = [line]
    for row in error_groups(df).itertuples():
        where = f"{Path(folder) / (row.trial_id + '.json')}" if folder is not None else row.trial_id
        lines.append(f"  {row.count} × {row.reason}  (traceback: {where})")
    return lines
