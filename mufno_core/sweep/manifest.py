"""The integrity manifest of a results store: one SHA-256 per record, committed beside the records.

    python -m mufno_core.analysis.reproduce manifest results/quick           # check; exit 1 on a difference
    python -m mufno_core.analysis.reproduce manifest results/study --write   # rewrite from the records

``STORE/MANIFEST.sha256`` holds one line per record in ``sha256sum`` format,
``<hex digest>  <experiment>/<trial_id>.json``, sorted by path (``sha256sum -c MANIFEST.sha256``
inside the store checks it too). Every record a sweep writes updates its line
(:meth:`~mufno_core.sweep.store.ResultsStore.write` calls :func:`add`; the read, change and rename
run under a lock of the store folder, so concurrent sweeps into one store keep each other's lines).
:func:`check` compares the bytes of every record with its line: a record edited by hand, one
missing, and one that is not listed are each named. It reads every record once (a store of
3000 records in well under a second).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "MANIFEST.sha256"


def record_files(root: str | Path) -> list[Path]:
    """The record files of a store (``*.json`` below ``root``, not hidden), as the store reads them."""
    root = Path(root)
    return sorted(p for p in root.rglob("*.json")
                  if not p.name.startswith(".") and not any(part.startswith(".")
                                                           for part in p.relative_to(root).parts))


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes (a FIFO or folder raises ValueError instead of blocking)."""
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(root: str | Path) -> dict[str, str]:
    """{relative path: digest} of ``root``'s manifest ({} when there is none)."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        hexdigest, sep, name = line.partition("  ")
        if not sep or len(hexdigest) != 64 or not name:
            raise ValueError(f"{path}, line {number}: not '<sha256>  <path>'")
        entries[name] = hexdigest
    return entries


def _write_manifest(root: Path, entries: dict[str, str]) -> None:
    text = "".join(f"{entries[name]}  {name}\n" for name in sorted(entries))
    fd, tmp = tempfile.mkstemp(prefix=".MANIFEST.", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """An exclusive lock of the store folder (flock: released when the process ends, even by kill -9)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def manifest_home(root: str | Path) -> Path:
    """The folder whose manifest lists the records of the store at ``root``: the nearest folder at
    or above it that has one (a store nested in a committed store, such as ``results/study/horizons``,
    is listed in ``results/study/MANIFEST.sha256``), else ``root`` itself."""
    root = Path(root).resolve()
    return next((folder for folder in (root, *root.parents) if (folder / MANIFEST).is_file()), root)


def add(root: str | Path, record: Path) -> None:
    """Set the manifest line of ``record`` (a file under ``root``) to its current digest, in the
    manifest of :func:`manifest_home`."""
    root = manifest_home(root)
    name = Path(record).resolve().relative_to(root).as_posix()
    value = digest(Path(record))
    with _locked(root):
        entries = read_manifest(root)
        if entries.get(name) != value:
            entries[name] = value
            _write_manifest(root, entries)


def write(root: str | Path) -> int:
    """Rewrite ``root``'s manifest from the records now in place; returns how many it lists."""
    root = Path(root)
    with _locked(root):
        entries = {p.relative_to(root).as_posix(): digest(p) for p in record_files(root)}
        _write_manifest(root, entries)
    return len(entries)


@dataclass
class ManifestCheck:
    """What :func:`check` found: records that match, differ, are missing or are not listed."""

    root: Path
    matching: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unlisted or self.unreadable)

    def line(self) -> str:
        """One line: all match, or how many differ and the first few names."""
        where = self.root / MANIFEST
        if self.ok:
            return f"manifest: all {self.matching} records of {self.root} match {where}"
        parts = []
        for label, names in (("changed since the manifest was written", self.changed),
                             ("listed but missing", self.missing),
                             ("not listed", self.unlisted), ("unreadable", self.unreadable)):
            if names:
                shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                parts.append(f"{len(names)} {label} ({shown})")
        return (f"manifest: {'; '.join(parts)}; {self.matching} match {where} "
                f"(if the records are new on purpose: python -m mufno_core.analysis.reproduce "
                f"manifest {self.root} --write)")


def check(root: str | Path) -> ManifestCheck:
    """Every record of ``root`` against its manifest (ValueError when the store has none)."""
    root = Path(root)
    if not (root / MANIFEST).is_file():
        raise ValueError(f"{root} has no {MANIFEST}; write one with: python -m "
                         f"mufno_core.analysis.reproduce manifest {root} --write")
    listed = read_manifest(root)
    result = ManifestCheck(root)
    present = {p.relative_to(root).as_posix(): p for p in record_files(root)}
    for name, path in present.items():
        if name not in listed:
            result.unlisted.append(name)
            continue
        try:
            same = digest(path) == listed[name]
        except (OSError, ValueError):
            result.unreadable.append(name)
            continue
        if same:
            result.matching += 1
        else:
            result.changed.append(name)
    result.missing = sorted(set(listed) - set(present))
    return result
