#!/usr/bin/env bash
# Configure (once) and build one meson build directory.
#   scripts/build.sh [DIR [MESON_SETUP_OPTION...]]     DIR defaults to build; must be build or build-*
# Options apply at setup only; to change them: rm -rf DIR (or meson configure DIR -D...).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build}
[ $# -eq 0 ] || shift
case "$dir" in
build | build-*) ;;
*)
        echo "build: refusing build directory '$dir' (use build or build-NAME)" >&2
        exit 2
        ;;
esac

if [ ! -f "$dir/build.ninja" ]; then
        # a setup that failed half-way leaves a directory meson will not reuse
        [ ! -d "$dir" ] || rm -rf -- "$dir"
        meson setup "$dir" "$@"
fi
ninja -C "$dir"
