#!/usr/bin/env bash
# `make demo`: starts every region of a topology with activekvctl, shows how to connect and the
# status of every link, and stops the regions on Ctrl-C.
set -euo pipefail
topology=${1:-topology/examples/local-3.yaml}
root=$(cd "$(dirname "$0")/.." && pwd)
ctl="$root/build/bin/activekvctl"

stop() {
  trap - EXIT INT TERM
  echo
  "$ctl" down "$topology" || true
}
trap stop EXIT INT TERM

"$ctl" up "$topology"
echo
"$ctl" status "$topology" || true
ports=$(grep -oE 'resp: *[^ ,}]+' "$topology" | sed -E 's/.*:([0-9]+)$/\1/')
first=$(echo "$ports" | head -1)
last=$(echo "$ports" | tail -1)
cat <<MSG

activekv demo is running: every region accepts reads and writes, and replicates to the others.
  Connect:   redis-cli -p $first        (each region: $(echo $ports | sed 's/ /, /g'))
  Try:       redis-cli -p $first set greeting hello; redis-cli -p $last get greeting
             redis-cli -p $first incr visits; redis-cli -p $last incr visits
  Status:    build/bin/activekvctl status $topology
  In sync?   build/bin/activekvctl wait-sync $topology
  Logs:      <data_dir>/server.log of each region (data_dir from $topology)
Press Ctrl-C to stop the regions.
MSG
while :; do sleep 3600; done
