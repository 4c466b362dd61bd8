#!/usr/bin/env bash
# GPU part of issue 7: our FNO vs neuraloperator's on one CUDA GPU (H100 in the issue), plus the
# 906M-parameter FNO-3D (K=24, width 64, 64³ grid, batch 2): step time and peak memory.
#
#   bash benchmarks/gpu_speed.sh            # from the repository root, on a machine with CUDA
#
# Needs a CUDA build of torch in $PYTHON's environment (the project's .venv pins the CPU wheel
# torch==2.13.0; on a GPU machine install the CUDA wheel of the same version first). The benchmark
# dependencies are installed with --no-deps from benchmarks/requirements.txt, from PyPI or, where
# the machine is offline, from wheels put in benchmarks/wheels/ beforehand with
#   pip download --no-deps -d benchmarks/wheels -r benchmarks/requirements.txt
# (about 7.9 MB, mostly tensorly, so they are not committed).
# Results: results/gpu/*.json and the printed tables; copy the figures with the device name into
# benchmarks/README.md.
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT_DIR:-results/gpu}
REPEATS=${REPEATS:-20}
mkdir -p "$OUT"

if ! "$PYTHON" -c "import neuralop" 2>/dev/null; then
    if [ -d benchmarks/wheels ]; then
        "$PYTHON" -m pip install --no-deps --no-index --find-links benchmarks/wheels \
            -r benchmarks/requirements.txt
    else
        "$PYTHON" -m pip install --no-deps -r benchmarks/requirements.txt
    fi
fi
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(), torch.__version__)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true

BENCH="$PYTHON benchmarks/bench_fno_speed.py --device cuda --repeats $REPEATS"
CONFIGS="fno1d-k16-1024 fno2d-k8-32 fno2d-k12-64 fno3d-k4-32x32x16 fno2d-k12-85"

# 1. the matched configurations, eager, with the default and the fused Adam (same for both)
$BENCH --configs $CONFIGS --json "$OUT/matched_adam_default.json"
$BENCH --configs $CONFIGS --adam fused --json "$OUT/matched_adam_fused.json"
# 2. torch.compile (default mode) on ours: measured, not assumed
$BENCH --configs $CONFIGS --adam fused --compile --json "$OUT/matched_compiled.json" || true
# 3. the 906M FNO-3D alone: step time and torch.cuda.max_memory_allocated
#    (the straightforward baseline: ~150 ms, 34 GiB; target <= 50 ms; floor ~25 ms)
$BENCH --big-only --repeats 10 --json "$OUT/big_adam_default.json"
$BENCH --big-only --repeats 10 --adam fused --json "$OUT/big_adam_fused.json"
# 4. the fused Adam against the default on the 906M model (no neuraloperator needed)
"$PYTHON" benchmarks/bench_adam.py --device cuda --config big --repeats 10 --json "$OUT/bench_adam_big.json"
