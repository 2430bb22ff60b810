#!/usr/bin/env bash
# Start one Celery process of Folio: celery-entrypoint.sh ROLE [extra celery arguments].
# Check one process's health:        celery-entrypoint.sh healthcheck TARGET [NODE | URL].
#
# Waits for the database and the broker (at most FOLIO_WAIT_SECONDS, default 60), then execs
# celery, so that the process a supervisor or `docker stop` signals is celery itself.
# Used by `make run` (backend/folio/devserver.py) and by the production containers, whose
# health checks are its `healthcheck` subcommand. docs/running.md describes every role,
# docs/operations.md the health checks.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: celery-entrypoint.sh ROLE [extra celery arguments]
       celery-entrypoint.sh healthcheck TARGET [NODE | URL]

ROLE is one of:
  worker          chunk worker: queues chunks-0..N-1 (N = FOLIO_CHUNK_LANES, default 4),
                  FOLIO_WORKER_CONCURRENCY processes (default: the CPU count)
  control-worker  the `control` queue only (finalize, reconcile), one process
  beat            the scheduler that sends the reconciler; schedule file in FOLIO_DATA_DIR
  flower          monitoring UI on FOLIO_FLOWER_ADDRESS:FOLIO_FLOWER_PORT (127.0.0.1:5555),
                  basic auth FOLIO_FLOWER_USER (admin) / FOLIO_FLOWER_PASSWORD (required),
                  /metrics included; /healthcheck stays open

Extra arguments go to celery after the role's own (a later option wins: -n other@%h).
A pool process is replaced after FOLIO_WORKER_MAX_TASKS_PER_CHILD tasks (200) or once it
uses more than FOLIO_WORKER_MAX_MEMORY_PER_CHILD_MB megabytes (750).

healthcheck TARGET exits 0 when the process is healthy, 1 with the reason otherwise:
  worker          this host's chunk worker (NODE, default chunks@HOSTNAME) runs a probe task
                  in its pool within 10 s (or is busy with chunks whose leases it renews)
  control-worker  the same for this host's control worker (NODE, default control@HOSTNAME)
  beat            beat's heartbeat file in FOLIO_DATA_DIR is less than a minute old
  flower          Flower's /healthcheck answers on 127.0.0.1:FOLIO_FLOWER_PORT
  api             GET /health and /ready answer 200 (URL, default http://127.0.0.1:8000)
EOF
}

