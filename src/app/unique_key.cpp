// Unique jobs on the producer side: which key a call takes (app/internal/unique_key.hpp).
#include "app/internal/unique_key.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace runq::internal {
namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

}  // namespace

Result<std::string> default_unique_key(std::string_view name, std::string_view args_json) {
  nlohmann::json args = nlohmann::json::parse(args_json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) {
    return invalid_argument_error("building the unique key of task '" + std::string(name) +
                                  "': the arguments are not valid JSON");
  }
  return std::string(name) + ":" + sha256_hex(args.dump());
}

Result<UniqueOptions> unique_options(std::string_view name, std::string_view args_json,
                                     const TaskOptions& topts, const EnqueueOptions& opts) {
  UniqueOptions u;
  const auto what = [&] { return "enqueueing task '" + std::string(name) + "'"; };
  if (!opts.unique_key() && !topts.unique()) {
    if (opts.unique_for() || opts.unique_until()) {
      return invalid_argument_error(what() +
                                    ": unique_for and unique_until need a unique_key (or a task "
                                    "registered with TaskOptions::unique)");
    }
    return u;
  }
  if (opts.unique_key()) {
    if (opts.unique_key()->empty()) {
      return invalid_argument_error(what() + ": the unique key is empty");
    }
    u.key = *opts.unique_key();
  } else {
    RUNQ_ASSIGN_OR_RETURN(u.key, default_unique_key(name, args_json));
  }
  u.for_ms = opts.unique_for().value_or(topts.unique_for());
  u.until_start = opts.unique_until().value_or(topts.unique_until()) == UniqueUntil::kStart;
  return u;
}

}  // namespace runq::internal
