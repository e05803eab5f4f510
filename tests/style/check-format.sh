#!/usr/bin/env bash
# style: every git-tracked *.c / *.h is formatted as .clang-format says.
# usage: check-format.sh SOURCE_ROOT [BUILD_ROOT]      (exit 77 = skipped: no clang-format)
# Git-tracked files only; STYLE_UNTRACKED=1 adds untracked, not ignored files. Fix with: make format
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src"

if ! command -v clang-format >/dev/null 2>&1; then
        echo "check-format: clang-format not installed; skipping"
        exit 77
fi

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

bad=()
for f in "${files[@]}"; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
                bad+=("$f")
        fi
done

if [ ${#bad[@]} -eq 0 ]; then
        echo "check-format: ${#files[@]} files formatted ($(clang-format --version | grep -o 'version [0-9.]*'))"
        exit 0
fi

for f in "${bad[@]:0:3}"; do
        echo "--- $f (first differences)"
        clang-format "$f" | diff -u "$f" - | sed -n '3,14p' || true
done
echo "check-format: ${#bad[@]} of ${#files[@]} files not formatted (fix: make format):"
for f in "${bad[@]}"; do
        echo "  $f"
done
exit 1
