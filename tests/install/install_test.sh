#!/usr/bin/env bash
# install_test.sh BUILD_DIR [CXX]
# Installs BUILD_DIR into a temporary prefix, then, in a clean environment (no
# LD_LIBRARY_PATH, no PKG_CONFIG_PATH from the caller):
#  - runs the installed `runq` (--help, enqueue, status, result on a SQLite file) and the
#    installed `runq-bench` on a tiny workload;
#  - builds and runs an outside CMake project (find_package(runq) + runq::runq);
#  - builds and runs a pkg-config consumer (g++ $(pkg-config --cflags --libs runq)).
# Works for a shared librunq (the binaries find it through their RUNPATH) and a static one
# (the consumers link its private dependencies through runqConfig.cmake / runq.pc).
set -euo pipefail
build_dir=$(cd "$1" && pwd)
cxx=${2:-c++}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() {
  echo "install_test: FAIL: $*" >&2
  exit 1
}
# Runs a command with nothing inherited from the caller's environment.
clean() { env -i PATH=/usr/bin:/bin HOME="$tmp" "$@"; }

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name 'librunq.*' -printf '%h\n' | head -n1)
[ -n "$libdir" ] || fail "no librunq installed under $prefix"
static=0
[ -e "$libdir/librunq.a" ] && static=1

# ---- the installed tools ---------------------------------------------------------------
runq=$prefix/bin/runq
if [ $static = 0 ]; then
  readelf -d "$runq" | grep -q 'RUNPATH.*\$ORIGIN/\.\./' || fail "installed runq has no \$ORIGIN RUNPATH"
fi
clean "$runq" --help >"$tmp/help.txt" || fail "installed runq --help did not run"
grep -q enqueue "$tmp/help.txt" || fail "runq --help does not list enqueue"

store=sqlite:$tmp/x.db
clean "$runq" --store "$store" enqueue thumbnail --args '[42]' --id install-test-1 >/dev/null ||
  fail "installed runq enqueue failed"
# `result` exits 3 while the task is not final, as here: the JSON is what is checked.
clean "$runq" --store "$store" result install-test-1 --json >"$tmp/result.json" || true
grep -q '"state":"pending"' "$tmp/result.json" ||
  fail "enqueued task is not pending: $(cat "$tmp/result.json")"
clean "$runq" --store "$store" status --json --sample 0 >"$tmp/status.json" ||
  fail "installed runq status failed"
grep -q '"pending":1,"queue":"default"' "$tmp/status.json" || fail "status does not show the default queue: $(cat "$tmp/status.json")"

if [ -x "$prefix/bin/runq-bench" ]; then
  clean "$prefix/bin/runq-bench" --store "sqlite:$tmp/bench.db" --workload w2 --tasks 200 \
    --threads 2 --json >"$tmp/bench.txt" 2>/dev/null || fail "installed runq-bench failed"
  tail -n1 "$tmp/bench.txt" | grep -q '"tasks_per_s"' ||
    fail "runq-bench did not report tasks_per_s: $(tail -n3 "$tmp/bench.txt")"
fi

# ---- a CMake consumer: find_package(runq CONFIG REQUIRED) -------------------------------
clean cmake -S "$here/consumer" -B "$tmp/cmake-consumer" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer configure"; }
clean cmake --build "$tmp/cmake-consumer" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer build"; }
clean "$tmp/cmake-consumer/consumer" || fail "the find_package consumer did not run"

# ---- a pkg-config consumer ---------------------------------------------------------------
pc() { clean PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config "$@" runq; }
pc_libs=$(if [ $static = 1 ]; then pc --libs --static; else pc --libs; fi)
# A shared librunq outside the system paths needs an rpath (or LD_LIBRARY_PATH), as for any
# library; the test gives the rpath so the binary runs in the clean environment.
rpath="-Wl,-rpath,$(pc --variable=libdir)"
# shellcheck disable=SC2046,SC2086
clean "$cxx" $(pc --cflags) "$here/consumer/main.cpp" -o "$tmp/pc-consumer" $pc_libs $rpath ||
  fail "the pkg-config consumer did not build"
clean "$tmp/pc-consumer" || fail "the pkg-config consumer did not run"

echo "install_test: ok ($([ $static = 1 ] && echo static || echo shared) librunq)"
