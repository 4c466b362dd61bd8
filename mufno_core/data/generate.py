"""Generate a data set of :mod:`mufno_core.data.presets` and write it as a self-describing HDF5 file.

Layout (samples first, float32; the first ``n_train`` samples are the training split, the last
``n_test`` the test split):

- burgers: ``input`` (n, N) = u0, ``target`` (n, N) = u(t_end), ``grid`` (N, 1) = x_j = j/N.
- darcy: ``input`` (n, s, s) = a, ``target`` (n, s, s) = u, ``grid`` (s, s, 2) = nodes of [0, 1]².
- navier_stokes: ``input`` (n, s, s, t_in) = w at t = 1…t_in, ``target`` (n, s, s, t_out) = w at
  t = t_in+1…t_in+t_out, ``grid`` (s, s, 2) = (i/s, j/s), ``t_input`` and ``t_target``.

Attributes: every constant, the seed, sizes, grids, ``mufno_version``, ``generator``,
``command`` and ``complete``. Sample i uses the generator SeedSequence(seed, spawn_key=(i,)),
so the arrays do not depend on ``workers`` or chunking. The file is written under a temporary
name (``NAME.h5.tmpPID``) and renamed when complete; temporary files of writers that are no longer
running (killed with -9) are removed by the next generation of the same file. A full disk ends in
one OSError line, with the partial file removed: HDF5 writes through :class:`DiskWriter`, which keeps
the disk's error from HDF5 (a failed HDF5 close leaves ids whose finalisation crashes the process).

The pool of ``workers`` processes ends with the generation, however it ends: Ctrl-C or SIGTERM
(raised in the driver as an exception) cancel the queued chunks and end the workers at once
(:func:`stop_pool`) instead of waiting for them; the workers ignore Ctrl-C themselves (the driver
stops them, without a traceback each), and after ``kill -9`` of the driver each worker sees its
parent gone within half a second, removes the driver's temporary file and exits.
"""

from __future__ import annotations

import errno
import glob
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from mufno_core import __version__
from mufno_core.data.integrity import check_file
from mufno_core.data.pdes import PDE_SPECS
from mufno_core.data.presets import DatasetSpec, dataset_spec

GENERATOR = "mufno_core.data.generate"


