#!/usr/bin/env bash
# Build berth's local images from Debian packages: mmdebstrap into a directory, an optional
# post-step on that directory, then `docker import`. No registry is needed.
#
#   images/build.sh all          the default set (IMAGES_ALL below)
#   images/build.sh NAME...      images/NAME.recipe (postgres, etcd, haproxy, mariadb, ...)
#   images/build.sh --force ...  rebuild even when up to date
#
# A recipe is shell-sourceable key=value:
#   image=berth/busybox:latest   name:tag to import as (required)
#   variant=extract              mmdebstrap --variant (extract, essential, apt, ...)
#   include=busybox-static       mmdebstrap --include (comma-separated)
#   essential_hook='...'         optional mmdebstrap --essential-hook (not run by variant=extract)
#   env='PATH=/bin:/usr/bin'     optional, space-separated KEY=VALUE pairs -> import -c 'ENV ...'
#   suite=bookworm               optional
# images/NAME.post, if present, runs as root on the host with the rootfs directory as $1 (mmdebstrap's
# --customize-hook does not run with --variant=extract, so we post-process the directory ourselves).
# The image carries LABEL berth.recipe-hash = sha256(recipe, post script, this script); an image
# whose label matches is up to date and skipped.
set -euo pipefail

# What make up and make test need: busybox for examples and tests, postgres for pg_single,
# mariadb and haproxy for mysql_ha, etcd (and postgres, haproxy) for pg_cluster.
IMAGES_ALL=(busybox postgres mariadb haproxy etcd)

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
force=0

die() {
        echo "images: $*" >&2
        exit 1
}

now() {
        date +%s.%N
}

recipe_hash() {
        local name=$1
        {
                cat "$here/$name.recipe"
                if [ -f "$here/$name.post" ]; then
                        cat "$here/$name.post"
                fi
                cat "$self"
        } | sha256sum | cut -d' ' -f1
}

build_one() (
        # subshell: each recipe's variables stay local to it
        local name=$1 recipe="$here/$1.recipe" post="$here/$1.post"
        local image="" variant=apt include="" essential_hook="" env="" suite=bookworm
        local hash have old_id dir t0 t1 t2 rc
        if [ ! -f "$recipe" ]; then
                die "no recipe $recipe (have: $(find "$here" -maxdepth 1 -name '*.recipe' -printf '%f ' | sed 's/\.recipe//g'))"
        fi
        # shellcheck disable=SC1090
        . "$recipe"
        [ -n "$image" ] || die "$recipe: image= is required"

        hash=$(recipe_hash "$name")
        old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
        have=$(docker image inspect --format '{{ index .Config.Labels "berth.recipe-hash" }}' "$image" 2>/dev/null || true)
        if [ "$force" = 0 ] && [ "$have" = "$hash" ]; then
                echo "images: $image up to date"
                return 0
        fi

        command -v mmdebstrap >/dev/null || die "mmdebstrap not found (make deps)"
        echo "images: building $image (variant=$variant include=$include)"
        t0=$(now)
        dir=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-image-$name.XXXXXX")
        if [ -z "$dir" ] || [ ! -d "$dir" ]; then
                die "mktemp failed"
        fi
        # shellcheck disable=SC2064
        trap "rm -rf -- '$dir'" EXIT

        local args=(--quiet --variant="$variant")
        [ -z "$include" ] || args+=(--include="$include")
        [ -z "$essential_hook" ] || args+=(--essential-hook="$essential_hook")
        rc=0
        mmdebstrap "${args[@]}" "$suite" "$dir" </dev/null || rc=$?
        [ "$rc" = 0 ] || die "$image: mmdebstrap failed (exit $rc)"
        if [ -f "$post" ]; then
                bash "$post" "$dir" || die "$image: $post failed"
        fi
        t1=$(now)

        local changes=(-c "LABEL berth.recipe-hash=$hash")
        [ -z "$env" ] || changes+=(-c "ENV $env")
        tar -C "$dir" --numeric-owner -c . | docker import "${changes[@]}" - "$image" >/dev/null ||
                die "$image: docker import failed"
        if [ -n "$old_id" ]; then
                # the previous build, now untagged; kept if a container still uses it
                docker image rm "$old_id" >/dev/null 2>&1 || true
        fi
        t2=$(now)
        awk -v a="$t0" -v b="$t1" -v c="$t2" -v i="$image" -v s="$(docker image inspect --format '{{.Size}}' "$image")" \
                'BEGIN { printf "images: built %s in %.1fs (rootfs %.1fs, import %.1fs, %.0f MB)\n", i, c - a, b - a, c - b, s / 1e6 }'
)

names=()
for arg in "$@"; do
        case "$arg" in
        --force | -f) force=1 ;;
        all) names+=("${IMAGES_ALL[@]}") ;;
        -h | --help)
                sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//'
                exit 0
                ;;
        -*) die "unknown option $arg" ;;
        *) names+=("${arg%.recipe}") ;;
        esac
done
[ ${#names[@]} -gt 0 ] || die "usage: images/build.sh [--force] all|NAME..."

command -v docker >/dev/null || die "docker client not found (make deps)"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "docker engine not answering (make docker)"

for n in "${names[@]}"; do
        build_one "$n"
done
