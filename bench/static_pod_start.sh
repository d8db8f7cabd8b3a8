#!/usr/bin/env bash
# Time from a static pod manifest appearing in --manifest-dir to its container
# running (warm image: imported beforehand), for pods on the pod network (CNI) and
# with hostNetwork, next to `runc run -d` of an equivalent bundle in the same run; and
# reef-agent's memory idle and with 10 pods.
#
#   bench/static_pod_start.sh [RUNS]      (root; build first with scripts/build.sh)
#
# "Running" is the agent's own log line, written when runc has started the
# container's process (after the pull check, the pod's network namespace, the overlay
# mount, config.json and the monitor). The manifest's appearance is the rename into
# the folder. The agent runs in a network namespace of its own, so its bridge and
# iptables rules never touch the machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
SRC=$(pwd)
BIN=$SRC/build/bin
WORK=$(mktemp -d /tmp/reef-bench-XXXXXX)
NETNS=reef-bench-$$
AGENT_PID=
cleanup() {
  if [ -n "$AGENT_PID" ]; then
    kill "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || true
  fi
  "$SRC/scripts/remove-containers.sh" "$WORK" nsenter --net="/var/run/netns/$NETNS"
  for id in $(runc --root "$WORK/runc" list -q 2>/dev/null); do
    runc --root "$WORK/runc" delete -f "$id" >/dev/null 2>&1 || true
  done
  ip netns del "$NETNS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NETNS"
ip -n "$NETNS" link set lo up

# The test image: busybox-static, built with umoci (no network, no docker).
cd "$WORK"
umoci init --layout oci >/dev/null && umoci new --image oci:1 >/dev/null
umoci unpack --image oci:1 ub >/dev/null
mkdir -p ub/rootfs/bin && cp /bin/busybox ub/rootfs/bin/
(cd ub/rootfs/bin && for c in sh sleep true; do ln -sf busybox $c; done)
umoci repack --image oci:1 ub >/dev/null
umoci config --image oci:1 --config.cmd /bin/sh --config.env PATH=/bin >/dev/null
skopeo copy -q oci:oci:1 oci-archive:busybox.tar:localhost/busybox:1
"$BIN/reef-agent" --data-dir "$WORK/data" images import busybox.tar >/dev/null

mkdir -p manifests
nsenter --net="/var/run/netns/$NETNS" "$BIN/reef-agent" --data-dir "$WORK/data" \
  --manifest-dir "$WORK/manifests" --node-name bench >/dev/null 2>agent.log &
AGENT_PID=$!
until grep -q "recovered" agent.log 2>/dev/null; do sleep 0.05; done
sleep 1
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
IDLE_RSS=$(rss "$AGENT_PID")

# pod NAME [SPEC-LINE]: a busybox `sleep 3600` static pod.
pod() {
  cat <<POD
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 1
${2:-}
  containers:
  - {name: main, image: localhost/busybox:1, imagePullPolicy: Never, command: [sleep, "3600"]}
POD
}

# start_pods PREFIX OUT [SPEC-LINE]: RUNS pods one after another, each timed into OUT.
start_pods() {
  : >"$2"
  for i in $(seq "$RUNS"); do
    pod "$1$i" "${3:-}" >".$1$i.yaml"
    t0=$(date +%s%N)
    mv ".$1$i.yaml" "manifests/$1$i.yaml"
    until grep -q "pod default/$1$i-bench: started" agent.log; do sleep 0.005; done
    t1=$(grep "pod default/$1$i-bench: started" agent.log | cut -d' ' -f1)
    t1ns=$(date -d "$t1" +%s%N)
    echo $(( (t1ns - t0) / 1000000 )) >>"$2"
    if [ "$1" = p ] && [ "$i" -eq 10 ]; then
      sleep 1
      TEN_RSS=$(rss "$AGENT_PID")
      MON_RSS=$(pgrep -f "reef-monitor" | while read -r p; do rss "$p"; done | awk '{s+=$1; n++} END {printf "%d %d", s, n}')
    fi
  done
}
start_pods p reef.ms
start_pods h reef-hostnet.ms "  hostNetwork: true"

# The floor: runc run -d of the same rootfs, with runc's default config.
mkdir -p bundle/rootfs runc
cp -a ub/rootfs/. bundle/rootfs/
(cd bundle && runc spec && sed -i 's/"sh"/"sleep", "3600"/; s/"terminal": true/"terminal": false/' config.json)
: >runc.ms
for i in $(seq "$RUNS"); do
  t0=$(date +%s%N)
  runc --root "$WORK/runc" run -d --bundle bundle "r$i" </dev/null >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) >>runc.ms
  runc --root "$WORK/runc" delete -f "r$i"
done

stats() { sort -n "$1" | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.999)]; printf "median %d ms, p90 %d ms", m, p}'; }
echo "machine: $(nproc) cores, $(uname -r), $(runc --version | head -1)"
echo "static pod manifest -> container running, pod network ($RUNS runs): $(stats reef.ms)"
echo "static pod manifest -> container running, hostNetwork ($RUNS runs): $(stats reef-hostnet.ms)"
echo "runc run -d, same rootfs ($RUNS runs):                              $(stats runc.ms)"
echo "reef-agent RSS idle: ${IDLE_RSS} KiB; with 10 pods: ${TEN_RSS} KiB; monitors: $(echo "$MON_RSS" | awk '{printf "%d KiB over %d", $1, $2}')"
