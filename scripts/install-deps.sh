#!/usr/bin/env bash
# Install the Debian packages berth needs to build, test and run. Idempotent: asks dpkg which
# packages are missing and installs only those (one `apt-get update` first, only if needed).
set -euo pipefail

PACKAGES=(
        # build
        build-essential pkg-config meson ninja-build clang-format
        libpq-dev libcjson-dev libcurl4-openssl-dev libyaml-dev libmariadb-dev libssl-dev
        libcmocka-dev libmicrohttpd-dev
        # embedded state store (server binaries only; berthd runs its own private cluster)
        postgresql-15
        # docker engine and local images
        docker.io iptables mmdebstrap
        # scripts, tests, benchmarks
        curl ca-certificates python3 jq wrk apache2-utils docker-compose hyperfine
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
                SUDO=(sudo)
        else
                echo "install-deps: not root and no sudo: cannot install packages" >&2
        fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
        echo "deps: all ${#PACKAGES[@]} packages installed"
        exit 0
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_SUSPEND=1 # needrestart, where installed, would ask about services

# No package may start a service while we install: docker.io's postinst would try to start dockerd
# (and fails without systemd), postgresql-15 would start a `main` cluster on 5432 we do not need.
# policy-rc.d exit 101 = "action forbidden" for invoke-rc.d/deb-systemd-invoke. Only ours is removed.
policy=/usr/sbin/policy-rc.d
own_policy=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
        if [ "$own_policy" = 1 ]; then
                "${SUDO[@]}" rm -f "$policy"
        fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
        "${SUDO[@]}" chmod 755 "$policy"
        own_policy=1
fi

# And do not create the `main` cluster at all when postgresql-common is installed fresh.
if ! dpkg-query -W -f='${Status}' postgresql-common 2>/dev/null | grep -q 'install ok installed'; then
        "${SUDO[@]}" mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" |
                "${SUDO[@]}" tee /etc/postgresql-common/createcluster.d/berth-no-main.conf >/dev/null
fi

"${SUDO[@]}" apt-get update -qq
# docker.io's postinst may fail where there is no init system: tolerate it, check the binaries below.
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || {
        echo "deps: apt-get install reported an error; finishing configuration and checking" >&2
        "${SUDO[@]}" dpkg --configure -a || true
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || true
}

fail=0
for p in "${missing[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
        "install ok installed") ;;
        *)
                # a package whose postinst failed is unpacked but not configured; fatal unless it's
                # docker.io (service start) and its binaries are there
                if [ "$p" = docker.io ] && command -v dockerd >/dev/null 2>&1; then
                        echo "deps: docker.io is '$status' (postinst could not start the service); dockerd present" >&2
                else
                        echo "deps: $p not installed ($status)" >&2
                        fail=1
                fi
                ;;
        esac
done
for bin in dockerd docker mmdebstrap meson ninja pg_ctl initdb; do
        if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/lib/postgresql/15/bin/$bin" ]; then
                echo "deps: $bin not found after install" >&2
                fail=1
        fi
done
exit "$fail"
