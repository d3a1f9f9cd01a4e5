// The Celery wire codecs (src/store/celery/wire.cpp) and the celery+redis URL, without a
// server: base64, ISO-8601 times, priority lists, envelope decoding errors, kwargs binding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/celery/wire.hpp"
#include "store/celery_store.hpp"

namespace runq::internal::celery {
namespace {

using ::testing::HasSubstr;

TEST(CeleryWire, Base64RoundTripsAndRejectsJunk) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "[[2, 3], {}, {}]",
                                                       std::string("\0\xff", 2)}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_encode("[[2, 3]"), "W1syLCAzXQ==");
  EXPECT_FALSE(base64_decode("abcdefghi"));  // celery-wire.md case L
  EXPECT_FALSE(base64_decode("ab!d"));
  EXPECT_FALSE(base64_decode("a=bc"));
}

TEST(CeleryWire, IsoTimesParseWithOffsetsAndFormatLikeCelery) {
  EXPECT_EQ(parse_iso_time("1970-01-01T00:00:01+00:00"), 1000);
  EXPECT_EQ(parse_iso_time("1970-01-01T01:00:00.5+01:00"), 500);
  EXPECT_EQ(parse_iso_time("2030-01-01T12:00:00Z"), 1'893'499'200'000);
  EXPECT_EQ(parse_iso_time("2030-01-01T12:00:00"), 1'893'499'200'000);
  EXPECT_FALSE(parse_iso_time("tomorrow-ish"));
  EXPECT_FALSE(parse_iso_time("2030-02-30T00:00:00"));
  EXPECT_EQ(format_iso_time(1'893'499'200'123, true), "2030-01-01T12:00:00.123000+00:00");
  EXPECT_EQ(format_iso_time(1'893'499'200'123, false), "2030-01-01T12:00:00.123000");
}

TEST(CeleryWire, PriorityListsFollowKombu) {
  EXPECT_EQ(priority_list("celery", 0), "celery");
  EXPECT_EQ(priority_list("celery", 2), "celery");
  EXPECT_EQ(priority_list("celery", 5),
            "celery\x06\x16"
            "3");
  EXPECT_EQ(priority_list("celery", 9),
            "celery\x06\x16"
            "9");
  EXPECT_EQ(consume_order({"a", "b"}), (std::vector<std::string>{"a", "b",
                                                                 "a\x06\x16"
                                                                 "3",
                                                                 "b\x06\x16"
                                                                 "3",
                                                                 "a\x06\x16"
                                                                 "6",
                                                                 "b\x06\x16"
                                                                 "6",
                                                                 "a\x06\x16"
                                                                 "9",
                                                                 "b\x06\x16"
                                                                 "9"}));
}

TEST(CeleryWire, EncodedMessagesDecodeBack) {
  Outgoing o;
  o.id = "id-1";
  o.task = "tasks.add";
  o.args = "[1, 2]";
  o.kwargs = R"({"z": 3})";
  o.eta = 1'893'499'200'000;
  o.priority = 7;
  o.time_limit = 10'000;
  o.soft_time_limit = 5'500;
  Result<Message> m = decode_message(encode_message(o));
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  EXPECT_EQ(m->id, "id-1");
  EXPECT_EQ(m->task, "tasks.add");
  EXPECT_EQ(nlohmann::json::parse(m->args), nlohmann::json::parse("[1, 2]"));
  EXPECT_EQ(m->eta, o.eta);
  EXPECT_EQ(m->priority, 7);
  EXPECT_EQ(m->time_limit, 10'000);
  EXPECT_EQ(m->soft_time_limit, 5'500);
  EXPECT_EQ(m->routing_key, "celery");
  Result<Message> again = decode_message(retry_message(*m, 1'893'499'201'000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->retries, 1);
  EXPECT_EQ(again->parent_id, "id-1");
  EXPECT_NE(again->delivery_tag, m->delivery_tag);
}

TEST(CeleryWire, BadEnvelopesGetAReason) {
  EXPECT_THAT(decode_message("{nope").status().message(), HasSubstr("envelope is not JSON"));
  EXPECT_THAT(decode_message("[1]").status().message(), HasSubstr("not a JSON object"));
  Outgoing o;
  o.id = "x";
  o.task = "tasks.add";
  nlohmann::json env = nlohmann::json::parse(encode_message(o));
  env["headers"].erase("id");
  EXPECT_THAT(decode_message(env.dump()).status().message(), HasSubstr("headers.id is missing"));
  env["headers"]["id"] = "x";
  env["headers"]["expires"] = "soon";
  EXPECT_THAT(decode_message(env.dump()).status().message(),
              HasSubstr("headers.expires 'soon' is not an ISO-8601 time"));
}

TEST(CeleryWire, KwargsBindInOrderOrByName) {
  Message m;
  m.task = "tasks.add";
  m.args = "[1]";
  m.kwargs = R"({"b": 4})";
  EXPECT_EQ(*bind_arguments(m, {}), "[1,4]");
  m.args = "[]";
  m.kwargs = R"({"b": 4, "a": 1})";
  EXPECT_EQ(*bind_arguments(m, {}), "[4,1]");  // the sender's order
  EXPECT_EQ(*bind_arguments(m, {"a", "b"}), "[1,4]");
  m.kwargs = R"({"c": 4})";
  EXPECT_THAT(bind_arguments(m, {"a", "b"}).status().message(),
              HasSubstr("unexpected keyword 'c'"));
  m.args = "[1]";
  m.kwargs = R"({"a": 4})";
  EXPECT_THAT(bind_arguments(m, {"a", "b"}).status().message(),
              HasSubstr("'a' given by position and by keyword"));
}

TEST(CeleryUrl, ParsesItsParametersAndRejectsBadOnes) {
  Result<CeleryStoreOptions> o = parse_celery_url(
      "celery+redis://127.0.0.1:7000/2?backend=redis://127.0.0.1:7001/3&queues=a,b"
      "&visibility_timeout=30s&track_started=1&params.tasks.add=x,y&prefix=p:");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->broker.port, 7000);
  EXPECT_EQ(o->broker.db, 2);
  EXPECT_EQ(o->broker.key_prefix, "p:");
  EXPECT_EQ(o->backend.port, 7001);
  EXPECT_EQ(o->backend.db, 3);
  EXPECT_EQ(o->queues, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o->visibility_timeout_ms, 30'000);
  EXPECT_TRUE(o->track_started);
  EXPECT_EQ(o->params.at("tasks.add"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(parse_celery_url("celery://localhost").ok());
  EXPECT_THAT(parse_celery_url("redis://x").status().message(), HasSubstr("celery+redis://"));
  EXPECT_THAT(parse_celery_url("celery+redis://h?queues=").status().message(),
              HasSubstr("at least one queue"));
  EXPECT_THAT(parse_celery_url("celery+redis://h?visibility_timeout=0s").status().message(),
              HasSubstr("at least 1s"));
  EXPECT_THAT(parse_celery_url("celery+redis://h?bogus=1").status().message(),
              HasSubstr("unknown parameter 'bogus'"));
  EXPECT_THAT(parse_celery_url("celery+redis://h?backend=http://x").status().message(),
              HasSubstr("backend"));
}

}  // namespace
}  // namespace runq::internal::celery
