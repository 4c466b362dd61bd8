"""A data file checked against its own description, before anything reads its arrays.

A file written by :mod:`mufno_core.data.generate` describes itself: its attributes give the PDE,
the sizes ``n_train``/``n_test``, the stored ``resolution`` s and (Navier–Stokes) the time steps
``const_t_in``/``const_t_out``; from these its datasets must have the shapes (n = n_train + n_test)

- burgers: ``input`` (n, s), ``target`` (n, s), ``grid`` (s, 1);
- darcy: ``input`` (n, s, s), ``target`` (n, s, s), ``grid`` (s, s, 2);
- navier_stokes: ``input`` (n, s, s, t_in), ``target`` (n, s, s, t_out), ``grid`` (s, s, 2),
  and where present ``t_input`` (t_in,), ``t_target`` (t_out,),

with floating-point values, integer sizes and ``complete`` set. :func:`inspect_file` returns these
facts, or raises :class:`DataFileError` with one line per problem, each naming the file and the
dataset or attribute; nothing but the metadata is read (a NaN scan is
:func:`mufno_core.sweep.fingerprint.nonfinite_problem`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mufno_core.data.pdes import PDE_SPECS, pde_spec
from mufno_core.data.presets import TABLE, dataset_spec

DATASETS = ("input", "target", "grid")
"""Datasets every data file holds."""
ATTRIBUTES = ("pde", "n_train", "n_test", "resolution", "complete")
"""Attributes every data file holds."""
INT_ATTRIBUTES = {"n_train": 1, "n_test": 0, "resolution": 1, "solve_resolution": 1,
                  "subsample": 1, "seed": 0, "const_t_in": 1, "const_t_out": 1}
"""Integer attributes (checked where present) and their least value."""
TIME_ATTRIBUTES = ("const_t_in", "const_t_out")
"""Navier–Stokes' input and output time steps: required there."""


class DataFileError(ValueError):
    """A data file that contradicts its own description; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class DataFileFacts:
    """What a checked data file holds: its PDE, sizes and the shapes of its arrays."""

    path: Path
    pde: str
    n_train: int
    n_test: int
    resolution: int
    input_shape: tuple[int, ...]
    target_shape: tuple[int, ...]
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def in_channels(self) -> int:
        """Input channels a model sees: Navier–Stokes' t_in snapshots, else 1."""
        return self.input_shape[-1] if pde_spec(self.pde).time_steps else 1

    @property
    def out_channels(self) -> int:
        return 1


def generate_command(path: str | Path) -> str:
    """The ``mufno data`` command that writes ``path`` (guessed from its name)."""
    path = Path(path)
    stem = path.name.removesuffix(".h5")
    for name in sorted(TABLE, key=len, reverse=True):
        preset = stem.removeprefix(name + "_")
        if stem.startswith(name + "_") and preset in TABLE[name]:
            command = dataset_spec(name, preset).command()
            return command if path.parent == Path("data") else f"{command} --out {path}"
    return f"mufno data NAME --preset PRESET --out {path}"


def expected_shapes(pde: str, n: int, resolution: int, t_in: int = 0,
                    t_out: int = 0) -> dict[str, tuple[int, ...]]:
    """Shape of each dataset of a file with these attributes (see the module docstring)."""
    return pde_spec(pde).shapes(n, resolution, t_in, t_out)


def _integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _text(value: Any) -> Any:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _attribute_problems(path: Path, attrs: dict[str, Any]) -> list[str]:
    problems = []
    for key, least in INT_ATTRIBUTES.items():
        if key not in attrs:
            continue
        value = attrs[key]
        if not _integer(value):
            problems.append(f"{path}: attribute {key!r} must be an integer, got {value!r}")
        elif value < least:
            problems.append(f"{path}: attribute {key!r} must be >= {least}, got {int(value)}")
    pde = _text(attrs["pde"])
    if not isinstance(pde, str) or pde not in PDE_SPECS:
        problems.append(f"{path}: attribute 'pde' is {pde!r}, not one of {tuple(PDE_SPECS)} "
                        "(unknown pde)")
    elif PDE_SPECS[pde].time_steps:
        problems += [f"{path}: not a mufno data file, missing attribute {key!r} "
                     "(Navier–Stokes' time steps)" for key in TIME_ATTRIBUTES if key not in attrs]
    return problems


