#!/usr/bin/env bash
# `make test` of HEAD against `make test` of a reference commit, side by side on this machine.
#
#   bash benchmarks/bench_make_test_pair.sh                       # HEAD vs ea9e4de, 2 pairs
#   REPEATS=3 REF=ea9e4de bash benchmarks/bench_make_test_pair.sh
#   REF=HEAD REF_ARGS=TEST_WORKERS=2 bash benchmarks/bench_make_test_pair.sh  # worker counts
#
# Both commits are cloned fresh and their venvs made first (untimed: `make setup` from the warm
# pip cache), then each pair runs the two `make test`s one right after the other, HEAD first in odd
# pairs and REF first in even ones, so that a drift of the machine's speed does not favour either.
# Each `make test` is timed whole (lint, the browser test, pytest with the commit's own number of
# workers; HEAD_ARGS / REF_ARGS are extra make arguments). Prints each pair, the ratio
# HEAD / REF of the totals and of pytest's own seconds, and their medians.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
REF=${REF:-ea9e4de}
REPEATS=${REPEATS:-2}
HEAD_ARGS=${HEAD_ARGS:-}
REF_ARGS=${REF_ARGS:-}
WORK=$(mktemp -d /tmp/bench_make_test_pair.XXXXXX)
trap 'pkill -f "$WORK/" 2>/dev/null || true' EXIT

for side in head ref; do
  git clone -q "$REPO" "$WORK/$side"
  [ "$side" = ref ] && git -C "$WORK/ref" checkout -q "$REF"
  make -C "$WORK/$side" --no-print-directory setup > "$WORK/${side}_setup.log" 2>&1
done

pytest_seconds() {  # pytest's own "in N.NNs" from its last line
  grep -Eo 'in [0-9.]+s' "$1" | tail -1 | tr -dc '0-9.'
}
calc() { python3 -c "print($1)"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run() {  # run SIDE PAIR ARGS: one timed `make test`; prints "total pytest"
  local start
  start=$(date +%s.%N)
  # shellcheck disable=SC2086  # ARGS are make arguments, split on purpose
  make -C "$WORK/$1" --no-print-directory test $3 > "$WORK/$1_$2.log" 2>&1 || true
  echo "$(calc "round($(date +%s.%N) - $start)") $(pytest_seconds "$WORK/$1_$2.log")"
}

for i in $(seq "$REPEATS"); do
  if (( i % 2 )); then
    read -r head_total head_pytest < <(run head "$i" "$HEAD_ARGS")
    read -r ref_total ref_pytest < <(run ref "$i" "$REF_ARGS")
  else
    read -r ref_total ref_pytest < <(run ref "$i" "$REF_ARGS")
    read -r head_total head_pytest < <(run head "$i" "$HEAD_ARGS")
  fi
  total_ratio=$(calc "round($head_total / $ref_total, 3)")
  pytest_ratio=$(calc "round($head_pytest / $ref_pytest, 3)")
  echo "$total_ratio $pytest_ratio" >> "$WORK/ratios"
  echo "pair $i ($(date -u +%H:%M) UTC): HEAD $HEAD_ARGS make test ${head_total} s (pytest ${head_pytest} s:" \
       "$(tail -1 "$WORK/head_$i.log" | tr -d '=')) | $REF $REF_ARGS make test ${ref_total} s" \
       "(pytest ${ref_pytest} s: $(tail -1 "$WORK/ref_$i.log" | tr -d '=')) | HEAD / $REF: total" \
       "$total_ratio, pytest $pytest_ratio"
done | tee "$WORK/pairs.txt"
echo "median HEAD / $REF: total $(cut -d' ' -f1 "$WORK/ratios" | median)," \
     "pytest $(cut -d' ' -f2 "$WORK/ratios" | median); logs: $WORK"
