# shellcheck shell=bash
# Sourced by bench/compare/run-compare-pg: a private PostgreSQL (initdb into a temp dir, then
# postgres on a free 127.0.0.1 port), never a fixed port and never a system cluster. As root,
# initdb and postgres run as the `postgres` user (they refuse root). Durable settings
# (fsync and synchronous_commit on, the defaults); PG_SETTINGS adds "-c name=value" options.
#
#   start_temp_pg DIR   sets PG_PORT, PG_PID and PG_URL (postgresql://runq@127.0.0.1:PORT/postgres)
#   stop_temp_pg        stops it (SIGINT: fast shutdown, then SIGKILL)
#   pg_sql SQL          runs SQL as the superuser, prints unaligned rows

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

_pg_as_owner() {  # runs a command as the postgres user when root
  if [ "$(id -u)" = 0 ]; then setpriv --reuid postgres --regid postgres --clear-groups -- "$@"; else "$@"; fi
}

start_temp_pg() {
  local dir=$1 port
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL is not installed (scripts/install-deps)" >&2; return 1; }
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  _pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U runq --auth=trust -E UTF8 --locale=C \
    --no-instructions >"$dir/initdb.log" 2>&1 || { echo "initdb failed (see $dir/initdb.log)" >&2; return 1; }
  for _ in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    local as_owner=()
    [ "$(id -u)" = 0 ] && as_owner=(setpriv --reuid postgres --regid postgres --clear-groups --)
    # Started directly (setpriv execs), so that $! is the postmaster's own pid.
    # shellcheck disable=SC2086
    "${as_owner[@]}" "$PG_BIN/postgres" -D "$dir/data" -p "$port" -c listen_addresses=127.0.0.1 \
      -c unix_socket_directories="$dir" -c max_connections=200 -c shared_buffers=256MB \
      ${PG_SETTINGS:-} >"$dir/postgres.log" 2>&1 &
    PG_PID=$!
    for _ in $(seq 1 200); do
      if ! kill -0 "$PG_PID" 2>/dev/null; then break; fi
      if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        PG_PORT=$port
        PG_URL="postgresql://runq@127.0.0.1:$port/postgres"
        return 0
      fi
      sleep 0.05
    done
    kill -9 "$PG_PID" 2>/dev/null; wait "$PG_PID" 2>/dev/null
  done
  echo "could not start postgres on a free port (see $dir/postgres.log)" >&2
  return 1
}

stop_temp_pg() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PG_PID" 2>/dev/null || true
  wait "$PG_PID" 2>/dev/null || true
  PG_PID=
}

pg_sql() { "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U runq -d postgres -c "$1"; }
