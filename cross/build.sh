#!/usr/bin/env bash
# Cross-builds Reef for a Raspberry Pi (or any ARM Linux box running Debian 12).
#
#   cross/build.sh arm64|armhf [--test] [CMAKE_ARGS...]
#
# Installs what is missing (cross/setup.sh), configures build-cross-ARCH (or
# $REEF_CROSS_BUILD_DIR) with the toolchain file for ARCH, builds everything, and with
# --test runs the suites selected by REEF_CROSS_TEST_SUITES (the unit suites) under
# qemu-user. Binaries land in build-cross-ARCH/bin. Extra arguments go to CMake, e.g.
# -DCMAKE_BUILD_TYPE=RelWithDebInfo to keep debug info.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 arm64|armhf [--test] [CMAKE_ARGS...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
arch=$1
shift
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) usage ;;
esac
run_tests=false
if [ "${1:-}" = "--test" ]; then
  run_tests=true
  shift
fi
build_dir=${REEF_CROSS_BUILD_DIR:-build-cross-$arch}

cross/setup.sh "$arch"
# MinSizeRel: small binaries for small boxes, and half the compile time of -O2 -g.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/cross/$triplet.cmake" "$@" | { grep '^-- Cross build' || true; }
ninja -C "$build_dir"

if $run_tests; then
  # Emulated code runs 10-15x slower: allow it, and two at a time on 2 cores.
  ctest --test-dir "$build_dir" --output-on-failure --no-tests=error --timeout 600 -j 2
fi
