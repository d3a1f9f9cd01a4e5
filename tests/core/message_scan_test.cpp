// The fast decoders of task messages and result records (core/message_scan.cpp) against the
// general decoder: the same result for every input, and the fast path actually taken for what
// encode_message and encode_result write.
#include "core/message_scan.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/message.hpp"

namespace runq::internal {
namespace {

using nlohmann::json;

TaskMessage full_message() {
  TaskMessage m;
  m.id = "01J8ZQ-abc";
  m.name = "reports.build";
  m.args = R"([42,"two ] words",{"k":[1,{"x":"}"}]},-7,3.5,null,true,"q\"uote"])";
  m.queue = "reports";
  m.priority = 9;
  m.created = 1'700'000'000'123;
  m.eta = 1'700'000'060'000;
  m.expires = 1'700'000'900'000;
  m.attempt = 3;
  m.max_retries = 5;
  m.ignore_result = true;
  m.result_ttl = 3'600'000;
  m.schedule = "nightly";
  return m;
}

// Decodes with the worker's entry point and with the general decoder, and checks that both
// agree: the same status code, and on success the same fields and arguments.
void expect_same_decoding(std::string_view body) {
  SCOPED_TRACE(std::string(body));
  json fast_args;
  Result<TaskMessage> fast = decode_message(body, &fast_args);
  Result<TaskMessage> general = decode_message(body);  // no args out: the general decoder only
  ASSERT_EQ(fast.ok(), general.ok())
      << fast.status().to_string() << " / " << general.status().to_string();
  if (!fast.ok()) {
    EXPECT_EQ(fast.status().code(), general.status().code());
    return;
  }
  EXPECT_EQ(fast->id, general->id);
  EXPECT_EQ(fast->name, general->name);
  EXPECT_EQ(fast_args, json::parse(general->args));
  EXPECT_EQ(fast->queue, general->queue);
  EXPECT_EQ(fast->priority, general->priority);
  EXPECT_EQ(fast->created, general->created);
  EXPECT_EQ(fast->eta, general->eta);
  EXPECT_EQ(fast->expires, general->expires);
  EXPECT_EQ(fast->attempt, general->attempt);
  EXPECT_EQ(fast->max_retries, general->max_retries);
  EXPECT_EQ(fast->ignore_result, general->ignore_result);
  EXPECT_EQ(fast->result_ttl, general->result_ttl);
  EXPECT_EQ(fast->schedule, general->schedule);
  EXPECT_EQ(fast->errors.size(), general->errors.size());
}

TEST(MessageScan, ReadsWhatEncodeMessageWrites) {
  TaskMessage m = full_message();
  TaskMessage out;
  json args;
  ASSERT_TRUE(scan_message(encode_message(m), &out, &args));
  EXPECT_EQ(out.id, m.id);
  EXPECT_EQ(out.name, m.name);
  EXPECT_EQ(args, json::parse(m.args));
  EXPECT_EQ(out.queue, "reports");
  EXPECT_EQ(out.priority, 9);
  EXPECT_EQ(out.eta, m.eta);
  EXPECT_EQ(out.expires, m.expires);
  EXPECT_EQ(out.attempt, 3);
  EXPECT_EQ(out.max_retries, 5);
  EXPECT_TRUE(out.ignore_result);
  EXPECT_EQ(out.result_ttl, 3'600'000);
  EXPECT_EQ(out.schedule, "nightly");

  TaskMessage minimal;
  minimal.id = "a";
  minimal.name = "t";
  ASSERT_TRUE(scan_message(encode_message(minimal), &out, &args));
  EXPECT_EQ(out.queue, std::string(kDefaultQueue));
  EXPECT_EQ(out.max_retries, -1);
  EXPECT_EQ(out.result_ttl, 86'400'000);
  EXPECT_EQ(args, json::array());
}

TEST(MessageScan, LeavesEverythingElseToTheGeneralDecoder) {
  TaskMessage out;
  json args;
  TaskMessage retried = full_message();
  retried.errors.push_back({1, "std::runtime_error", "boom", 5});
  EXPECT_FALSE(scan_message(encode_message(retried), &out, &args));  // errors
  TaskMessage unicode = full_message();
  unicode.name = "rapport.généré";
  EXPECT_FALSE(scan_message(encode_message(unicode), &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a\"b","task":"t","args":[]})", &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a","task":"t","args":[],"priority":1.0})", &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a","task":"t","args":[],"id":"b"})", &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a","task":"t","args":[],"extra":1})", &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a","task":"t","args":[],"queue":null})", &out, &args));
  EXPECT_FALSE(scan_message(R"({"id":"a","task":"t"})", &out, &args));
}

