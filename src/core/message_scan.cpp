#include "core/message_scan.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

namespace runq::internal {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool at_end() {
    skip_space();
    return i_ == s_.size();
  }

  // A string of printable ASCII without escapes.
  bool plain_string(std::string_view* out) {
    if (!eat('"')) return false;
    const std::size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        *out = s_.substr(start, i_++ - start);
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }

  // An integer as JSON writes one (-?(0|[1-9][0-9]*)) that fits in T.
  template <typename T>
  bool integer(T* out) {
    skip_space();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    const std::size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == digits || (s_[digits] == '0' && i_ - digits > 1)) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + i_, *out);
    return ec == std::errc() && end == s_.data() + i_;
  }

  bool boolean(bool* out) {
    skip_space();
    for (bool value : {true, false}) {
      std::string_view word = value ? "true" : "false";
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        *out = value;
        return true;
      }
    }
    return false;
  }

  // The text of an array value, brackets included. Only its extent is found here; the JSON
  // parser checks its contents.
  bool array_text(std::string_view* out) {
    skip_space();
    if (i_ >= s_.size() || s_[i_] != '[') return false;
    return bracketed_text(out);
  }

  // The text of an array or object starting at the current position, brackets included.
  bool bracketed_text(std::string_view* out) {
    const std::size_t start = i_;
    int depth = 0;
    for (; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      if (c == '"') {
        for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
          if (s_[i_] == '\\') ++i_;
        }
        if (i_ >= s_.size()) return false;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if ((c == ']' || c == '}') && --depth == 0) {
        *out = s_.substr(start, ++i_ - start);
        return true;
      }
    }
    return false;
  }

  // The text of any JSON value: a string (escapes skipped over), an array or object, or a
  // number or literal (a run of the characters they use). Only the extent is found here.
  bool value_text(std::string_view* out) {
    skip_space();
    if (i_ >= s_.size()) return false;
    const std::size_t start = i_;
    const char c = s_[i_];
    if (c == '[' || c == '{') return bracketed_text(out);
    if (c == '"') {
      for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
        if (s_[i_] == '\\') ++i_;
      }
      if (i_ >= s_.size()) return false;
      *out = s_.substr(start, ++i_ - start);
      return true;
    }
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.')) {
      ++i_;
    }
    if (i_ == start) return false;
    *out = s_.substr(start, i_ - start);
    return true;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

enum Field : unsigned {
  kId,
  kTask,
  kArgs,
  kQueue,
  kPriority,
  kCreated,
  kEta,
  kExpires,
  kAttempt,
  kMaxRetries,
  kIgnoreResult,
  kResultTtl,
  kSchedule,
  kTimeLimit,
  kSoftTimeLimit,
  kCrashes,
  kFieldCount
};
constexpr std::string_view kFieldNames[] = {"id",          "task",          "args",
                                            "queue",       "priority",      "created",
                                            "eta",         "expires",       "attempt",
                                            "max_retries", "ignore_result", "result_ttl",
                                            "schedule",    "time_limit",    "soft_time_limit",
                                            "crashes"};
static_assert(std::size(kFieldNames) == kFieldCount);

int field_of(std::string_view key) {
  for (unsigned f = 0; f < kFieldCount; ++f) {
    if (kFieldNames[f] == key) return static_cast<int>(f);
  }
  return -1;  // unknown, or `errors`: the general decoder
}

bool string_field(Scanner& sc, std::string* out) {
  std::string_view v;
  if (!sc.plain_string(&v)) return false;
  out->assign(v);
  return true;
}

bool args_field(Scanner& sc, nlohmann::json* args) {
  std::string_view text;
  if (!sc.array_text(&text)) return false;
  if (args == nullptr) return true;  // the caller wants the other fields only
  *args = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !args->is_discarded() && args->is_array();
}

bool read_field(Scanner& sc, Field f, TaskMessage* m, nlohmann::json* args) {
  switch (f) {
    case kId:
      return string_field(sc, &m->id);
    case kTask:
      return string_field(sc, &m->name);
    case kArgs:
      return args_field(sc, args);
    case kQueue:
      return string_field(sc, &m->queue);
    case kSchedule:
      return string_field(sc, &m->schedule);
    case kPriority:
      return sc.integer(&m->priority);
    case kAttempt:
      return sc.integer(&m->attempt);
    case kMaxRetries:
      return sc.integer(&m->max_retries);
    case kCreated:
      return sc.integer(&m->created);
    case kEta:
      return sc.integer(&m->eta);
    case kExpires:
      return sc.integer(&m->expires);
    case kResultTtl:
      return sc.integer(&m->result_ttl);
    case kTimeLimit:
      return sc.integer(&m->time_limit);
    case kSoftTimeLimit:
      return sc.integer(&m->soft_time_limit);
    case kCrashes:
      return sc.integer(&m->crashes);
    case kIgnoreResult:
      return sc.boolean(&m->ignore_result);
    case kFieldCount:
      break;
  }
  return false;
}

}  // namespace

