"""Every data set and preset in one table: sizes, grids and the PDEs' constants
(defined in ``book/choices.md``, "The data").

Each row is stored at ``resolution`` points per axis after solving at ``solve_resolution`` and
keeping every r-th point (periodic grids: solve = r·res; Darcy's closed grid: solve − 1 = r·(res − 1)),
as the original data sets were subsampled (Burgers 8192 → 1024, Darcy 421 → 85 or 61).

Presets: ``smoke`` (tiny, for tests), ``quick`` (sized for sweeps on a CPU), ``gpu`` (the FNO
runs' sample counts at moderate cost), ``paper`` (the original resolutions). Generation times:
``benchmarks/bench_data.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mufno_core.data.pdes import PDE_SPECS

PDES = tuple(PDE_SPECS)
PRESETS = ("smoke", "quick", "gpu", "paper")

BURGERS = {"nu": 0.1, "t_end": 1.0, "dt": 5e-3, "amplitude": 25.0, "tau2": 25.0}
DARCY = {"f": 1.0, "a_high": 12.0, "a_low": 3.0, "alpha": 2.0, "tau": 3.0}
NAVIER_STOKES = {"nu": 1e-3, "dt": 1e-2, "record_every": 1.0, "alpha": 2.5, "tau": 7.0,
                 "sigma2": 7.0 ** 1.5, "forcing": "0.1*(sin(2pi(x+y))+cos(2pi(x+y)))",
                 "t_in": 10, "dtype": "float32"}


@dataclass(frozen=True)
class DatasetSpec:
    """One data set: which PDE, how many samples, on which grid, with which constants."""

    name: str
    preset: str
    pde: str
    n_train: int
    n_test: int
    resolution: int
    solve_resolution: int
    constants: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    filename: str = ""

    def __post_init__(self) -> None:
        if self.pde not in PDES:
            raise ValueError(f"unknown pde {self.pde!r}; expected one of {PDES}")
        for key in ("n_train", "n_test", "resolution", "solve_resolution", "seed"):
            value, minimum = getattr(self, key), 0 if key in ("seed", "n_test") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"{key} must be an int >= {minimum}, got {value!r}")
        self.subsample  # noqa: B018  (validates the grid pair)
        if not self.filename:
            object.__setattr__(self, "filename", f"{self.name}_{self.preset}.h5")

    @property
    def n_samples(self) -> int:
        return self.n_train + self.n_test

    @property
    def subsample(self) -> int:
        """r: the stored grid keeps every r-th point of the solver's grid."""
        closed = PDE_SPECS[self.pde].closed_grid
        fine, coarse = PDE_SPECS[self.pde].fine_and_coarse(self.solve_resolution, self.resolution)
        if coarse < 1 or fine % coarse:
            rule = "solve_resolution − 1 = r·(resolution − 1)" if closed else \
                "solve_resolution = r·resolution"
            raise ValueError(f"{self.name}: resolution {self.resolution} does not divide "
                             f"solve_resolution {self.solve_resolution} ({rule})")
        return fine // coarse

    @property
    def t_out(self) -> int:
        return int(self.constants.get("t_out", 0))

    def path(self, data_dir: str | Path = "data") -> Path:
        return Path(data_dir) / self.filename

    def command(self) -> str:
        """The CLI command that generates this data set."""
        cmd = f"mufno data {self.name} --preset {self.preset}"
        default = dataset_spec(self.name, self.preset) if self.preset in PRESETS else None
        if default is None or self.n_train != default.n_train:
            cmd += f" --n {self.n_train}"
        if default is None or self.n_test != default.n_test:
            cmd += f" --n-test {self.n_test}"
        if default is None or self.resolution != default.resolution:
            cmd += f" --res {self.resolution}"
        if default is None or self.seed != default.seed:
            cmd += f" --seed {self.seed}"
        if default is None or self.filename != default.filename:
            cmd += f" --out {self.filename}"
        return cmd

    def with_overrides(self, n_train: int | None = None, n_test: int | None = None,
                       resolution: int | None = None, seed: int | None = None) -> DatasetSpec:
        """The same data set with other sizes, stored resolution (same r) or seed; the file name
        records every change."""
        changes: dict[str, Any] = {}
        suffix = ""
        if n_train is not None and n_train != self.n_train:
            changes["n_train"], suffix = n_train, suffix + f"_n{n_train}"
        if n_test is not None and n_test != self.n_test:
            changes["n_test"], suffix = n_test, suffix + f"_t{n_test}"
        if resolution is not None and resolution != self.resolution:
            r = self.subsample
            changes["resolution"] = resolution
            changes["solve_resolution"] = PDE_SPECS[self.pde].solve_resolution(resolution, r)
            suffix += f"_res{resolution}"
        if seed is not None and seed != self.seed:
            changes["seed"], suffix = seed, suffix + f"_seed{seed}"
        if not changes:
            return self
        return dataclasses.replace(self, **changes,
                                   filename=f"{self.name}_{self.preset}{suffix}.h5")


