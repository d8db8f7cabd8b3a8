#!/usr/bin/env bash
# Configures and builds Reef into build/ (or $REEF_BUILD_DIR). Extra arguments go to
# CMake, e.g. scripts/build.sh -DREEF_SANITIZE=address
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${REEF_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$BUILD_DIR"
