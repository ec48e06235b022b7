#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup functions are only called from traps
# Builds and tests MediaActors against a private test PostgreSQL and Azurite (started and stopped here).
# Usage: ./test.sh [extra dotnet test args, e.g. --filter FullyQualifiedName~Runtime]
# The last line printed is always "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")" || exit 1
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROOT=$PWD
TEST_DATA="$ROOT/.data/test"
RESULTS="$TEST_DATA/results"
PG_PORT=${MA_TEST_PG_PORT:-55432}
BLOB_PORT=${MA_TEST_BLOB_PORT:-10010}
# The solution may be .sln or (the .NET 10 default) .slnx.
SLN=MediaActors.sln
[[ -f $SLN || ! -f MediaActors.slnx ]] || SLN=MediaActors.slnx
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

SUMMARY_PRINTED=0
stop_services() {
  ma_stop_azurite "$TEST_DATA/azurite"
  ma_stop_postgres "$TEST_DATA/pg"
}
# Always stop the services; if we die before counting (setup or build failure), still end with a summary line.
on_exit() {
  local rc=$?
  stop_services
  if ((!SUMMARY_PRINTED)); then
    echo "0 passed, 1 failed, 0 skipped"
    ((rc != 0)) || rc=1
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

ma_install_prereqs "${MA_TEST_APT_PACKAGES[@]}"
ma_install_node_tools

mkdir -p "$TEST_DATA"
ma_start_postgres "$TEST_DATA/pg" "$PG_PORT"
# Fresh blob data every run: stop a leftover Azurite of ours first, then wipe its folder.
ma_stop_azurite "$TEST_DATA/azurite"
rm -rf "$TEST_DATA/azurite"
ma_start_azurite "$TEST_DATA/azurite" "$BLOB_PORT"

# How the tests find the services (each test creates its own databases/containers as it needs).
export MA_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres"
MA_TEST_BLOBS=$(ma_blob_connection_string "$BLOB_PORT")
export MA_TEST_BLOBS
export MA_TEST_NODE_MODULES="$ROOT/tools/node_modules"
export MA_CHROMIUM=${MA_CHROMIUM:-/usr/bin/chromium}

ma_log "building $SLN (Release)"
BUILD_LOG="$TEST_DATA/build.log"
if ! dotnet build "$SLN" -c Release -nologo 2>&1 | tee "$BUILD_LOG"; then
  echo
  echo "BUILD FAILED. Errors:" >&2
  # Repeat just the distinct error lines so they are not lost in the build output above.
  grep -E ': error [A-Z]+[0-9]*' "$BUILD_LOG" | sort -u | head -n 50 >&2
  exit 1
fi

# Old results would be counted again: start from an empty results folder.
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
# trx without LogFileName: with a fixed name every test project of the solution would overwrite the same file.
dotnet test "$SLN" -c Release --no-build \
  --logger "trx" \
  --logger "console;verbosity=normal" \
  --results-directory "$RESULTS" \
  "$@"
TEST_RC=$?

# Sum the <Counters .../> of every trx file (one per test project run).
read -r PASSED FAILED SKIPPED FILES < <(
  find "$RESULTS" -name '*.trx' -type f -print0 | xargs -0 -r cat | awk '
    function attr(line, name,   re, v) {
      re = " " name "=\"[0-9]+\""
      if (match(line, re)) { v = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", v); return v + 0 }
      return 0
    }
    /<Counters / {
      files++
      passed += attr($0, "passed")
      failed += attr($0, "failed") + attr($0, "error") + attr($0, "timeout") + attr($0, "aborted")
      # VSTest leaves notExecuted at 0 for skipped tests: they are the ones counted in total but not executed.
      skip = attr($0, "total") - attr($0, "executed")
      skipped += (skip > 0 ? skip : 0) + attr($0, "inconclusive")
    }
    END { printf "%d %d %d %d\n", passed, failed, skipped, files }'
)

RC=0
if ((TEST_RC != 0)); then
  RC=1
  if ((FAILED == 0)); then
    # dotnet test failed without a failed test (crashed test host, no test project, bad arguments): count it.
    echo "dotnet test exited with code $TEST_RC although no test failed ($FILES result files); counting 1 failure" >&2
    FAILED=1
  fi
fi
((FAILED == 0)) || RC=1
if ((PASSED == 0)); then
  echo "no test passed (no tests found or all filtered out)" >&2
  RC=1
fi

# Stop the services now so their log lines come before the summary, which must be the last line.
stop_services
# Repeat each failed test with the start of its message and stack, so the tail of the output says what failed.
if ((FAILED > 0)); then
  echo
  echo "FAILED TESTS:"
  find "$RESULTS" -name '*.trx' -type f -print0 | xargs -0 -r cat | awk -v rc="$TEST_RC" '
    function unescape(s) {
      gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, " ", s); gsub(/&amp;/, "\\&", s)
      return s
    }
    /<UnitTestResult / {
      failing = ($0 ~ / outcome="(Failed|Error|Timeout|Aborted)"/)
      if (failing && match($0, / testName="[^"]*"/)) { print "- " unescape(substr($0, RSTART + 11, RLENGTH - 12)); listed++ }
      lines = 0; section = ""
    }
    failing && /<Message>/ { section = "message" }
    failing && /<StackTrace>/ { section = "stack"; stack = 0 }
    failing && section != "" {
      line = $0; gsub(/<\/?(Message|StackTrace|ErrorInfo|Output)>/, "", line); gsub(/^[ \t]+/, "", line)
      if (line != "" && ((section == "message" && lines < 20) || (section == "stack" && stack < 6))) {
        line = unescape(line)
        print "    " (length(line) > 300 ? substr(line, 1, 300) "..." : line)
        if (section == "message") lines++; else stack++
      }
    }
    failing && /<\/Message>/ { section = "" }
    failing && /<\/StackTrace>/ { section = "" }
    /<\/UnitTestResult>/ { failing = 0; section = "" }
    END { if (!listed) print "(no failed test in the result files: dotnet test exited with code " rc ")" }'
fi
echo
SUMMARY_PRINTED=1
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
exit "$RC"
