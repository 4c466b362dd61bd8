#!/usr/bin/env bash
# How long `make test` takes on another machine, measured here as a ratio (issue 18, item 6).
#
#   bash benchmarks/bench_make_test.sh            # one pair, about 10 min on 2 cores
#   REPEATS=3 bash benchmarks/bench_make_test.sh  # three pairs; medians
#
# Each pair runs, one right after the other on this machine:
#   1. `make test` in a fresh clone of HEAD (venv from the warm pip cache, lint, pytest);
#   2. pytest in a fresh clone of the reference commit REF (its venv made first, untimed), with
#      SIGINT ignored as it was inherited where REF was timed (a background job), so that its two
#      hanging tests wait out their timeouts there and here alike; the processes they leave are
#      killed after it.
# REF's pytest took REF_PYTEST_S seconds and its venv, apt and lint REF_SETUP_S on the 2-core Intel
# Xeon of issue 18 (torch 2.13.0+cpu). The ratio Xeon / here of REF's pytest scales HEAD's pytest
# to that Xeon: estimate = REF_SETUP_S + HEAD pytest here * REF_PYTEST_S / REF pytest here.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
REF=${REF:-be8661d}
REF_PYTEST_S=${REF_PYTEST_S:-465}
REF_SETUP_S=${REF_SETUP_S:-90}
REPEATS=${REPEATS:-1}
WORK=$(mktemp -d /tmp/bench_make_test.XXXXXX)
trap 'pkill -f "$WORK/" 2>/dev/null || true' EXIT

git clone -q "$REPO" "$WORK/ref"
git -C "$WORK/ref" checkout -q "$REF"
make -C "$WORK/ref" --no-print-directory setup > "$WORK/ref_setup.log" 2>&1

pytest_seconds() {  # pytest's own "in N.NNs" from its last line
  grep -Eo 'in [0-9.]+s' "$1" | tail -1 | tr -dc '0-9.'
}

calc() { python3 -c "print($1)"; }

for i in $(seq "$REPEATS"); do
  rm -rf "$WORK/head"
  git clone -q "$REPO" "$WORK/head"
  start=$(date +%s.%N)
  make -C "$WORK/head" --no-print-directory test > "$WORK/head_$i.log" 2>&1 || true
  head_total=$(calc "round($(date +%s.%N) - $start)")
  head_pytest=$(pytest_seconds "$WORK/head_$i.log")
  (cd "$WORK/ref" && trap '' INT && MPLBACKEND=Agg PYTHONHASHSEED=0 \
    .venv/bin/python -m pytest -q -p no:cacheprovider > "$WORK/ref_$i.log" 2>&1) || true
  pkill -f "$WORK/ref/" 2>/dev/null || true  # what REF's failing tests left running
  ref_pytest=$(pytest_seconds "$WORK/ref_$i.log")
  ratio=$(calc "round($REF_PYTEST_S / $ref_pytest, 2)")
  estimate=$(calc "round($REF_SETUP_S + $head_pytest * $ratio)")
  echo "$estimate" >> "$WORK/estimates"
  echo "pair $i: HEAD make test ${head_total} s (pytest ${head_pytest} s: $(tail -1 "$WORK/head_$i.log" | tr -d '='))" \
       "| $REF pytest ${ref_pytest} s ($(tail -1 "$WORK/ref_$i.log" | tr -d '=')) | Xeon/here $ratio" \
       "| HEAD make test on the Xeon ~ ${estimate} s"
done | tee "$WORK/pairs.txt"
echo "median estimate: $(sort -n "$WORK/estimates" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}') s; logs: $WORK"