def _ns(t_out: int) -> dict[str, Any]:
    return NAVIER_STOKES | {"t_out": t_out, "t_end": float(NAVIER_STOKES["t_in"] + t_out)}


# name -> preset -> (pde, n_train, n_test, resolution, solve_resolution, constants)
TABLE: dict[str, dict[str, tuple[str, int, int, int, int, dict[str, Any]]]] = {
    "burgers": {
        "smoke": ("burgers", 32, 16, 64, 256, BURGERS),
        "quick": ("burgers", 256, 64, 256, 1024, BURGERS),
        "gpu": ("burgers", 1000, 100, 1024, 4096, BURGERS),
        "paper": ("burgers", 1000, 100, 1024, 8192, BURGERS),
    },
    "darcy": {
        "smoke": ("darcy", 32, 16, 29, 57, DARCY),
        "quick": ("darcy", 256, 64, 29, 141, DARCY),
        "gpu": ("darcy", 1000, 100, 85, 169, DARCY),
        "paper": ("darcy", 1000, 100, 85, 421, DARCY),
    },
    "darcy_pino": {  # the same Darcy problem at PINO's resolution (421 → 61, r = 7)
        "smoke": ("darcy", 32, 16, 29, 57, DARCY),
        "quick": ("darcy", 256, 64, 31, 121, DARCY),
        "gpu": ("darcy", 1000, 100, 61, 241, DARCY),
        "paper": ("darcy", 1000, 100, 61, 421, DARCY),
    },
    "navier_stokes": {  # FNO-3D: records at t = 1…t_in in, t_in+1…t_in+t_out out
        "smoke": ("navier_stokes", 24, 8, 16, 32, _ns(5)),
        "quick": ("navier_stokes", 192, 64, 32, 64, _ns(10)),
        "gpu": ("navier_stokes", 1000, 200, 64, 64, _ns(10)),
        "paper": ("navier_stokes", 4800, 200, 64, 64, _ns(40)),
    },
}


def dataset_spec(name: str, preset: str) -> DatasetSpec:
    """The spec of data set ``name`` (burgers, darcy, darcy_pino, navier_stokes) at ``preset``."""
    if name not in TABLE:
        raise ValueError(f"unknown data set {name!r}; expected one of {sorted(TABLE)}")
    if preset not in TABLE[name]:
        raise ValueError(f"unknown preset {preset!r}; expected one of {PRESETS}")
    pde, n_train, n_test, res, solve_res, constants = TABLE[name][preset]
    return DatasetSpec(name, preset, pde, n_train, n_test, res, solve_res, dict(constants))


def list_presets() -> str:
    """A plain-text table of every data set and preset."""
    lines = [f"{'name':<14} {'preset':<6} {'train':>6} {'test':>5} {'stored':>8} {'solved':>7}  "
             "constants"]
    for name in TABLE:
        for preset in PRESETS:
            spec = dataset_spec(name, preset)
            keys = PDE_SPECS[spec.pde].listed_constants
            consts = ", ".join(f"{k}={spec.constants[k]:g}" for k in keys if k in spec.constants)
            lines.append(f"{name:<14} {preset:<6} {spec.n_train:>6} {spec.n_test:>5} "
                         f"{spec.resolution:>8} {spec.solve_resolution:>7}  {consts}  "
                         f"-> data/{spec.filename}")
    return "\n".join(lines)
