#include "chaos/run_setup.hpp"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "chaos/store_under_test.hpp"
#include "support/redis_server.hpp"

namespace runq::chaos {

void add_cluster_options(CLI::App& cli, std::string& store, int& workers, int& concurrency,
                         std::string& app_binary) {
  cli.add_option("--store", store, "Store kind: " + store_kinds())->capture_default_str();
  cli.add_option("--workers", workers, "Worker processes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--concurrency", concurrency, "Executor threads per worker")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cli.add_option("--app", app_binary, "The runq_test_app binary")->capture_default_str();
}

std::string prepare_run_dir(const std::string& tool, const std::string& store) {
  if (!make_store_under_test(store, std::filesystem::temp_directory_path().string())) {
    std::fprintf(stderr, "%s: --store: unknown kind '%s' (one of: %s)\n", tool.c_str(),
                 store.c_str(), store_kinds().c_str());
    return "";
  }
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("runq-" + tool + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror((tool + ": mkdtemp").c_str());
    return "";
  }
  return tmpl;
}

int exit_not_installed(const std::string& tool, const std::string& why) {
  std::printf("%s: %s\n", tool.c_str(), why.c_str());
  return runq::testing::running_under_ci() ? 1 : 77;
}

}  // namespace runq::chaos
