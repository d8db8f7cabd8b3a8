#!/usr/bin/env bash
# CI's cross-build check, the last step of scripts/test.sh: builds Reef for arm64 with
# warnings as errors, checks that the binaries are aarch64 and that the cross-built
# reefctl runs under qemu-user, and runs the unit suites under qemu. Ends with one
# summary line; exits non-zero on any failure.
#
#   cross/ci.sh [arm64|armhf]          (default arm64; build dir as cross/build.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

arch=${1:-arm64}
case "$arch" in
  arm64) qemu=qemu-aarch64 elf="ARM aarch64" platform=linux/arm64 ;;
  armhf) qemu=qemu-arm elf="ARM, EABI5" platform=linux/arm ;;
  *) echo "usage: $0 [arm64|armhf]" >&2; exit 2 ;;
esac
build_dir=${REEF_CROSS_BUILD_DIR:-build-cross-$arch}
export REEF_CROSS_BUILD_DIR=$build_dir

fail() {
  echo "cross: $arch FAILED: $*" >&2
  exit 1
}
seconds_since() { echo "$(($(date +%s) - $1))s"; }

start=$(date +%s)
cross/build.sh "$arch" -DREEF_WERROR=ON || fail "build (see above)"
build_time=$(seconds_since "$start")

reefctl=$build_dir/bin/reefctl
file -b "$reefctl" | grep -q "$elf" || fail "$reefctl is not $elf: $(file -b "$reefctl")"
version=$("$qemu" -L / "$reefctl" version --client 2>&1) ||
  fail "$qemu $reefctl version --client: $version"
grep -q "$platform" <<<"$version" || fail "reefctl reports '$version', expected $platform"

# Same configuration, already built: this runs ctest.
start=$(date +%s)
log=$build_dir/ctest-ci.log
cross/build.sh "$arch" --test -DREEF_WERROR=ON 2>&1 | tee "$log"
test_status=${PIPESTATUS[0]}
test_time=$(seconds_since "$start")
counts=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
counts=${counts/tests failed out of/failed of}
disabled=$(grep -c ' (Disabled)$' "$log")
[ "$test_status" -eq 0 ] || fail "unit tests under $qemu: ${counts:-exit status $test_status}"

echo "cross: $arch OK: built in $build_time; $version; unit tests under $qemu:" \
     "$counts ($disabled disabled) in $test_time"
