#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions are only called from traps
# Pipeline benchmark (issue 3, "Benchmark"; results in docs/BENCHMARKS.md). In ONE invocation:
#   1. a generated 10-minute video with real read speech (Debian's pocketsphinx-testdata clips, looped):
#      (a) the raw tools on the file: ffmpeg -> 16 kHz mono s16le WAV, then the production LocalTranscriber
#          (bench/Pipeline/Program.cs, default options); (b) the same file through the system as a client uses
#          it (POST /api/uploads, PUT to the SAS URL, complete, POST /api/projects, poll until completed) on a
#          private PostgreSQL + Azurite, one silo and the API (Release build); (c) the raw transcriber once more.
#      Ratio = pipeline / (ffmpeg + mean of the two raw transcriber runs, which bracket the pipeline run).
#      Then (--rounds R) R-1 more rounds of (d) the pipeline again and (e) the raw transcriber again, each pipeline run
#      bracketed by two raw runs: the ratio of each round and their median (this machine's transcription speed drifts
#      by 10% from one run to the next, so one round is not enough to tell 1.05 from 1.10). A round whose two raw runs
#      differ by at most 5% is "steady" (the machine held its speed across it); their ratios are reported apart.
#   1f. (--live-pairs P) the live transcript's cost: P pairs of pipeline runs on the same video, one without a client
#      and one with a SignalR client connected (bench/Pipeline/live-client.mjs, receiving every transcript_partial),
#      alternating; the transcribing step's time with / without, and when the first part reached the client.
#   2. a ~1 GB 1080p video through the same pipeline, sampling the silo's and the API's RSS (VmRSS every
#      0.5 s, VmHWM reset before the run with /proc/PID/clear_refs and read at the end).
# Before each measurement it waits (up to --wait-quiet) until other processes leave the CPU alone, and it records
# per phase the CPU used by each of its components and by everything else. Takes ~20 minutes on 2 cores (3 rounds).
# Everything lives under .data/bench-pipeline/ (gitignored); the generated media, the blob store and the database
# are deleted on exit, results stay in .data/bench-pipeline/results/<timestamp>/.
#
# Usage: bench/Pipeline/run.sh [--minutes M] [--rounds R] [--live-pairs P] [--big-mb N] [--wait-quiet S] [--keep-media]
#   --minutes M      length of the speech video (default 10)
#   --rounds R       pipeline runs on the speech video, each between two raw transcriber runs (default 3)
#   --live-pairs P   pairs of runs without / with a live-transcript client (default 2; 0 skips part 1f)
#   --big-mb N       size of the big video in MiB (default 1024; 0 skips part 2)
#   --wait-quiet S   before each measurement, wait up to S seconds for other processes to stop using the CPU (default 600)
#   --keep-media     keep the generated videos in .data/bench-pipeline/media (they are big; never commit them)
# Environment: MA_BENCH_PG_PORT (55434), MA_BENCH_BLOB_PORT (10020), MA_BENCH_API_PORT (5180), MA_BENCH_SILO_PORT (5190)
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib.sh
source scripts/lib.sh

ROOT=$PWD
DATA="$ROOT/.data/bench-pipeline"
MEDIA="$DATA/media"
PG_PORT=${MA_BENCH_PG_PORT:-55434}
BLOB_PORT=${MA_BENCH_BLOB_PORT:-10020}
API_PORT=${MA_BENCH_API_PORT:-5180}
SILO_PORT=${MA_BENCH_SILO_PORT:-5190}
SLN=MediaActors.sln
SILO_DLL=src/Silo/bin/Release/net10.0/MediaActors.Silo.dll
API_DLL=src/Api/bin/Release/net10.0/MediaActors.Api.dll
BENCH_PROJ=bench/Pipeline/Pipeline.Bench.csproj
BENCH_DLL=bench/Pipeline/bin/Release/net10.0/MediaActors.Pipeline.Bench.dll
SPEECH_DATA=/usr/share/pocketsphinx/test/data
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

MINUTES=10
ROUNDS=3
LIVE_PAIRS=2
BIG_MB=1024
WAIT_QUIET=600
KEEP_MEDIA=0
while (($#)); do
  case $1 in
    --minutes) MINUTES=${2:?--minutes needs a value}; shift 2 ;;
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
    --live-pairs) LIVE_PAIRS=${2:?--live-pairs needs a value}; shift 2 ;;
    --big-mb) BIG_MB=${2:?--big-mb needs a value}; shift 2 ;;
    --wait-quiet) WAIT_QUIET=${2:?--wait-quiet needs a value}; shift 2 ;;
    --keep-media) KEEP_MEDIA=1; shift ;;
    -h | --help) sed -n '3,30p' "$0"; exit 0 ;;
    *) ma_die "unknown option $1 (see bench/Pipeline/run.sh --help)" ;;
  esac
done
[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -ge 1 ]] || ma_die "--minutes must be a whole number >= 1"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || ma_die "--rounds must be a whole number >= 1"
[[ $BIG_MB =~ ^[0-9]+$ ]] || ma_die "--big-mb must be a whole number"
[[ $WAIT_QUIET =~ ^[0-9]+$ ]] || ma_die "--wait-quiet must be a number of seconds"

RESULTS="$DATA/results/$(date -u +%Y%m%dT%H%M%SZ)"
LOGS="$RESULTS/logs"
PHASES="$RESULTS/phases.jsonl"
CLK_TCK=$(getconf CLK_TCK)
BLOCK_BYTES=$((8 * 1024 * 1024))   # Put Block size of our client, as the Azure SDK's default for large files
SINGLE_PUT_MAX=$((32 * 1024 * 1024)) # smaller files go up in one "x-ms-blob-type: BlockBlob" PUT

