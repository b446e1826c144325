#!/usr/bin/env bash
# The whole test suite: lint, migrations check, the tests on SQLite, then on PostgreSQL with a real Celery worker
# on Redis when those servers are here (always in CI). Exits non-zero on any failure or on a run with no tests.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
export PATH="$PWD/$VENV/bin:$PATH"
status=0
step() { echo; echo "=== $*"; }

start_services() {
  # PostgreSQL and Redis, started when down (the machine's own service commands).
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 2>/dev/null || true
      for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break; sleep 1; done
    fi
  fi
  if ! (command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
    if command -v redis-server >/dev/null 2>&1; then
      mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
      redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 || true
      sleep 1
    fi
  fi
}

run_pytest() {
  local label=$1; shift
  local log; log=$(mktemp)
  "$VENV/bin/pytest" -q -p no:randomly "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 5 ] || ! grep -Eq '[0-9]+ passed' "$log"; then
    echo "FAIL ($label): no test ran"; rc=1
  fi
  rm -f "$log"
  return "$rc"
}

step "ruff"
"$VENV/bin/ruff" check . || status=1
"$VENV/bin/ruff" format --check . || status=1

step "migrations are complete"
SUBSIDY_DATA_DIR=$(mktemp -d) "$PY" manage.py makemigrations --check --dry-run || status=1

step "tests on SQLite"
export SUBSIDY_DATA_DIR; SUBSIDY_DATA_DIR=$(mktemp -d)
run_pytest sqlite || status=1

start_services
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  step "tests on PostgreSQL (worker on Redis when available)"
  db="subsidy_ci_$$_$(date +%s)"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    export CELERY_BROKER_URL="redis://127.0.0.1:6379/15"
  fi
  SUBSIDY_DATA_DIR=$(mktemp -d)
  run_pytest postgres || status=1
  unset DATABASE_URL CELERY_BROKER_URL
else
  if [ "${CI:-}" = "true" ]; then echo "FAIL: PostgreSQL is not reachable in CI"; status=1; fi
  echo "PostgreSQL not reachable: skipped the PostgreSQL run"
fi

echo
[ "$status" -eq 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit "$status"
