# shellcheck shell=bash
# Sourced by scripts/bench-standard and bench/compare/run-compare: a private redis-server on a
# free 127.0.0.1 port in a temp dir, never a fixed port and never an already running server.
#
#   start_temp_redis DIR   sets REDIS_PORT and REDIS_PID (returns non-zero if it cannot start)
#   stop_temp_redis        stops it (SIGTERM, then SIGKILL)
#   redis_cmd ARGS...      runs one command on it

start_temp_redis() {
  local dir=$1 port
  command -v redis-server >/dev/null || { echo "redis-server is not installed (scripts/install-deps)" >&2; return 1; }
  for _ in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    # A port something already listens on is skipped; redis-server also fails on a race.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      --daemonize no --logfile "$dir/redis.log" --protected-mode yes >/dev/null 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
      if ! kill -0 "$REDIS_PID" 2>/dev/null; then break; fi
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
        REDIS_PORT=$port
        return 0
      fi
      sleep 0.05
    done
    kill -9 "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null
  done
  echo "could not start redis-server on a free port (see $dir/redis.log)" >&2
  return 1
}

stop_temp_redis() {
  [ -n "${REDIS_PID:-}" ] || return 0
  kill "$REDIS_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
}

redis_cmd() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
