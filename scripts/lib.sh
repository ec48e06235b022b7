# shellcheck shell=bash
# Shared helpers for run.sh and test.sh. Source this file; it only defines functions and variables.
# Every function works from the repository root, whatever the caller's working directory is.

MA_ROOT=${MA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Debian 12 ships PostgreSQL 15; we call its binaries directly instead of the pg_wrapper/pg_ctlcluster layer.
MA_PG_BIN=${MA_PG_BIN:-/usr/lib/postgresql/15/bin}
MA_TOOLS_DIR="$MA_ROOT/tools"
# Debian packages the services and the media pipeline need (curl: run.sh's health check; tzdata: the YouTube quota's Pacific midnight).
MA_APT_PACKAGES=(postgresql ffmpeg espeak-ng sox yt-dlp libpocketsphinx3 pocketsphinx-en-us pocketsphinx-testdata curl tzdata)
# What only the tests need: a real browser for the web app's tests (Playwright drives it; nothing is downloaded).
MA_TEST_APT_PACKAGES=(chromium)
# Azurite's fixed, publicly documented development account key (not a secret).
MA_AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

ma_log() { printf '[mediaactors] %s\n' "$*" >&2; }

# Print a clear error and stop the calling script (its EXIT trap still runs).
ma_die() {
  printf '\n[mediaactors] ERROR: %s\n\n' "$*" >&2
  exit 1
}

# True when something accepts TCP connections on HOST:PORT (bash's /dev/tcp, no extra tools needed).
ma_port_open() {
  local host=$1 port=$2
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# Wait until HOST:PORT accepts connections; returns 1 after TIMEOUT seconds (default 30).
ma_wait_port() {
  local host=$1 port=$2 timeout=${3:-30} i
  for ((i = 0; i < timeout * 4; i++)); do
    ma_port_open "$host" "$port" && return 0
    sleep 0.25
  done
  return 1
}

# Connection string for Azurite's well-known dev account on 127.0.0.1:PORT.
ma_blob_connection_string() {
  local port=$1
  printf 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%s/devstoreaccount1;' \
    "$MA_AZURITE_KEY" "$port"
}

# True when the Debian package is fully installed (dpkg -s alone also succeeds for removed packages that left config files).
_ma_pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install the Debian packages that are missing (MA_APT_PACKAGES and any given as arguments); a machine that has them
# all does no apt work.
ma_install_prereqs() {
  local missing=() p
  for p in "${MA_APT_PACKAGES[@]}" "$@"; do
    _ma_pkg_installed "$p" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || ma_die "missing Debian packages (${missing[*]}) and not root: install them with apt-get"
    sudo=(sudo)
  fi
  ma_log "installing Debian packages: ${missing[*]}"
  # noninteractive + no recommends: works without a terminal (CI) and keeps the install small.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq \
    || ma_die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || ma_die "apt-get install ${missing[*]} failed"
  [[ -x $MA_PG_BIN/initdb ]] || ma_die "PostgreSQL 15 binaries not found in $MA_PG_BIN after installing postgresql"
}

# Install the pinned npm tools (Azurite, the SignalR JS client, axe-core for the browser tests) into tools/node_modules once.
ma_install_node_tools() {
  if [[ -x $MA_TOOLS_DIR/node_modules/.bin/azurite-blob && -f $MA_TOOLS_DIR/node_modules/@microsoft/signalr/package.json \
    && -f $MA_TOOLS_DIR/node_modules/axe-core/axe.min.js ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || ma_die "npm not found (Node.js 20 + npm are required)"
  ma_log "installing npm tools into tools/node_modules (azurite, @microsoft/signalr, axe-core)"
  # --no-package-lock: package.json pins exact versions; no lock file is left in the tree.
  npm install --no-audit --no-fund --no-package-lock --loglevel=error --prefix "$MA_TOOLS_DIR" >&2 \
    || ma_die "npm install in tools/ failed"
  [[ -x $MA_TOOLS_DIR/node_modules/.bin/azurite-blob ]] || ma_die "npm install did not produce tools/node_modules/.bin/azurite-blob"
}

# Run a PostgreSQL binary as the postgres OS user when we are root (the server refuses to run as root).
_ma_pg_exec() {
  if [[ $(id -u) -eq 0 ]]; then
    # cd / so the postgres user never trips over an unreadable working directory.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Make every ancestor of DIR traversable (o+x) so the postgres user can reach its data directory.
_ma_make_traversable() {
  local d dirs=()
  d=$(dirname "$1")
  while [[ $d != / ]]; do
    dirs=("$d" "${dirs[@]}")
    d=$(dirname "$d")
  done
  # Top-down, so each test only fails because of the directory itself.
  for d in "${dirs[@]}"; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      ma_log "making $d traversable for the postgres user (chmod o+x)"
      chmod o+x "$d" || ma_die "cannot chmod o+x $d"
    fi
  done
}

# True when DATADIR's postmaster really runs: pid alive, not a zombie, and a postgres process (pids get reused).
_ma_pg_running() {
  local pidfile="$1/postmaster.pid" pid state comm
  [[ -f $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $comm == postgres* ]]
}

# Wait up to TIMEOUT seconds until no live process has DIR as its working directory.
_ma_wait_no_cwd() {
  local dir=$1 timeout=$2 i p busy
  for ((i = 0; i < timeout * 4; i++)); do
    busy=0
    for p in /proc/[0-9]*; do
      [[ $(readlink "$p/cwd" 2>/dev/null) == "$dir" ]] || continue
      [[ $(awk '{print $3}' "$p/stat" 2>/dev/null) == Z ]] && continue
      busy=1
      break
    done
    ((busy)) || return 0
    sleep 0.25
  done
  ma_die "processes still run in $dir although its postmaster is gone; stop them first"
}

# Start (initialising on first use) a private PostgreSQL 15 cluster in DATADIR listening on 127.0.0.1:PORT.
ma_start_postgres() {
  local datadir port
  datadir=$(realpath -m "$1")
  port=$2
  local logfile
  logfile="$(dirname "$datadir")/postgres.log"
  [[ -x $MA_PG_BIN/initdb ]] || ma_die "PostgreSQL 15 is not installed ($MA_PG_BIN/initdb missing); run ma_install_prereqs"

  mkdir -p "$datadir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || ma_die "OS user 'postgres' is missing (it comes with the postgresql package)"
    _ma_make_traversable "$datadir"
    chown postgres:postgres "$datadir"
  fi
  chmod 700 "$datadir"

  if [[ ! -f $datadir/PG_VERSION ]]; then
    [[ -z $(ls -A "$datadir") ]] || ma_die "$datadir is not empty but holds no PostgreSQL cluster; remove it and retry"
    ma_log "initialising PostgreSQL cluster in $datadir"
    # trust auth on a loopback-only dev/test cluster; C.UTF-8 exists on every Debian 12 and sorts by code point.
    _ma_pg_exec "$MA_PG_BIN/initdb" -D "$datadir" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
      || ma_die "initdb failed for $datadir"
    # Our settings live in a separate file that is rewritten on every start (the port may change between runs).
    printf "\ninclude_if_exists = 'mediaactors.conf'\n" >>"$datadir/postgresql.conf"
  fi

  if _ma_pg_running "$datadir"; then
    ma_log "PostgreSQL in $datadir is already running"
    # Line 4 of postmaster.pid is the port the running server listens on.
    local running_port
    running_port=$(sed -n 4p "$datadir/postmaster.pid")
    [[ $running_port == "$port" ]] \
      || ma_die "PostgreSQL in $datadir already runs on port $running_port, not $port; stop it first (ma_stop_postgres)"
  else
    if [[ -f $datadir/postmaster.pid ]]; then
      # A killed server's backends (cwd = data dir) exit on their own; give them time before touching the pid file.
      _ma_wait_no_cwd "$datadir" 10
      # A stale pid file (and socket lock files naming the same pid) whose pid is now a zombie or
      # another program would block the start.
      local stale lock
      stale=$(head -n 1 "$datadir/postmaster.pid")
      for lock in "$datadir"/.s.PGSQL.*.lock /tmp/.s.PGSQL.*.lock; do
        [[ -f $lock && $(head -n 1 "$lock") == "$stale" ]] && rm -f "$lock" "${lock%.lock}"
      done
      rm -f "$datadir/postmaster.pid"
    fi
    # Unix sockets have a ~107 byte path limit: use the data dir when short enough, else /tmp.
    local sockdir=$datadir
    ((${#datadir} <= 80)) || sockdir=/tmp
    cat >"$datadir/mediaactors.conf" <<EOF
# Written by scripts/lib.sh on every start; edit lib.sh rather than this file.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
# Sized for a 2-core dev/CI box running several silos and test hosts with connection pools.
max_connections = 300
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 64MB
max_wal_size = 1GB
EOF
    [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$datadir/mediaactors.conf"
    if ma_port_open 127.0.0.1 "$port"; then
      ma_die "port $port is already in use by another process; cannot start PostgreSQL for $datadir (set another port)"
    fi
    # pg_ctl opens the log file as the postgres user: create it first and hand it over.
    touch "$logfile"
    [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$logfile"
    ma_log "starting PostgreSQL on 127.0.0.1:$port (log: $logfile)"
    if ! _ma_pg_exec "$MA_PG_BIN/pg_ctl" start -w -t 60 -D "$datadir" -l "$logfile" >/dev/null; then
      tail -n 30 "$logfile" >&2 || true
      ma_die "PostgreSQL failed to start (see $logfile)"
    fi
  fi

  local i
  for ((i = 0; i < 120; i++)); do
    "$MA_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && return 0
    sleep 0.25
  done
  tail -n 30 "$logfile" >&2 || true
  ma_die "PostgreSQL in $datadir does not answer on 127.0.0.1:$port after 30 s"
}

# Stop the cluster in DATADIR if it runs (fast mode: roll back open transactions, then shut down cleanly).
ma_stop_postgres() {
  local datadir
  datadir=$(realpath -m "$1")
  [[ -f $datadir/PG_VERSION ]] || return 0
  if _ma_pg_running "$datadir"; then
    ma_log "stopping PostgreSQL ($datadir)"
    _ma_pg_exec "$MA_PG_BIN/pg_ctl" stop -D "$datadir" -m fast -w -t 60 >/dev/null \
      || ma_log "warning: pg_ctl stop failed for $datadir"
  fi
}

# Start Azurite's blob service on 127.0.0.1:PORT with data in DATADIR, unless something already listens there.
ma_start_azurite() {
  local datadir port
  datadir=$(realpath -m "$1")
  port=$2
  local bin="$MA_TOOLS_DIR/node_modules/.bin/azurite-blob"
  mkdir -p "$datadir"
  if ma_port_open 127.0.0.1 "$port"; then
    ma_log "something already listens on 127.0.0.1:$port; using it as Azurite"
    return 0
  fi
  [[ -x $bin ]] || ma_die "$bin is missing; run ma_install_node_tools"
  ma_log "starting Azurite on 127.0.0.1:$port (data: $datadir)"
  # setsid: its own session, so a Ctrl-C in the terminal does not kill it before the .NET hosts are stopped.
  # The inner bash records its own pid and then becomes node through exec, so the pid file is exact.
  # shellcheck disable=SC2016  # $$ and $@ are for the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$datadir/azurite.pid" \
    "$bin" --blobHost 127.0.0.1 --blobPort "$port" --location "$datadir" --skipApiVersionCheck --loose --silent \
    </dev/null >>"$datadir/azurite.log" 2>&1 &
  # Not our job to report on it: no "Killed"/"Done" notices from bash when it ends.
  disown $! 2>/dev/null || true
  if ! ma_wait_port 127.0.0.1 "$port" 30; then
    tail -n 30 "$datadir/azurite.log" >&2 || true
    ma_die "Azurite did not accept connections on 127.0.0.1:$port within 30 s (log: $datadir/azurite.log)"
  fi
}

# Stop the Azurite started by ma_start_azurite for DATADIR (SIGTERM, then SIGKILL after 10 s).
ma_stop_azurite() {
  local datadir pidfile pid i
  datadir=$(realpath -m "$1")
  pidfile="$datadir/azurite.pid"
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  # Only signal the pid if it still is an Azurite process (pids get reused).
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qa azurite "/proc/$pid/cmdline" 2>/dev/null; then
    ma_log "stopping Azurite (pid $pid)"
    local log="$datadir/azurite.log" size
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    kill -TERM "$pid" 2>/dev/null || true
    # Azurite closes its server on SIGTERM but node may linger afterwards (timers): wait for its
    # "successfully closed" line, then a second SIGTERM ends it (its handler only runs once).
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      tail -c +"$((size + 1))" "$log" 2>/dev/null | grep -q 'successfully closed' && break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 20; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
  return 0
}
