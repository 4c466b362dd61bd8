"""The results store: one JSON file per trial, ``DIR/<experiment>/<trial_id>.json``.

A record is written to a temporary file in the same folder, flushed, fsync'ed and renamed over
its final name (``os.replace`` is atomic on POSIX and Windows), so a reader sees either no record
or a whole one, even after ``kill -9``. Leftover temporary files are ignored. A file that is not a
record (corrupt JSON, a foreign file), a record of another experiment inside an experiment's folder
and a record copied under a name that is not its trial id are reported by name with a warning and
skipped, and so is a record without a valid ``status`` (:data:`STATUSES`): the store never hands
it to an analysis, and :func:`finished_trials` is the one filter from a frame to the results.
Records are written readable by everyone the umask allows (0644 by default), so a group
can share a results store. A file of JSON nested too deeply to parse is not a record either, and a
FIFO, socket or folder named like a record is never opened (it would block the reader, or the
write of that trial's record): a sweep refuses to start while one is in the store, naming it.
Every record written updates the store's integrity manifest (:mod:`mufno_core.sweep.manifest`).

A record is "done" (reused, not rerun) only when its status is "ok" or "diverged", it was made by
code of the current :data:`RESULTS_VERSION` and on the same data: its ``data_fingerprint`` equals
the fingerprint of the data file now in place (:func:`record_is_current`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mufno_core.sweep import manifest
from mufno_core.sweep.config import DEFAULTS, SCHEMA, TrialConfig
from mufno_core.sweep.experiments import EXPERIMENTS
from mufno_core.sweep.fingerprint import data_fingerprint

if TYPE_CHECKING:
    import pandas as pd

DONE_STATUSES = ("ok", "diverged")
"""A trial with one of these statuses is finished; an "error" record is retried on the next run."""

STATUSES = (*DONE_STATUSES, "error")
"""Every valid ``status`` of a record; a file with another one, or none, is not a record."""

RESULTS_VERSION = 1
"""Version of what a trial computes, stored in every record as ``results_version``.

