// The result record decoder: bad input is a DataLoss error, a record that decodes re-encodes
// to the same record, and the fast path (scan_result) agrees with the general decoder.
#include "core/message.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

using runq::internal::ResultRecord;

bool same_record(const ResultRecord& a, const ResultRecord& b) {
  return a.id == b.id && a.task == b.task && a.queue == b.queue && a.state == b.state &&
         a.value == b.value && a.error_type == b.error_type && a.error == b.error &&
         a.errors == b.errors && a.attempts == b.attempts && a.enqueued == b.enqueued &&
         a.started == b.started && a.finished == b.finished && a.next_run == b.next_run &&
         a.worker == b.worker && a.workflow == b.workflow;
}

}  // namespace

RUNQ_FUZZ_TARGET(result_record) {
  const std::string_view text = runq::fuzz::as_text(data, size);
  runq::Result<ResultRecord> record = runq::internal::decode_result(text);
  runq::Result<ResultRecord> general = runq::internal::decode_result_dom(text);
  RUNQ_FUZZ_CHECK(record.ok() == general.ok());
  if (!record.ok()) {
    RUNQ_FUZZ_CHECK(runq::is_data_loss(record.status()));
    return 0;
  }
  RUNQ_FUZZ_CHECK(same_record(*record, *general));
  runq::Result<ResultRecord> again =
      runq::internal::decode_result(runq::internal::encode_result(*record));
  RUNQ_FUZZ_CHECK(again.ok());
  RUNQ_FUZZ_CHECK(same_record(*again, *record));
  return 0;
}