def _dataset_problems(path: Path, h5: h5py.File, pde: str, attrs: dict[str, Any],
                      size: int) -> list[str]:
    n = int(attrs["n_train"]) + int(attrs["n_test"])
    t_in, t_out = (int(attrs.get(key, 0)) for key in TIME_ATTRIBUTES)
    says = (f"n_train + n_test = {n}, resolution = {int(attrs['resolution'])}"
            + (f", const_t_in = {t_in}, const_t_out = {t_out}" if pde_spec(pde).time_steps else ""))
    problems = []
    for name, shape in expected_shapes(pde, n, int(attrs["resolution"]), t_in, t_out).items():
        if name not in h5 or not isinstance(h5[name], h5py.Dataset):
            continue  # optional (t_input, t_target) or reported as not a dataset
        ds = h5[name]
        if ds.dtype.kind != "f":
            problems.append(f"{path}: dataset {name!r} holds {ds.dtype}, not floating-point "
                            "values")
        if ds.shape != shape:
            problems.append(f"{path}: wrong layout for {pde}: dataset {name!r} has shape "
                            f"{ds.shape}, but the attributes ({says}) say {shape}")
        offset = ds.id.get_offset()  # a truncated file loses the end of its contiguous data
        if offset is not None and offset + ds.id.get_storage_size() > size:
            problems.append(f"{path}: truncated: dataset {ds.name!r} ends past the end of the "
                            f"file ({size} bytes)")
    return problems


def _file_problems(path: Path, h5: h5py.File, size: int) -> list[str]:
    missing = [k for k in DATASETS if k not in h5]
    if missing:
        return [f"{path}: not a mufno data file, missing dataset(s) {missing}"]
    problems = [f"{path}: {name!r} is a {type(h5[name]).__name__.lower()}, not a dataset"
                for name in DATASETS if not isinstance(h5[name], h5py.Dataset)]
    attrs = dict(h5.attrs)
    absent = [k for k in ATTRIBUTES if k not in attrs]
    if absent:
        return problems + [f"{path}: not a mufno data file, missing attribute {k!r}"
                           for k in absent]
    if not attrs["complete"]:
        return problems + [f"{path}: generation did not complete (attribute 'complete' is "
                           f"false); delete it and regenerate with `{generate_command(path)}`"]
    bad_attrs = _attribute_problems(path, attrs)
    if bad_attrs:
        return problems + bad_attrs
    return problems + _dataset_problems(path, h5, _text(attrs["pde"]), attrs, size)


def inspect_file(path: str | Path) -> DataFileFacts:
    """The facts of the data file ``path`` once it matches its own description.

    Raises FileNotFoundError (with the command that generates it) or :class:`DataFileError`
    naming the file and each problem: unreadable or truncated HDF5, missing or non-dataset
    arrays, missing or non-integer attributes, dtypes, shapes that contradict the attributes.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise DataFileError([f"{path}: is a folder (or another non-file), not a data file; "
                             f"remove it and generate the file with `{generate_command(path)}`"])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: data file not found; generate it with "
                                f"`{generate_command(path)}` (names: `mufno data --list`)")
    size = path.stat().st_size
    try:
        with h5py.File(path, "r") as h5:
            problems = _file_problems(path, h5, size)
            if problems:
                raise DataFileError(problems)
            attrs = dict(h5.attrs)
            x_shape, y_shape = h5["input"].shape, h5["target"].shape
    except OSError as err:
        raise DataFileError([f"{path}: not a readable HDF5 file (truncated or corrupt?): "
                             f"{err}"]) from err
    return DataFileFacts(path, _text(attrs["pde"]), int(attrs["n_train"]), int(attrs["n_test"]),
                         int(attrs["resolution"]), tuple(x_shape), tuple(y_shape), attrs)


def check_file(path: str | Path) -> dict[str, Any]:
    """Check that ``path`` is a complete data file of this package; return its attributes.

    Raises FileNotFoundError (with the command that generates it) or ValueError naming the file
    and each problem (:func:`~mufno_core.data.integrity.inspect_file`): unreadable or truncated
    HDF5, missing datasets or attributes, shapes, dtypes or sizes that contradict the attributes.
    """
    return inspect_file(path).attrs
