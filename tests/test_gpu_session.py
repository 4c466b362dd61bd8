"""scripts/gpu_session.sh, the prepared GPU session, runs end to end at tiny sizes on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_session_dry_run_writes_every_result(tmp_path):
    results, out = tmp_path / "results", tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "DRY_RUN": "1", "BUDGET_S": "240", "PYTHON": sys.executable,
           "RESULTS": str(results), "OUT": str(out), "DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_session.sh")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = (results / "gpu_session.log").read_text()
    assert "skipped (no time left)" not in log
    assert json.loads((results / "bench_adam_tiny.json").read_text())["adam_speedup"] > 0
    assert json.loads((results / "bench_stacked.json").read_text())["rows"]
    assert len(list((results / "darcy_lr").glob("*.json"))) == 30  # the smoke grid
    with tarfile.open(out / "results_gpu.tar.gz") as tar:
        assert any(name.endswith("bench_adam_tiny.json") for name in tar.getnames())
    assert (out / "gpu_session.log").exists()
