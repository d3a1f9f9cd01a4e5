#include "core/duration.hpp"

#include <gtest/gtest.h>

#include "core/message.hpp"

namespace runq::internal {
namespace {

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(*parse_duration("250ms"), 250);
  EXPECT_EQ(*parse_duration("10s"), 10'000);
  EXPECT_EQ(*parse_duration("5m"), 300'000);
  EXPECT_EQ(*parse_duration("2h"), 7'200'000);
  EXPECT_EQ(*parse_duration("1d"), 86'400'000);
  EXPECT_EQ(*parse_duration("1h30m"), 5'400'000);
  EXPECT_EQ(*parse_duration("30"), 30'000);
}

TEST(Duration, RejectsGarbageAndHugeValues) {
  EXPECT_TRUE(is_invalid_argument(parse_duration("").status()));
  EXPECT_TRUE(is_invalid_argument(parse_duration("10x").status()));
  EXPECT_TRUE(is_invalid_argument(parse_duration("m5").status()));
  EXPECT_TRUE(is_invalid_argument(parse_duration("999999999999d").status()));
}

TEST(Duration, ParsesIsoTimesWithOffsetsAndFractions) {
  EXPECT_EQ(*parse_iso_time("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*parse_iso_time("1970-01-01 01:00:00.5+01:00"), 500);
  EXPECT_EQ(*parse_iso_time("2030-01-01T12:00:00"), 1'893'499'200'000);
  EXPECT_EQ(*parse_iso_time("2030-01-01"), 1'893'456'000'000);
  EXPECT_TRUE(is_invalid_argument(parse_iso_time("tomorrow").status()));
  EXPECT_TRUE(is_invalid_argument(parse_iso_time("2030-02-30T00:00:00Z").status()));
}

// A time std::chrono::system_clock cannot hold (past 2262 in nanoseconds) would overflow where
// it becomes a time_point; the parser refuses everything from 2200 on, and before 1970.
TEST(Duration, RefusesTimesOutsideTheSupportedRange) {
  Result<Millis> far = parse_iso_time("4052-01-01T00:00:00Z");
  ASSERT_FALSE(far.ok());
  EXPECT_TRUE(is_invalid_argument(far.status()));
  EXPECT_NE(far.status().message().find("from 1970 to 2199"), std::string::npos);
  EXPECT_FALSE(parse_iso_time("2200-01-01T00:00:00Z").ok());
  EXPECT_TRUE(parse_iso_time("2199-12-31T23:59:59.999Z").ok());
  EXPECT_FALSE(parse_iso_time("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(parse_iso_time("0000-01-01T00:00:00Z").ok());
}

TEST(Duration, FormatsBack) {
  EXPECT_EQ(format_duration(250), "250ms");
  EXPECT_EQ(format_duration(90'000), "1m30s");
  EXPECT_EQ(format_time(0), "-");
  EXPECT_EQ(format_time(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

TEST(Codec, MessageRoundTrips) {
  TaskMessage m;
  m.id = "id-1";
  m.name = "add";
  m.args = "[1,\"two\\n\"]";
  m.queue = "q";
  m.priority = 7;
  m.expires = 99;
  m.attempt = 3;
  m.errors.push_back({1, "std::runtime_error", "bad \"quote\"", 5});

  Result<TaskMessage> back = decode_message(encode_message(m));

  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->args, m.args);
  EXPECT_EQ(back->priority, 7);
  EXPECT_EQ(back->attempt, 3);
  ASSERT_EQ(back->errors.size(), 1u);
  EXPECT_EQ(back->errors[0].message, "bad \"quote\"");
}

TEST(Codec, TruncatedMessageIsDataLoss) {
  std::string body = encode_message(TaskMessage{.id = "x", .name = "t"});

  Result<TaskMessage> r = decode_message(body.substr(0, body.size() / 2));

  EXPECT_TRUE(is_data_loss(r.status()));
  EXPECT_NE(r.status().message().find("decoding task message"), std::string::npos);
}

TEST(Codec, MissingRequiredFieldIsDataLoss) {
  EXPECT_TRUE(is_data_loss(decode_message(R"({"id":"x","args":[]})").status()));
  EXPECT_TRUE(is_data_loss(decode_message(R"({"id":"x","task":"t","args":{}})").status()));
}

TEST(Codec, ResultRoundTrips) {
  ResultRecord r;
  r.id = "x";
  r.task = "t";
  r.state = TaskState::kSuccess;
  r.value = R"({"a":[1,2]})";
  r.attempts = 2;

  Result<ResultRecord> back = decode_result(encode_result(r));

  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->state, TaskState::kSuccess);
  EXPECT_EQ(back->value, r.value);
  EXPECT_EQ(back->attempts, 2);
}

}  // namespace
}  // namespace runq::internal
