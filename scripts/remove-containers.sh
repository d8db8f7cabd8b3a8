#!/usr/bin/env bash
# Removes the containers (and their overlay mounts) of every reef-agent whose data
# lives under DIR: containers outlive agents by design, so scripts that start agents
# (quickstart, benchmarks) clean up with this.
#
#   scripts/remove-containers.sh DIR
set -uo pipefail
dir=${1:?usage: $0 DIR}
for root in /run/reef/*/runc; do
  [ -d "$root" ] || continue
  for id in $(runc --root "$root" list -q 2>/dev/null); do
    if runc --root "$root" state "$id" 2>/dev/null | grep -q "$dir/"; then
      runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true
    fi
  done
done
grep -o " $dir/[^ ]*" /proc/self/mounts | while read -r m; do umount -l "$m" || true; done
exit 0
