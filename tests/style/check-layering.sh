#!/usr/bin/env bash
# style: folder boundaries (STYLE.md section 2). Checks every `#include "..."` of the tracked C files
# against what the including file's folder may use. Paths in quotes are from the source root
# ("util/buf.h"); a bare name ("foo.h") is taken as the including file's own folder.
#
#   util/                         util/ only
#   model/                        util/ (not util/log.h), model/
#   reconcilers/<kind>/plan.c,    util/ (not util/log.h), model/, reconcilers/<kind>/*-t.h and
#     build.c (berth-core)          reconcilers/<kind>/plan.h (the pure functions' declarations)
#   reconcilers/ (other files)    not api/, controller/, cli/
#   drivers/                      util/, model/, drivers/
#   store/                        util/, model/, store/, schema/
#   api/                          not controller/, cli/; drivers/ for reads only (readiness, logs,
#                                 dry-run previews: observe + plan, never apply)
#   cli/                          util/, model/, cli/
#   controller/                   anything
#
# usage: check-layering.sh SOURCE_ROOT [BUILD_ROOT]
# Git-tracked files only; STYLE_UNTRACKED=1 adds untracked, not ignored files (make check-format).
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"

files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        while IFS= read -r -d '' f; do
                [ -f "$f" ] && files+=("$f")
        done < <(git ls-files -z ${STYLE_UNTRACKED:+--cached --others --exclude-standard} -- '*.c' '*.h')
else
        while IFS= read -r -d '' f; do
                files+=("${f#./}")
        done < <(find . \( -path './build*' -o -path './.berth' -o -path './.git' \) -prune -o \
                -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
fi

# rule FILE INCLUDE -> prints a reason when FILE may not include INCLUDE
rule() {
        local f=$1 inc=$2
        case "$f" in
        util/*)
                case "$inc" in
                util/*) ;;
                *) echo "util/ may include only util/" ;;
                esac
                ;;
        model/*)
                case "$inc" in
                util/log.h) echo "model/ may not log (util/log.h)" ;;
                util/* | model/*) ;;
                *) echo "model/ may include only util/ and model/" ;;
                esac
                ;;
        reconcilers/*/plan.c | reconcilers/*/build.c)
                local kind=${f%/*}
                case "$inc" in
                util/log.h) echo "${f##*/} may not log (util/log.h)" ;;
                util/* | model/*) ;;
                "$kind"/*-t.h | "$kind"/plan.h) ;;
                *) echo "${f##*/} may include only util/, model/, $kind/plan.h and $kind/*-t.h" ;;
                esac
                ;;
        reconcilers/*)
                case "$inc" in
                api/* | controller/* | cli/*) echo "reconcilers/ may not include ${inc%%/*}/" ;;
                esac
                ;;
        drivers/*)
                case "$inc" in
                util/* | model/* | drivers/*) ;;
                *) echo "drivers/ may include only util/, model/ and drivers/" ;;
                esac
                ;;
        store/*)
                case "$inc" in
                util/* | model/* | store/* | schema/*) ;;
                *) echo "store/ may include only util/, model/, store/ and schema/" ;;
                esac
                ;;
        api/*)
                case "$inc" in
                controller/* | cli/*) echo "api/ may not include ${inc%%/*}/" ;;
                esac
                ;;
        cli/*)
                case "$inc" in
                util/* | model/* | cli/*) ;;
                *) echo "cli/ may include only util/, model/ and cli/" ;;
                esac
                ;;
        esac
}

checked=0
violations=()
for f in "${files[@]}"; do
        case "$f" in
        util/* | model/* | reconcilers/* | drivers/* | store/* | api/* | cli/*) ;;
        *) continue ;;
        esac
        checked=$((checked + 1))
        while IFS=: read -r line inc; do
                [ -n "$inc" ] || continue
                case "$inc" in
                */*) ;;
                *) inc="$(dirname "$f")/$inc" ;; # bare name: own folder
                esac
                reason=$(rule "$f" "$inc")
                if [ -n "$reason" ]; then
                        violations+=("$f:$line: #include \"$inc\": $reason")
                fi
        done < <(awk 'match($0, /^[ \t]*#[ \t]*include[ \t]*"[^"]*"/) {
                        s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
                        print FNR ":" s
                }' "$f")
done

if [ ${#violations[@]} -gt 0 ]; then
        echo "check-layering: ${#violations[@]} include(s) cross a folder boundary (docs: STYLE.md section 2):"
        printf '  %s\n' "${violations[@]}"
        exit 1
fi
echo "check-layering: $checked files, no boundary crossed"