Bump it whenever a change alters the numbers a trial produces for the same config and data (the
model, its initialisation or parametrization, the optimizer, the loss, the batch order, the data
loading or normalisation, the synthetic data, ...): records of an older version are then no longer
"done" and the next sweep reruns and overwrites them. Trial ids do not change. Records written
before this field existed count as version 1 (the code that introduced it computes what they
computed).
"""


class StoreWarning(UserWarning):
    """A file in the results store that is not a readable trial record."""


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    """NaN/inf become null (strict JSON); containers are walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_current_umask()
"""Mode of a written record: what ``open()`` would give (mkstemp's 0600 would hide it from a group)."""


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` so that the file is always either absent, old or complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "w") as fh:
            json.dump(_clean(data), fh, indent=1, allow_nan=False, default=_json_default)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


VALIDATED_MAX = 100_000
_validated: set[bytes] = set()
"""The texts of the records :func:`read_record` has checked in this process. A store is read
again and again (each chapter, the README's table, the site's pages): a text seen before is parsed
but not checked again, which re-derived its trial id (about three quarters of a read)."""


def read_record(path: Path) -> dict[str, Any]:
    """One trial record; ``ValueError`` naming the file if it is corrupt or not a record."""
    if not Path(path).is_file():  # a FIFO would block the read, a folder fail with a bare errno
        raise ValueError(f"{path}: {_kind(Path(path))}, not a record")
    text = Path(path).read_bytes()
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: corrupt JSON ({err})") from err
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply to be a record") from None
    if text in _validated:
        return record
    _check_record(path, record)
    if len(_validated) >= VALIDATED_MAX:
        _validated.clear()
    _validated.add(text)
    return record


def _check_record(path: Path, record: Any) -> None:
    """``ValueError`` naming ``path`` unless ``record`` is a mufno trial record: the schema, a
    config that builds, the trial id of that config, and a status."""
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a mufno trial record (no schema {SCHEMA!r})")
    try:
        config = TrialConfig.from_dict(record["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: bad trial config ({err})") from err
    if record.get("trial_id") != config.trial_id():
        raise ValueError(f"{path}: trial_id does not match its config")
    if record.get("status") not in STATUSES:
        raise ValueError(f"{path}: no valid status (got {record.get('status')!r}, expected one of "
                         f"{', '.join(STATUSES)}); not a result")


def _kind(path: Path) -> str:
    """What a path that is not a regular file is, in words."""
    if path.is_dir():
        return "a folder"
    if path.is_fifo():
        return "a FIFO (named pipe)"
    if path.exists():
        return "not a regular file"
    return "missing"


def _foreign(file: Path, record: dict[str, Any], folders: set[str]) -> str | None:
    """Why a record does not belong in the experiment folder it was found in (None: it does)."""
    experiment = record["config"]["experiment"]
    folder = file.parent.name
    if folder != experiment and folder in folders:
        return f"{file}: a record of experiment {experiment!r} inside the folder of {folder!r}"
    return None


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Every readable record under ``path`` (a store root, an experiment folder or one file).

    Unreadable files, and (in a folder) records of another experiment inside an experiment's
    folder, are skipped; a record also stored under a name that is not its trial id (a copy) is
    counted once. One :class:`StoreWarning` names them all.
    """
    path = Path(path)
    if path.is_file():
        files, walked = [path], False
    elif path.is_dir():
        files, walked = sorted(p for p in path.rglob("*.json") if not p.name.startswith(".")), True
    else:
        raise FileNotFoundError(f"no results at {path}")
    bad: list[str] = []
    folders = set(EXPERIMENTS) if walked else set()
    seen: set[str] = set()
    renamed: list[tuple[Path, dict[str, Any]]] = []
    for file in files:
        try:
            record = read_record(file)
        except (OSError, ValueError) as err:
            bad.append(str(err))
            continue
        reason = _foreign(file, record, folders) if walked else None
        if reason is not None:
            bad.append(reason)
            continue
        if walked and file.stem != record["trial_id"]:
            renamed.append((file, record))  # counted only if no properly named copy exists
            continue
        seen.add(record["trial_id"])
        yield record
    for file, record in renamed:
        if record["trial_id"] in seen:
            bad.append(f"{file}: a copy of trial {record['trial_id']} under another name; "
                       "counted once")
            continue
        seen.add(record["trial_id"])
        yield record
    if bad:
        warnings.warn(f"skipped {len(bad)} file(s) in the results store:\n  "
                      + "\n  ".join(bad), StoreWarning, stacklevel=2)


class ResultsStore:
    """The records of one experiment under ``root/<experiment>/``."""

    def __init__(self, root: str | Path, experiment: str) -> None:
        if not str(root).strip():  # Path("") would be the working folder
            raise ValueError("the results folder is empty; give a folder such as results/quick")
        self.root = Path(root)
        self.experiment = experiment
        self.folder = self.root / experiment

    def path(self, trial_id: str) -> Path:
        return self.folder / f"{trial_id}.json"

    def write(self, record: dict[str, Any]) -> Path:
        """Atomically store one record (its ``trial_id`` names the file) and its manifest line."""
        path = self.path(record["trial_id"])
        if path.exists() and not path.is_file():
            raise ValueError(f"{path}: {_kind(path)} is where the record of trial "
                             f"{record['trial_id']} belongs; move it away and rerun")
        write_json_atomic(path, record)
        manifest.add(self.root, path)
        return path

    def check_folder(self) -> None:
        """ValueError naming every entry named like a record that is not a regular file (a folder,
        a FIFO): a sweep could neither read it nor write that trial's record."""
        if not self.folder.is_dir():
            return
        blocked = sorted(f"{p} ({_kind(p)})" for p in self.folder.glob("*.json") if not p.is_file())
        if blocked:
            raise ValueError(f"not a record, in the way of the store: {', '.join(blocked)}; move "
                             "it away and rerun")

    def records(self) -> list[dict[str, Any]]:
        if not self.folder.exists():
            return []
        self.check_folder()
        return list(iter_records(self.folder))

    def done_ids(self, data_fingerprints: Mapping[tuple[str, str], str | None] | None = None
                 ) -> set[str]:
        """Ids of finished trials that are current (:func:`record_is_current`); errors, stale and
        corrupt records are not done.

        ``data_fingerprints`` maps (dataset, preset) to the fingerprint of the data file now in
        place (None, or a missing key: not known, e.g. the file is absent, so not checked).
        """
        fingerprints = data_fingerprints or {}
        return {r["trial_id"] for r in self.records()
                if record_is_current(r, fingerprints.get(_data_key(r)))}


def _data_key(record: dict[str, Any]) -> tuple[str, str]:
    config = record["config"]
    return config["dataset"], config["preset"]


def record_is_current(record: dict[str, Any], data_fingerprint: str | None = None) -> bool:
    """Whether ``record`` is a finished trial that a rerun may reuse.

    It must be "ok" or "diverged", made by code of the current :data:`RESULTS_VERSION` (a record
    without the field counts as version 1) and, when ``data_fingerprint`` is known (the data file
    exists), made on that data: a record with another fingerprint, or none (written before
    fingerprints were stored), is stale and gets rerun. Synthetic data have no fingerprint (they
    are made by the code, which :data:`RESULTS_VERSION` covers).
    """
    if record.get("status") not in DONE_STATUSES:
        return False
    if record.get("results_version", 1) != RESULTS_VERSION:
        return False
    return data_fingerprint is None or record.get("data_fingerprint") == data_fingerprint


RECORD_COLUMNS = ("mirrored", "status", "final_train_loss", "final_test_loss", "diverged", "diverged_step",
                  "steps_done", "wall_time", "steps_per_second", "n_parameters", "device", "version",
                  "error", "results_version", "data_fingerprint", "cpu_model", "torch_version",
                  "code_commit", "device_name")


FRAME_ORDER = ("experiment", "parametrization", "modes", "lr", "seed")
"""The row order of :func:`records_to_frame` (a stable sort: equal keys keep the records' order)."""


def records_to_frame(records: list[dict[str, Any]], sort: bool = True) -> pd.DataFrame:
    """One row per trial: ``trial_id``, every config field, then the outcome columns; rows in
    :data:`FRAME_ORDER` (``sort`` False: in the order of ``records``)."""
    import pandas as pd  # not at the top: a pool worker, which never reads a store, starts faster

    rows = []
    for r in records:
        row = {"trial_id": r["trial_id"], **DEFAULTS, **r["config"]}  # older records: defaults
        for column in RECORD_COLUMNS:
            row[column] = r.get(column)
        rows.append(row)
    config_columns = ["trial_id", *TrialConfig.__dataclass_fields__]
    frame = typed_columns(pd.DataFrame(rows, columns=[*config_columns, *RECORD_COLUMNS]))
    if not sort:
        return frame
    return frame.sort_values(list(FRAME_ORDER), kind="stable").reset_index(drop=True)


def typed_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (changed in place) with the types :func:`records_to_frame` gives the columns it
    has: losses, timings, ``lr`` and ``beta2`` as floats (NaN where missing), ``diverged`` and
    ``mirrored`` as bools (False where missing)."""
    import pandas as pd  # see records_to_frame

    for column in ("final_train_loss", "final_test_loss", "wall_time", "steps_per_second", "lr",
                   "beta2"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in ("diverged", "mirrored"):
        if column in frame.columns:
            frame[column] = frame[column].fillna(False).astype(bool)
    return frame


def mirror_base_trials(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the μP records at the base K: there μP (relative to K₀) is SP, so the SP trial stands
    for both (the grids do not run it twice). A mirror keeps the SP ``trial_id`` and has
    ``mirrored`` True; it is added only for experiments with μP trials and where no real μP trial
    of that config exists."""
    ids = {r["trial_id"] for r in records}
    has_mup = {r["config"]["experiment"] for r in records if r["config"]["parametrization"] == "mup"}
    mirrors = []
    for r in records:
        c = r["config"]
        if c["experiment"] not in has_mup:
            continue
        mup = TrialConfig.from_dict(c).mirrored_mup()
        if mup is not None and mup.trial_id() not in ids:
            mirrors.append({**r, "config": {**c, "parametrization": "mup"}, "mirrored": True})
    return records + mirrors


def finished_trials(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a results frame that are results: status "ok" or "diverged".

    The one filter every estimate goes through: an "error" record, a row whose status is
    anything else or missing (NaN), and a frame without a ``status`` column give no result.
    """
    if "status" not in df.columns:
        return df.iloc[0:0]
    return df[df["status"].isin(DONE_STATUSES)]


def load_results(path: str | Path, experiment: str | None = None, mirror: bool = True) -> pd.DataFrame:
    """A tidy DataFrame of the trials stored under ``path``, one row per trial.

    ``path`` is a store root (all experiments, or only ``experiment``), an experiment folder or
    a single record. Columns: every :class:`TrialConfig` field (so every swept hyperparameter),
    ``final_train_loss``, ``final_test_loss``, ``diverged``, ``status``, timings and device.
    Losses of diverged trials are NaN. Corrupt or foreign files are skipped with a warning.
    ``mirror`` adds the μP rows at the base K from the SP trials (:func:`mirror_base_trials`).
    """
    path = Path(path)
    if experiment is not None:
        path = path / experiment
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}")
    records = list(iter_records(path))
    return records_to_frame(mirror_base_trials(records) if mirror else records)


TABLE_RTOL = 1e-4
"""Relative change below which a measured table's numbers count as round-off. A chapter's tables
(the theory chapter's operator norms, the coordinate check) moved by at most 2.3e-6 when computed
with PyTorch's DEFAULT kernels instead of AVX-512 (measured on the smoke tables); a real change of
what they measure moves them by per cents."""


def same_table(old: pd.DataFrame, new: pd.DataFrame, rtol: float = TABLE_RTOL) -> bool:
    """Whether two tables have the same columns, rows and text, and numbers equal within ``rtol``."""
    import numpy as np
    import pandas as pd  # not at the top: a pool worker never reads a store

    if list(old.columns) != list(new.columns) or old.shape != new.shape:
        return False
    for column in old.columns:
        a, b = old[column], new[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            if not np.allclose(a.to_numpy(float), b.to_numpy(float), rtol=rtol, atol=0.0, equal_nan=True):
                return False
        elif not a.astype(str).equals(b.astype(str)):
            return False
    return True


def write_table(df: pd.DataFrame, path: str | Path, index: bool = False,
                rtol: float = TABLE_RTOL) -> bool:
    """Write ``df`` as CSV to ``path`` unless the file there holds the same table up to round-off
    (:func:`same_table`): a build on another CPU leaves a committed table as it is. Returns
    whether the file was written."""
    import io

    import pandas as pd  # not at the top: a pool worker never reads a store

    path = Path(path)
    text = df.to_csv(index=index)
    if path.is_file():
        try:
            old = pd.read_csv(path, index_col=0 if index else None)
            new = pd.read_csv(io.StringIO(text), index_col=0 if index else None)
        except (ValueError, OSError):
            old = new = None
        if old is not None and (path.read_text() == text or same_table(old, new, rtol)):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def pending_trials(configs: Iterable[TrialConfig], store: ResultsStore,
                   data_dir: str = "data") -> tuple[list[TrialConfig], int]:
    """The trials still to run (unique, not finished and current in the store) and how many are
    done. A stored record made on other data than the file now in ``data_dir`` (or by an older
    :data:`~mufno_core.sweep.store.RESULTS_VERSION`) is not done; see
    :func:`~mufno_core.sweep.store.record_is_current`."""
    unique: dict[str, TrialConfig] = {}
    fingerprints: dict[tuple[str, str], str | None] = {}
    for config in configs:
        unique.setdefault(config.trial_id(), config)
        key = (config.dataset, config.preset)
        if key not in fingerprints:
            fingerprints[key] = data_fingerprint(config, data_dir)
    done = store.done_ids(fingerprints)
    todo = [c for tid, c in unique.items() if tid not in done]
    return todo, len(unique) - len(todo)