bool scan_message(std::string_view body, TaskMessage* m, nlohmann::json* args) {
  *m = TaskMessage{};
  m->args.clear();  // as decode_message leaves it when it hands out the parsed arguments
  Scanner sc(body);
  if (!sc.eat('{')) return false;
  unsigned seen = 0;
  do {
    std::string_view key;
    if (!sc.plain_string(&key) || !sc.eat(':')) return false;
    const int f = field_of(key);
    if (f < 0 || (seen & (1u << f)) != 0) return false;  // duplicates: the last one wins there
    seen |= 1u << f;
    if (!read_field(sc, static_cast<Field>(f), m, args)) return false;
  } while (sc.eat(','));
  constexpr unsigned kRequired = (1u << kId) | (1u << kTask) | (1u << kArgs);
  return sc.eat('}') && sc.at_end() && (seen & kRequired) == kRequired;
}

namespace {

enum ResultField : unsigned {
  kRId,
  kRTask,
  kRState,
  kRValue,
  kRErrorType,
  kRError,
  kRWorkflow,
  kRAttempts,
  kREnqueued,
  kRStarted,
  kRFinished,
  kRNextRun,
  kRWorker,
  kRQueue,
  kResultFieldCount
};
constexpr std::string_view kResultFieldNames[] = {
    "id",       "task",     "state",   "value",    "error_type", "error",  "workflow",
    "attempts", "enqueued", "started", "finished", "next_run",   "worker", "queue"};
static_assert(std::size(kResultFieldNames) == kResultFieldCount);

int result_field_of(std::string_view key) {
  for (unsigned f = 0; f < kResultFieldCount; ++f) {
    if (kResultFieldNames[f] == key) return static_cast<int>(f);
  }
  return -1;  // unknown, or `errors`: the general decoder
}

// A JSON value as the general decoder prints it (nlohmann's dump()): a plain string, an
// integer in canonical form and a literal are their own text; anything else is parsed and
// printed. False when the text is not valid JSON.
bool canonical_value(std::string_view text, std::string* out) {
  const char c = text.front();
  bool own = text == "true" || text == "false" || text == "null";
  if (c == '"') {
    own = true;
    for (std::size_t i = 1; i + 1 < text.size() && own; ++i) {
      const auto ch = static_cast<unsigned char>(text[i]);
      own = ch != '\\' && ch >= 0x20 && ch < 0x80;
    }
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    // -?[1-9][0-9]* or 0, fitting in 64 bits: nlohmann prints it back unchanged.
    const std::size_t d = c == '-' ? 1 : 0;
    own = text.size() > d && text.size() - d <= 18 && (text[d] != '0' || text.size() == 1);
    for (std::size_t i = d; i < text.size() && own; ++i) own = text[i] >= '0' && text[i] <= '9';
  }
  if (own) {
    out->assign(text);
    return true;
  }
  nlohmann::json v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return false;
  *out = v.dump();
  return true;
}

bool read_result_field(Scanner& sc, ResultField f, ResultRecord* r) {
  std::string_view text;
  switch (f) {
    case kRId:
      return string_field(sc, &r->id);
    case kRTask:
      return string_field(sc, &r->task);
    case kRState: {
      if (!sc.plain_string(&text)) return false;
      std::optional<TaskState> state = parse_task_state(text);
      if (!state) return false;
      r->state = *state;
      return true;
    }
    case kRValue:
      return sc.value_text(&text) && canonical_value(text, &r->value);
    case kRErrorType:
      return string_field(sc, &r->error_type);
    case kRError:
      return string_field(sc, &r->error);
    case kRWorkflow:
      return sc.value_text(&text) && text.front() == '{' && canonical_value(text, &r->workflow);
    case kRAttempts:
      return sc.integer(&r->attempts);
    case kREnqueued:
      return sc.integer(&r->enqueued);
    case kRStarted:
      return sc.integer(&r->started);
    case kRFinished:
      return sc.integer(&r->finished);
    case kRNextRun:
      return sc.integer(&r->next_run);
    case kRWorker:
      return string_field(sc, &r->worker);
    case kRQueue:
      return string_field(sc, &r->queue);
    case kResultFieldCount:
      break;
  }
  return false;
}

}  // namespace

bool scan_result(std::string_view text, ResultRecord* r) {
  *r = ResultRecord{};
  Scanner sc(text);
  if (!sc.eat('{')) return false;
  unsigned seen = 0;
  if (sc.eat('}')) return false;  // no state: the general decoder's error
  do {
    std::string_view key;
    if (!sc.plain_string(&key) || !sc.eat(':')) return false;
    const int f = result_field_of(key);
    if (f < 0 || (seen & (1u << f)) != 0) return false;
    seen |= 1u << f;
    if (!read_result_field(sc, static_cast<ResultField>(f), r)) return false;
  } while (sc.eat(','));
  return sc.eat('}') && sc.at_end() && (seen & (1u << kRState)) != 0;
}

}  // namespace runq::internal
