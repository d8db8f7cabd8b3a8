#!/usr/bin/env bash
# Brings up Reef on this machine: installs packages, builds, starts reef-controller
# with its data (embedded SQLite) under .reef-quickstart/, joins a local reef-agent
# with the node token, applies the examples in manifests/examples/ and waits until
# their pods run. The examples' busybox image is built from Debian's busybox-static
# and imported by the agent at start (no registry, no internet needed).
#
#   scripts/quickstart.sh          start (or restart) and apply the examples
#   scripts/quickstart.sh stop     stop the agent and the controller (containers and
#                                  data stay; a start adopts them)
#   scripts/quickstart.sh clean    stop, remove the containers and the data
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/.reef-quickstart"
ADDR=${REEF_QUICKSTART_ADDR:-127.0.0.1:7443}
REEFCTL="$ROOT/build/bin/reefctl"

stop_one() {  # NAME
  if [ -f "$STATE/$1.pid" ]; then
    pid=$(cat "$STATE/$1.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "quickstart: stopped $1 (pid $pid)"
    fi
    rm -f "$STATE/$1.pid"
  fi
}
stop() { stop_one reef-agent; stop_one reef-controller; }

wait_for_line() {  # LOG PATTERN PIDFILE WHAT
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    if ! kill -0 "$(cat "$3")" 2>/dev/null; then
      echo "quickstart: $4 failed to start:" >&2
      cat "$1" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "quickstart: $4 did not come up; its log:" >&2
  cat "$1" >&2
  exit 1
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  clean)
    stop
    scripts/remove-containers.sh "$STATE"
    rm -rf "$STATE"
    # The pod bridge, once no pod is on it (portmap's shared CNI-HOSTPORT-* chains
    # stay: other CNI runtimes on the box use them too).
    if [ -d /sys/class/net/reef0 ] && [ -z "$(ls /sys/class/net/reef0/brif 2>/dev/null)" ]; then
      ip link del reef0
    fi
    echo "quickstart: removed $STATE"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|clean]" >&2; exit 2 ;;
esac

scripts/setup.sh
scripts/build.sh
stop
mkdir -p "$STATE"

echo "quickstart: starting reef-controller on $ADDR (data in $STATE/data)"
nohup "$ROOT/build/bin/reef-controller" --data-dir "$STATE/data" --listen "$ADDR" \
  >"$STATE/controller.log" 2>&1 &
echo $! >"$STATE/reef-controller.pid"
wait_for_line "$STATE/controller.log" "^listening on" "$STATE/reef-controller.pid" reef-controller

# The examples' image, for the agent to import at start (as K3s's images folder).
mkdir -p "$STATE/images"
[ -f "$STATE/images/busybox.tar" ] || scripts/busybox-image.sh "$STATE/images/busybox.tar"

echo "quickstart: starting reef-agent, joining with the node token (data in $STATE/agent)"
nohup "$ROOT/build/bin/reef-agent" --data-dir "$STATE/agent" --images-dir "$STATE/images" \
  --server "$ADDR" --token "$(cat "$STATE/data/node-token")" >"$STATE/agent.log" 2>&1 &
echo $! >"$STATE/reef-agent.pid"
wait_for_line "$STATE/agent.log" "connected to the controller" "$STATE/reef-agent.pid" reef-agent

# reefctl talks mutual TLS with the admin credential the controller wrote.
export REEFCONFIG="$STATE/data/admin.conf"
"$REEFCTL" apply -f manifests/examples/
echo
echo "quickstart: waiting for the examples' pods to run"
# Up when a web replica is ready (its hostPort answers), the log shipper runs and the
# sensor reader has completed.
examples_up() {
  local pods
  pods=$("$REEFCTL" get pods 2>/dev/null) || return 1
  grep -Eq '^web-[^ ]+ +1/1 +Running' <<<"$pods" &&
    grep -Eq '^log-shipper-[^ ]+ +1/1 +Running' <<<"$pods" &&
    grep -Eq '^sensor-reader +[0-9]/1 +Completed' <<<"$pods"
}
for _ in $(seq 120); do
  examples_up && break
  sleep 1
done
examples_up || echo "quickstart: the examples are not all up after 2 minutes; see $STATE/agent.log" >&2
for what in nodes deployments daemonsets "pods -o wide"; do
  echo
  echo "\$ reefctl get $what"
  # shellcheck disable=SC2086
  "$REEFCTL" get $what
done

cat <<MSG

Reef is running: reef-controller on $ADDR (log: $STATE/controller.log) and a
local reef-agent joined as node $(hostname) (log: $STATE/agent.log).
The admin credential is $STATE/data/admin.conf (0600; copy it to ~/.reef/config to
make it the default), the join token for agents is in $STATE/data/node-token.
Try:
  export REEFCONFIG=$STATE/data/admin.conf
  build/bin/reefctl get pods -o wide
  build/bin/reefctl logs -f POD                  # a pod name from get pods
  build/bin/reefctl describe node $(hostname)
  build/bin/reefctl scale deploy web --replicas 1
  build/bin/reefctl get deploy -w        # in another terminal: reefctl apply -f ...
Stop it with:   scripts/quickstart.sh stop      (containers and data stay in $STATE)
Remove it with: scripts/quickstart.sh clean
MSG
