#include "store/redis/scripts.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "store/redis/connection.hpp"

namespace runq::internal {
namespace {

// The code without its whole-line comments: smaller to send (Redis also refuses arguments
// over 16 KB from a client that has not authenticated yet).
std::string without_comment_lines(std::string_view src) {
  std::string out;
  out.reserve(src.size());
  while (!src.empty()) {
    std::size_t end = src.find('\n');
    std::string_view line = src.substr(0, end == std::string_view::npos ? src.size() : end + 1);
    src.remove_prefix(line.size());
    std::size_t code = line.find_first_not_of(" \t");
    if (code == std::string_view::npos || line.substr(code, 2) != "--") out += line;
  }
  return out;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

FunctionLibrary build_function_library() {
  // Placeholder for the library name in function names, filled in once the code is hashed.
  constexpr std::string_view kName = "@LIB@";
  std::string code = without_comment_lines(embedded::redis_scripts_common);
  code += without_comment_lines(embedded::redis_scripts_workflow_lib);
  code += without_comment_lines(embedded::redis_scripts_flow_lib);
  for (int i = 0; i < static_cast<int>(Script::kCount); ++i) {
    code += "redis.register_function('" + std::string(kName) + "_" + std::string(kScriptNames[i]) +
            "', function(KEYS, ARGV)\nenter(ARGV)\n" + without_comment_lines(kScriptBodies[i]) +
            "\nend)\n";
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(code)));
  FunctionLibrary lib;
  lib.name = "runq_" + std::string(hex);
  for (std::size_t at = code.find(kName); at != std::string::npos; at = code.find(kName, at)) {
    code.replace(at, kName.size(), lib.name);
  }
  lib.source = "#!lua name=" + lib.name + "\n" + code;
  return lib;
}

}  // namespace

const FunctionLibrary& function_library() {
  static const FunctionLibrary lib = build_function_library();
  return lib;
}

bool is_function_missing(const redisReply* r) {
  return is_error_reply(r, "ERR Function not found") || is_error_reply(r, "NOSCRIPT");
}

bool Backoff::wait() {
  if (!enabled_ || std::chrono::steady_clock::now() + delay_ > give_up_) return false;
  std::this_thread::sleep_for(delay_);  // the server is down or loading: back off
  delay_ = std::min(delay_ * 2, std::chrono::milliseconds(500));
  return true;
}

bool refused_for_now(const redisReply* r) {
  for (std::string_view prefix : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"}) {
    if (is_error_reply(r, prefix)) return true;
  }
  return false;
}

}  // namespace runq::internal
