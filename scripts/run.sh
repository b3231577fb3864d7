#!/usr/bin/env bash
# Start a Celery worker (with its beat scheduler) beside the development server; stop both together.
set -euo pipefail
PY="$1"; HOST="$2"; PORT="$3"
VENV_BIN="$(dirname "$PY")"
mkdir -p var
"$VENV_BIN/celery" -A lms worker -B --concurrency=2 -l info \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
WORKER_PID=$!
stopped=""
stop_all() {
  [ -n "$stopped" ] && return
  stopped=1
  kill "$WORKER_PID" 2>/dev/null || true
  # A warm shutdown finishes the task at hand; a worker whose pool children were signalled
  # with it (Ctrl-C reaches the whole process group) can hang in billiard's exit: give up after
  # a while rather than wait forever.
  for _ in $(seq 1 60); do kill -0 "$WORKER_PID" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$WORKER_PID" 2>/dev/null || true
  # The embedded PostgreSQL (no DATABASE_URL) stops when its last live user is gone.
  "$PY" -m lms.embedded_db stop || true
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT TERM
cat <<MSG

  Merit is running at http://$HOST:$PORT/
  Demo logins (password "merit-demo-2026" for all):
    admin         super admin (also a learner: switch views from the top bar)
    salesadmin    department admin of Sales Department
    support       customer service
    anna          learner (Anna Smith)
  Background jobs run in a Celery worker (log: var/worker.log).

MSG
"$PY" manage.py runserver "$HOST:$PORT"
