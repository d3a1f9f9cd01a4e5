// fuzz_regress TARGET DIR...: runs fuzz target TARGET (fuzz_target.hpp) on every file of the
// given directories, as a libFuzzer binary does when given files. A missing directory counts
// as empty (a target may have no regression inputs yet). Exits 0 when every input passed; a
// broken invariant aborts, and ASan/UBSan report what they find, like any test.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace {

using Target = int (*)(const std::uint8_t*, std::size_t);

struct NamedTarget {
  std::string_view name;
  Target run;
};

constexpr NamedTarget kTargets[] = {
    {"message", runq::fuzz::message},
    {"result_record", runq::fuzz::result_record},
    {"cron", runq::fuzz::cron},
    {"duration", runq::fuzz::duration},
    {"store_url", runq::fuzz::store_url},
    {"http", runq::fuzz::http},
    {"celery_message", runq::fuzz::celery_message},
};

Target find_target(std::string_view name) {
  for (const NamedTarget& t : kTargets)
    if (t.name == name) return t.run;
  return nullptr;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The regular files under `dir`, sorted so that runs are repeatable.
std::vector<std::filesystem::path> inputs_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  Target target = argc >= 2 ? find_target(argv[1]) : nullptr;
  if (target == nullptr) {
    std::fprintf(stderr,
                 "usage: fuzz_regress TARGET DIR...  (TARGET: message, result_record, "
                 "cron, duration, store_url, http, celery_message)\n");
    return 2;
  }
  std::size_t runs = 0;
  for (int i = 2; i < argc; ++i) {
    for (const auto& path : inputs_in(argv[i])) {
      const std::string data = read_file(path);
      std::fprintf(stderr, "%s\n", path.c_str());
      target(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
      ++runs;
    }
  }
  std::printf("fuzz_regress %s: %zu inputs passed\n", argv[1], runs);
  return runs > 0 ? 0 : 1;  // no input at all means the corpus went missing
}
