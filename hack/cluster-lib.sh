# Starting and waiting for control-plane processes; sourced by cluster-up.sh and cluster-restart.sh.
# Needs RUN, LOGS and log() (lib.sh).
start() { # name cmd...
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
  echo "$name $! $(proc_start $!)" >> "$RUN/pids" # name pid start-time (lib.sh is_ours)
  printf '%q ' "$@" > "$RUN/$name.cmd" # for hack/cluster-restart.sh
}
fail_component() { # name why
  log "$1 $2; last lines of $LOGS/$1.log:"
  tail -25 "$LOGS/$1.log" >&2 || true
  exit 1
}
wait_for() { # name timeout-seconds check-cmd...
  local name=$1 timeout=$2 start=$SECONDS pid; shift 2
  pid=$(awk -v n="$name" '$1==n{print $2}' "$RUN/pids" | tail -1)
  [ -f "$RUN/$name.health" ] || printf '%q ' "$@" > "$RUN/$name.health"
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail_component "$name" "exited during start-up"
    [ $((SECONDS - start)) -lt "$timeout" ] || fail_component "$name" "was not healthy after ${timeout}s"
    sleep 0.5
  done
  log "$name is up ($((SECONDS - start))s)"
}

