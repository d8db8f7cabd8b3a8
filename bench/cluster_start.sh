#!/usr/bin/env bash
# The cluster's core loop, timed: `reefctl apply` of a Deployment -> every pod
# Running in `reefctl get pods`, for 1 pod and for 30 pods over 2 agents, each agent
# in its own network-namespace host (as the e2e tests set them up); and the bytes an
# idle node puts on the wire per minute (both directions of its link, TLS, TCP and
# gRPC keepalive included).
#
#   bench/cluster_start.sh [RUNS] [IDLE_SECONDS]   (root; build first: scripts/build.sh)
#
# "Running" is what reefctl shows: the scheduler bound the pod, the agent heard of it,
# pulled nothing (the image was imported), started it with runc and reported the
# status back. reefctl polls every 50 ms, so figures carry up to that much slack.
# The runc floor to compare with is bench/static_pod_start.sh's `runc run -d`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
IDLE=${2:-60}
BIN=$(pwd)/build/bin
SRC=$(pwd)
WORK=$(mktemp -d /tmp/reef-bench-XXXXXX)
SUFFIX=$(printf '%04x' $((RANDOM)))
BRIDGE=rfbr$SUFFIX
NET=10.99.$((100 + RANDOM % 150))
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for i in 0 1; do  # each agent's pods, released in its host's network namespace
    "$SRC/scripts/remove-containers.sh" "$WORK/agent$i" nsenter --net="/var/run/netns/reef-$SUFFIX-$i"
  done
  "$SRC/scripts/remove-containers.sh" "$WORK"
  for i in 0 1; do
    ip link del "rfv${SUFFIX}$i" 2>/dev/null || true
    ip netns del "reef-$SUFFIX-$i" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Two hosts on a private bridge; the controller listens on the bridge's address.
ip link add "$BRIDGE" type bridge
ip addr add "$NET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
for i in 0 1; do
  ip netns add "reef-$SUFFIX-$i"
  ip link add "rfv${SUFFIX}$i" type veth peer name eth0 netns "reef-$SUFFIX-$i"
  ip link set "rfv${SUFFIX}$i" master "$BRIDGE" up
  ip -n "reef-$SUFFIX-$i" addr add "$NET.$((11 + i))/24" dev eth0
  ip -n "reef-$SUFFIX-$i" link set eth0 up
  ip -n "reef-$SUFFIX-$i" link set lo up
done

"$BIN/reef-controller" --data-dir "$WORK/controller" --listen "$NET.1:0" >"$WORK/controller.out" 2>"$WORK/controller.log" &
PIDS+=($!)
until grep -q "^listening on" "$WORK/controller.out" 2>/dev/null; do sleep 0.05; done
SERVER=$(sed -n 's/^listening on //p' "$WORK/controller.out")
export REEFCONFIG=$WORK/controller/admin.conf
"$SRC/scripts/busybox-image.sh" "$WORK/busybox.tar" localhost/busybox:1 >/dev/null
for i in 0 1; do
  "$BIN/reef-agent" --data-dir "$WORK/agent$i" images import "$WORK/busybox.tar" >/dev/null
  nsenter --net="/var/run/netns/reef-$SUFFIX-$i" "$BIN/reef-agent" --data-dir "$WORK/agent$i" \
    --server "$SERVER" --token "$(cat "$WORK/controller/node-token")" --node-name "bench$i" \
    >/dev/null 2>"$WORK/agent$i.log" &
  PIDS+=($!)
done
until [ "$("$BIN/reefctl" get nodes 2>/dev/null | grep -c ' Ready ')" = 2 ]; do sleep 0.1; done

deployment() {  # REPLICAS
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench}
spec:
  replicas: $1
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: main, image: localhost/busybox:1, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
}

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# apply -> all Running, then delete and wait until every pod is gone.
time_apply() {  # REPLICAS
  local start end
  start=$(now_ms)
  deployment "$1" | "$BIN/reefctl" apply -f - >/dev/null
  until [ "$("$BIN/reefctl" get pods 2>/dev/null | grep -c ' Running ')" = "$1" ]; do sleep 0.05; done
  end=$(now_ms)
  "$BIN/reefctl" delete deployment bench >/dev/null
  until [ "$("$BIN/reefctl" get pods 2>/dev/null | grep -c bench)" = 0 ]; do sleep 0.1; done
  # The agents' containers are gone too before the next run.
  sleep 2
  echo $((end - start))
}

for n in 1 30; do
  times=()
  for _ in $(seq "$RUNS"); do times+=("$(time_apply "$n")"); done
  echo "apply -> $n pod(s) Running over 2 agents: median $(printf '%s\n' "${times[@]}" | median) ms" \
       "(runs: ${times[*]})"
done

# Idle traffic: both directions of host 0's link over IDLE seconds, nothing deployed.
link_bytes() {
  local rx tx
  rx=$(cat "/sys/class/net/rfv${SUFFIX}0/statistics/rx_bytes")
  tx=$(cat "/sys/class/net/rfv${SUFFIX}0/statistics/tx_bytes")
  echo $((rx + tx))
}
before=$(link_bytes)
sleep "$IDLE"
after=$(link_bytes)
echo "idle node: $(((after - before) * 60 / IDLE)) bytes/minute on its link (over ${IDLE}s)"
for i in 0 1; do
  pid=$(pgrep -f "reef-agent --data-dir $WORK/agent$i --server" | head -1)
  echo "agent bench$i RSS: $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") KiB"
done
echo "controller RSS: $(awk '/VmRSS/ {print $2}' "/proc/${PIDS[0]}/status") KiB"