log() { printf '[bench-pipeline %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------------------------------------------------------
# Cleanup: hosts first (they still talk to the stores), then the sampler, Azurite, PostgreSQL, then big files.
SILO_PID=
API_PID=
SAMPLER_PID=
CLEANED=0
OWN_DATA=0  # set once the ports were free: before that, .data/bench-pipeline may belong to another run
cleanup() {
  ((CLEANED || !OWN_DATA)) && return 0
  CLEANED=1
  set +e
  trap '' INT TERM
  [[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null && wait "$SAMPLER_PID" 2>/dev/null
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
  [[ -f $DATA/azurite/azurite.log && -d $LOGS ]] && mv -f "$DATA/azurite/azurite.log" "$LOGS/azurite.log"
  # The blob store holds copies of every video and WAV, the silo's temp folder may hold a 1 GB source: all go.
  rm -rf "$DATA/azurite" "$DATA/pg" "$DATA/silo-tmp" "$DATA/raw" "$DATA/dev-api-key" "${DATA:?}/bin"
  ((KEEP_MEDIA)) || rm -rf "$MEDIA"
  log "cleaned up; results in $RESULTS"
}
on_exit() {
  local rc=$?
  cleanup
  exit "$rc"
}
trap on_exit EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
# CPU accounting: who else uses the machine while we measure.

# Ticks (user+system, including reaped children) of the process trees rooted at the given pids.
tree_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" '
    {
      pid = $1; line = $0
      sub(/^[0-9]+ \(.*\) /, "", line)   # the command name may hold spaces and parentheses
      split(line, f, " ")
      ppid[pid] = f[2]; t[pid] = f[12] + f[13] + f[14] + f[15]
    }
    END {
      n = split(roots, r, " "); for (i = 1; i <= n; i++) mark[r[i]] = 1
      changed = 1
      while (changed) { changed = 0; for (p in ppid) if (!(p in mark) && (ppid[p] in mark)) { mark[p] = 1; changed = 1 } }
      s = 0; for (p in mark) if (p in t) s += t[p]; print s
    }'
}

# Our process trees: this script (silo, API, Azurite, ffmpeg, the raw transcriber are its descendants) and our postmaster.
our_roots() {
  local roots=$$
  [[ -f $DATA/pg/postmaster.pid ]] && roots+=" $(head -n 1 "$DATA/pg/postmaster.pid")"
  echo "$roots"
}

# "busy_ticks_all_cpus our_ticks silo_ticks api_ticks azurite_ticks postgres_ticks steal_ticks" (each a process tree;
# busy = user + nice + system + irq + softirq; steal, the hypervisor's share, is kept apart)
cpu_snapshot() {
  local total pg=0 az=0
  total=$(awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat)
  [[ -f $DATA/pg/postmaster.pid ]] && pg=$(head -n 1 "$DATA/pg/postmaster.pid")
  [[ -f $DATA/azurite/azurite.pid ]] && az=$(<"$DATA/azurite/azurite.pid")
  echo "$total $(tree_ticks "$(our_roots)") $(tree_ticks "${SILO_PID:-0}") $(tree_ticks "${API_PID:-0}") $(tree_ticks "$az") $(tree_ticks "$pg") $(awk '/^cpu /{print $9}' /proc/stat)"
}

# CPU seconds of each of our components between two snapshots, as a JSON object.
component_cpu() {
  local a b
  read -ra a <<<"$1"
  read -ra b <<<"$2"
  jq -nc --argjson hz "$CLK_TCK" --argjson s $((b[2] - a[2])) --argjson api $((b[3] - a[3])) --argjson az $((b[4] - a[4])) \
    --argjson pg $((b[5] - a[5])) --argjson ours $((b[1] - a[1])) --argjson steal $((b[6] - a[6])) \
    '{silo: ($s / $hz), api: ($api / $hz), azurite: ($az / $hz), postgres: ($pg / $hz), allOurs: ($ours / $hz), stolen: ($steal / $hz)}'
}

# Cores used by other processes between two snapshots over WALL seconds.
foreign_cores() {
  local a b wall=$3
  read -ra a <<<"$1"
  read -ra b <<<"$2"
  awk -v t="$((b[0] - a[0]))" -v o="$((b[1] - a[1]))" -v w="$wall" -v hz="$CLK_TCK" \
    'BEGIN { f = (t - o) / hz / (w > 0 ? w : 1); if (f < 0) f = 0; printf "%.2f", f }'
}

load1() { cut -d' ' -f1 /proc/loadavg; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# The busiest processes right now that are not ours (for the log and the report).
foreign_top() {
  local ours
  ours=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$(our_roots)" '
    { pid = $1; line = $0; sub(/^[0-9]+ \(.*\) /, "", line); split(line, f, " "); ppid[pid] = f[2] }
    END { n = split(roots, r, " "); for (i = 1; i <= n; i++) mark[r[i]] = 1
          changed = 1; while (changed) { changed = 0; for (p in ppid) if (!(p in mark) && (ppid[p] in mark)) { mark[p] = 1; changed = 1 } }
          for (p in mark) printf "%s ", p }')
  top -b -n 2 -d 2 -w 200 2>/dev/null | awk -v ours=" $ours" '
    /^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 && index(ours, " " $1 " ") == 0 { printf "%s %s%% %s\n", $1, $9, $12 }' | head -n 5
}

# Waits (up to WAIT_QUIET s) until other processes use less than 0.3 of a core over 10 s; notes the outcome in quiet.jsonl.
wait_quiet() {
  local what=$1 a b f t0 waited=0 quiet=false
  while :; do
    a=$(cpu_snapshot); t0=$(now); sleep 10; b=$(cpu_snapshot)
    f=$(foreign_cores "$a" "$b" "$(elapsed "$t0" "$(now)")")
    if awk -v f="$f" 'BEGIN { exit !(f < 0.3) }'; then
      log "machine quiet before $what: other processes use $f cores, load $(load1)"
      quiet=true
      break
    fi
    if ((waited >= WAIT_QUIET)); then
      log "machine still busy before $what after waiting ${waited} s (other processes use $f cores, load $(load1)); measuring anyway"
      { foreign_top | sed 's/^/    busy: /' >&2; } || true
      break
    fi
    log "machine busy before $what: other processes use $f cores (load $(load1)); waiting"
    { foreign_top | sed 's/^/    busy: /' >&2; } || true
    waited=$((waited + 20))
    sleep 6
  done
  jq -nc --arg what "$what" --argjson waited "$waited" --argjson quiet "$quiet" --argjson f "$f" --argjson load "$(load1)" \
    '{before: $what, waitedSeconds: $waited, quiet: $quiet, otherProcessesCores: $f, load1: $load}' >>"$RESULTS/quiet.jsonl"
}

# phase_begin NAME / phase_end NAME: wall time, load and other processes' CPU during the phase, into phases.jsonl.
declare -A PHASE_T0 PHASE_CPU PHASE_LOAD
phase_begin() {
  PHASE_T0[$1]=$(now)
  PHASE_CPU[$1]=$(cpu_snapshot)
  PHASE_LOAD[$1]=$(load1)
}
phase_end() {
  local t1 wall foreign snap
  t1=$(now)
  snap=$(cpu_snapshot)
  wall=$(elapsed "${PHASE_T0[$1]}" "$t1")
  foreign=$(foreign_cores "${PHASE_CPU[$1]}" "$snap" "$wall")
  jq -nc --arg name "$1" --argjson wall "$wall" --argjson foreign "$foreign" \
    --argjson load0 "${PHASE_LOAD[$1]}" --argjson load1 "$(load1)" --argjson cpu "$(component_cpu "${PHASE_CPU[$1]}" "$snap")" \
    '{name: $name, wallSeconds: $wall, otherProcessesCores: $foreign, load1Start: $load0, load1End: $load1, cpuSeconds: $cpu}' >>"$PHASES"
  echo "$wall"
}

# ---------------------------------------------------------------------------------------------------------------
# Memory sampling.

hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs"; }

# Appends "epoch_seconds,silo_kb,silo_tree_kb,api_kb,azurite_kb" every 0.5 s to FILE until killed (two forks per
# sample; the silo's tree is the silo plus its direct children, which is where ffmpeg and ffprobe run).
start_sampler() {
  local file=$1 azurite_pid
  azurite_pid=$(cat "$DATA/azurite/azurite.pid" 2>/dev/null || echo 0)
  echo "time,silo_rss_kb,silo_tree_rss_kb,api_rss_kb,azurite_rss_kb" >"$file"
  (
    trap 'exit 0' TERM
    local kids f
    while :; do
      kids=$(cat /proc/"$SILO_PID"/task/*/children 2>/dev/null) || kids=
      f=()
      for c in $kids; do f+=("/proc/$c/status"); done
      awk -v t="$EPOCHREALTIME" -v silo="/proc/$SILO_PID/status" -v api="/proc/$API_PID/status" -v az="/proc/$azurite_pid/status" '
        /^VmRSS:/ { r[FILENAME] = $2; if (FILENAME != api && FILENAME != az) tree += $2 }
        END { printf "%s,%d,%d,%d,%d\n", t, r[silo], tree, r[api], r[az] }' \
        "/proc/$SILO_PID/status" "/proc/$API_PID/status" "/proc/$azurite_pid/status" "${f[@]}" 2>/dev/null >>"$file" || true
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
}
stop_sampler() {
  [[ -n $SAMPLER_PID ]] || return 0
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
}

# ---------------------------------------------------------------------------------------------------------------
# The system under test.

build() {
  local attempt
  for attempt in 1 2 3 4 5; do
    log "building $SLN (Release), attempt $attempt"
    if dotnet build "$SLN" -c Release -nologo -v q >"$LOGS/build-sln.log" 2>&1 \
      && dotnet build "$BENCH_PROJ" -c Release -nologo -v q >"$LOGS/build-bench.log" 2>&1; then
      [[ -f $SILO_DLL && -f $API_DLL && -f $BENCH_DLL ]] || ma_die "build succeeded but $SILO_DLL, $API_DLL or $BENCH_DLL is missing"
      # Run private copies of this build: other engineers rebuild src/*/bin/Release while we measure, and a
      # rebuild that overwrites the DLLs of a running host can crash it or mix versions.
      rm -rf "${DATA:?}/bin"
      mkdir -p "${DATA:?}/bin"
      cp -a "$(dirname "$SILO_DLL")" "$DATA/bin/silo"
      cp -a "$(dirname "$API_DLL")" "$DATA/bin/api"
      cp -a "$(dirname "$BENCH_DLL")" "$DATA/bin/raw"
      RUN_SILO_DLL="$DATA/bin/silo/$(basename "$SILO_DLL")"
      RUN_API_DLL="$DATA/bin/api/$(basename "$API_DLL")"
      RUN_BENCH_DLL="$DATA/bin/raw/$(basename "$BENCH_DLL")"
      return 0
    fi
    # Other engineers edit src/ at the same time: a broken tree is usually fixed a minute later.
    grep -h -m 5 -E 'error|Error' "$LOGS/build-sln.log" "$LOGS/build-bench.log" 2>/dev/null | sed 's/^/    /' >&2 || true
    log "build failed; retrying in 60 s"
    sleep 60
  done
  ma_die "the build failed 5 times (see $LOGS/build-*.log)"
}

start_stores() {
  ma_start_postgres "$DATA/pg" "$PG_PORT"
  ma_start_azurite "$DATA/azurite" "$BLOB_PORT"
  "$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA -d postgres \
    -c 'CREATE DATABASE mediaactors' >/dev/null || ma_die "could not create database mediaactors"
}

# start_host NAME URL DLL [VAR=value...]: like run.sh's, with the log in the results folder; sets HOST_PID to the
# dotnet pid (the subshell execs dotnet, and it stays a child of this script, which the CPU accounting relies on).
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

start_hosts() {
  mkdir -p "$DATA/silo-tmp"
  rm -f "$DATA/dev-api-key"
  start_host silo "http://127.0.0.1:$SILO_PORT" "$RUN_SILO_DLL" Media__TempDirectory="$DATA/silo-tmp"
  SILO_PID=$HOST_PID
  wait_healthy silo "http://127.0.0.1:$SILO_PORT" "$SILO_PID"
  start_host api "http://127.0.0.1:$API_PORT" "$RUN_API_DLL"
  API_PID=$HOST_PID
  wait_healthy api "http://127.0.0.1:$API_PORT" "$API_PID"
  local t
  for ((t = 0; t < 40; t++)); do
    [[ -s $DATA/dev-api-key ]] && break
    sleep 0.25
  done
  [[ -s $DATA/dev-api-key ]] || ma_die "the API did not write $DATA/dev-api-key"
  API_KEY=$(<"$DATA/dev-api-key")
  log "silo pid $SILO_PID (http://127.0.0.1:$SILO_PORT), API pid $API_PID (http://127.0.0.1:$API_PORT)"
}

# api METHOD PATH [JSON]: prints the body; dies with the body on a non-2xx answer.
api() {
  local method=$1 path=$2 body=${3:-} out code
  out=$(mktemp)
  local args=(-sS -o "$out" -w '%{http_code}' -X "$method" -H "X-Api-Key: $API_KEY" --max-time 600)
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  code=$(curl "${args[@]}" "http://127.0.0.1:$API_PORT$path") || { rm -f "$out"; ma_die "$method $path: curl failed"; }
  if [[ $code != 2* ]]; then
    cat "$out" >&2
    rm -f "$out"
    ma_die "$method $path answered $code"
  fi
  cat "$out"
  rm -f "$out"
}

# upload FILE CONTENT_TYPE: the client side of flow 2; sets UPLOAD_ID and the UP_* timings.
upload() {
  local file=$1 type=$2 size name up url t0 t1 t2 blocks i bid xml
  size=$(stat -c %s "$file")
  name=$(basename "$file")
  t0=$(now)
  up=$(api POST /api/uploads "$(jq -nc --arg n "$name" --arg t "$type" --argjson s "$size" '{fileName: $n, contentType: $t, sizeBytes: $s}')")
  UPLOAD_ID=$(jq -r .uploadId <<<"$up")
  url=$(jq -r .uploadUrl <<<"$up")
  if ((size <= SINGLE_PUT_MAX)); then
    UP_METHOD="single PUT"
    curl -sS -f -o /dev/null -X PUT -H 'x-ms-blob-type: BlockBlob' -H "x-ms-blob-content-type: $type" \
      --data-binary @"$file" "$url" || ma_die "PUT of $name to the SAS URL failed"
  else
    blocks=$(((size + BLOCK_BYTES - 1) / BLOCK_BYTES))
    UP_METHOD="$blocks x Put Block (8 MiB) + Put Block List"
    xml='<?xml version="1.0" encoding="utf-8"?><BlockList>'
    for ((i = 0; i < blocks; i++)); do
      bid=$(printf 'block-%06d' "$i" | base64)
      dd if="$file" bs="$BLOCK_BYTES" skip="$i" count=1 iflag=fullblock status=none \
        | curl -sS -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @- \
          "$url&comp=block&blockid=$(jq -rn --arg b "$bid" '$b | @uri')" || ma_die "Put Block $i of $name failed"
      xml+="<Latest>$bid</Latest>"
    done
    xml+='</BlockList>'
    curl -sS -f -o /dev/null -X PUT -H "x-ms-blob-content-type: $type" --data-binary "$xml" "$url&comp=blocklist" \
      || ma_die "Put Block List of $name failed"
  fi
  t1=$(now)
  COMPLETE_JSON=$(api POST "/api/uploads/$UPLOAD_ID/complete")
  t2=$(now)
  UP_PUT_S=$(elapsed "$t0" "$t1")
  UP_COMPLETE_S=$(elapsed "$t1" "$t2")
  UP_BYTES=$size
}

# run_project UPLOAD_ID TITLE OUT_JSON: creates the project, waits for its end; sets PROJECT_ID, PIPE_S.
# It follows the project's event stream (SSE), as a client would: the end is seen when it is published, where a poll
# once a second saw it up to a second late (polling faster cost the 2-core machine measurable CPU), and an idle
# stream costs nothing. One GET at the end reads the project. The server-side duration is reported as well.
run_project() {
  local upload_id=$1 title=$2 out=$3 t0 created p line kind status= fd pid
  t0=$(now)
  PROJECT_T0=$t0
  created=$(api POST /api/projects "$(jq -nc --arg u "$upload_id" --arg t "$title" '{uploadId: $u, title: $t}')")
  PROJECT_ID=$(jq -r .id <<<"$created")
  exec {fd}< <(exec curl -sS -N --max-time 7200 -H "X-Api-Key: $API_KEY" \
    "http://127.0.0.1:$API_PORT/api/projects/$PROJECT_ID/events/stream?after=0")
  pid=$!
  while IFS= read -r -u "$fd" line; do
    [[ $line == "event: "* ]] || continue
    kind=${line#event: }
    case $kind in
      completed | failed | cancelled) status=$kind; break ;;
      status_changed | step_completed | retry_scheduled) log "  project $PROJECT_ID: $kind" ;;
    esac
  done
  PIPE_S=$(elapsed "$t0" "$(now)")
  kill "$pid" 2>/dev/null || true
  exec {fd}<&-
  [[ -n $status ]] || ma_die "the event stream of project $PROJECT_ID ended before the project did"
  p=$(curl -sS -f --max-time 30 -H "X-Api-Key: $API_KEY" "http://127.0.0.1:$API_PORT/api/projects/$PROJECT_ID") \
    || ma_die "GET /api/projects/$PROJECT_ID failed"
  echo "$p" >"$out"
  [[ $status == completed ]] || { jq . "$out" >&2; ma_die "project $PROJECT_ID ended $status: $(jq -r .error "$out")"; }
}

# Per-step durations (s) from a project's steps[] as a JSON object {step: seconds}, plus the server-side total.
# shellcheck disable=SC2016  # jq's $c, not the shell's
JQ_TS='def ts: capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.(?<f>[0-9]+))?(?<z>.*)$") as $c
  | ($c.d + "Z" | fromdateiso8601) + ("0." + ($c.f // "0") | tonumber)
  - (if ($c.z | test("^[+-][0-9]{2}:[0-9]{2}$"))
     then (if ($c.z | startswith("-")) then -1 else 1 end) * (($c.z[1:3] | tonumber) * 3600 + ($c.z[4:6] | tonumber) * 60)
     else 0 end);'
step_times() {
  jq -c "$JQ_TS"' {
      steps: [.steps[] | {name, attempts, seconds: (if .startedAt and .finishedAt then ((.finishedAt | ts) - (.startedAt | ts) | . * 1000 | round / 1000) else null end)}],
      serverSeconds: ((.updatedAt | ts) - (.createdAt | ts) | . * 1000 | round / 1000)
    }' "$1"
}

# The events a project published, by kind, as a JSON object (the API relays each one to its SignalR/SSE clients).
project_events() {
  "$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d mediaactors -qtA -c \
    "SELECT coalesce(json_object_agg(kind, n), '{}') FROM (SELECT kind, count(*) AS n FROM project_events WHERE project_id = '$1' GROUP BY kind) t" \
    2>/dev/null || echo '{}'
}

# ---------------------------------------------------------------------------------------------------------------
# Media.

make_speech() {
  local seconds=$1 out=$2 dir="$MEDIA/clips" i=0 f list=()
  mkdir -p "$dir"
  # Real read speech: the LibriVox clips (Sense and Sensibility), the "cards" phrases and the other 16 kHz
  # utterances of pocketsphinx-testdata, each followed by 0.7 s of silence, looped to the wanted length.
  for f in "$SPEECH_DATA"/librivox/*.wav "$SPEECH_DATA"/cards/*.wav; do
    i=$((i + 1)); sox "$f" -r 16000 -c 1 -b 16 "$dir/c$i.wav" pad 0 0.7; list+=("$dir/c$i.wav")
  done
  for f in "$SPEECH_DATA"/goforward.raw "$SPEECH_DATA"/numbers.raw "$SPEECH_DATA"/something.raw "$SPEECH_DATA"/tidigits/dhd.2934z.raw; do
    i=$((i + 1)); sox -t raw -r 16000 -e signed -b 16 -c 1 "$f" "$dir/c$i.wav" pad 0 0.7; list+=("$dir/c$i.wav")
  done
  sox "${list[@]}" "$dir/pool.wav"
  local pool repeats
  pool=$(soxi -D "$dir/pool.wav")
  repeats=$(awk -v s="$seconds" -v p="$pool" 'BEGIN { print int(s / p) + 1 }')
  sox "$dir/pool.wav" "$out" repeat "$repeats" trim 0 "$seconds"
}

make_talk_video() {
  local seconds=$1 speech=$2 out=$3
  # A cheap picture and the speech as 48 kHz stereo AAC, as a phone or screen recorder would write it.
  ffmpeg -hide_banner -nostdin -y -v error -f lavfi -i "testsrc=size=640x360:rate=25:duration=$seconds" -i "$speech" \
    -map 0:v -map 1:a -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 128k -ar 48000 -ac 2 \
    -shortest -movflags +faststart "$out"
}

make_big_video() {
  local mib=$1 speech=$2 out=$3 seconds
  # 1080p25 testsrc2 with moving noise at 45 Mbit/s constant bit rate (x264 pads with filler where the picture is
  # simpler), plus the speech track: a few minutes of a high-bit-rate camera file of about the requested size.
  seconds=$(awk -v m="$mib" 'BEGIN { s = m * 1048576 / (45e6 / 8 + 16000 + 2000); printf "%d", s + 0.5 }')
  ffmpeg -hide_banner -nostdin -y -v error -f lavfi -i "testsrc2=size=1920x1080:rate=25:duration=$seconds" \
    -stream_loop -1 -i "$speech" -map 0:v -map 1:a -vf 'noise=alls=12:allf=t' \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -b:v 45M -minrate 45M -maxrate 45M -bufsize 45M -x264-params nal-hrd=cbr \
    -c:a aac -b:a 128k -ar 48000 -ac 2 -t "$seconds" -movflags +faststart "$out"
}

# ===============================================================================================================
mkdir -p "$DATA"
exec 9>"$DATA/.lock"
flock -n 9 || ma_die "another bench/Pipeline/run.sh is running (it holds $DATA/.lock)"
for p in "$PG_PORT" "$BLOB_PORT" "$API_PORT" "$SILO_PORT"; do
  ! ma_port_open 127.0.0.1 "$p" || ma_die "port $p is in use (another bench-pipeline run?); set MA_BENCH_*_PORT"
done
OWN_DATA=1
# A previous run killed without its trap may have left its stores running: stop them, then start from nothing.
ma_stop_azurite "$DATA/azurite"
ma_stop_postgres "$DATA/pg"
rm -rf "$DATA/azurite" "$DATA/pg" "$DATA/silo-tmp" "$DATA/raw" "$MEDIA"
mkdir -p "$LOGS" "$MEDIA" "$DATA/raw"
ln -sfn "$RESULTS" "$DATA/results/latest"

ma_install_prereqs
ma_install_node_tools
command -v jq >/dev/null || ma_die "jq is missing (apt-get install jq)"
build

log "generating a ${MINUTES}-minute speech video"
SPEECH="$MEDIA/speech.wav"
TALK="$MEDIA/talk-${MINUTES}min.mp4"
make_speech $((MINUTES * 60)) "$SPEECH"
make_talk_video $((MINUTES * 60)) "$SPEECH" "$TALK"
BIG="$MEDIA/big-${BIG_MB}mib.mp4"
if ((BIG_MB > 0)); then
  log "generating a ~${BIG_MB} MiB 1080p video (takes a minute or two)"
  make_big_video "$BIG_MB" "$SPEECH" "$BIG"
fi

start_stores
start_hosts
# Idle memory: the silo (Orleans, its grains' code, no project yet) and the API, 15 s after both answered /health.
sleep 15
IDLE_SILO_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SILO_PID/status")
IDLE_API_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$API_PID/status")
log "idle RSS: silo $((IDLE_SILO_KB / 1024)) MiB, API $((IDLE_API_KB / 1024)) MiB"

# --------------------------------------------------------------------------- 1a: the raw tools, directly on the file
wait_quiet "the raw tools"
log "raw: ffmpeg -> 16 kHz mono s16le WAV"
RAW_WAV="$DATA/raw/audio.wav"
phase_begin raw-ffmpeg
# The arguments of MediaTools.ExtractWavAsync (without its -progress pipe).
ffmpeg -hide_banner -nostdin -y -v error -i "$TALK" -vn -ac 1 -ar 16000 -c:a pcm_s16le -f wav "$RAW_WAV"
RAW_FFMPEG_S=$(phase_end raw-ffmpeg)
log "raw: LocalTranscriber (default options) on the WAV"
phase_begin raw-transcriber
dotnet "$RUN_BENCH_DLL" "$RAW_WAV" "$RESULTS/raw-transcriber.json" "$RESULTS/raw-transcript.txt" 2>"$LOGS/raw-transcriber.log" \
  || { tail -n 20 "$LOGS/raw-transcriber.log" >&2; ma_die "the raw transcriber failed"; }
RAW_TRANSCRIBER_S=$(phase_end raw-transcriber)
# The other tools the media step also runs (not in the ratio's denominator; they show what the extra work costs).
phase_begin raw-extras
ffprobe -v error -print_format json -show_format -show_streams "$TALK" >/dev/null
ffmpeg -hide_banner -nostdin -y -v error -i "$TALK" -vn -ac 1 -ar 16000 -c:a libmp3lame -b:a 48k -f mp3 "$DATA/raw/audio.mp3"
ffmpeg -hide_banner -nostdin -y -v error -ss "$(awk -v m="$MINUTES" 'BEGIN { print m * 6 }')" -i "$TALK" -frames:v 1 -vf scale=320:-2 -q:v 4 -f image2 "$DATA/raw/thumb.jpg"
RAW_EXTRAS_S=$(phase_end raw-extras)
log "raw: ffmpeg ${RAW_FFMPEG_S} s, transcriber ${RAW_TRANSCRIBER_S} s (process), extras ${RAW_EXTRAS_S} s"

# --------------------------------------------------------------------------- 1b: the same file through the system
wait_quiet "the pipeline run"
log "pipeline: uploading $(basename "$TALK") ($(stat -c %s "$TALK") bytes) through the API and the SAS URL"
reset_hwm "$SILO_PID"
reset_hwm "$API_PID"
# No RSS sampler here: this run is timed; the peaks come from VmHWM alone.
phase_begin pipeline-upload
upload "$TALK" video/mp4
phase_end pipeline-upload >/dev/null
echo "$COMPLETE_JSON" >"$RESULTS/complete-talk.json"
TALK_UPLOAD=$(jq -nc --arg m "$UP_METHOD" --argjson b "$UP_BYTES" --argjson put "$UP_PUT_S" --argjson c "$UP_COMPLETE_S" \
  '{method: $m, bytes: $b, putSeconds: $put, completeSeconds: $c}')
log "pipeline: project from upload $UPLOAD_ID"
phase_begin pipeline
run_project "$UPLOAD_ID" "bench ${MINUTES}-minute talk" "$RESULTS/project-talk.json"
phase_end pipeline >/dev/null
TALK_PROJECT=$PROJECT_ID
# What one status poll costs the API (CPU), to tell it apart from what the API does while a project runs.
phase_begin api-50-gets
for ((i = 0; i < 50; i++)); do
  curl -sS -f -o /dev/null -H "X-Api-Key: $API_KEY" "http://127.0.0.1:$API_PORT/api/projects/$TALK_PROJECT" || ma_die "GET failed"
done
phase_end api-50-gets >/dev/null
PIPE_TALK_S=$PIPE_S
TALK_EVENTS=$(project_events "$TALK_PROJECT")
# The raw transcriber once more, after the pipeline: two raw runs bracket the pipeline run, so their spread shows
# how much this machine varies from one run to the next (the ratio uses their mean).
wait_quiet "the second raw transcriber run"
log "raw: LocalTranscriber again, after the pipeline"
phase_begin raw-transcriber-2
dotnet "$RUN_BENCH_DLL" "$RAW_WAV" "$RESULTS/raw-transcriber-2.json" 2>"$LOGS/raw-transcriber-2.log" \
  || { tail -n 20 "$LOGS/raw-transcriber-2.log" >&2; ma_die "the raw transcriber failed"; }
RAW_TRANSCRIBER2_S=$(phase_end raw-transcriber-2)
log "raw: transcriber ${RAW_TRANSCRIBER2_S} s (second run)"
TALK_SILO_HWM=$(hwm_kb "$SILO_PID")
TALK_API_HWM=$(hwm_kb "$API_PID")
api GET "/api/projects/$TALK_PROJECT/transcript" >"$RESULTS/pipeline-transcript.json"
jq -r .text "$RESULTS/pipeline-transcript.json" >"$RESULTS/pipeline-transcript.txt"
words_of() { awk '{ for (i = 1; i <= NF; i++) print $i }' "$1"; }
if cmp -s <(words_of "$RESULTS/raw-transcript.txt") <(words_of "$RESULTS/pipeline-transcript.txt"); then
  SAME_TEXT=true
else
  SAME_TEXT=false
fi
log "pipeline: ${PIPE_TALK_S} s from POST /api/projects to completed (same transcript as the raw run: $SAME_TEXT)"

# --------------------------------------------------------------------------- 1d/1e: more rounds
# Round 1 is the run above. Each further round: a new upload of the same file (not timed with the pipeline), the
# pipeline, then the raw transcriber; the raw run before a pipeline run is the previous round's "after" run.
ROUNDS_FILE="$RESULTS/rounds.jsonl"
jq -nc --argjson p "$PIPE_TALK_S" --argjson b "$RAW_TRANSCRIBER_S" --argjson a "$RAW_TRANSCRIBER2_S" \
  --argjson steps "$(step_times "$RESULTS/project-talk.json")" \
  '{round: 1, pipelineSeconds: $p, rawBeforeSeconds: $b, rawAfterSeconds: $a, steps: $steps.steps}' >"$ROUNDS_FILE"
RAW_BEFORE_S=$RAW_TRANSCRIBER2_S
for ((round = 2; round <= ROUNDS; round++)); do
  wait_quiet "pipeline round $round"
  upload "$TALK" video/mp4
  log "pipeline round $round: project from upload $UPLOAD_ID"
  phase_begin "pipeline-$round"
  run_project "$UPLOAD_ID" "bench ${MINUTES}-minute talk, round $round" "$RESULTS/project-talk-$round.json"
  phase_end "pipeline-$round" >/dev/null
  ROUND_PIPE_S=$PIPE_S
  wait_quiet "raw transcriber after round $round"
  phase_begin "raw-transcriber-$((round + 1))"
  dotnet "$RUN_BENCH_DLL" "$RAW_WAV" "$RESULTS/raw-transcriber-$((round + 1)).json" 2>"$LOGS/raw-transcriber-$((round + 1)).log" \
    || { tail -n 20 "$LOGS/raw-transcriber-$((round + 1)).log" >&2; ma_die "the raw transcriber failed"; }
  RAW_AFTER_S=$(phase_end "raw-transcriber-$((round + 1))")
  jq -nc --argjson r "$round" --argjson p "$ROUND_PIPE_S" --argjson b "$RAW_BEFORE_S" --argjson a "$RAW_AFTER_S" \
    --argjson steps "$(step_times "$RESULTS/project-talk-$round.json")" \
    '{round: $r, pipelineSeconds: $p, rawBeforeSeconds: $b, rawAfterSeconds: $a, steps: $steps.steps}' >>"$ROUNDS_FILE"
  log "round $round: pipeline ${ROUND_PIPE_S} s, raw transcriber before/after ${RAW_BEFORE_S} / ${RAW_AFTER_S} s"
  RAW_BEFORE_S=$RAW_AFTER_S
done

# --------------------------------------------------------------------------- 1f: the live transcript's cost
# Pairs of pipeline runs on the same video: without a client, then with a SignalR client that receives every part of
# the live transcript (the order alternates between pairs, so a drift of the machine's speed does not favour one side).
LIVE_FILE="$RESULTS/live.jsonl"
: >"$LIVE_FILE"
live_run() {
  local pair=$1 client=$2 client_pid= client_out="$RESULTS/live-client-$1-$2.json"
  wait_quiet "live pair $pair ($client)"
  upload "$TALK" video/mp4
  if [[ $client == with ]]; then
    MA_NODE_MODULES="$ROOT/tools/node_modules" node bench/Pipeline/live-client.mjs "http://127.0.0.1:$API_PORT" "$API_KEY" \
      >"$client_out" 2>"$LOGS/live-client-$pair.log" &
    client_pid=$!
    for ((i = 0; i < 100; i++)); do grep -q connected "$LOGS/live-client-$pair.log" 2>/dev/null && break; sleep 0.1; done
    grep -q connected "$LOGS/live-client-$pair.log" || ma_die "the live client did not connect: $(cat "$LOGS/live-client-$pair.log")"
  fi
  run_project "$UPLOAD_ID" "bench live pair $pair, $client client" "$RESULTS/project-live-$pair-$client.json"
  local seen='null'
  if [[ -n $client_pid ]]; then
    wait "$client_pid" || ma_die "the live client failed: $(cat "$LOGS/live-client-$pair.log")"
    seen=$(jq -c --argjson t0 "$PROJECT_T0" '{parts, partsInOrder, segments,
      firstPartSeconds: ((.firstPartAt / 1000 - $t0) * 10 | round / 10), transcriptReadySeconds: ((.readyAt / 1000 - $t0) * 10 | round / 10)}' "$client_out")
  fi
  jq -nc --argjson pair "$pair" --arg client "$client" --argjson p "$PIPE_S" --argjson steps "$(step_times "$RESULTS/project-live-$pair-$client.json")" \
    --argjson seen "$seen" --argjson events "$(project_events "$PROJECT_ID")" \
    '{pair: $pair, client: $client, pipelineSeconds: $p, transcribingStepSeconds: ([$steps.steps[] | select(.name == "transcribing") | .seconds] | first),
      partsPublished: ($events.transcript_partial // 0), clientSaw: $seen}' >>"$LIVE_FILE"
  log "live pair $pair, $client client: pipeline ${PIPE_S} s; $(tail -n 1 "$LIVE_FILE")"
}
for ((pair = 1; pair <= LIVE_PAIRS; pair++)); do
  if ((pair % 2 == 1)); then live_run "$pair" without; live_run "$pair" with; else live_run "$pair" with; live_run "$pair" without; fi
done

# --------------------------------------------------------------------------- 2: memory for a ~1 GB input
BIG_JSON=null
if ((BIG_MB > 0)); then
  wait_quiet "the big-file run"
  log "big: uploading $(basename "$BIG") ($(stat -c %s "$BIG") bytes)"
  reset_hwm "$SILO_PID"
  reset_hwm "$API_PID"
  start_sampler "$RESULTS/rss-big.csv"
  phase_begin big-upload
  upload "$BIG" video/mp4
  phase_end big-upload >/dev/null
  echo "$COMPLETE_JSON" >"$RESULTS/complete-big.json"
  BIG_API_HWM=$(hwm_kb "$API_PID")   # the API's peak during the upload and its complete (MD5 + ffprobe)
  BIG_SILO_HWM_UPLOAD=$(hwm_kb "$SILO_PID")
  reset_hwm "$API_PID"
  log "big: uploaded in ${UP_PUT_S} s, complete took ${UP_COMPLETE_S} s; running the project"
  phase_begin big-pipeline
  run_project "$UPLOAD_ID" "bench big file" "$RESULTS/project-big.json"
  phase_end big-pipeline >/dev/null
  stop_sampler
  BIG_SILO_HWM=$(hwm_kb "$SILO_PID")
  BIG_API_HWM_PIPELINE=$(hwm_kb "$API_PID")
  BIG_EVENTS=$(project_events "$PROJECT_ID")
  BIG_JSON=$(jq -nc \
    --argjson events "$BIG_EVENTS" --slurpfile project "$RESULTS/project-big.json" \
    --argjson bytes "$UP_BYTES" --arg m "$UP_METHOD" --argjson put "$UP_PUT_S" --argjson c "$UP_COMPLETE_S" \
    --argjson pipe "$PIPE_S" --argjson media "$(jq -c .media "$RESULTS/project-big.json")" \
    --argjson steps "$(step_times "$RESULTS/project-big.json")" \
    --argjson siloHwm "$BIG_SILO_HWM" --argjson siloHwmUpload "$BIG_SILO_HWM_UPLOAD" \
    --argjson apiHwm "$BIG_API_HWM" --argjson apiHwmPipeline "$BIG_API_HWM_PIPELINE" \
    --rawfile csv "$RESULTS/rss-big.csv" "$JQ_TS"'
    ($csv | split("\n")[1:] | map(select(length > 0) | split(",") | map(tonumber))) as $rows
    | {
        bytes: $bytes, upload: {method: $m, putSeconds: $put, completeSeconds: $c},
        pipelineSeconds: $pipe, media: $media, steps: $steps.steps, serverSeconds: $steps.serverSeconds,
        siloPeakRssKb: $siloHwm, siloPeakRssDuringUploadKb: $siloHwmUpload,
        siloMaxSampledRssKb: ($rows | map(.[1]) | max), siloTreeMaxSampledRssKb: ($rows | map(.[2]) | max),
        apiPeakRssUploadCompleteKb: $apiHwm, apiPeakRssDuringPipelineKb: $apiHwmPipeline,
        azuriteMaxSampledRssKb: ($rows | map(.[4]) | max), samples: ($rows | length),
        stepPeakRss: [$project[0].steps[] | select(.startedAt and .finishedAt)
          | (.startedAt | ts) as $a | (.finishedAt | ts) as $b
          | [$rows[] | select(.[0] >= $a and .[0] <= $b)] as $in
          | {name, samples: ($in | length), siloKb: ($in | map(.[1]) | max), siloTreeKb: ($in | map(.[2]) | max)}],
        events: $events
      }')
  log "big: ${PIPE_S} s; silo peak RSS $((BIG_SILO_HWM / 1024)) MiB, API peak RSS (upload+complete) $((BIG_API_HWM / 1024)) MiB"
fi

# --------------------------------------------------------------------------- summary
SUMMARY=$(jq -n \
  --arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" --argjson cores "$(nproc)" \
  --argjson memGb "$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)" \
  --arg ffmpeg "$(ffmpeg -version | head -n 1 | cut -d' ' -f3)" --arg dotnet "$(dotnet --version)" \
  --argjson minutes "$MINUTES" --argjson talkBytes "$(stat -c %s "$TALK")" \
  --argjson rawFfmpeg "$RAW_FFMPEG_S" --argjson rawTranscriberProcess "$RAW_TRANSCRIBER_S" --argjson rawExtras "$RAW_EXTRAS_S" \
  --argjson rawTranscriber "$(cat "$RESULTS/raw-transcriber.json")" --argjson rawTranscriber2 "$RAW_TRANSCRIBER2_S" \
  --argjson events "$TALK_EVENTS" \
  --argjson upload "$TALK_UPLOAD" --argjson pipeline "$PIPE_TALK_S" \
  --argjson steps "$(step_times "$RESULTS/project-talk.json")" \
  --argjson siloHwm "$TALK_SILO_HWM" --argjson apiHwm "$TALK_API_HWM" --argjson sameText "$SAME_TEXT" \
  --argjson pipelineWords "$(jq '[.segments[] | (.words // [] | length)] | add // 0' "$RESULTS/pipeline-transcript.json")" \
  --argjson big "$BIG_JSON" --slurpfile phases "$PHASES" --slurpfile quiet "$RESULTS/quiet.jsonl" \
  --argjson idleSilo "$IDLE_SILO_KB" --argjson idleApi "$IDLE_API_KB" --slurpfile rounds "$ROUNDS_FILE" --slurpfile live "$LIVE_FILE" --argjson steadySpread 0.05 '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  ($rounds | map(. + {ratio: (.pipelineSeconds / ($rawFfmpeg + (.rawBeforeSeconds + .rawAfterSeconds) / 2) * 100 | round / 100),
                      rawSpread: ((([.rawBeforeSeconds, .rawAfterSeconds] | max) / ([.rawBeforeSeconds, .rawAfterSeconds] | min) - 1) * 100 | round / 100),
                      transcribingStepSeconds: ([.steps[] | select(.name == "transcribing") | .seconds] | first),
                      extractingAudioStepSeconds: ([.steps[] | select(.name == "extracting_audio") | .seconds] | first)}
                   | del(.steps))) as $rounds |
  {
    when: $when, commit: $commit, idle: {siloRssKb: $idleSilo, apiRssKb: $idleApi},
    machine: {cpu: $cpu, cores: $cores, memGb: $memGb, ffmpeg: $ffmpeg, dotnetSdk: $dotnet},
    talk: {
      minutes: $minutes, bytes: $talkBytes,
      raw: {ffmpegSeconds: $rawFfmpeg, transcriberProcessSeconds: $rawTranscriberProcess,
            transcriberProcessSecondsAfterPipeline: $rawTranscriber2,
            transcriberMeanSeconds: (($rawTranscriberProcess + $rawTranscriber2) / 2),
            transcribeCallSeconds: $rawTranscriber.transcribeSeconds,
            sumSeconds: ($rawFfmpeg + ($rawTranscriberProcess + $rawTranscriber2) / 2),
            extrasSeconds: $rawExtras, transcriberPeakRssKb: ($rawTranscriber.peakRssBytes / 1024 | floor),
            words: $rawTranscriber.words, parallelism: $rawTranscriber.parallelism},
      upload: $upload,
      pipeline: {seconds: $pipeline, serverSeconds: $steps.serverSeconds, steps: $steps.steps,
                 siloPeakRssKb: $siloHwm, apiPeakRssKb: $apiHwm, words: $pipelineWords, sameTranscriptAsRaw: $sameText,
                 events: $events},
      ratio: ($pipeline / ($rawFfmpeg + ($rawTranscriberProcess + $rawTranscriber2) / 2) * 100 | round / 100),
      ratioRange: [($pipeline / ($rawFfmpeg + ([$rawTranscriberProcess, $rawTranscriber2] | max)) * 100 | round / 100),
                   ($pipeline / ($rawFfmpeg + ([$rawTranscriberProcess, $rawTranscriber2] | min)) * 100 | round / 100)],
      overheadSeconds: ($pipeline - $rawFfmpeg - ($rawTranscriberProcess + $rawTranscriber2) / 2 | . * 10 | round / 10),
      transcribeStepOverRawTranscriber: ((($steps.steps[] | select(.name == "transcribing") | .seconds) / (($rawTranscriberProcess + $rawTranscriber2) / 2)) * 100 | round / 100),
      rounds: $rounds,
      ratioMedian: ($rounds | map(.ratio) | median),
      steadyRounds: ($rounds | map(select(.rawSpread <= $steadySpread))),
      steadyRatioMedian: ($rounds | map(select(.rawSpread <= $steadySpread) | .ratio) | if length > 0 then median else null end),
      steadySpread: $steadySpread
    },
    live: (if ($live | length) > 0 then {
      runs: $live,
      transcribingWithoutMedian: ([$live[] | select(.client == "without") | .transcribingStepSeconds] | median),
      transcribingWithMedian: ([$live[] | select(.client == "with") | .transcribingStepSeconds] | median),
      pipelineWithoutMedian: ([$live[] | select(.client == "without") | .pipelineSeconds] | median),
      pipelineWithMedian: ([$live[] | select(.client == "with") | .pipelineSeconds] | median)
    } | . + {transcribingRatio: (.transcribingWithMedian / .transcribingWithoutMedian * 100 | round / 100),
             pipelineRatio: (.pipelineWithMedian / .pipelineWithoutMedian * 100 | round / 100)} else null end),
    big: $big,
    phases: $phases, quietChecks: $quiet
  }')
echo "$SUMMARY" >"$RESULTS/summary.json"

# A Markdown rendering, printed and kept next to the JSON.
jq -r '
  def s: . * 10 | round / 10 | tostring;
  def mib: . / 1024 | round | tostring + " MiB";
  "## Pipeline benchmark, \(.when) (commit \(.commit))",
  "",
  "Machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.memGb) GB; ffmpeg \(.machine.ffmpeg), .NET SDK \(.machine.dotnetSdk)",
  "",
  "Idle RSS (15 s after start, no project yet): silo \(.idle.siloRssKb | mib), API \(.idle.apiRssKb | mib)",
  "",
  "### \(.talk.minutes)-minute video (\(.talk.bytes / 1048576 * 10 | round / 10) MiB)",
  "",
  "| what | seconds |",
  "|---|---:|",
  "| raw ffmpeg -> 16 kHz WAV | \(.talk.raw.ffmpegSeconds | s) |",
  "| raw LocalTranscriber, before the pipeline (process; the call alone: \(.talk.raw.transcribeCallSeconds | s)) | \(.talk.raw.transcriberProcessSeconds | s) |",
  "| raw LocalTranscriber, after the pipeline | \(.talk.raw.transcriberProcessSecondsAfterPipeline | s) |",
  "| **raw sum** (ffmpeg + mean of the two transcriber runs) | **\(.talk.raw.sumSeconds | s)** |",
  "| (other tools the media step runs: ffprobe, MP3 copy, thumbnail) | \(.talk.raw.extrasSeconds | s) |",
  "| upload: \(.talk.upload.method) / complete | \(.talk.upload.putSeconds | s) / \(.talk.upload.completeSeconds | s) |",
  "| **pipeline: POST /api/projects -> completed** (client, following its event stream; server-side \(.talk.pipeline.serverSeconds | s)) | **\(.talk.pipeline.seconds | s)** |",
  (.talk.pipeline.steps[] | "| step \(.name)\(if .attempts > 1 then " (\(.attempts) attempts)" else "" end) | \(if .seconds then (.seconds | s) else "-" end) |"),
  "",
  "**Ratio pipeline / raw sum: \(.talk.ratio)** (\(.talk.ratioRange[0])-\(.talk.ratioRange[1]) against either raw run; \(.talk.overheadSeconds) s more; the transcribing step alone / the raw transcriber: \(.talk.transcribeStepOverRawTranscriber))",
  "",
  "Rounds (each pipeline run between two raw transcriber runs; ratio = pipeline / (raw ffmpeg + mean of the two)):",
  "",
  "| round | pipeline (s) | raw transcriber before / after (s) | raw runs differ by | step extracting_audio / transcribing (s) | ratio |",
  "|---:|---:|---|---:|---|---:|",
  (.talk.rounds[] | "| \(.round) | \(.pipelineSeconds | s) | \(.rawBeforeSeconds | s) / \(.rawAfterSeconds | s) | \(.rawSpread * 100 | round)% | \(.extractingAudioStepSeconds | s) / \(.transcribingStepSeconds | s) | \(.ratio) |"),
  "",
  "**Median ratio over \(.talk.rounds | length) rounds: \(.talk.ratioMedian)**",
  "",
  "Steady rounds (the two raw runs around the pipeline run differ by at most \(.talk.steadySpread * 100 | round)%, so the machine held its speed): \(if (.talk.steadyRounds | length) > 0 then "\(.talk.steadyRounds | length), ratios \(.talk.steadyRounds | map(.ratio | tostring) | join(", ")), median \(.talk.steadyRatioMedian)" else "none" end)",
  "",
  "Same transcript text as the raw run: \(.talk.pipeline.sameTranscriptAsRaw) (words: pipeline \(.talk.pipeline.words), raw \(.talk.raw.words))",
  "",
  "Peak RSS: silo \(.talk.pipeline.siloPeakRssKb | mib), API \(.talk.pipeline.apiPeakRssKb | mib), raw transcriber process \(.talk.raw.transcriberPeakRssKb | mib)",
  "",
  "Events the project published: \(.talk.pipeline.events | to_entries | map("\(.key) \(.value)") | join(", "))",
  "",
  (if .live then
    "### Live transcript: \(.live.runs | length / 2) pairs without / with a connected SignalR client",
    "",
    "| pair | client | pipeline (s) | transcribing step (s) | parts published | client got (in order) | first part / transcript_ready at the client (s after POST) |",
    "|---:|---|---:|---:|---:|---|---|",
    (.live.runs[] | "| \(.pair) | \(.client) | \(.pipelineSeconds | s) | \(.transcribingStepSeconds | s) | \(.partsPublished) | \(if .clientSaw then "\(.clientSaw.parts) (\(.clientSaw.partsInOrder))" else "-" end) | \(if .clientSaw then "\(.clientSaw.firstPartSeconds) / \(.clientSaw.transcriptReadySeconds)" else "-" end) |"),
    "",
    "**Transcribing step with / without a client (medians): \(.live.transcribingWithMedian | s) / \(.live.transcribingWithoutMedian | s) s = \(.live.transcribingRatio); whole pipeline: \(.live.pipelineRatio)**",
    ""
  else empty end),
  (if .big then
    "### Big file: \(.big.bytes / 1048576 | round) MiB, \(.big.media.width)x\(.big.media.height), \(.big.media.durationSeconds | s) s",
    "",
    "| what | value |",
    "|---|---:|",
    "| upload (\(.big.upload.method)) | \(.big.upload.putSeconds | s) s |",
    "| complete (size, ffprobe, MD5) | \(.big.upload.completeSeconds | s) s |",
    "| pipeline: POST /api/projects -> completed | \(.big.pipelineSeconds | s) s |",
    (.big.steps[] | "| step \(.name) | \(if .seconds then (.seconds | s) + " s" else "-" end) |"),
    "| **silo peak RSS (VmHWM) during the pipeline** | **\(.big.siloPeakRssKb | mib)** |",
    "| silo max sampled RSS / with its ffmpeg children | \(.big.siloMaxSampledRssKb | mib) / \(.big.siloTreeMaxSampledRssKb | mib) |",
    "| **API peak RSS during upload + complete** | **\(.big.apiPeakRssUploadCompleteKb | mib)** |",
    "| API peak RSS during the pipeline | \(.big.apiPeakRssDuringPipelineKb | mib) |",
    "| Azurite max sampled RSS | \(.big.azuriteMaxSampledRssKb | mib) |",
    "",
    "Silo RSS per step (max of the 0.5 s samples; silo / silo with its ffmpeg children): " + ([.big.stepPeakRss[] | select(.samples > 0) | "\(.name) \(.siloKb | mib) / \(.siloTreeKb | mib)"] | join("; ")),
    ""
  else empty end),
  "Quiet checks before measuring: " + ([.quietChecks[] | "\(.before): \(if .quiet then "quiet" else "BUSY" end) after \(.waitedSeconds) s of waiting (others \(.otherProcessesCores) cores, load \(.load1))"] | join("; ")),
  "",
  "### Phases (other processes = CPU cores used by processes not started by this run)",
  "",
  "| phase | wall s | CPU s: all ours / silo / API / Azurite / PostgreSQL | other processes (cores) | stolen by the hypervisor (cores) | load1 start -> end |",
  "|---|---:|---|---:|---:|---|",
  (.phases[] | "| \(.name) | \(.wallSeconds | s) | \(.cpuSeconds | "\(.allOurs | s) / \(.silo | s) / \(.api | s) / \(.azurite | s) / \(.postgres | s)") | \(.otherProcessesCores) | \(.cpuSeconds.stolen / .wallSeconds * 100 | round / 100) | \(.load1Start) -> \(.load1End) |")
' "$RESULTS/summary.json" | tee "$RESULTS/summary.md"
