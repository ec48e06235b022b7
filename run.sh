#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions are only called from traps
# Runs MediaActors locally: PostgreSQL + Azurite as plain processes, N silos and one API host.
# Usage: ./run.sh [--silos N] [--port API_PORT]      Stop with Ctrl-C; data in .data/ survives.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage() {
  cat <<EOF
Usage: ./run.sh [--silos N] [--port API_PORT]
  --silos N     number of silo processes in one Orleans cluster (default 1); silo i serves the Orleans Dashboard
                on http://127.0.0.1:\$((5090+i))/dashboard, listens for silos on 11110+i and for clients on 30000+i
  --port P      API port (default 5080, or \$MA_API_PORT)
Environment: MA_API_PORT, MA_PG_PORT (default 5433), MA_BLOB_PORT (default 10000)
EOF
}

SILOS=1
API_PORT=${MA_API_PORT:-5080}
PG_PORT=${MA_PG_PORT:-5433}
BLOB_PORT=${MA_BLOB_PORT:-10000}
while (($#)); do
  case $1 in
    --silos) SILOS=${2:-}; shift 2 || ma_die "--silos needs a number" ;;
    --silos=*) SILOS=${1#*=}; shift ;;
    --port) API_PORT=${2:-}; shift 2 || ma_die "--port needs a number" ;;
    --port=*) API_PORT=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; ma_die "unknown option: $1" ;;
  esac
done
[[ $SILOS =~ ^[1-9][0-9]*$ ]] || ma_die "--silos must be a positive number (got '$SILOS')"
[[ $API_PORT =~ ^[0-9]+$ ]] || ma_die "--port must be a number (got '$API_PORT')"

ROOT=$PWD
DATA="$ROOT/.data"
LOGS="$DATA/logs"
# The solution may be .sln or (the .NET 10 default) .slnx.
SLN=MediaActors.sln
[[ -f $SLN || ! -f MediaActors.slnx ]] || SLN=MediaActors.slnx
SILO_DLL=src/Silo/bin/Release/net10.0/MediaActors.Silo.dll
API_DLL=src/Api/bin/Release/net10.0/MediaActors.Api.dll
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

PIDS=()   # .NET process ids, in start order
NAMES=()  # their names, same index
CLEANED=0

