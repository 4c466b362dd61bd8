"""scripts/gpu_session.sh, the prepared GPU session, runs end to end at tiny sizes on the CPU and
writes what the GPU session is for: the Adam benchmark of the right model, the stacked benchmark's
rows, a finished sweep and the archive the device tool brings back."""

from __future__ import annotations

import json
import math
import os
import sys
import tarfile
from pathlib import Path

import pytest

from mufno_core import FNO
from mufno_core.sweep import grid, load_results

ROOT = Path(__file__).resolve().parents[2]
SWEEP = "synthetic_lr"  # the session's sweep step on built-in data: no data set to generate


@pytest.mark.slow
def test_gpu_session_dry_run_writes_every_result(tmp_path, processes):
    results, out = tmp_path / "results", tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "DRY_RUN": "1", "BUDGET_S": "240", "PYTHON": sys.executable,
           "RESULTS": str(results), "OUT": str(out), "DATA_DIR": str(tmp_path / "data"),
           "SWEEP": SWEEP}
    proc = processes.run(["bash", str(ROOT / "scripts" / "gpu_session.sh")], env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = (results / "gpu_session.log").read_text()
    assert "skipped (no time left)" not in log
    assert "=== exit 0" in log and "=== exit 1" not in log

    adam = json.loads((results / "bench_adam_tiny.json").read_text())
    tiny = FNO(2, 1, 1, 4, width=8, projection_width=16)  # bench_adam.py's "tiny" config
    assert adam["spectral_params"] == tiny.spectral_parameter_count()
    timings = [adam[f"{opt}_{part}_ms"] for opt in ("default", "fused") for part in ("step", "adam")]
    assert all(math.isfinite(t) and t > 0 for t in timings)

    stacked = json.loads((results / "bench_stacked.json").read_text())["rows"]
    assert [(row["config"]["name"], row["members"]) for row in stacked] == [("darcy-quick-k6", 2)]
    assert all(row["ms_per_member_step_stacked"] > 0 for row in stacked)

    df = load_results(results / SWEEP, mirror=False)
    assert sorted(df["trial_id"]) == sorted(c.trial_id() for c in grid(SWEEP, "smoke", seeds=0))
    assert set(df["status"]) <= {"ok", "diverged"}
    with tarfile.open(out / "results_gpu.tar.gz") as tar:
        names = tar.getnames()
    assert any(name.endswith("bench_adam_tiny.json") for name in names)
    assert any(name.endswith(f"{df['trial_id'].iloc[0]}.json") for name in names)
    assert (out / "gpu_session.log").exists()
