#!/usr/bin/env bash
# Build and run berth's tests; the LAST line of output is always "N passed, M failed[, K skipped]".
#
#   scripts/test.sh [all]      build + build-asan; unit and style suites, unit under ASan/UBSan,
#                              then Docker, images and the integration suite   (make test)
#   scripts/test.sh unit       build; unit and style suites                      (make test-unit)
#   scripts/test.sh integration  build, Docker, images; integration suite
#   scripts/test.sh long       build, Docker, images; the long suite            (make test-long)
#
# Counts come from meson's summaries: passed = Ok + Expected Fail, failed = Fail + Unexpected Pass +
# Timeout, skipped = Skipped. A step that fails outright (a build, Docker, images, a meson run that
# prints no summary) counts as one failure too. Exit status: 0 only when nothing failed.
# Extra arguments for every `meson test`: MESON_TEST_ARGS (e.g. "--repeat 3" or "--verbose").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)

mode=${1:-all}
ASAN_DIR=build-asan
ASAN_OPTS=("-Db_sanitize=address,undefined" -Db_lundef=false -Dc_args=-fno-sanitize-recover=all)
read -r -a extra <<<"${MESON_TEST_ARGS:-}"

passed=0 failed=0 skipped=0
failed_steps=()
failed_logs=()   # json test logs with failures, printed at the end
t_start=$(date +%s)

banner() {
        printf '\n=== %s\n' "$*"
}

step() { # step NAME CMD...: run a non-test step; a failure counts once
        local name=$1 rc
        shift
        banner "$name"
        "$@"
        rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "test: step '$name' FAILED (exit $rc)"
                failed_steps+=("$name")
                failed=$((failed + 1))
        fi
        return "$rc"
}

summary_count() { # summary_count LOG LABEL -> the number after "LABEL:" in meson's summary
        awk -v l="$2:" 'index($0, l) == 1 { n = $NF } END { print n + 0 }' "$1"
}

run_meson() { # run_meson NAME BUILDDIR ARGS...
        local name=$1 dir=$2 out rc logbase
        shift 2
        logbase="testlog-${name//[^A-Za-z0-9]/-}"
        banner "meson test ($name): meson test -C $dir $*"
        out=$(mktemp "${TMPDIR:-/tmp}/berth-test.XXXXXX")
        meson test -C "$dir" --logbase "$logbase" "$@" ${extra[@]+"${extra[@]}"} 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}

        if grep -q '^No suitable tests defined\|^No tests defined' "$out"; then
                echo "test: $name: no tests defined"
                rm -f "$out"
                [ "$rc" -eq 0 ] || { failed_steps+=("$name"); failed=$((failed + 1)); }
                return 0
        fi
        if ! grep -q '^Ok:' "$out"; then
                echo "test: $name: meson test printed no summary (exit $rc)"
                failed_steps+=("$name")
                failed=$((failed + 1))
                rm -f "$out"
                return 0
        fi
        local ok xf fail xp to sk
        ok=$(summary_count "$out" "Ok")
        xf=$(summary_count "$out" "Expected Fail")
        fail=$(summary_count "$out" "Fail")
        xp=$(summary_count "$out" "Unexpected Pass")
        to=$(summary_count "$out" "Timeout")
        sk=$(summary_count "$out" "Skipped")
        rm -f "$out"
        passed=$((passed + ok + xf))
        skipped=$((skipped + sk))
        failed=$((failed + fail + xp + to))
        if [ $((fail + xp + to)) -gt 0 ]; then
                failed_logs+=("$dir/meson-logs/$logbase")
        elif [ "$rc" -ne 0 ]; then
                echo "test: $name: meson test exited $rc with no failed test"
                failed_steps+=("$name")
                failed=$((failed + 1))
        fi
}

print_failed_logs() {
        local base f
        for base in "${failed_logs[@]}"; do
                banner "failed tests in $base.txt"
                if [ -f "$base.json" ] && command -v jq >/dev/null 2>&1; then
                        jq -r 'select(.result != "OK" and .result != "SKIP" and .result != "EXPECTEDFAIL")
                               | "--- \(.name): \(.result) (exit \(.returncode))",
                                 ((.stdout // "") + (.stderr // "") | split("\n") | .[-60:] | join("\n"))' \
                                "$base.json"
                elif [ -f "$base.txt" ]; then
                        tail -n 150 "$base.txt"
                fi
        done
        for f in "${failed_steps[@]}"; do
                echo "failed step: $f"
        done
}

finish() {
        if [ "$failed" -gt 0 ]; then
                print_failed_logs
        fi
        printf '\n(test: mode %s, %ss)\n' "$mode" "$(($(date +%s) - t_start))"
        if [ "$skipped" -gt 0 ]; then
                echo "$passed passed, $failed failed, $skipped skipped"
        else
                echo "$passed passed, $failed failed"
        fi
        [ "$failed" -eq 0 ]
        exit
}

build_ok=0 asan_ok=0 docker_ok=0
build_main() { step "build (build/)" scripts/build.sh build && build_ok=1; }
build_asan() { step "build ($ASAN_DIR/, ASan+UBSan)" scripts/build.sh "$ASAN_DIR" "${ASAN_OPTS[@]}" && asan_ok=1; }
docker_images() {
        step "docker" scripts/start-docker.sh && step "images" images/build.sh all && docker_ok=1
}

# Sanitizers: stop at the first report and say where; LeakSanitizer on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export BERTH_SOURCE_ROOT=$root

case "$mode" in
all)
        build_main
        build_asan
        [ "$build_ok" = 0 ] || run_meson "unit+style" build --suite unit --suite style
        [ "$asan_ok" = 0 ] || run_meson "unit-asan" "$ASAN_DIR" --suite unit
        if [ "$build_ok" = 1 ]; then
                docker_images
                [ "$docker_ok" = 0 ] || run_meson "integration" build --suite integration --num-processes 4
        fi
        ;;
unit)
        build_main
        [ "$build_ok" = 0 ] || run_meson "unit+style" build --suite unit --suite style
        ;;
integration | long)
        build_main
        if [ "$build_ok" = 1 ]; then
                docker_images
                [ "$docker_ok" = 0 ] || run_meson "$mode" build --suite "$mode"
        fi
        ;;
*)
        echo "usage: scripts/test.sh [all|unit|integration|long]" >&2
        exit 2
        ;;
esac
finish
