// The fuzz targets (one file each in tests/fuzz/) and how they are built.
//
// Each target is written once as RUNQ_FUZZ_TARGET(name) { ... } over (data, size). Built as a
// libFuzzer binary (-DRUNQ_FUZZ=ON, clang), the file defines LLVMFuzzerTestOneInput. In every
// other build the file defines runq::fuzz::name(), and the one `fuzz_regress` driver runs the
// target selected by argv[1] over the seed corpus and the regression inputs (ctest).
//
// A target returns 0; it reports a broken invariant with RUNQ_FUZZ_CHECK, which prints the
// condition and aborts (libFuzzer then saves the input as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#if defined(RUNQ_FUZZ_LIBFUZZER)
#define RUNQ_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#else
#define RUNQ_FUZZ_TARGET(name) int runq::fuzz::name(const std::uint8_t* data, std::size_t size)
#endif

#define RUNQ_FUZZ_CHECK(cond)                                                                \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace runq::fuzz {

// The input as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Every target, in the order tests/fuzz/CMakeLists.txt lists them.
int message(const std::uint8_t* data, std::size_t size);
int result_record(const std::uint8_t* data, std::size_t size);
int cron(const std::uint8_t* data, std::size_t size);
int duration(const std::uint8_t* data, std::size_t size);
int store_url(const std::uint8_t* data, std::size_t size);
int http(const std::uint8_t* data, std::size_t size);
int celery_message(const std::uint8_t* data, std::size_t size);

}  // namespace runq::fuzz
