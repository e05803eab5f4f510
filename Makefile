# berth: a thin wrapper around scripts/, images/ and meson. The real work is in the scripts.
#   make up      deps, build, docker, images, then berthd + the quickstart app (scripts/up.sh)
#   make down    stop what make up started (scripts/down.sh)
#   make test    everything CI runs (.ci/run): builds, unit + style, ASan/UBSan, integration
.NOTPARALLEL:
.DEFAULT_GOAL := build

SHELL := /bin/bash
ASAN_DIR := build-asan
ASAN_OPTS := -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all

.PHONY: all deps build build-asan docker images up down test test-unit test-integration test-long \
        bench clean format check-format

all: build

deps:
	scripts/install-deps.sh

build:
	scripts/build.sh build

build-asan:
	scripts/build.sh $(ASAN_DIR) $(ASAN_OPTS)

docker:
	scripts/start-docker.sh

images: docker
	images/build.sh all

up: deps build docker images
	scripts/up.sh

down:
	scripts/down.sh

# scripts/test.sh builds build/ and build-asan/, starts Docker and builds the images itself, so that
# a failing step is counted and the last line is always "N passed, M failed".
test: deps
	scripts/test.sh all

test-unit:
	scripts/test.sh unit

test-integration: deps
	scripts/test.sh integration

test-long: deps
	scripts/test.sh long

bench: build docker images
	@if [ -x bench/run.sh ]; then bench/run.sh; \
	else set -e; ran=0; for b in bench/bench-*.sh; do [ -e "$$b" ] || continue; ran=1; bash "$$b"; done; \
	     [ $$ran = 1 ] || echo "bench: no benchmarks yet (bench/run.sh or bench/bench-*.sh)"; fi

# build directories only: .berth/ (berthd's data, logs) is kept; make down first, then rm -rf .berth
clean:
	rm -rf build $(ASAN_DIR)

# tracked and new (not ignored) C files that exist
C_FILES = { git ls-files --cached --others --exclude-standard -- '*.c' '*.h' 2>/dev/null || \
            find . \( -path './build*' -o -path ./.berth -o -path ./.git \) -prune -o \
                 -type f \( -name '*.c' -o -name '*.h' \) -print; } | sort -u | while read -r f; do [ -f "$$f" ] && echo "$$f"; done

format:
	@files=$$($(C_FILES)); [ -z "$$files" ] || echo "$$files" | xargs -d '\n' clang-format -i; \
	echo "format: $$(echo "$$files" | grep -c .) files"

check-format:
	STYLE_UNTRACKED=1 tests/style/check-format.sh .
