#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup is only called from the trap
# Chaos run of issue 8: tests/Api.Tests/Chaos/ChaosTests.cs at full size on its own PostgreSQL and Azurite:
# PROJECTS short projects (100) on 2 silos and 2 API hosts, a random silo killed with SIGKILL every KILL_SECONDS (15)
# and started again, PostgreSQL restarted once PG_RESTART_AFTER seconds (120) into the run. The test asserts that every
# project completes, no result row is written twice and a .NET SignalR client sees every event in order with no gap;
# this script prints the time to resume after each kill. Output: .data/bench/chaos/run.log and summary.txt.
#
# Usage: bench/chaos/run.sh            (environment: PROJECTS, KILL_SECONDS, PG_RESTART_AFTER; 0 = no restart,
#                                      KILLS: at most this many kills, 0 = none: the same projects undisturbed)
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

DATA="$PWD/.data/bench/chaos"
PG_PORT=${MA_BENCH_PG_PORT:-55436}
BLOB_PORT=${MA_BENCH_BLOB_PORT:-10016}
PROJECTS=${PROJECTS:-100}
KILL_SECONDS=${KILL_SECONDS:-15}
PG_RESTART_AFTER=${PG_RESTART_AFTER:-120}
KILLS=${KILLS:-100000}

cleanup() {
  [[ -z ${RESTARTER:-} ]] || kill "$RESTARTER" 2>/dev/null || true
  ma_stop_azurite "$DATA/azurite"
  ma_stop_postgres "$DATA/pg"
}
trap cleanup EXIT

ma_install_prereqs
ma_install_node_tools
mkdir -p "$DATA"
ma_start_postgres "$DATA/pg" "$PG_PORT"
ma_stop_azurite "$DATA/azurite"
rm -rf "$DATA/azurite"
ma_start_azurite "$DATA/azurite" "$BLOB_PORT"

export MA_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres"
MA_TEST_BLOBS=$(ma_blob_connection_string "$BLOB_PORT")
export MA_TEST_BLOBS MA_TEST_NODE_MODULES="$PWD/tools/node_modules"
export MA_CHAOS_PROJECTS=$PROJECTS MA_CHAOS_KILL_SECONDS=$KILL_SECONDS MA_CHAOS_KILLS=$KILLS

ma_log "building (Release)"
dotnet build MediaActors.sln -c Release -nologo -v q >/dev/null || ma_die "build failed"

: >"$DATA/pg-restart.log"
if ((PG_RESTART_AFTER > 0)); then
  (
    sleep "$PG_RESTART_AFTER"
    echo "PGRESTART $(date -u +%FT%T.%3NZ) restarting PostgreSQL" >>"$DATA/pg-restart.log"
    runuser -u postgres -- "$MA_PG_BIN/pg_ctl" restart -D "$(realpath "$DATA/pg")" -m fast -w -l "$DATA/postgres.log" >/dev/null 2>&1
    echo "PGRESTART $(date -u +%FT%T.%3NZ) PostgreSQL is back" >>"$DATA/pg-restart.log"
  ) &
  RESTARTER=$!
fi

ma_log "chaos: $PROJECTS projects, a silo killed every ${KILL_SECONDS}s (at most $KILLS), PostgreSQL restarted after ${PG_RESTART_AFTER}s"
set +e
dotnet test tests/Api.Tests/Api.Tests.csproj -c Release --no-build --filter "FullyQualifiedName~ChaosTests" \
  --logger "console;verbosity=detailed" 2>&1 | tee "$DATA/run.log"
RC=${PIPESTATUS[0]}
set -e
{
  echo "chaos run $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD): $PROJECTS projects, kill every ${KILL_SECONDS}s (at most $KILLS), PostgreSQL restart after ${PG_RESTART_AFTER}s"
  grep -E 'killed|all final' "$DATA/run.log" | sed 's/^ *//' | sed -E 's/; (processing|completed|queued).*//'
  cat "$DATA/pg-restart.log" 2>/dev/null || true
  grep -oE '(RESUME|LOST_STEPS) .*' "$DATA/run.log" || true
  grep -E '^(Passed|Failed)!' "$DATA/run.log" || true
} | tee "$DATA/summary.txt"
exit "$RC"
