#!/usr/bin/env bash
# Removes the containers, pod networks and mounts of every reef-agent whose data lives
# under DIR: containers outlive agents by design, so scripts that start agents
# (quickstart, benchmarks) clean up with this, after stopping the agents. Each agent is
# torn down with `reef-agent teardown` (run through PREFIX..., e.g. an nsenter into the
# network namespace the agent ran in); what is left after that (an agent whose binary
# is gone) is removed by hand.
#
#   scripts/remove-containers.sh DIR [PREFIX...]
set -uo pipefail
dir=${1:?usage: $0 DIR [PREFIX...]}
shift
agent="$(cd "$(dirname "$0")/.." && pwd)/build/bin/reef-agent"
if [ -x "$agent" ]; then
  find "$dir" -name agent.db -printf '%h\n' 2>/dev/null | while read -r data; do
    "$@" "$agent" --data-dir "$data" teardown >/dev/null || echo "remove-containers: teardown of $data failed" >&2
  done
fi
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
