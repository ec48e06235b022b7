#!/usr/bin/env bash
# Search quality and the embedding's cost (results in docs/BENCHMARKS.md, "Semantic search").
# Loads bench/SearchEval/retrieval-set.json into a private PostgreSQL (.data/bench-search/pg, port 55438) as transcript
# passages and runs its queries through the production search (TranscriptSearch) for: full text only, the hashed TF-IDF
# embedding + full text, MiniLM alone, and MiniLM + full text (production); then the embedders' passages/s, the memory
# the model adds and query latencies, all in one process. Prints a Markdown report (also .data/bench-search/report.md).
# Usage: bench/SearchEval/run.sh [--rounds N]     (default 3; about a minute on 2 cores)
# Run it alone on the machine: flock /tmp/ma-bench.lock bench/SearchEval/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib.sh
source scripts/lib.sh

ROUNDS=3
while (($#)); do
  case $1 in
    --rounds) ROUNDS=${2:-}; shift 2 || ma_die "--rounds needs a number" ;;
    *) ma_die "usage: bench/SearchEval/run.sh [--rounds N]" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || ma_die "--rounds must be a positive number"

DATA="$PWD/.data/bench-search"
PORT=55438
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
ma_install_prereqs
mkdir -p "$DATA"
cleanup() { ma_stop_postgres "$DATA/pg"; }
trap cleanup EXIT
ma_start_postgres "$DATA/pg" "$PORT"
DB="ma_search_eval_$(date +%s)"
"$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null

ma_log "building bench/SearchEval (Release)"
dotnet build bench/SearchEval/SearchEval.Bench.csproj -c Release -nologo -v q >"$DATA/build.log" 2>&1 || { tail -20 "$DATA/build.log" >&2; ma_die "build failed"; }
{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  dotnet bench/SearchEval/bin/Release/net10.0/MediaActors.SearchEval.Bench.dll "Host=127.0.0.1;Port=$PORT;Username=postgres;Database=$DB" "$ROUNDS"
} | tee "$DATA/report.md"
"$MA_PG_BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null
