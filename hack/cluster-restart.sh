#!/usr/bin/env bash
# Restarts one component of the running local control plane with the same command line,
# for fault tests (for example: kube-apiserver goes away and comes back).
#   hack/cluster-restart.sh kube-apiserver [--down-seconds N]
set -euo pipefail
LOG_PREFIX=cluster
source "$(dirname "$0")/lib.sh"
RUN=$CLUSTER_DIR/run LOGS=$CLUSTER_DIR/logs
source "$HACK_DIR/cluster-lib.sh"
name=${1:?usage: cluster-restart.sh COMPONENT [--down-seconds N]}
down=0
[ "${2:-}" = --down-seconds ] && down=${3:?--down-seconds needs a number}
[ -f "$RUN/$name.cmd" ] || die "no running component named $name (see $RUN/pids)"
pid=$(awk -v n="$name" '$1==n{print $2}' "$RUN/pids" | tail -1)
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null || true
log "stopped $name (pid $pid)"
sleep "$down"
mv "$LOGS/$name.log" "$LOGS/$name.log.1"
eval "start $name $(cat "$RUN/$name.cmd")"
eval "wait_for $name 120 $(cat "$RUN/$name.health")"
