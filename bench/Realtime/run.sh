#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions are only called from traps
# Realtime/API benchmark (issue 4, "Benchmark"; results in docs/BENCHMARKS.md). In one invocation:
#   1. event latency grain commit -> @microsoft/signalr callback under Node, with 1 and with 1,000 connections
#      (bench/Realtime/latency.mjs), events from projects whose download fails fast (http://127.0.0.1:9/x.mp4);
#   2. wrk: GET /api/projects/{id} and POST /api/projects (30 s each, -t2 -c32, --latency).
# Private PostgreSQL (55435) + Azurite (10040), one silo + one API host (Release build), data in .data/bench-realtime/
# (deleted on exit; results in .data/bench-realtime/results/<timestamp>/: per latency run its statistics, latency-N-*.json, and
# per event its first and last receipt's latency, events-N-*.jsonl, to join with the API's Debug relay log).
# Usage: bench/Realtime/run.sh      Environment: MA_BENCH_DURATION (30s), MA_BENCH_CONNS (32), MA_BENCH_CLIENTS ("1 1000 1000x2":
#                                   N clients in one Node thread, NxW over W worker threads), MA_BENCH_RELAY_LOG (Warning;
#                                   Debug logs each relayed event's timings in the API log), MA_BENCH_API_VARIANTS ("-": API
#                                   settings compared side by side, e.g. "Kestrel__InlineScheduling=false Kestrel__InlineScheduling=true")
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib.sh
source scripts/lib.sh

