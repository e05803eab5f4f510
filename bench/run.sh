#!/usr/bin/env bash
# All benchmarks in order; the combined markdown goes to stdout and bench/results/<date>.md,
# progress (stderr) to bench/results/<date>.log.
#   BENCH_RUNS=5 bash bench/run.sh
# Knobs: BENCH_RUNS (apply-to-running and pg-provision samples, 5), BENCH_KILLS (heal, 20),
# BENCH_SERVICES (scale, 200), BENCH_STEADY (scale window s, 60), BENCH_API_RESOURCES (50),
# BENCH_API_DURATION (10s), BENCH_PG_SCALE (pg-backup pgbench scale, 70), BENCH_PG_BACKUP_RUNS (3),
# BENCH_ONLY="heal api" (a subset), BENCH_BUILD (dir with berthd and berth, default build-me).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$BENCH_RESULTS"
stamp=$(date +%Y%m%d-%H%M%S)
out=$BENCH_RESULTS/$stamp.md
errlog=$BENCH_RESULTS/$stamp.log
benches=${BENCH_ONLY:-apply-to-running heal scale api pg-provision pg-backup}

{
        echo "# berth benchmarks, $(date -Is)"
        echo
        echo "Machine: \`$(bench_env)\`, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
        echo "$(free -g | awk '/Mem:/ {print $2}') GiB RAM. berthd: \`$BERTHD_BIN\` (built $(date -r "$BERTHD_BIN" -Is))."
        echo "Load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
        echo
        echo "Command: \`BENCH_RUNS=${BENCH_RUNS:-5} bash bench/run.sh\` (= \`bash bench/NAME.sh\` for each of: $benches)."
        echo
} | tee "$out"

t0=$(now)
for b in $benches; do
        idle=$(settle)
        blog "==== $b (CPU ${idle}% idle over 2 s; load $(cut -d' ' -f1-3 /proc/loadavg))" 2>&1 | tee -a "$errlog" >&2
        tb=$(now)
        bash "$BENCH_DIR/$b.sh" 2> >(tee -a "$errlog" >&2) | tee -a "$out"
        rc=${PIPESTATUS[0]}
        echo "_\`bench/$b.sh\`: $(elapsed "$tb") s; CPU ${idle}% idle just before it$( ((rc != 0)) && echo "; exit $rc: see $(basename "$errlog")")._" | tee -a "$out"
        echo | tee -a "$out"
done
echo "_Total: $(elapsed "$t0") s._" | tee -a "$out"
blog "wrote $out (progress in $errlog)"
