#!/usr/bin/env bash
# style: libberth-core.a (model/, reconcilers/*/plan.c, util's pure parts) does no I/O, reads no
# clock, never sleeps and starts no thread: none of these symbols may be undefined in it.
# usage: check-core-purity.sh SOURCE_ROOT BUILD_ROOT
set -euo pipefail
build=${2:?usage: check-core-purity.sh SOURCE_ROOT BUILD_ROOT}
lib="$build/libberth-core.a"

if [ ! -f "$lib" ]; then
        echo "check-core-purity: $lib not found (build it first: ninja -C $build)"
        exit 1
fi

# glibc's _FORTIFY_SOURCE and LFS aliases are listed too (__read_chk, __open_2, open64, ...).
forbidden='^(socket|socketpair|connect|accept4?|bind|listen|send|sendto|recv|recvfrom|open|open64|openat|openat64|__open_2|__open64_2|__openat_2|creat|read|__read_chk|pread|pread64|write|pwrite|pwrite64|time|clock_gettime|__clock_gettime64|gettimeofday|sleep|usleep|nanosleep|clock_nanosleep|pthread_.*)$'

out=$(nm -u -A "$lib" 2>&1) || {
        echo "check-core-purity: nm failed on $lib:"
        echo "$out"
        exit 1
}

hits=$(printf '%s\n' "$out" | awk -v re="$forbidden" '
        # lines: "archive:member.o:                 U symbol" (symbol may carry @GLIBC_x.y)
        NF >= 2 && $(NF-1) == "U" {
                sym = $NF; sub(/@.*/, "", sym)
                if (sym ~ re) {
                        obj = $1; sub(/:$/, "", obj); n = split(obj, parts, ":"); obj = parts[n]
                        printf "  %-28s uses %s\n", obj, sym
                }
        }' | sort -u)

if [ -n "$hits" ]; then
        echo "check-core-purity: $lib references I/O, clock, sleep or thread symbols:"
        echo "$hits"
        echo "berth-core must stay pure: take 'now' as an argument, do I/O in drivers/ or observe/apply."
        exit 1
fi
echo "check-core-purity: $(printf '%s\n' "$out" | awk 'NF >= 2 && $(NF-1) == "U"' | wc -l) undefined references, none forbidden"