TEST(MessageScan, AgreesWithTheGeneralDecoderOnEveryInput) {
  TaskMessage retried = full_message();
  retried.errors.push_back({1, "std::runtime_error", "boom", 5});
  TaskMessage unicode = full_message();
  unicode.name = "rapport.généré";
  TaskMessage minimal;
  minimal.id = "a";
  minimal.name = "t";
  const std::string full = encode_message(full_message());
  const std::vector<std::string> bodies = {
      full,
      encode_message(minimal),
      encode_message(retried),
      encode_message(unicode),
      " { \"id\" : \"a\" ,\n\"task\":\"t\", \"args\" : [ 1 , 2 ] } ",
      R"({"id":"a","task":"t","args":[],"priority":-3,"attempt":0})",
      R"({"id":"a","task":"t","args":[],"priority":2147483648})",
      R"({"id":"a","task":"t","args":[],"created":9223372036854775808})",
      R"({"id":"a","task":"t","args":[],"created":01})",
      R"({"id":"a","task":"t","args":[],"priority":1.0})",
      R"({"id":"a","task":"t","args":[],"priority":"1"})",
      R"({"id":"a","task":"t","args":[],"ignore_result":1})",
      R"({"id":"a","task":"t","args":[],"id":"b"})",
      R"({"id":"a","task":"t","args":[],"queue":null,"extra":{"x":[1]}})",
      R"({"id":"a\u0041","task":"t","args":["\u00e9"]})",
      R"({"id":"a","task":"t","args":{}})",
      R"({"id":"a","task":"t","args":[1}})",
      R"({"id":"a","task":"t","args":["]"]})",
      R"({"id":"a","task":"t","args":[]} trailing)",
      R"({"id":"a","task":"t","args":[],})",
      R"({"id":1,"task":"t","args":[]})",
      R"({"task":"t","args":[]})",
      R"({})",
      R"([])",
      "",
      "\x01\x02",
      "{\"id\":\"a\",\"task\":\"t\",\"args\":[\"\xff\"]}",
  };
  for (const std::string& body : bodies) expect_same_decoding(body);
  for (std::size_t cut = 0; cut < full.size(); cut += 7) expect_same_decoding(full.substr(0, cut));
}

// Found by tests/fuzz (regressions/message, regressions/result_record): a float out of an
// integer field's range was converted with undefined behaviour.
TEST(MessageDecode, NumberOutOfItsFieldsRangeIsDataLoss) {
  for (const char* body : {R"({"id":"a","task":"t","args":[],"priority":1e300})",
                           R"({"id":"a","task":"t","args":[],"created":-1e19})",
                           R"({"id":"a","task":"t","args":[],"attempt":2147483648})"}) {
    SCOPED_TRACE(body);
    json args;
    EXPECT_EQ(decode_message(body).status().code(), StatusCode::kDataLoss);
    EXPECT_EQ(decode_message(body, &args).status().code(), StatusCode::kDataLoss);
  }
  EXPECT_EQ(
      decode_result(R"({"id":"a","task":"t","state":"success","attempts":1e300})").status().code(),
      StatusCode::kDataLoss);
}

void expect_same_result(std::string_view text) {
  SCOPED_TRACE(std::string(text));
  Result<ResultRecord> fast = decode_result(text);
  Result<ResultRecord> general = decode_result_dom(text);
  ASSERT_EQ(fast.ok(), general.ok());
  if (!fast.ok()) {
    EXPECT_EQ(fast.status().code(), general.status().code());
    return;
  }
  EXPECT_EQ(fast->id, general->id);
  EXPECT_EQ(fast->task, general->task);
  EXPECT_EQ(fast->queue, general->queue);
  EXPECT_EQ(fast->state, general->state);
  EXPECT_EQ(fast->value, general->value);
  EXPECT_EQ(fast->error_type, general->error_type);
  EXPECT_EQ(fast->error, general->error);
  EXPECT_EQ(fast->errors.size(), general->errors.size());
  EXPECT_EQ(fast->attempts, general->attempts);
  EXPECT_EQ(fast->enqueued, general->enqueued);
  EXPECT_EQ(fast->started, general->started);
  EXPECT_EQ(fast->finished, general->finished);
  EXPECT_EQ(fast->next_run, general->next_run);
  EXPECT_EQ(fast->worker, general->worker);
  EXPECT_EQ(fast->workflow, general->workflow);
}