say() { echo "celery-entrypoint: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

if [[ $# -lt 1 ]]; then
  usage
  exit 2
fi
role=$1
shift
case "$role" in
  worker | control-worker | beat | flower | healthcheck) ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    say "unknown role: '$role'"
    usage
    exit 2
    ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# One interpreter for the wait and for celery (`python -m celery`): the active virtualenv,
# else the repository's .venv (make run, a checkout), else the image's python (containers).
find_python() {
  if [[ -n ${VIRTUAL_ENV:-} && -x $VIRTUAL_ENV/bin/python ]]; then
    echo "$VIRTUAL_ENV/bin/python"
  elif [[ -x $here/.venv/bin/python ]]; then
    echo "$here/.venv/bin/python"
  elif command -v python3 >/dev/null 2>&1; then
    command -v python3
  elif command -v python >/dev/null 2>&1; then
    command -v python
  else
    die "no python found (looked in \$VIRTUAL_ENV/bin, $here/.venv/bin and PATH)"
  fi
}

# A positive integer from the environment variable $1, else the default $2.
positive_int() {
  local value=${!1:-$2}
  [[ $value =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$value'"
  echo "$value"
}

cpu_count() {
  nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2
}

python=$(find_python)

# GET each URL; fail (exit 1) naming the first that does not answer 200.
http_ok() {
  "$python" - "$@" <<'PY'
import sys
import urllib.request

for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status = response.status
    except Exception as error:  # refused, timed out, or an HTTP error status
        sys.exit(f"celery-entrypoint: unhealthy: GET {url}: {error}")
    if status != 200:
        sys.exit(f"celery-entrypoint: unhealthy: GET {url} answered {status}")
    print(f"GET {url}: {status}")
PY
}

# celery-entrypoint.sh healthcheck TARGET [NODE | URL]: for container health checks. It does
# not wait for anything: a check answers at once, and the orchestrator retries.
healthcheck() {
  [[ $# -ge 1 ]] || die "healthcheck needs a target: worker, control-worker, beat, flower or api"
  local target=$1 node
  case "$target" in
    worker | control-worker)
      # The node name the role gives itself (-n chunks@%h): %h is the host name, so each
      # container checks its own worker, not just any worker of the deployment.
      if [[ $target == worker ]]; then node=chunks; else node=control; fi
      node=${2:-$node@$("$python" -c 'import socket; print(socket.gethostname())')}
      # Not `celery inspect ping`: the worker's main process answers it even when every pool
      # process is blocked. The probe is a task sent to the queue only this worker reads.
      "$python" -m folio.ops.probe "$node" --timeout 10 || die "unhealthy: $node (see above)"
      ;;
    beat)
      "$python" -m folio.taskqueue.heartbeat || exit 1
      ;;
    flower)
      # /healthcheck is the one page Flower serves without basic auth.
      http_ok "http://127.0.0.1:$(positive_int FOLIO_FLOWER_PORT 5555)/healthcheck"
      ;;
    api)
      local base=${2:-http://127.0.0.1:8000}
      http_ok "${base%/}/health" "${base%/}/ready"
      ;;
    *)
      die "unknown healthcheck target: '$target' (worker, control-worker, beat, flower or api)"
      ;;
  esac
}

if [[ $role == healthcheck ]]; then
  healthcheck "$@"
  exit 0
fi

loglevel=${FOLIO_LOG_LEVEL:-INFO}
max_tasks=$(positive_int FOLIO_WORKER_MAX_TASKS_PER_CHILD 200)
# Celery counts this limit in KiB; a pool process past it is replaced after its task.
max_memory_mb=$(positive_int FOLIO_WORKER_MAX_MEMORY_PER_CHILD_MB 750)
max_memory_kib=$((max_memory_mb * 1000))

# Every setting is checked before the wait: waiting cannot fix a mistake.
case "$role" in
  worker)
    lanes=$(positive_int FOLIO_CHUNK_LANES 4)
    queues=chunks-0
    for ((lane = 1; lane < lanes; lane++)); do
      queues+=",chunks-$lane"
    done
    concurrency=$(positive_int FOLIO_WORKER_CONCURRENCY "$(cpu_count)")
    ;;
  flower)
    flower_user=${FOLIO_FLOWER_USER:-admin}
    flower_password=${FOLIO_FLOWER_PASSWORD:-}
    [[ -n $flower_password ]] || die "FOLIO_FLOWER_PASSWORD is empty: Flower refuses to \
start without basic auth (set it to a long random string)"
    # Flower splits its credential list on commas and each credential on the first colon.
    [[ $flower_user != *[:,]* ]] || die "FOLIO_FLOWER_USER must not contain ':' or ','"
    [[ $flower_password != *,* ]] || die "FOLIO_FLOWER_PASSWORD must not contain ','"
    flower_port=$(positive_int FOLIO_FLOWER_PORT 5555)
    ;;
esac

"$python" -m folio.ops.waitfor || exit $?

# CELERY_APP is Celery's own variable for -A; the test-suite points it at a module that adds
# its fault seam (tests/faultworker.py). Production leaves it unset.
app=${CELERY_APP:-folio.worker}

case "$role" in
  worker)
    # -E: task events, which Flower shows.
    exec "$python" -m celery -A "$app" worker -Q "$queues" -c "$concurrency" \
      -n 'chunks@%h' --max-tasks-per-child "$max_tasks" --max-memory-per-child "$max_memory_kib" \
      -E --loglevel "$loglevel" "$@"
    ;;
  control-worker)
    # Its own process, so finalize and reconcile never wait behind a queue of chunks.
    exec "$python" -m celery -A "$app" worker -Q control -c 1 \
      -n 'control@%h' --max-tasks-per-child "$max_tasks" --max-memory-per-child "$max_memory_kib" \
      -E --loglevel "$loglevel" "$@"
    ;;
  beat)
    # The data dir exactly as the app resolves it (default, ~, relative paths).
    data_dir=$("$python" -c 'from folio.config import Settings; print(Settings.from_env().data_dir)')
    mkdir -p "$data_dir"
    exec "$python" -m celery -A "$app" beat -s "$data_dir/celerybeat-schedule" \
      --loglevel "$loglevel" "$@"
    ;;
  flower)
    # Through Flower's own environment variable, not --basic-auth: a command line is
    # readable by every user of the machine (ps), a process environment is not.
    export FLOWER_BASIC_AUTH="$flower_user:$flower_password"
    unset FOLIO_FLOWER_PASSWORD
    # folio.ops.flower runs the celery command after it with /metrics behind the same basic
    # auth as every other page (Flower serves it without).
    exec "$python" -m folio.ops.flower celery -A "$app" flower \
      --address="${FOLIO_FLOWER_ADDRESS:-127.0.0.1}" --port="$flower_port" "$@"
    ;;
esac
