#!/usr/bin/env bash
# One GPU session's measurements for issues 4 and 7, most important first, within BUDGET_S seconds:
#   1. the fused Adam on the 906M-parameter FNO-3D (step time, peak memory, a profile);
#   2. the 906M model's peak memory with one fused Adam, and the matched table against
#      neuraloperator, the same Adam for both (benchmarks/bench_fno_speed.py);
#   3. stacked against one-by-one training at the gpu-preset sizes (benchmarks/bench_stacked.py);
#   4. with the time left, the gpu preset of one sweep (default darcy_lr; resumable, so the next
#      session goes on where this one stopped once results/gpu is committed).
#
#   BUDGET_S=480 SWEEP=darcy_lr bash scripts/gpu_session.sh       # on a machine with CUDA
#   DRY_RUN=1 BUDGET_S=300 bash scripts/gpu_session.sh            # the same plumbing on the CPU, tiny sizes
#
# Writes results/gpu/ (commit it) and a log; where $OUT is set (the device tool), copies both there
# as results_gpu.tar.gz and gpu_session.log. neuraloperator (step 2 only) is installed from wheels
# in .whl/ or benchmarks/wheels/ if it is not importable (see benchmarks/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
RESULTS=${RESULTS:-results/gpu}
SWEEP=${SWEEP:-darcy_lr}
DATA_DIR=${DATA_DIR:-data}
LOG="$RESULTS/gpu_session.log"
deadline=$(( $(date +%s) + ${BUDGET_S:-480} ))
mkdir -p "$RESULTS"

if [ -n "${DRY_RUN:-}" ]; then
  DEVICE=cpu ADAM_CONFIG=tiny ADAM_REPEATS=2 SPEED=(--configs fno2d-k8-32 --repeats 2 --warmup 1)
  STACKED=(--configs darcy-quick-k6 --members 2 --steps 2 --repeats 1) PRESET=smoke
  SWEEP_SET=(--set seeds=0)  # one seed of the smoke grid: the plumbing, not the statistics
else
  DEVICE=cuda ADAM_CONFIG=big ADAM_REPEATS=10 PRESET=gpu SWEEP_SET=()
  SPEED=(--configs fno1d-k16-1024 fno2d-k8-32 fno2d-k12-64 fno3d-k4-32x32x16 fno2d-k12-85
         --repeats 20)
  STACKED=(--members 8 16 48 --repeats 3)
fi

finish() {
  if [ -n "${OUT:-}" ]; then
    tar czf "$OUT/results_gpu.tar.gz" "$RESULTS" && cp "$LOG" "$OUT/gpu_session.log"
  fi
}
trap finish EXIT

# run LIMIT_S COMMAND...: run it for at most LIMIT_S seconds and no later than the deadline
run() {
  local limit=$1 left=$(( deadline - $(date +%s) ))
  shift
  if (( left < 30 )); then echo "=== skipped (no time left): $*" | tee -a "$LOG"; return 0; fi
  (( limit > left )) && limit=$left
  echo "=== $(date +%T) at most ${limit}s: $*" | tee -a "$LOG"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  echo "=== exit ${PIPESTATUS[0]}" | tee -a "$LOG"
}

{ "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null; } | tee -a "$LOG"

run 120 "$PYTHON" benchmarks/bench_adam.py --device "$DEVICE" --config "$ADAM_CONFIG" --repeats "$ADAM_REPEATS" \
  --profile --json "$RESULTS/bench_adam_$ADAM_CONFIG.json"

if ! "$PYTHON" -c "import neuralop" 2>/dev/null; then
  for wheels in .whl benchmarks/wheels; do
    if [ -d "$wheels" ]; then
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site "$wheels"/*.whl \
        && export PYTHONPATH="$PYTHONPATH:/tmp/site"
      break
    fi
  done
fi
if "$PYTHON" -c "import neuralop" 2>/dev/null; then
  if [ -z "${DRY_RUN:-}" ]; then  # the 906M model alone, one fused Adam: step time, peak memory
    run 120 "$PYTHON" benchmarks/bench_fno_speed.py --device cuda --big-only --adam fused \
      --repeats 10 --json "$RESULTS/bench_fno_speed_big.json"
  fi
  run 200 "$PYTHON" benchmarks/bench_fno_speed.py --device "$DEVICE" "${SPEED[@]}" \
    --json "$RESULTS/bench_fno_speed.json"
else
  echo "=== skipped bench_fno_speed: neuraloperator is not importable and no wheels were found" | tee -a "$LOG"
fi

run 200 "$PYTHON" benchmarks/bench_stacked.py --device "$DEVICE" "${STACKED[@]}" \
  --json "$RESULTS/bench_stacked.json"

run 100000 "$PYTHON" -m mufno_core.cli.main sweep "$SWEEP" --preset "$PRESET" --results "$RESULTS" \
  --data-dir "$DATA_DIR" --device "$DEVICE" --stack "${SWEEP_SET[@]}"
