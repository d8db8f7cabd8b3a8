#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs packages, builds with warnings as
# errors, runs every unit and integration test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh -DREEF_WERROR=ON
BUILD_DIR=${REEF_BUILD_DIR:-build}

# Integration tests start real controllers; two at a time fits a 2-core machine.
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 300 -j 2

# Nothing x86-only creeps into the agent: cross-build for arm64 and run the unit
# suites under qemu-user (cross/README.md). REEF_SKIP_CROSS=1 skips it locally.
if [ "${REEF_SKIP_CROSS:-0}" = 1 ]; then
  echo "test.sh: cross-build skipped (REEF_SKIP_CROSS=1)"
else
  cross/ci.sh arm64
fi