ROOT=$PWD
DATA="$ROOT/.data/bench-realtime"
PG_PORT=55435
BLOB_PORT=10040
API_PORT=${MA_BENCH_API_PORT:-5280}
SILO_PORT=${MA_BENCH_SILO_PORT:-5290}
DURATION=${MA_BENCH_DURATION:-30s}
CONNS=${MA_BENCH_CONNS:-32}
CLIENT_COUNTS=${MA_BENCH_CLIENTS:-"1 1000 1000x2"}
# API settings to compare side by side, one variant per word ("NAME=VALUE,NAME=VALUE"; "-" for the defaults): the
# latency runs are repeated for each, on the same silo and database.
read -r -a API_VARIANTS <<<"${MA_BENCH_API_VARIANTS:--}"
for ((v = 0; v < ${#API_VARIANTS[@]}; v++)); do [[ ${API_VARIANTS[$v]} == - ]] && API_VARIANTS[$v]=; done
FAIL_URL='http://127.0.0.1:9/x.mp4'
SILO_DLL=src/Silo/bin/Release/net10.0/MediaActors.Silo.dll
API_DLL=src/Api/bin/Release/net10.0/MediaActors.Api.dll
RESULTS="$DATA/results/$(date -u +%Y%m%dT%H%M%SZ)"
LOGS="$RESULTS/logs"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[bench-realtime %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

SILO_PID=
API_PID=
CLEANED=0
cleanup() {
  ((CLEANED)) && return 0
  CLEANED=1
  set +e
  trap '' INT TERM
  local pids=() p i alive
  for p in "$API_PID" "$SILO_PID"; do [[ -n $p ]] && kill -0 "$p" 2>/dev/null && pids+=("$p"); done
  if ((${#pids[@]})); then
    log "stopping the API and the silo (${pids[*]})"
    kill -TERM "${pids[@]}" 2>/dev/null
    for ((i = 0; i < 80; i++)); do
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.25
    done
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { log "pid $p did not stop in 20 s: killing it"; kill -KILL "$p"; }; done
    wait "${pids[@]}" 2>/dev/null
  fi
  ma_stop_azurite "$DATA/azurite"
  ma_stop_postgres "$DATA/pg"
  [[ -f $DATA/postgres.log && -d $LOGS ]] && mv -f "$DATA/postgres.log" "$LOGS/postgres.log"
  rm -rf "$DATA/azurite" "$DATA/pg" "$DATA/dev-api-key"
  log "cleaned up; results in $RESULTS"
}
on_exit() { local rc=$?; cleanup; exit "$rc"; }
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT TERM

load_note() {
  { echo "== $1 $(date -u +%FT%TZ)"; uptime; ps aux --sort=-%cpu | head -8; } >>"$RESULTS/load.txt"
  log "$1: $(uptime | sed 's/.*load/load/')"
}

for p in "$API_PORT" "$SILO_PORT" "$PG_PORT" "$BLOB_PORT"; do
  ! ma_port_open 127.0.0.1 "$p" || ma_die "port $p is already in use"
done
ma_install_prereqs
ma_install_node_tools
command -v wrk >/dev/null || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || ma_die "apt-get install wrk failed"; }
mkdir -p "$LOGS"
rm -rf "$DATA/pg" "$DATA/azurite"

# Build (retry while another engineer's build holds the output files).
for attempt in 1 2 3 4 5 6; do
  if dotnet build MediaActors.sln -c Release -nologo -v q >"$LOGS/build.log" 2>&1; then break; fi
  ((attempt < 6)) || { tail -n 30 "$LOGS/build.log" >&2; ma_die "build failed"; }
  log "build failed (attempt $attempt; another build running?): retrying in 20 s"
  sleep 20
done

ma_start_postgres "$DATA/pg" "$PG_PORT"
ma_start_azurite "$DATA/azurite" "$BLOB_PORT"
"$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA -d postgres \
  -c 'CREATE DATABASE mediaactors' >/dev/null || ma_die "could not create database mediaactors"

start_host() {
  local name=$1 url=$2 dll=$3
  shift 3
  (
    cd "$(dirname "$dll")"
    exec env "$@" \
      ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=mediaactors" \
      ConnectionStrings__Blobs="$(ma_blob_connection_string "$BLOB_PORT")" \
      ASPNETCORE_URLS="$url" \
      DataDirectory="$DATA" \
      Ingestion__AllowPrivateNetworks=true \
      Limits__RequestsPerWindow=100000000 \
      Limits__MaxProjectsInFlight=100000000 \
      Logging__LogLevel__Default=Warning \
      Logging__LogLevel__MediaActors.Api.Realtime.EventRelay="${MA_BENCH_RELAY_LOG:-Warning}" \
      dotnet "$(basename "$dll")"
  ) </dev/null >"$LOGS/$name.log" 2>&1 &
  HOST_PID=$!
}
wait_healthy() {
  local name=$1 url=$2 pid=$3 t
  for ((t = 0; t < 240; t++)); do
    curl -fsS -o /dev/null --max-time 2 "$url/health" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOGS/$name.log" >&2; ma_die "$name exited before answering /health"; }
    sleep 0.5
  done
  tail -n 30 "$LOGS/$name.log" >&2
  ma_die "$name did not answer $url/health within 120 s"
}

rm -f "$DATA/dev-api-key"
start_host silo "http://127.0.0.1:$SILO_PORT" "$SILO_DLL"
SILO_PID=$HOST_PID
wait_healthy silo "http://127.0.0.1:$SILO_PORT" "$SILO_PID"
# The API host, with the variant's settings ("NAME=VALUE,NAME=VALUE", empty for the defaults).
start_api() {
  local settings=()
  [[ -n ${1:-} ]] && IFS=, read -r -a settings <<<"$1"
  start_host api "http://127.0.0.1:$API_PORT" "$API_DLL" "${settings[@]}"
  API_PID=$HOST_PID
  wait_healthy api "http://127.0.0.1:$API_PORT" "$API_PID"
}
stop_api() {
  kill -TERM "$API_PID" 2>/dev/null
  wait "$API_PID" 2>/dev/null || true
  API_PID=
}
start_api "${API_VARIANTS[0]}"
for ((t = 0; t < 40; t++)); do [[ -s $DATA/dev-api-key ]] && break; sleep 0.25; done
[[ -s $DATA/dev-api-key ]] || ma_die "the API did not write $DATA/dev-api-key"
API_KEY=$(<"$DATA/dev-api-key")
BASE="http://127.0.0.1:$API_PORT"
log "silo pid $SILO_PID, API pid $API_PID ($BASE)"

# CPU time (clock ticks) of a process, of PostgreSQL's processes, and ticks as seconds.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local pm
  pm=$(head -n 1 "$DATA/pg/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, ""); if (pid == pm || $2 == pm) t += $12 + $13 } END { print t + 0 }'
}
ticks_s() { awk -v t="$1" 'BEGIN { printf "%.1f", t / 100 }'; }

# 1. Event latency.
export MA_NODE_MODULES="$ROOT/tools/node_modules"
ulimit -n 65536 2>/dev/null || true
RUN_NO=0
for ((v = 0; v < ${#API_VARIANTS[@]}; v++)); do
  variant=${API_VARIANTS[$v]}
  if ((v > 0)); then
    log "restarting the API with ${variant:-its defaults}"
    stop_api
    start_api "$variant"
  fi
  for spec in $CLIENT_COUNTS; do
    # "N" clients in one Node thread, "NxW" spread over W worker threads.
    n=${spec%x*}
    w=1
    [[ $spec == *x* ]] && w=${spec#*x}
    RUN_NO=$((RUN_NO + 1))
    label="$spec clients, API ${variant:-defaults}"
    load_note "before latency run $RUN_NO: $label"
    api_cpu0=$(cpu_ticks "$API_PID"); silo_cpu0=$(cpu_ticks "$SILO_PID"); pg_cpu0=$(pg_ticks)
    MA_BENCH_EVENTS_FILE="$RESULTS/events-$RUN_NO-$spec.jsonl" node bench/Realtime/latency.mjs "$BASE" "$API_KEY" "$n" 200 "$FAIL_URL" "$w" | tee "$RESULTS/latency-$RUN_NO-$spec.json"
    echo "run $RUN_NO ($label)" >"$RESULTS/latency-$RUN_NO-$spec.variant"
    # CPU of the API, the silo and PostgreSQL over the whole latency run (connecting, the window and its tail).
    echo "cpu seconds during latency run $RUN_NO ($label): api $(ticks_s $(($(cpu_ticks "$API_PID") - api_cpu0))) silo $(ticks_s $(($(cpu_ticks "$SILO_PID") - silo_cpu0))) postgres $(ticks_s $(($(pg_ticks) - pg_cpu0)))" | tee -a "$RESULTS/cpu.txt"
  done
done
if ((${#API_VARIANTS[@]} > 1)); then
  log "back to the API's defaults for wrk"
  stop_api
  start_api ""
fi

# 2. wrk. An existing project for GET (its download fails fast; the row stays).
PROJECT_ID=$(curl -fsS -X POST -H "X-Api-Key: $API_KEY" -H 'Content-Type: application/json' \
  --data-binary "{\"url\":\"$FAIL_URL\"}" "$BASE/api/projects" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[[ -n $PROJECT_ID ]] || ma_die "could not create the project for the GET benchmark"
curl -fsS -o /dev/null -H "X-Api-Key: $API_KEY" "$BASE/api/projects/$PROJECT_ID" || ma_die "GET /api/projects/$PROJECT_ID failed"
sleep 3
export MA_API_KEY=$API_KEY
load_note "before wrk GET"
WRK_BODY= wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s bench/Realtime/auth.lua "$BASE/api/projects/$PROJECT_ID" | tee "$RESULTS/wrk-get.txt"
load_note "before wrk POST"
WRK_BODY="{\"url\":\"$FAIL_URL\"}" wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s bench/Realtime/auth.lua "$BASE/api/projects" | tee "$RESULTS/wrk-post.txt"
load_note "after wrk POST"
"$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qtA -d mediaactors \
  -c "SELECT 'projects=' || count(*) FROM projects" 2>/dev/null | tee -a "$RESULTS/load.txt" || true
log "done; results in $RESULTS"
