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
read -r _ pid pstart < <(awk -v n="$name" '$1==n' "$RUN/pids" | tail -1)
stop_process "$name" "$pid" "${pstart:-}"
sleep "$down"
mv "$LOGS/$name.log" "$LOGS/$name.log.1"
eval "start $name $(cat "$RUN/$name.cmd")"
eval "wait_for $name 120 $(cat "$RUN/$name.health")"
