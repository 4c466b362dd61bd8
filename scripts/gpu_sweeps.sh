#!/usr/bin/env bash
# Run every sweep experiment's gpu preset on one CUDA GPU and write results/gpu/<experiment>/*.json.
#
#   scripts/gpu_sweeps.sh [EXPERIMENT ...]        # default: every experiment of the paper, as
#                                                 # registered (mufno_core.sweep.experiments.REPORTED)
#
# Needs torch (CUDA), numpy, scipy, pandas, h5py, tqdm and this package (pip install -e .);
# no dask, no jupyter. Finished trials are skipped, so an interrupted run resumes where it stopped.
# Trials sharing K are trained side by side (--stack, mufno_core.stacked), PINO's included.
# Data sets are generated into data/ on first use (gpu preset: minutes on 16 cores).
# Afterwards commit results/gpu (small JSON files): `make book PRESET=gpu` then renders the
# paper-scale figures from them on any machine without recomputing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
RESULTS=${RESULTS:-results/gpu}
EXPERIMENTS=("$@")
if [ ${#EXPERIMENTS[@]} -eq 0 ]; then
  read -r -a EXPERIMENTS <<< "$("$PYTHON" -c 'from mufno_core.sweep.experiments import REPORTED; print(*REPORTED)')"
fi
mkdir -p "$RESULTS"
for exp in "${EXPERIMENTS[@]}"; do
  echo "=== $exp (gpu preset) -> $RESULTS"
  start=$(date +%s)
  "$PYTHON" -m mufno_core.cli.main sweep "$exp" --preset gpu --results "$RESULTS" --device cuda --stack \
    | tee "$RESULTS/$exp.summary.txt" || echo "!!! $exp ended with errors (see above); rerun to retry"
  echo "=== $exp: $(( $(date +%s) - start )) s"
done
