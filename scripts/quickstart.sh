#!/usr/bin/env bash
# Brings up Reef on this machine: installs packages, builds, starts reef-controller
# with its data (embedded SQLite) under .reef-quickstart/, applies the examples in
# manifests/examples/ and shows them with reefctl.
#
#   scripts/quickstart.sh          start (or restart) and apply the examples
#   scripts/quickstart.sh stop     stop the controller (the data stays)
#   scripts/quickstart.sh clean    stop and remove the data
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/.reef-quickstart"
ADDR=${REEF_QUICKSTART_ADDR:-127.0.0.1:7443}
REEFCTL="$ROOT/build/bin/reefctl"

stop() {
  if [ -f "$STATE/controller.pid" ]; then
    pid=$(cat "$STATE/controller.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "quickstart: stopped reef-controller (pid $pid)"
    fi
    rm -f "$STATE/controller.pid"
  fi
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  clean) stop; rm -rf "$STATE"; echo "quickstart: removed $STATE"; exit 0 ;;
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
echo $! >"$STATE/controller.pid"
for _ in $(seq 100); do
  grep -q "^listening on" "$STATE/controller.log" 2>/dev/null && break
  if ! kill -0 "$(cat "$STATE/controller.pid")" 2>/dev/null; then
    echo "quickstart: reef-controller failed to start:" >&2
    cat "$STATE/controller.log" >&2
    exit 1
  fi
  sleep 0.1
done

# reefctl talks mutual TLS with the admin credential the controller wrote.
export REEFCONFIG="$STATE/data/admin.conf"
"$REEFCTL" apply -f manifests/examples/
for kind in deployments daemonsets pods configmaps; do
  echo
  echo "\$ reefctl get $kind"
  "$REEFCTL" get "$kind"
done

cat <<MSG

Reef is running: reef-controller on $ADDR, log in $STATE/controller.log.
The admin credential is $STATE/data/admin.conf (0600; copy it to ~/.reef/config to
make it the default), the join token for agents is in $STATE/data/node-token.
Try:
  export REEFCONFIG=$STATE/data/admin.conf
  build/bin/reefctl get deploy -o wide
  build/bin/reefctl describe deploy web
  build/bin/reefctl get deploy -w        # in another terminal: reefctl apply -f ...
Stop it with:   scripts/quickstart.sh stop      (the data stays in $STATE)
Remove it with: scripts/quickstart.sh clean
MSG
