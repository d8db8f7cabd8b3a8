#!/usr/bin/env bash
# Installs every Debian 12 package Reef needs to build, test and run. Idempotent:
# packages already present are left alone, and apt is not touched when nothing is
# missing. Run as root (or with sudo).
set -euo pipefail

BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libsqlite3-dev libcurl4-openssl-dev libarchive-dev libssl-dev
  nlohmann-json3-dev libcli11-dev doctest-dev
)
# The agent's runtime (runc, the CNI plugins and iptables for pod networks), and what
# the tests use: a real registry, image tools, curl, a tiny
# static busybox for test images.
RUNTIME_PACKAGES=(
  runc crun busybox-static docker-registry skopeo umoci apache2-utils jq openssl python3
  sqlite3 procps iproute2 ca-certificates
  containernetworking-plugins iptables curl util-linux
)

missing=()
for p in "${BUILD_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root (sudo $0) to install them" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
# A fresh machine has no package lists yet; refresh them once.
apt-get -q -o DPkg::Lock::Timeout=300 update
apt-get install "${apt_opts[@]}" "${missing[@]}"