# Stop the .NET hosts first (they may still write to the stores), then Azurite, then PostgreSQL.
cleanup() {
  ((CLEANED)) && return 0
  CLEANED=1
  set +e
  trap '' INT TERM
  if ((${#PIDS[@]})); then
    ma_log "stopping ${NAMES[*]}"
    kill -TERM "${PIDS[@]}" 2>/dev/null
    local i p alive
    for ((i = 0; i < 80; i++)); do
      alive=0
      for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      ((alive)) || break
      sleep 0.25
    done
    for p in "${PIDS[@]}"; do
      if kill -0 "$p" 2>/dev/null; then
        ma_log "pid $p did not stop within 20 s: killing it"
        kill -KILL "$p" 2>/dev/null
      fi
    done
    wait "${PIDS[@]}" 2>/dev/null
  fi
  ma_stop_azurite "$DATA/azurite"
  ma_stop_postgres "$DATA/pg"
}
on_exit() {
  local rc=$?
  cleanup
  exit "$rc"
}
trap on_exit EXIT
# Ctrl-C / SIGTERM is the normal way to stop: clean up and exit 0.
trap 'echo; ma_log "shutting down"; cleanup; exit 0' INT TERM

# Refuse ports that are taken, otherwise the health check could talk to some other program.
for p in "$API_PORT" $(seq 5091 $((5090 + SILOS))) $(seq 11111 $((11110 + SILOS))) $(seq 30001 $((30000 + SILOS))); do
  ! ma_port_open 127.0.0.1 "$p" || ma_die "port $p is already in use (is another ./run.sh running?)"
done

ma_install_prereqs
ma_install_node_tools
mkdir -p "$LOGS"

ma_start_postgres "$DATA/pg" "$PG_PORT"
ma_start_azurite "$DATA/azurite" "$BLOB_PORT"

PSQL=("$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
if [[ $("${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'mediaactors'") != 1 ]]; then
  ma_log "creating database mediaactors"
  "${PSQL[@]}" -d postgres -c 'CREATE DATABASE mediaactors' || ma_die "could not create database mediaactors"
fi

ma_log "building $SLN (Release)"
dotnet build "$SLN" -c Release -nologo -v q || ma_die "build failed (see the errors above)"
[[ -f $SILO_DLL ]] || ma_die "$SILO_DLL not found after the build"
[[ -f $API_DLL ]] || ma_die "$API_DLL not found after the build"

PG_CONN="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=mediaactors"
BLOB_CONN=$(ma_blob_connection_string "$BLOB_PORT")

# Start one .NET host in the background from its bin folder (its content root, where appsettings*.json are).
# Output goes raw to .data/logs/NAME.log and, prefixed, to the terminal. The subshell execs dotnet, so $! is
# the dotnet pid; tee/sed ignore Ctrl-C so the hosts' shutdown logs still show.
start_host() {
  local name=$1 url=$2 dll=$3
  shift 3
  local log="$LOGS/$name.log"
  [[ ! -f $log ]] || mv -f "$log" "$log.prev"
  (
    cd "$(dirname "$dll")"
    exec env "$@" \
      ConnectionStrings__Postgres="$PG_CONN" \
      ConnectionStrings__Blobs="$BLOB_CONN" \
      ASPNETCORE_URLS="$url" \
      DataDirectory="$DATA" \
      dotnet "$(basename "$dll")"
  ) </dev/null > >(trap '' INT; tee -a "$log" | sed -u "s/^/[$name] /") 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}

start_silo() {
  local i=$1
  start_host "silo-$i" "http://127.0.0.1:$((5090 + i))" "$SILO_DLL" Orleans__SiloPort=$((11110 + i)) Orleans__GatewayPort=$((30000 + i))
}
for ((i = 1; i <= SILOS; i++)); do
  start_silo "$i"
done
start_host api "http://127.0.0.1:$API_PORT" "$API_DLL"
API_PID=${PIDS[-1]}

ma_log "waiting for http://127.0.0.1:$API_PORT/health"
healthy=0
for ((t = 0; t < 120; t++)); do
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$API_PORT/health" 2>/dev/null; then
    healthy=1
    break
  fi
  kill -0 "$API_PID" 2>/dev/null || break
  sleep 1
done
if ((!healthy)); then
  echo "----- last lines of $LOGS/api.log -----" >&2
  tail -n 40 "$LOGS/api.log" >&2 || true
  if kill -0 "$API_PID" 2>/dev/null; then
    ma_die "the API did not answer /health within 120 s"
  else
    ma_die "the API process exited before answering /health"
  fi
fi

cat <<EOF

==================================================================
  MediaActors is running
  Web app:    http://127.0.0.1:$API_PORT/   (sign in with the development key it offers)
  API:        http://127.0.0.1:$API_PORT   (health: /health)
$(for ((i = 1; i <= SILOS; i++)); do printf '  silo-%-5s Orleans Dashboard http://127.0.0.1:%s/dashboard\n' "$i:" $((5090 + i)); done)
  PostgreSQL: 127.0.0.1:$PG_PORT  database mediaactors  (user postgres)
  Blobs:      http://127.0.0.1:$BLOB_PORT/devstoreaccount1  (Azurite)
  Logs:       $LOGS/
  Data:       $DATA/
  Press Ctrl-C to stop everything.
==================================================================

EOF

# Stay in the foreground. A silo that exits is reported and started again (the others keep serving meanwhile);
# if the API exits, everything stops.
set +e
declare -A RESTARTS=()
while true; do
  wait -n "${PIDS[@]}"
  rc=$?
  for idx in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$idx]}" 2>/dev/null && continue
    name=${NAMES[$idx]}
    if [[ $name == api ]]; then
      ma_log "the API exited on its own (exit code $rc); stopping everything (log: $LOGS/api.log)"
      exit 1
    fi
    n=${RESTARTS[$name]:-0}
    RESTARTS[$name]=$((n + 1))
    # Back off when a silo keeps dying (at most 30 s), so a broken configuration does not spin.
    delay=$((n < 5 ? 1 << n : 30))
    ma_log "$name exited (exit code $rc); the cluster keeps serving on the other silos; restarting it in ${delay} s (restart $((n + 1)), log: $LOGS/$name.log)"
    unset 'PIDS[idx]' 'NAMES[idx]'
    PIDS=("${PIDS[@]}")
    NAMES=("${NAMES[@]}")
    sleep "$delay"
    start_silo "${name#silo-}"
    break
  done
done
