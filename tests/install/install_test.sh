#!/usr/bin/env bash
# Installs the build into a temporary prefix, then configures, builds and runs an outside
# project that does find_package(runq CONFIG REQUIRED) + target_link_libraries(runq::runq).
set -euo pipefail
build_dir=$1
src_dir=$(cd "$(dirname "$0")" && pwd)/consumer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src_dir" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib:$tmp/prefix/lib64:$tmp/prefix/lib/x86_64-linux-gnu" "$tmp/build/consumer"
test -x "$tmp/prefix/bin/runq"
echo "install_test: ok"
