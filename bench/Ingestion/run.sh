#!/usr/bin/env bash
# What the ingestion proxy costs (results in docs/BENCHMARKS.md, "Link ingestion through the filtering proxy").
# In one invocation, rounds alternating (round 0 is a warm-up and is not counted):
#   direct      yt-dlp downloads a local page's video straight from a local Kestrel server (no proxy)
#   proxied     the same yt-dlp command through a GuardedProxy: every connection resolved and checked by the guard
#   production  YouTubeHandler.DownloadAsync, the production path (extraction run + download run, each with its proxy)
# The file is random bytes (yt-dlp does not look inside it); it and the downloads live in .data/bench-ingestion/
# (deleted on exit); results stay in .data/bench-ingestion/results/<timestamp>/result.json.
# Usage: bench/Ingestion/run.sh [--mib N] [--rounds R]      (defaults 512 MiB, 5 rounds; ~2 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=../../scripts/lib.sh
source scripts/lib.sh

MIB=512
ROUNDS=5
while (($#)); do
  case $1 in
    --mib) MIB=${2:-}; shift 2 || ma_die "--mib needs a number" ;;
    --rounds) ROUNDS=${2:-}; shift 2 || ma_die "--rounds needs a number" ;;
    *) ma_die "usage: bench/Ingestion/run.sh [--mib N] [--rounds R]" ;;
  esac
done
[[ $MIB =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || ma_die "--mib and --rounds must be positive numbers"

DATA="$PWD/.data/bench-ingestion"
RESULTS="$DATA/results/$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$DATA/work"
BENCH_PROJ=bench/Ingestion/Ingestion.Bench.csproj
BENCH_DLL=bench/Ingestion/bin/Release/net10.0/MediaActors.Ingestion.Bench.dll
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
trap 'rm -rf "$WORK"' EXIT

ma_install_prereqs
mkdir -p "$RESULTS" "$WORK"
ma_log "building $BENCH_PROJ (Release)"
dotnet build "$BENCH_PROJ" -c Release -nologo -v q >"$RESULTS/build.log" 2>&1 || { tail -20 "$RESULTS/build.log" >&2; ma_die "build failed"; }
{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "yt-dlp $(yt-dlp --version)"
  echo "cores $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS/machine.txt" >&2
dotnet "$BENCH_DLL" "$WORK" "$MIB" "$ROUNDS" "$RESULTS/result.json" 2> >(tee "$RESULTS/rounds.log" >&2)
ma_log "results in $RESULTS"
