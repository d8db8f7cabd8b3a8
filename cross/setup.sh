#!/usr/bin/env bash
# Installs what cross-building Reef for a Raspberry Pi needs, with Debian multiarch:
# the cross compiler, qemu-user (ctest runs the ARM test binaries under it), and the
# target architecture's -dev packages of every library Reef links.
#
#   cross/setup.sh [arm64|armhf]      (default arm64)
#
# Idempotent: does nothing when everything is present, and runs apt-get update only
# when a package it needs has no candidate yet (fresh machine, architecture just added).
# Never removes a package: apt is asked with --no-remove, so a conflict stops here.
set -euo pipefail

arch=${1:-arm64}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) echo "usage: $0 [arm64|armhf]" >&2; exit 2 ;;
esac

# Build machine side: compiler, emulator, code generators, and the headers of
# header-only or architecture-independent packages. libyaml-cpp-dev is here because
# libyaml-cpp-dev:$arch conflicts with it (not Multi-Arch: same); its headers serve
# both, and the build links the target's libyaml-cpp.so.0.7 by name.
HOST_PACKAGES=(
  "g++-$triplet" qemu-user cmake ninja-build pkg-config file
  protobuf-compiler protobuf-compiler-grpc
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev doctest-dev
)
# Target side: the libraries Reef links, for $arch.
TARGET_PACKAGES=(
  libgrpc++-dev libprotobuf-dev libabsl-dev libsqlite3-dev libcurl4-openssl-dev
  libarchive-dev libssl-dev libyaml-cpp0.7
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
has_candidate() {
  apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'
}

missing=()
for p in "${HOST_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${TARGET_PACKAGES[@]}"; do installed "$p:$arch" || missing+=("$p:$arch"); done
arch_known=false
if [ "$(dpkg --print-architecture)" = "$arch" ] ||
   dpkg --print-foreign-architectures | grep -qx "$arch"; then
  arch_known=true
fi

if $arch_known && [ ${#missing[@]} -eq 0 ]; then
  echo "cross/setup: $arch: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "cross/setup: $arch: missing packages: ${missing[*]}" >&2
  $arch_known || echo "cross/setup: and architecture $arch is not enabled in dpkg" >&2
  echo "cross/setup: run as root (sudo $0 $arch) to install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=300)
if ! $arch_known; then
  echo "cross/setup: enabling architecture $arch"
  dpkg --add-architecture "$arch"
fi

need_update=false
for p in "${missing[@]}"; do
  has_candidate "$p" || { need_update=true; break; }
done
if $need_update; then
  apt-get -q "${lock[@]}" update
fi

echo "cross/setup: installing ${missing[*]}"
# --no-install-recommends: with recommends, multiarch installs try to swap out the
# preinstalled native compilers.
apt-get install -y -q --no-install-recommends --no-remove "${lock[@]}" "${missing[@]}"