def _burgers_chunk(spec: DatasetSpec, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    from mufno_core.pde import burgers, grf  # the solvers (scipy) load where data are generated

    c, r = spec.constants, spec.subsample
    u0 = grf.burgers_initial_condition(grf.sample_rngs(spec.seed, start, stop),
                                       spec.solve_resolution, c["amplitude"], c["tau2"])
    u = burgers.solve(u0, c["nu"], c["t_end"], dt=c["dt"])
    return u0[:, ::r], u[:, ::r]


def _darcy_chunk(spec: DatasetSpec, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    from mufno_core.pde import darcy, grf  # the solvers (scipy) load where data are generated

    c, r = spec.constants, spec.subsample
    g = grf.darcy_gaussian_field(grf.sample_rngs(spec.seed, start, stop), spec.solve_resolution,
                                 c["alpha"], c["tau"])
    a = grf.darcy_coefficient(g, c["a_high"], c["a_low"])
    u = darcy.solve(a, c["f"])
    return a[:, ::r, ::r], u[:, ::r, ::r]


def _navier_stokes_chunk(spec: DatasetSpec, start: int, stop: int) -> tuple[np.ndarray, ...]:
    from mufno_core.pde import grf, navier_stokes  # the solvers (scipy) load where data are generated

    c, r, s = spec.constants, spec.subsample, spec.solve_resolution
    w0 = grf.navier_stokes_initial_vorticity(grf.sample_rngs(spec.seed, start, stop), s,
                                             c["alpha"], c["tau"], c["sigma2"])
    w = navier_stokes.solve(w0, c["nu"], c["t_end"], navier_stokes.forcing_fno(s), dt=c["dt"],
                            record_every=c["record_every"], dtype=np.dtype(c["dtype"]),
                            workers=1)[:, ::r, ::r]
    t_in = int(c["t_in"])
    return w[..., :t_in], w[..., t_in:t_in + spec.t_out]


CHUNK_FUNCTIONS: dict[str, Callable[[DatasetSpec, int, int], tuple[np.ndarray, np.ndarray]]] = {
    "burgers": _burgers_chunk, "darcy": _darcy_chunk, "navier_stokes": _navier_stokes_chunk,
}


def _grid(spec: DatasetSpec) -> np.ndarray:
    """The coordinates of the stored grid, (s, …, s, d)."""
    pde = PDE_SPECS[spec.pde]
    axes = [pde.points(spec.resolution)] * pde.dim
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


def _shapes(spec: DatasetSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shapes = PDE_SPECS[spec.pde].shapes(spec.n_samples, spec.resolution,
                                        int(spec.constants.get("t_in", 0)), spec.t_out)
    return shapes["input"], shapes["target"]


def _attributes(spec: DatasetSpec, command: str) -> dict[str, object]:
    attrs: dict[str, object] = {
        "name": spec.name, "preset": spec.preset, "pde": spec.pde, "seed": spec.seed,
        "n_train": spec.n_train, "n_test": spec.n_test, "resolution": spec.resolution,
        "solve_resolution": spec.solve_resolution, "subsample": spec.subsample,
        "mufno_version": __version__, "generator": GENERATOR, "command": command,
        "reference": "book/choices.md, The data", "complete": False,
    }
    attrs.update({f"const_{k}": v for k, v in spec.constants.items()})
    return attrs


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(out: str | Path) -> list[Path]:
    """Delete ``out``'s temporary files (``NAME.h5.tmpPID``) whose writer process is gone."""
    out = Path(out)
    removed = []
    for tmp in out.parent.glob(glob.escape(out.name) + ".tmp*"):
        pid = tmp.name[len(out.name) + 4:]
        if pid.isdigit() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _init_worker(driver: int, tmp: str) -> None:
    """Set up a generation worker of the driver process ``driver`` (its pid, given by the driver:
    a worker that read its parent after start-up would take PID 1 for it if the driver had died)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the driver stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_driver, args=(driver, tmp), daemon=True,
                     name="mufno-parent-watch").start()


def _exit_with_driver(driver: int, tmp: str, every: float = 0.5) -> None:
    """End this worker as soon as its driver has died (its parent is no longer ``driver``),
    removing the driver's partial file, which the driver can no longer remove."""
    while os.getppid() == driver:
        time.sleep(every)
    Path(tmp).unlink(missing_ok=True)
    os._exit(1)


def start_pool(workers: int, tmp: Path) -> ProcessPoolExecutor:
    """A pool of ``workers`` generation processes watching this one (:func:`_init_worker`)."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                               initargs=(os.getpid(), str(tmp)))


def stop_pool(pool: ProcessPoolExecutor, grace: float = 2.0, also: Iterable = ()) -> None:
    """Cancel the queued work and end every worker now (terminate, then kill after ``grace``
    seconds), and the processes ``also`` lists that the pool does not know yet (still starting).
    The sweep's pool (:mod:`mufno_core.sweep.executors`) is stopped the same way."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # before shutdown
    processes += [p for p in also if p not in processes and p.exitcode is None]
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


class DiskWriter:
    """A binary file for h5py's ``fileobj`` driver that keeps the first write error (a full disk)
    instead of passing it to HDF5, and drops every later write.

    When a write fails inside HDF5's close, HDF5 has already freed part of the file's state but
    h5py still holds its ids; closing them again when they are finalised reads freed memory and
    the process dies with SIGSEGV after its error message (h5py issues 914 and 1642). HDF5 given a
    writer that never fails closes cleanly; the caller then raises :attr:`error`.
    """

    def __init__(self, path: Path) -> None:
        self.file = open(path, "w+b", buffering=0)  # noqa: SIM115  (closed by close())
        self.error: OSError | None = None

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        size = view.nbytes
        try:
            while self.error is None and view.nbytes:
                view = view[self.file.write(view):]  # a full disk: a short write, then ENOSPC
        except OSError as err:
            self.error = err
        return size

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def readinto(self, buffer) -> int:
        return self.file.readinto(buffer)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def tell(self) -> int:
        return self.file.tell()

    def truncate(self, size: int | None = None) -> int:
        return self.file.truncate(size)

    def flush(self) -> None:
        pass  # unbuffered: every write went to the file

    def close(self) -> None:
        self.file.close()


def _is_disk_full(err: BaseException) -> bool:
    text = str(err)
    return getattr(err, "errno", None) in (errno.ENOSPC, errno.EDQUOT) \
        or "No space left" in text or "errno = 28" in text or "Disk quota" in text


def generate_dataset(spec: DatasetSpec, out: str | Path | None = None, workers: int = 2,
                     progress: bool = True, command: str | None = None) -> Path:
    """Generate ``spec`` into the HDF5 file ``out`` (default ``data/<spec.filename>``).

    Chunks of samples run in ``workers`` processes (1: in this process). The file appears under
    its final name only when complete.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    out = Path(out) if out is not None else spec.path()
    if out.parent.exists() and not out.parent.is_dir():
        raise ValueError(f"{out.parent} is a file, not a folder for {out.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
    chunk = PDE_SPECS[spec.pde].chunk
    bounds = [(i, min(i + chunk, spec.n_samples)) for i in range(0, spec.n_samples, chunk)]
    in_shape, out_shape = _shapes(spec)
    work = CHUNK_FUNCTIONS[spec.pde]
    writer = DiskWriter(tmp)
    try:
        with h5py.File(writer, "w") as h5:
            h5.attrs.update(_attributes(spec, command or spec.command()))
            inputs = h5.create_dataset("input", in_shape, dtype="f4")
            targets = h5.create_dataset("target", out_shape, dtype="f4")
            h5.create_dataset("grid", data=_grid(spec).astype("f4"))
            if PDE_SPECS[spec.pde].time_steps:
                t_in, dt_rec = int(spec.constants["t_in"]), spec.constants["record_every"]
                h5.create_dataset("t_input", data=dt_rec * np.arange(1, t_in + 1))
                h5.create_dataset("t_target",
                                  data=dt_rec * np.arange(t_in + 1, t_in + spec.t_out + 1))
            bar = tqdm(total=spec.n_samples, desc=f"{spec.name} ({spec.preset})", unit="sample",
                       disable=not progress)

            def store(start: int, stop: int, x: np.ndarray, y: np.ndarray) -> None:
                inputs[start:stop], targets[start:stop] = x, y
                if writer.error is not None:  # the disk is full: stop computing samples
                    raise writer.error
                bar.update(stop - start)

            if workers == 1 or len(bounds) == 1:
                for start, stop in bounds:
                    store(start, stop, *work(spec, start, stop))
            else:
                _run_pool(work, spec, bounds, min(workers, len(bounds)), tmp, store)
            bar.close()
            h5.attrs["complete"] = True
        writer.close()
        if writer.error is not None:
            raise writer.error
        os.replace(tmp, out)
    except (OSError, RuntimeError) as err:
        if not _is_disk_full(err):
            raise
        tmp.unlink(missing_ok=True)
        raise OSError(errno.ENOSPC, f"disk full while writing {out} ({spec.n_samples} samples); "
                      "the partial file was removed, free some space and run it again") from None
    finally:
        writer.close()
        if tmp.exists():
            tmp.unlink()
    return out


def _run_pool(work, spec: DatasetSpec, bounds: list[tuple[int, int]], workers: int, tmp: Path,
              store: Callable[..., None]) -> None:
    """Compute the chunks ``bounds`` in a pool, storing each as it completes; any exception
    (Ctrl-C, SIGTERM raised as one, a full disk) stops the pool at once (:func:`stop_pool`)."""
    pool = start_pool(workers, tmp)
    try:
        # the workers start while futures are submitted: with Ctrl-C blocked, so that one who gets
        # it before its initializer has run does not print a traceback (it then ignores it)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            futures = {pool.submit(work, spec, a, b): (a, b) for a, b in bounds}
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for future in as_completed(futures):
            store(*futures[future], *future.result())
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def generate(name: str, preset: str = "quick", out: str | Path | None = None, seed: int | None = None,
             n_train: int | None = None, n_test: int | None = None,
             resolution: int | None = None, workers: int = 2, progress: bool = True) -> Path:
    """Generate data set ``name`` at ``preset`` (optionally with other sizes, grid or seed)."""
    spec = dataset_spec(name, preset).with_overrides(n_train, n_test, resolution, seed)
    command = (f"mufno_core.data.generate({name!r}, {preset!r}, seed={spec.seed}, "
               f"n_train={spec.n_train}, n_test={spec.n_test}, resolution={spec.resolution})")
    return generate_dataset(spec, out, workers=workers, progress=progress, command=command)


def ensure_dataset(name: str, preset: str, data_dir: str | Path = "data", workers: int = 2,
                   progress: bool = False) -> Path:
    """The path of data set ``name`` at ``preset`` in ``data_dir``, generated if missing."""
    spec = dataset_spec(name, preset)
    path = spec.path(data_dir)
    if not path.exists():
        generate_dataset(spec, path, workers=workers, progress=progress)
    check_file(path)
    return path
