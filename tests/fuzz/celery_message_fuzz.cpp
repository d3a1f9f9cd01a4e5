// The Celery protocol-v2 decoder of the celery+redis store (store/celery/wire.cpp): any bytes
// popped from a Celery queue list, and any bytes read back as a result meta. Bad input is a
// DataLoss error (the store keeps such a message in its dead-letter list); what decodes is
// usable: its arguments are a JSON array and object, it binds, it can be sent on (canvas,
// retry), and a retry message decodes to the same task one retry later.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_target.hpp"
#if RUNQ_WITH_REDIS
#include "store/celery/wire.hpp"
#endif

namespace {

#if RUNQ_WITH_REDIS
bool is_json(const std::string& text, bool array) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !j.is_discarded() && (array ? j.is_array() : j.is_object());
}

void check_message(std::string_view raw) {
  namespace celery = runq::internal::celery;
  runq::Result<celery::Message> m = celery::decode_message(raw);
  if (!m.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_data_loss(m.status()));
    return;
  }
  RUNQ_FUZZ_CHECK(!m->id.empty());
  RUNQ_FUZZ_CHECK(!m->task.empty());
  RUNQ_FUZZ_CHECK(is_json(m->args, /*array=*/true));
  RUNQ_FUZZ_CHECK(is_json(m->kwargs, /*array=*/false));
  RUNQ_FUZZ_CHECK(is_json(m->embed, /*array=*/false));
  RUNQ_FUZZ_CHECK(m->retries >= 0);

  runq::Result<std::string> args = celery::bind_arguments(*m, {});
  if (args.ok()) RUNQ_FUZZ_CHECK(is_json(*args, /*array=*/true));
  std::vector<std::string> errors;
  (void)celery::on_success(*m, "1", &errors);
  (void)celery::on_failure(*m, &errors);
  (void)celery::chord_body(*m);

  runq::Result<celery::Message> again = celery::decode_message(celery::retry_message(*m, 1000));
  RUNQ_FUZZ_CHECK(again.ok());
  RUNQ_FUZZ_CHECK(again->id == m->id && again->task == m->task);
  RUNQ_FUZZ_CHECK(again->retries == m->retries + 1);
  RUNQ_FUZZ_CHECK(nlohmann::json::parse(again->args) == nlohmann::json::parse(m->args));
}

void check_meta(std::string_view text) {
  runq::Result<runq::internal::celery::MetaView> v = runq::internal::celery::decode_meta(text);
  if (!v.ok())
    RUNQ_FUZZ_CHECK(runq::is_data_loss(v.status()) || runq::is_invalid_argument(v.status()));
}
#endif

}  // namespace

RUNQ_FUZZ_TARGET(celery_message) {
#if RUNQ_WITH_REDIS
  const std::string_view text = runq::fuzz::as_text(data, size);
  check_message(text);
  check_meta(text);
  const std::string bytes(text);
  std::optional<std::string> back =
      runq::internal::celery::base64_decode(runq::internal::celery::base64_encode(bytes));
  RUNQ_FUZZ_CHECK(back && *back == bytes);
#else
  (void)data;
  (void)size;
#endif
  return 0;
}