TEST(ResultScan, ReadsWhatEncodeResultWrites) {
  ResultRecord r;
  r.id = "01J8ZQ-abc-17";
  r.task = "reports.build";
  r.queue = "reports";
  r.state = TaskState::kFailure;
  r.value = R"({"k":[1,{"x":"}"}],"n":-7})";
  r.error_type = "std::runtime_error";
  r.error = "disk full";
  r.workflow = R"({"parents":["a"],"pass":true})";
  r.attempts = 3;
  r.enqueued = 1'700'000'000'123;
  r.started = 1'700'000'000'200;
  r.finished = 1'700'000'000'300;
  r.next_run = 1'700'000'060'000;
  r.worker = "host-1:42";
  ResultRecord out;

  ASSERT_TRUE(scan_result(encode_result(r), &out));

  EXPECT_EQ(out.id, r.id);
  EXPECT_EQ(out.queue, "reports");
  EXPECT_EQ(out.state, TaskState::kFailure);
  EXPECT_EQ(out.value, r.value);
  EXPECT_EQ(out.error, r.error);
  EXPECT_EQ(out.workflow, r.workflow);
  EXPECT_EQ(out.attempts, 3);
  EXPECT_EQ(out.next_run, r.next_run);
  EXPECT_EQ(out.worker, r.worker);
  expect_same_result(encode_result(r));
}

TEST(ResultScan, LeavesEverythingElseToTheGeneralDecoder) {
  ResultRecord out;
  EXPECT_FALSE(scan_result(R"({"state":"success","errors":[]})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","error":"a\"b"})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","state":"failure"})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","extra":1})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","attempts":1.0})", &out));
  EXPECT_FALSE(scan_result(R"({"id":"x"})", &out));  // no state
  EXPECT_FALSE(scan_result(R"({"state":"nope"})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","queue":"a","queue":"b"})", &out));
  EXPECT_FALSE(scan_result(R"({"state":"success","queue":7})", &out));
}

TEST(ResultScan, RecordWithoutQueueDecodesWithAnEmptyOne) {
  ResultRecord r;
  r.state = TaskState::kSuccess;
  const std::string text = encode_result(r);
  EXPECT_EQ(text.find("\"queue\""), std::string::npos);
  ResultRecord out;
  ASSERT_TRUE(scan_result(R"({"id":"x","state":"success"})", &out));
  EXPECT_EQ(out.queue, "");
  expect_same_result(text);
}

TEST(ResultScan, AgreesWithTheGeneralDecoderOnEveryInput) {
  for (std::string_view text : {
           R"({"state":"success","value":42})",
           R"({"state":"success","value":-0})",
           R"({"state":"success","value":007})",
           R"({"state":"success","value":12345678901234567890})",
           R"({"state":"success","value":1e3})",
           R"({"state":"success","value":"caf\u00e9"})",
           R"({"state":"success","value":"plain"})",
           R"({"state":"success","value":null})",
           R"({"state":"success","value":[1, 2,{"a" : "b"}]})",
           R"({"state":"success","value":truex})",
           R"({"state":"success","value":[1,2})",
           R"({"state":"success","value":"unterminated})",
           R"({"state":"success","workflow":[1]})",
           R"({"state":"success","workflow":{"a":1}})",
           R"({"state":"success","attempts":99999999999})",
           R"({"state":"success","attempts":null})",
           R"({"state":"success","queue":"emails"})",
           R"({"state":"success","queue":"caf\u00e9"})",
           R"({"state":"success","queue":null})",
           R"({"state":"success","queue":["q"]})",
           R"({"state":"success","errors":[{"attempt":1,"type":"E","message":"m","at":5}]})",
           R"( { "state" : "retry" , "next_run" : 5 } )",
           R"({"state":"success"} trailing)",
           R"({})",
           R"([])",
           "",
       }) {
    expect_same_result(text);
  }
}

}  // namespace
}  // namespace runq::internal
