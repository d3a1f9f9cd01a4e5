# The two quick-start commands: `make run` and `make test`.
BUILD         ?= build
ASAN_BUILD    ?= build-asan
RELEASE_BUILD ?= build-release
CLANG_BUILD   ?= build-clang
FUZZ_BUILD    ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_RUNS     ?= 0
CHAOS_TASKS   ?= 100000
CHAOS_STORES  ?= redis sqlite
SOAK_SECONDS  ?= 3600
SOAK_STORE    ?= redis
CLANG_CXX     ?= clang++-14
JOBS          ?= $(shell nproc)
CMAKE_ARGS    ?=
# The project's own builds treat warnings as errors (a packager's build does not).
DEV_ARGS      := -DRUNQ_WERROR=ON
# ccache (when installed) shares compiled objects between checkouts of this tree: paths are
# hashed relative to it, and not the build directory (only debug info's paths differ).
export CCACHE_BASEDIR   ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: deps build run test test-fast test-asan test-release test-clang bench bench-defaults bench-compare bench-compare-pg \
        install format tidy clean fuzz chaos soak

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(DEV_ARGS) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# Runs the main example on the embedded SQLite store (Ctrl-C to stop).
run: build
	$(BUILD)/examples/webapp_tasks

# Every test: the normal build (shared librunq), the sanitizer (ASan+UBSan) build, a
# Release build with a static librunq, and a clang build of the library and tools.
# The clang build (a compile check, no tests) goes first so that the run ends on a test summary.
test: build
	$(MAKE) test-clang
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) test-release

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRUNQ_SANITIZE=ON \
	  -DRUNQ_BUILD_BENCHMARKS=OFF -DRUNQ_BUILD_EXAMPLES=OFF $(DEV_ARGS) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE no-asan

# What packagers build: Release, static librunq. Builds the library, the installed tools
# and the unit tests, then runs the unit tests and the install test (installed tools and
# both kinds of consumer).
test-release: deps
	cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
	  -DRUNQ_BUILD_EXAMPLES=OFF $(DEV_ARGS) $(CMAKE_ARGS)
	cmake --build $(RELEASE_BUILD) -j $(JOBS) --target runq_tool runq_bench unit_tests
	cd $(RELEASE_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|install'

# Clang: the library and the installed tools, warnings as errors (-Wthread-safety included).
test-clang: deps
	CXX=$(CLANG_CXX) cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DRUNQ_BUILD_TESTS=OFF -DRUNQ_BUILD_EXAMPLES=OFF $(DEV_ARGS) $(CMAKE_ARGS)
	cmake --build $(CLANG_BUILD) -j $(JOBS) --target runq_tool runq_bench

# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for FUZZ_SECONDS (or until
# FUZZ_RUNS executions, when set) on a copy of its seed corpus. New crash inputs are kept in $(FUZZ_BUILD)/crashes/<target>/; the
# fuzzers' last lines go to $(FUZZ_BUILD)/logs/ (docs/reliability.md, "Fuzzing").
fuzz: deps
	CXX=$(CLANG_CXX) cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNQ_FUZZ=ON \
	  -DRUNQ_BUILD_BENCHMARKS=OFF -DRUNQ_BUILD_EXAMPLES=OFF -DRUNQ_INSTALL=OFF $(DEV_ARGS) $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	scripts/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_RUNS)

# Random kills of workers, beats and the store under load, on each store kind; prints one
# summary line per store and fails on any lost task (docs/reliability.md, "Chaos").
chaos: build
	@for s in $(CHAOS_STORES); do \
	  $(BUILD)/tests/chaos/runq_chaos --store $$s --tasks $(CHAOS_TASKS) || exit 1; \
	done

# A steady load at half the measured maximum for SOAK_SECONDS (1 hour by default): samples
# to docs/img/soak-$(SOAK_STORE).csv, plotted to docs/img/soak-$(SOAK_STORE).png (gnuplot);
# fails when memory, fds or the queue grow past their bounds (docs/reliability.md, "Soak").
soak: build
	$(BUILD)/tests/chaos/runq_soak --store $(SOAK_STORE) --seconds $(SOAK_SECONDS) \
	  --csv docs/img/soak-$(SOAK_STORE).csv; rc=$$?; \
	gnuplot -e "csv='docs/img/soak-$(SOAK_STORE).csv'; png='docs/img/soak-$(SOAK_STORE).png'; \
	  title='runq soak: $(SOAK_STORE), $(SOAK_SECONDS) s'" tests/chaos/soak_plot.gp; exit $$rc

bench: build
	scripts/bench-standard $(BUILD)

# Fails when the worker's default options drain far slower than a tuned fixed prefetch.
bench-defaults: build
	scripts/bench-defaults $(BUILD)

bench-compare: build
	bench/compare/run-compare $(BUILD)

# runq's postgres:// store vs Graphile Worker and pg-boss on one private PostgreSQL.
bench-compare-pg: build
	bench/compare/run-compare-pg $(BUILD)

install: build
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy: build
	clang-tidy -p $(BUILD) $$(git ls-files 'src/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RELEASE_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
