// Policy loading in two passes. yaml-cpp's event parser feeds a small document tree of our own
// (not YAML::Node), because the checks the format needs are invisible in a YAML::Node: anchors
// and aliases (expanded silently: billion-laughs), repeated keys (the last one wins silently),
// nesting depth, and whether a scalar was quoted. The tree is then read field by field into the
// Policy structs, collecting every problem with its location instead of stopping at the first.
#include "guard/policy.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <istream>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

#include "base/encoding.h"
#include "base/files.h"
#include "crypto/sha256.h"

namespace warden::guard {
namespace {

using std::string_view_literals::operator""sv;

constexpr uint64_t kMaxPolicyBytes = 4 << 20;
constexpr size_t kMaxNesting = 64;
// A real policy has hundreds of values; the cap bounds the tree's memory (about 100 bytes a
// value) whatever a 4 MiB file holds.
constexpr size_t kMaxValues = 1 << 17;
// yaml-cpp keeps every token of a flow collection nested in another flow collection (and of a
// top-level flow mapping) until it closes, since it could yet turn out to be a mapping key: at
// about 100 bytes a token, 4 MiB of "[[[],[],..." would hold half a gigabyte before the first
// event. The text is served in chunks and the parser may not read further than this ahead of
// the last value it reported.
constexpr size_t kMaxReadAhead = 256 << 10;
constexpr size_t kReadChunk = 4096;
// Beyond this many problems the rest are counted, not listed: the message stays readable and
// its size bounded for a hostile file.
constexpr size_t kMaxListedProblems = 100;
// Longest excerpt of a value or key quoted in a message, in bytes.
constexpr size_t kMaxQuotedBytes = 64;

constexpr size_t kSaltBytes = 16;
constexpr std::string_view kHashScheme = "sha256";

// ---------------------------------------------------------------------------------------------
// Problems: located messages, listed in document order.

SourceLocation LocationOf(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {static_cast<uint32_t>(mark.line) + 1, static_cast<uint32_t>(mark.column) + 1};
}

std::string Prefix(std::string_view source, const SourceLocation& where) {
  std::string out(source);
  if (where.line != 0) {
    out += ':' + std::to_string(where.line) + ':' + std::to_string(where.column);
  }
  out += ": ";
  return out;
}

class Problems {
 public:
  explicit Problems(std::string_view source) : source_(source) {}

  // `path` is the field ("tiers.free.rate_limit.burst"); empty for problems of the document
  // itself (syntax, anchors, nesting).
  void Add(const SourceLocation& where, std::string_view path, std::string_view what) {
    if (entries_.size() >= kMaxListedProblems) {
      ++unlisted_;
      return;
    }
    std::string text = Prefix(source_, where);
    if (!path.empty()) {
      text += path;
      text += ": ";
    }
    text += what;
    entries_.push_back({where, std::move(text)});
  }

  // Problems known only by number (a part that stopped keeping their text).
  void CountUnlisted(size_t n) { unlisted_ += n; }

  bool empty() const { return entries_.empty(); }

  Status ToStatus() {
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return std::pair(a.where.line, a.where.column) < std::pair(b.where.line, b.where.column);
    });
    std::string message;
    for (const Entry& e : entries_) {
      if (!message.empty()) message += '\n';
      message += e.text;
    }
    if (unlisted_ > 0) {
      message += '\n' + source_ + ": ... and " + std::to_string(unlisted_) +
                 " more problems (only the first " + std::to_string(kMaxListedProblems) +
                 " are listed)";
    }
    return DataLossError(std::move(message));
  }

 private:
  struct Entry {
    SourceLocation where;
    std::string text;
  };
  std::string source_;
  std::vector<Entry> entries_;
  size_t unlisted_ = 0;
};

// Shows a key or value from the file in a message: quoted, control characters escaped, cut at a
// character boundary (the message is one line, and a hostile value must not make it huge).
std::string Quote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    if (i >= kMaxQuotedBytes) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
    } else {
      uint32_t cp = 0;
      size_t n = DecodeUtf8At(s, i, &cp);
      if (n == 0) n = 1;  // not reachable for parsed text (checked as UTF-8), but stay safe
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
  return out;
}

// A key as a path segment: plain when it is a simple identifier, quoted otherwise.
std::string Segment(std::string_view key) {
  const bool simple = !key.empty() && key.size() <= kMaxQuotedBytes &&
                      std::all_of(key.begin(), key.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                               (c >= '0' && c <= '9') || c == '_' || c == '-';
                      });
  return simple ? std::string(key) : Quote(key);
}

std::string Child(std::string_view path, std::string_view key) {
  return path.empty() ? Segment(key) : std::string(path) + "." + Segment(key);
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string Join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string FormatNumber(double v) {
  if (std::isfinite(v) && std::fabs(v) < 1e15 && v == std::floor(v)) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// The document tree.

enum class Kind : uint8_t { kNull, kScalar, kMap, kSeq };

struct Node {
  Kind kind = Kind::kNull;
  // An untagged, unquoted scalar: the only kind whose text decides its type (12 is a number,
  // "12" a string).
  bool plain = false;
  SourceLocation where;
  std::string text;
  std::vector<uint32_t> kids;  // mapping: key, value, key, value, ...; sequence: the items
};

// Thrown out of the event handler to abandon a document that is already refused; caught in
// BuildTree, never outside this file. yaml-cpp's EventHandler has no way to stop the parser
// and yaml-cpp is itself a throwing library; stopping at once matters: its recursive descent
// must not go deeper than kMaxNesting (stack), nor on past kMaxValues (time).
struct StopParsing {};

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::vector<Node>* nodes, Problems* problems)
      : nodes_(*nodes), problems_(*problems) {}

  // Byte offset and location of the last event, for the read-ahead bound.
  const size_t& last_offset() const { return last_offset_; }
  const SourceLocation& last_where() const { return last_where_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    Seen(mark);
    if (++documents_ > 1) {
      Fatal(mark, "a policy file holds one YAML document; found a second one (\"---\")");
    }
  }
  void OnDocumentEnd() override {}

  // Reports the problems found while building (call once the whole input has parsed).
  void ReportDeferred() {
    for (const auto& [where, what] : deferred_) problems_.Add(where, "", what);
    problems_.CountUnlisted(deferred_unlisted_);
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Seen(mark);
    RefuseAnchor(mark, anchor);
    Node n;
    // yaml-cpp marks an empty value at the next token, often the next line; the key it belongs
    // to is where a person looks.
    const uint32_t parent = open_.empty() ? kNone : open_.back();
    if (parent != kNone && nodes_[parent].kind == Kind::kMap && nodes_[parent].kids.size() % 2) {
      n.where = nodes_[nodes_[parent].kids.back()].where;
    } else {
      n.where = LocationOf(mark);
    }
    Attach(std::move(n), mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    Fatal(mark, "YAML aliases (*name) are not allowed in a policy; write the value out");
  }

  void OnAnchor(const YAML::Mark& mark, const std::string&) override {
    Fatal(mark, "YAML anchors (&name) are not allowed in a policy; write the value out");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Seen(mark);
    RefuseAnchor(mark, anchor);
    Node n;
    n.kind = Kind::kScalar;
    n.plain = tag == "?";
    n.where = LocationOf(mark);
    n.text = value;
    CheckTag(mark, tag);
    Attach(std::move(n), mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Kind::kSeq, mark, tag, anchor);
  }
  void OnSequenceEnd() override { open_.pop_back(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Kind::kMap, mark, tag, anchor);
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  [[noreturn]] void Fatal(const YAML::Mark& mark, std::string_view what) {
    problems_.Add(LocationOf(mark), "", what);
    throw StopParsing{};
  }

  void RefuseAnchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != 0) Fatal(mark, "YAML anchors (&name) are not allowed in a policy");
  }

  // "?" is an untagged plain node, "!" a quoted scalar (or the non-specific tag, which means
  // the same). Explicit tags would let a file retype values behind our back.
  void CheckTag(const YAML::Mark& mark, const std::string& tag) {
    if (tag != "?" && tag != "!") {
      Defer(LocationOf(mark), "YAML tags are not supported in a policy; got " + Quote(tag));
    }
  }

  void Seen(const YAML::Mark& mark) {
    if (mark.pos >= 0 && static_cast<size_t>(mark.pos) >= last_offset_) {
      last_offset_ = static_cast<size_t>(mark.pos);
      last_where_ = LocationOf(mark);
    }
  }

  void Open(Kind kind, const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor) {
    Seen(mark);
    RefuseAnchor(mark, anchor);
    CheckTag(mark, tag);
    if (open_.size() >= kMaxNesting) {
      Fatal(mark, "nesting deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    Node n;
    n.kind = kind;
    n.where = LocationOf(mark);
    open_.push_back(Attach(std::move(n), mark));
  }

  uint32_t Attach(Node n, const YAML::Mark& mark) {
    if (nodes_.size() >= kMaxValues) {
      Fatal(mark, "more than " + std::to_string(kMaxValues) + " values in one policy");
    }
    const uint32_t id = static_cast<uint32_t>(nodes_.size());
    if (!open_.empty()) {
      Node& parent = nodes_[open_.back()];
      if (parent.kind == Kind::kMap && parent.kids.size() % 2 == 0 && n.kind != Kind::kScalar) {
        Defer(n.where, "a mapping key must be a string");
      }
      parent.kids.push_back(id);
    }
    nodes_.push_back(std::move(n));
    return id;
  }

  // Problems that do not stop the parse are reported only when the document parsed: after a
  // syntax error yaml-cpp's events for the broken part are guesses (an unclosed "[[" arrives as
  // a mapping with a sequence key), and messages about them would mislead.
  void Defer(const SourceLocation& where, std::string what) {
    if (deferred_.size() < kMaxListedProblems) {
      deferred_.emplace_back(where, std::move(what));
    } else {
      ++deferred_unlisted_;
    }
  }

  std::vector<Node>& nodes_;
  Problems& problems_;
  std::vector<std::pair<SourceLocation, std::string>> deferred_;
  size_t deferred_unlisted_ = 0;
  std::vector<uint32_t> open_;
  int documents_ = 0;
  size_t last_offset_ = 0;
  SourceLocation last_where_{1, 1};
};

// Serves the policy text to yaml-cpp in chunks, refusing to get more than kMaxReadAhead bytes
// ahead of the last event: it then ends the input early and remembers why, and BuildTree
// reports that instead of whatever yaml-cpp makes of the cut text.
class BoundedReader : public std::streambuf {
 public:
  explicit BoundedReader(std::string_view text, const TreeBuilder& builder)
      : text_(text), builder_(builder) {}

  bool exceeded() const { return exceeded_; }
  // Where the last value was when the limit was hit (yaml-cpp still emits events for what it
  // held once the input ends, so the builder's position moves on).
  const SourceLocation& exceeded_at() const { return exceeded_at_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (served_ >= text_.size()) return traits_type::eof();
    if (served_ > builder_.last_offset() + kMaxReadAhead) {
      exceeded_ = true;
      exceeded_at_ = builder_.last_where();
      return traits_type::eof();
    }
    const size_t n = std::min(kReadChunk, text_.size() - served_);
    std::memcpy(chunk_.data(), text_.data() + served_, n);
    served_ += n;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string_view text_;
  const TreeBuilder& builder_;
  size_t served_ = 0;
  bool exceeded_ = false;
  SourceLocation exceeded_at_;
  std::array<char, kReadChunk> chunk_;
};

// Parses `text` into `nodes` (nodes[0] is the root). False when the document could not be read
// at all (syntax error, anchors, nesting, size); the reason is in `problems`.
bool BuildTree(std::string_view text, std::vector<Node>* nodes, Problems* problems) {
  TreeBuilder builder(nodes, problems);
  BoundedReader reader(text, builder);
  auto read_ahead_exceeded = [&] {
    problems->Add(reader.exceeded_at(), "",
                  "more than " + std::to_string(kMaxReadAhead >> 10) +
                      " KiB of text after this point before the next value (a huge value or "
                      "comment, or a flow collection [...] or {...} inside another, which the "
                      "YAML reader holds whole until it closes); split it or use block style");
    return false;
  };
  try {
    std::istream in(&reader);
    in.exceptions(std::ios::badbit);  // should a read go through the istream, rethrow as is
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
    if (reader.exceeded()) return read_ahead_exceeded();
    builder.ReportDeferred();
  } catch (const StopParsing&) {
    return false;
  } catch (const YAML::Exception& e) {
    // The cut input's syntax error is a symptom; the read-ahead limit is the cause.
    if (reader.exceeded()) return read_ahead_exceeded();
    problems->Add(LocationOf(e.mark), "", "YAML syntax error: " + e.msg);
    return false;
  } catch (const std::exception& e) {
    if (reader.exceeded()) return read_ahead_exceeded();
    problems->Add({}, "", std::string("cannot parse: ") + e.what());
    return false;
  }
  return true;
}

// Refuses what is not text before yaml-cpp sees it: invalid UTF-8 (which it would replace with
// U+FFFD, changing a pattern or a name silently) and control characters (YAML forbids them; a
// NUL could hide the rest of the file from some readers).
bool CheckText(std::string_view text, Problems* problems) {
  const size_t bad_utf8 = FirstInvalidUtf8(text);
  size_t bad_control = std::string_view::npos;
  for (size_t i = 0; i < text.size() && i < bad_utf8; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      bad_control = i;
      break;
    }
  }
  const size_t at = std::min(bad_utf8, bad_control);
  if (at == std::string_view::npos) return true;
  SourceLocation where{1, 1};
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else {
      ++where.column;  // bytes, as yaml-cpp's marks count them
    }
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(text[at]));
  problems->Add(where, "",
                at == bad_utf8
                    ? std::string("not valid UTF-8 (byte ") + buf + "); a policy is UTF-8 text"
                    : std::string("control character ") + buf + " is not allowed in a policy");
  return false;
}

// ---------------------------------------------------------------------------------------------
// Plain scalars, typed as YAML 1.2's core schema types them (the subset a policy needs).

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view StripSign(std::string_view s) {
  return (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
}

bool IsIntegerText(std::string_view s) { return IsDigits(StripSign(s)); }

// [-+]? ( . digits | digits ( . digits? )? ) ( [eE] [-+]? digits )?
bool IsDecimalText(std::string_view s) {
  s = StripSign(s);
  const size_t e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos && !IsDigits(StripSign(s.substr(e + 1)))) return false;
  const size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return IsDigits(mantissa);
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view frac = mantissa.substr(dot + 1);
  if (whole.empty()) return IsDigits(frac);
  return IsDigits(whole) && (frac.empty() || IsDigits(frac));
}

bool IsNonFiniteText(std::string_view s) {
  std::string_view u = StripSign(s);
  if (u == ".inf" || u == ".Inf" || u == ".INF") return true;
  return s == ".nan" || s == ".NaN" || s == ".NAN";
}

std::optional<bool> BoolText(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// For IsIntegerText input: the value, or nullopt when it does not fit in int64.
std::optional<int64_t> ParseInteger(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// For IsDecimalText input: the value (may be infinite when the exponent is huge).
double ParseDecimal(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  s = StripSign(s);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    // from_chars leaves v unchanged on overflow and underflow; tell them apart by the
    // exponent's sign.
    const size_t e = s.find_first_of("eE");
    v = (e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-')
            ? 0.0
            : std::numeric_limits<double>::infinity();
  }
  return negative ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// Reading the tree into a Policy.

constexpr std::array kTopKeys = {"version"sv,         "name"sv,  "description"sv, "default_tier"sv,
                                 "tiers"sv,           "keys"sv,  "input"sv,       "output"sv,
                                 "circuit_breaker"sv, "audit"sv, "limits"sv};
constexpr std::array kTierKeys = {"tools"sv, "rate_limit"sv, "max_output_tokens"sv};
constexpr std::array kToolsKeys = {"allow"sv, "deny_patterns"sv, "offered"sv,
                                   "max_argument_bytes"sv, "max_argument_depth"sv};
constexpr std::array kRuleKeys = {"name"sv, "arguments"sv, "allow_unlisted_arguments"sv};
constexpr std::array kConstraintKeys = {"type"sv,       "required"sv,   "enum"sv,    "pattern"sv,
                                        "min_length"sv, "max_length"sv, "minimum"sv, "maximum"sv};
constexpr std::array kRateKeys = {"requests_per_minute"sv, "tokens_per_minute"sv, "burst"sv,
                                  "max_concurrent"sv};
constexpr std::array kKeyKeys = {"id"sv, "tier"sv, "hash"sv};
constexpr std::array kInputKeys = {"roles"sv, "scanners"sv};
constexpr std::array kOutputKeys = {"roles"sv, "scanners"sv};  // roles: refused
constexpr std::array kBreakerKeys = {"failure_threshold"sv, "open_seconds"sv,
                                     "half_open_requests"sv};
constexpr std::array kAuditKeys = {"enabled"sv,          "path"sv,
                                   "checkpoint_every"sv, "checkpoint_seconds"sv,
                                   "ledger"sv,           "record_text"sv};
constexpr std::array kLimitsKeys = {"max_input_bytes"sv, "max_output_bytes"sv, "max_messages"sv,
                                    "max_decode_depth"sv, "max_decoded_bytes"sv};

constexpr std::array kActionNames = {"block"sv, "redact"sv, "flag"sv};
constexpr std::array kOnErrorNames = {"block"sv, "allow"sv};
constexpr std::array kOfferedNames = {"drop"sv, "block"sv};
constexpr std::array kValueTypeNames = {"any"sv,     "string"sv, "integer"sv, "number"sv,
                                        "boolean"sv, "object"sv, "array"sv,   "null"sv};
constexpr std::array kInputRoles = {"system"sv, "user"sv, "assistant"sv, "tool"sv};

// Ranges (documented in docs/policy.md, "Ranges").
constexpr uint64_t kMaxRequestsPerMinute = 1'000'000;
constexpr uint64_t kMaxTokensPerMinute = 1'000'000'000'000;
constexpr uint64_t kMaxBurst = 1'000'000;
constexpr uint64_t kMaxConcurrent = 1'000'000;
constexpr uint64_t kMaxOutputTokens = 10'000'000;
constexpr uint64_t kMaxArgumentBytes = 16 << 20;
constexpr uint64_t kMaxArgumentDepth = 128;
constexpr uint64_t kMaxLength = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxFailureThreshold = 1'000'000;
constexpr uint64_t kMaxHalfOpenRequests = 1'000;
constexpr double kMaxSeconds = 86'400;
constexpr uint64_t kMaxCheckpointEvery = 1'000'000'000;
constexpr uint64_t kMaxTextBytes = 1 << 30;
constexpr uint64_t kMaxMessages = 1'000'000;
constexpr uint64_t kMaxDecodeDepth = 16;

struct Entry {
  const Node* key;
  const Node* value;
};

class Reader {
 public:
  Reader(const std::vector<Node>& nodes, Problems* problems) : nodes_(nodes), p_(*problems) {}

  void ReadPolicy(Policy* policy);

 private:
  const Node& At(uint32_t i) const { return nodes_[i]; }

  void Add(const Node& n, std::string_view path, std::string_view what) {
    p_.Add(n.where, path, what);
  }

  static std::string Describe(const Node& n) {
    switch (n.kind) {
      case Kind::kNull:
        return "an empty value";
      case Kind::kMap:
        return "a mapping";
      case Kind::kSeq:
        return "a sequence";
      case Kind::kScalar:
        break;
    }
    return n.plain ? Quote(n.text) : "the quoted string " + Quote(n.text);
  }

  // The entries of a mapping whose string keys are checked against `allowed` (unless
  // `any_key`), with repeated keys reported (`noun` names what a key is, for that message).
  // An absent or empty value has no entries.
  std::vector<Entry> Entries(const Node* n, std::string_view path,
                             std::span<const std::string_view> allowed, bool any_key = false,
                             std::string_view noun = "key") {
    std::vector<Entry> out;
    if (n == nullptr || n->kind == Kind::kNull) return out;
    if (n->kind != Kind::kMap) {
      Add(*n, path, "expected a mapping; got " + Describe(*n));
      return out;
    }
    std::unordered_map<std::string_view, const Node*> seen;
    for (size_t i = 0; i + 1 < n->kids.size(); i += 2) {
      const Node& key = At(n->kids[i]);
      if (key.kind != Kind::kScalar) continue;  // reported while building
      const std::string path_key = Child(path, key.text);
      auto [it, fresh] = seen.emplace(key.text, &key);
      if (!fresh) {
        Add(key, path_key,
            "duplicate " + std::string(noun) + " (first at line " +
                std::to_string(it->second->where.line) +
                "); YAML readers disagree on which one counts");
        continue;
      }
      if (!any_key && std::find(allowed.begin(), allowed.end(), key.text) == allowed.end()) {
        Add(key, path_key, "unknown key; allowed keys: " + Join(allowed));
        continue;
      }
      out.push_back({&key, &At(n->kids[i + 1])});
    }
    return out;
  }

  static const Entry* Find(const std::vector<Entry>& entries, std::string_view key) {
    for (const Entry& e : entries) {
      if (e.key->text == key) return &e;
    }
    return nullptr;
  }
  static const Node* Value(const std::vector<Entry>& entries, std::string_view key) {
    const Entry* e = Find(entries, key);
    return e == nullptr ? nullptr : e->value;
  }

  // The items of a sequence; an absent or empty value has none.
  std::vector<const Node*> Items(const Node* n, std::string_view path) {
    std::vector<const Node*> out;
    if (n == nullptr || n->kind == Kind::kNull) return out;
    if (n->kind != Kind::kSeq) {
      Add(*n, path, "expected a sequence; got " + Describe(*n));
      return out;
    }
    for (uint32_t k : n->kids) out.push_back(&At(k));
    return out;
  }

  // Typed fields: each returns whether *out was set; `n` null means the field is absent (not a
  // problem: the default stays).
  bool String(const Node* n, std::string_view path, std::string* out, bool allow_empty = true) {
    if (n == nullptr) return false;
    if (n->kind != Kind::kScalar) {
      Add(*n, path, "expected a string; got " + Describe(*n));
      return false;
    }
    if (!allow_empty && n->text.empty()) {
      Add(*n, path, "must not be empty");
      return false;
    }
    *out = n->text;
    return true;
  }

  bool Bool(const Node* n, std::string_view path, bool* out) {
    if (n == nullptr) return false;
    std::optional<bool> b;
    if (n->kind == Kind::kScalar && n->plain) b = BoolText(n->text);
    if (!b) {
      Add(*n, path, "expected true or false; got " + Describe(*n));
      return false;
    }
    *out = *b;
    return true;
  }

  template <typename T>
  bool Unsigned(const Node* n, std::string_view path, uint64_t lo, uint64_t hi, T* out) {
    if (n == nullptr) return false;
    if (n->kind != Kind::kScalar || !n->plain || !IsIntegerText(n->text)) {
      Add(*n, path, "expected an integer; got " + Describe(*n));
      return false;
    }
    const std::optional<int64_t> v = ParseInteger(n->text);
    if (!v || *v < 0 || static_cast<uint64_t>(*v) < lo || static_cast<uint64_t>(*v) > hi) {
      Add(*n, path,
          "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + "; got " +
              Quote(n->text));
      return false;
    }
    *out = static_cast<T>(*v);
    return true;
  }

  // A finite number in [lo, hi], or (lo, hi] with `lo_open`.
  bool Number(const Node* n, std::string_view path, double lo, double hi, bool lo_open,
              double* out) {
    if (n == nullptr) return false;
    if (n->kind != Kind::kScalar || !n->plain ||
        !(IsDecimalText(n->text) || IsNonFiniteText(n->text))) {
      Add(*n, path, "expected a number; got " + Describe(*n));
      return false;
    }
    const double v =
        IsNonFiniteText(n->text) ? std::numeric_limits<double>::quiet_NaN() : ParseDecimal(n->text);
    if (!std::isfinite(v)) {
      Add(*n, path, "must be a finite number; got " + Quote(n->text));
      return false;
    }
    if ((lo_open ? v <= lo : v < lo) || v > hi) {
      Add(*n, path,
          std::string(lo_open ? "must be greater than " : "must be between ") + FormatNumber(lo) +
              (lo_open ? " and at most " : " and ") + FormatNumber(hi) + "; got " + Quote(n->text));
      return false;
    }
    *out = v;
    return true;
  }

  // One of `names` (a plain or quoted string); sets *index.
  bool Choice(const Node* n, std::string_view path, std::span<const std::string_view> names,
              size_t* index) {
    if (n == nullptr) return false;
    if (n->kind == Kind::kScalar) {
      auto it = std::find(names.begin(), names.end(), n->text);
      if (it != names.end()) {
        *index = static_cast<size_t>(it - names.begin());
        return true;
      }
    }
    Add(*n, path, "must be one of " + Join(names) + "; got " + Describe(*n));
    return false;
  }

  // YAML to JSON for scanner options and enum values: plain scalars are typed (booleans,
  // integers that fit in int64, decimals), quoted ones stay strings.
  bool ToJson(const Node& n, std::string_view path, json::value* out) {
    switch (n.kind) {
      case Kind::kNull:
        *out = nullptr;
        return true;
      case Kind::kSeq: {
        json::array a;
        bool ok = true;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          json::value v;
          ok = ToJson(At(n.kids[i]), Index(path, i), &v) && ok;
          a.push_back(std::move(v));
        }
        *out = std::move(a);
        return ok;
      }
      case Kind::kMap: {
        json::object o;
        bool ok = true;
        for (const Entry& e : Entries(&n, path, {}, /*any_key=*/true)) {
          json::value v;
          ok = ToJson(*e.value, Child(path, e.key->text), &v) && ok;
          o[e.key->text] = std::move(v);
        }
        *out = std::move(o);
        return ok;
      }
      case Kind::kScalar:
        break;
    }
    if (!n.plain) {
      *out = json::value(n.text);
      return true;
    }
    if (std::optional<bool> b = BoolText(n.text)) {
      *out = *b;
    } else if (IsIntegerText(n.text)) {
      std::optional<int64_t> v = ParseInteger(n.text);
      if (!v) {
        Add(n, path, "integer out of range (at most 19 digits, |n| < 2^63); got " + Quote(n.text));
        return false;
      }
      *out = *v;
    } else if (IsDecimalText(n.text)) {
      const double v = ParseDecimal(n.text);
      if (!std::isfinite(v)) {
        Add(n, path, "number out of range; got " + Quote(n.text));
        return false;
      }
      *out = v;
    } else {
      *out = json::value(n.text);
    }
    return true;
  }

  void ReadTiers(const Node* n, Policy* policy);
  void ReadTier(const Node* n, const std::string& path, Tier* tier);
  void ReadTools(const Node* n, const std::string& path, ToolPolicy* tools);
  void ReadRule(const Node& n, const std::string& path, ToolRule* rule);
  void ReadConstraint(const Node* n, const std::string& path, ArgumentConstraint* c);
  void ReadRateLimit(const Node* n, const std::string& path, RateLimit* rate);
  void ReadKeys(const Node* n, Policy* policy);
  void ReadChain(const Node* n, bool input, ChainSpec* chain);
  void ReadScanner(const Node& n, const std::string& path, ScannerEntry* entry,
                   const Node** name_node);
  void ReadBreaker(const Node* n, CircuitBreakerSettings* b);
  void ReadAudit(const Node* n, AuditSettings* a);
  void ReadLimits(const Node* n, Limits* l);

  const std::vector<Node>& nodes_;
  Problems& p_;
  // For the cross-references checked once tiers are known.
  std::vector<const Node*> key_tier_nodes_;  // keys[i].tier values, parallel to policy.keys
  bool tiers_readable_ = true;
};

// "a.b", "a[3]", "a[*].b": a key first, then .key, [digits] or [*]; keys hold no '.', '[' or
// ']'. Returns an empty string when valid, otherwise what is wrong.
std::string CheckArgumentPath(std::string_view path) {
  if (path.empty()) return "is empty";
  size_t i = 0;
  bool expect_key = true;
  while (i < path.size()) {
    if (expect_key) {
      const size_t end = path.find_first_of(".[]", i);
      const size_t stop = end == std::string_view::npos ? path.size() : end;
      if (stop == i) return "empty key at offset " + std::to_string(i);
      i = stop;
      expect_key = false;
      continue;
    }
    if (path[i] == '.') {
      ++i;
      expect_key = true;
      if (i == path.size()) return "ends with \".\"";
    } else if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos)
        return "\"[\" without \"]\" at offset " + std::to_string(i);
      std::string_view inside = path.substr(i + 1, close - i - 1);
      if (inside != "*" && (!IsDigits(inside) || inside.size() > 9)) {
        return "index at offset " + std::to_string(i) + " must be [*] or [N] (N < 10^9)";
      }
      i = close + 1;
    } else {
      return "unexpected " + Quote(path.substr(i, 1)) + " at offset " + std::to_string(i);
    }
  }
  return "";
}

// The narrowest ValueType name of a JSON value (an integral number is an integer).
std::string_view TypeOf(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_int64() || v.is_uint64()) return "integer";
  if (v.is_double()) return "number";
  if (v.is_bool()) return "boolean";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  return "null";
}


void Reader::ReadPolicy(Policy* policy) {
  const Node& root = At(0);
  if (root.kind != Kind::kMap) {
    Add(root, "",
        "a policy is a mapping (version: 1, tiers: ..., input: ...); got " + Describe(root));
    return;
  }
  const std::vector<Entry> top = Entries(&root, "", kTopKeys);

  if (const Node* v = Value(top, "version")) {
    if (v->kind == Kind::kScalar && v->plain && v->text == "1") {
      policy->version = 1;
    } else {
      Add(*v, "version", "must be 1 (the only version of the format); got " + Describe(*v));
    }
  } else {
    Add(root, "version", "missing; a policy starts with \"version: 1\"");
  }
  String(Value(top, "name"), "name", &policy->name);
  String(Value(top, "description"), "description", &policy->description);

  ReadTiers(Value(top, "tiers"), policy);
  ReadKeys(Value(top, "keys"), policy);
  ReadChain(Value(top, "input"), /*input=*/true, &policy->input);
  ReadChain(Value(top, "output"), /*input=*/false, &policy->output);
  ReadBreaker(Value(top, "circuit_breaker"), &policy->circuit_breaker);
  ReadAudit(Value(top, "audit"), &policy->audit);
  ReadLimits(Value(top, "limits"), &policy->limits);

  // Cross-references, once the tiers are known. When the tiers section itself is broken, every
  // reference would fail: those follow-on messages would only bury the real one.
  const Node* default_tier = Value(top, "default_tier");
  const bool implicit = Value(top, "tiers") == nullptr;
  std::string tier_list;
  for (const Tier& t : policy->tiers) tier_list += (tier_list.empty() ? "" : ", ") + Quote(t.name);
  const std::string known =
      implicit ? "with no tiers listed, the only tier is \"default\"" : "tiers are " + tier_list;
  if (default_tier != nullptr) {
    if (String(default_tier, "default_tier", &policy->default_tier) && tiers_readable_ &&
        FindTier(*policy, policy->default_tier) == nullptr) {
      Add(*default_tier, "default_tier",
          "names no tier: " + Quote(policy->default_tier) + "; " + known);
    }
  } else if (implicit) {
    policy->default_tier = "default";
  } else if (tiers_readable_) {
    Add(root, "default_tier", "missing; it is required when tiers are listed (" + known + ")");
  }
  for (size_t i = 0; i < policy->keys.size() && tiers_readable_; ++i) {
    const Node* tier = key_tier_nodes_[i];
    if (tier != nullptr && !policy->keys[i].tier.empty() &&
        FindTier(*policy, policy->keys[i].tier) == nullptr) {
      Add(*tier, Index("keys", i) + ".tier",
          "names no tier: " + Quote(policy->keys[i].tier) + "; " + known);
    }
  }
}

void Reader::ReadTiers(const Node* n, Policy* policy) {
  if (n == nullptr) {
    // No tiers: one implicit tier that allows no tools (docs/policy.md).
    Tier t;
    t.name = "default";
    policy->tiers.push_back(std::move(t));
    return;
  }
  if (n->kind != Kind::kMap || n->kids.empty()) {
    tiers_readable_ = false;
    Add(*n, "tiers",
        n->kind == Kind::kMap || n->kind == Kind::kNull
            ? "lists no tier; name at least one, or leave tiers out for the implicit \"default\" "
              "tier"
            : "expected a mapping from tier names to tiers; got " + Describe(*n));
    return;
  }
  for (const Entry& e : Entries(n, "tiers", {}, /*any_key=*/true, "tier name")) {
    const std::string path = Child("tiers", e.key->text);
    if (e.key->text.empty()) {
      Add(*e.key, path, "a tier name must not be empty");
      continue;
    }
    Tier t;
    t.name = e.key->text;
    t.where = e.key->where;
    t.tools.where = e.key->where;
    ReadTier(e.value, path, &t);
    policy->tiers.push_back(std::move(t));
  }
}

void Reader::ReadTier(const Node* n, const std::string& path, Tier* tier) {
  const std::vector<Entry> entries = Entries(n, path, kTierKeys);
  if (const Entry* tools = Find(entries, "tools")) {
    tier->tools.where = tools->key->where;
    ReadTools(tools->value, Child(path, "tools"), &tier->tools);
  }
  ReadRateLimit(Value(entries, "rate_limit"), Child(path, "rate_limit"), &tier->rate_limit);
  Unsigned(Value(entries, "max_output_tokens"), Child(path, "max_output_tokens"), 0,
           kMaxOutputTokens, &tier->max_output_tokens);
}

void Reader::ReadTools(const Node* n, const std::string& path, ToolPolicy* tools) {
  const std::vector<Entry> entries = Entries(n, path, kToolsKeys);
  const std::string allow_path = Child(path, "allow");
  std::unordered_map<std::string, const Node*> names;
  const std::vector<const Node*> rules = Items(Value(entries, "allow"), allow_path);
  for (size_t i = 0; i < rules.size(); ++i) {
    ToolRule rule;
    const std::string rule_path = Index(allow_path, i);
    ReadRule(*rules[i], rule_path, &rule);
    if (rule.name.empty()) continue;  // reported
    auto [it, fresh] = names.emplace(rule.name, rules[i]);
    if (!fresh) {
      Add(*rules[i], Child(rule_path, "name"),
          "tool " + Quote(rule.name) + " is already listed (line " +
              std::to_string(it->second->where.line) + "); merge the two rules");
      continue;
    }
    tools->allow.push_back(std::move(rule));
  }
  const std::string deny_path = Child(path, "deny_patterns");
  const std::vector<const Node*> patterns = Items(Value(entries, "deny_patterns"), deny_path);
  for (size_t i = 0; i < patterns.size(); ++i) {
    std::string pattern;
    if (String(patterns[i], Index(deny_path, i), &pattern, /*allow_empty=*/false)) {
      tools->deny_patterns.push_back(std::move(pattern));
    }
  }
  size_t offered = 0;
  if (Choice(Value(entries, "offered"), Child(path, "offered"), kOfferedNames, &offered)) {
    tools->offered = static_cast<OfferedToolAction>(offered);
  }
  Unsigned(Value(entries, "max_argument_bytes"), Child(path, "max_argument_bytes"), 1,
           kMaxArgumentBytes, &tools->max_argument_bytes);
  Unsigned(Value(entries, "max_argument_depth"), Child(path, "max_argument_depth"), 1,
           kMaxArgumentDepth, &tools->max_argument_depth);
}

void Reader::ReadRule(const Node& n, const std::string& path, ToolRule* rule) {
  rule->where = n.where;
  if (n.kind != Kind::kMap) {
    Add(n, path, "expected a mapping (name: ..., arguments: ...); got " + Describe(n));
    return;
  }
  const std::vector<Entry> entries = Entries(&n, path, kRuleKeys);
  if (const Node* name = Value(entries, "name")) {
    String(name, Child(path, "name"), &rule->name, /*allow_empty=*/false);
  } else {
    Add(n, Child(path, "name"), "missing; every rule names its tool");
  }
  Bool(Value(entries, "allow_unlisted_arguments"), Child(path, "allow_unlisted_arguments"),
       &rule->allow_unlisted_arguments);
  const std::string args_path = Child(path, "arguments");
  for (const Entry& e :
       Entries(Value(entries, "arguments"), args_path, {}, /*any_key=*/true, "argument path")) {
    const std::string arg_path = Child(args_path, e.key->text);
    const std::string bad = CheckArgumentPath(e.key->text);
    if (!bad.empty()) {
      Add(*e.key, arg_path,
          "not an argument path (keys joined by \".\", [N] or [*] for array items): " + bad);
      continue;
    }
    ArgumentConstraint c;
    c.path = e.key->text;
    c.where = e.key->where;
    ReadConstraint(e.value, arg_path, &c);
    rule->arguments.push_back(std::move(c));
  }
}

void Reader::ReadConstraint(const Node* n, const std::string& path, ArgumentConstraint* c) {
  const std::vector<Entry> entries = Entries(n, path, kConstraintKeys);
  size_t type = 0;
  if (Choice(Value(entries, "type"), Child(path, "type"), kValueTypeNames, &type)) {
    c->type = static_cast<ValueType>(type);
  }
  const std::string type_name(ValueTypeName(c->type));
  Bool(Value(entries, "required"), Child(path, "required"), &c->required);

  // A constraint that can never apply to the declared type is a mistake that would leave the
  // argument unchecked, so it is refused.
  auto applies = [&](std::string_view key, std::initializer_list<ValueType> types,
                     std::string_view what) {
    const Entry* e = Find(entries, key);
    if (e == nullptr || c->type == ValueType::kAny) return true;
    if (std::find(types.begin(), types.end(), c->type) != types.end()) return true;
    Add(*e->key, Child(path, key),
        std::string("applies to ") + std::string(what) + ", not to type " + type_name);
    return false;
  };

  if (applies("pattern", {ValueType::kString}, "strings")) {
    std::string pattern;
    if (String(Value(entries, "pattern"), Child(path, "pattern"), &pattern, false)) {
      c->pattern = std::move(pattern);
    }
  }
  if (applies("min_length", {ValueType::kString, ValueType::kArray}, "strings and arrays")) {
    uint64_t v = 0;
    if (Unsigned(Value(entries, "min_length"), Child(path, "min_length"), 0, kMaxLength, &v)) {
      c->min_length = v;
    }
  }
  if (applies("max_length", {ValueType::kString, ValueType::kArray}, "strings and arrays")) {
    uint64_t v = 0;
    if (Unsigned(Value(entries, "max_length"), Child(path, "max_length"), 0, kMaxLength, &v)) {
      c->max_length = v;
    }
  }
  constexpr double kHuge = std::numeric_limits<double>::max();
  if (applies("minimum", {ValueType::kInteger, ValueType::kNumber}, "numbers")) {
    double v = 0;
    if (Number(Value(entries, "minimum"), Child(path, "minimum"), -kHuge, kHuge, false, &v)) {
      c->minimum = v;
    }
  }
  if (applies("maximum", {ValueType::kInteger, ValueType::kNumber}, "numbers")) {
    double v = 0;
    if (Number(Value(entries, "maximum"), Child(path, "maximum"), -kHuge, kHuge, false, &v)) {
      c->maximum = v;
    }
  }
  if (c->min_length && c->max_length && *c->min_length > *c->max_length) {
    Add(*Value(entries, "max_length"), Child(path, "max_length"),
        "is less than min_length (" + std::to_string(*c->max_length) + " < " +
            std::to_string(*c->min_length) + "); no value could pass");
  }
  if (c->minimum && c->maximum && *c->minimum > *c->maximum) {
    Add(*Value(entries, "maximum"), Child(path, "maximum"),
        "is less than minimum (" + FormatNumber(*c->maximum) + " < " + FormatNumber(*c->minimum) +
            "); no value could pass");
  }

  if (const Node* e = Value(entries, "enum")) {
    const std::string enum_path = Child(path, "enum");
    const std::vector<const Node*> items = Items(e, enum_path);
    if (e->kind == Kind::kNull || (e->kind == Kind::kSeq && items.empty())) {
      Add(*e, enum_path, "lists no value; leave enum out to allow any value");
    }
    for (size_t i = 0; i < items.size(); ++i) {
      json::value v;
      if (!ToJson(*items[i], Index(enum_path, i), &v)) continue;
      if (!ValueHasType(v, c->type)) {
        Add(*items[i], Index(enum_path, i),
            "is " + Describe(*items[i]) + ", of type " + std::string(TypeOf(v)) +
                ", which does not match type " + type_name);
        continue;
      }
      c->enum_values.push_back(std::move(v));
    }
  }
}

void Reader::ReadRateLimit(const Node* n, const std::string& path, RateLimit* rate) {
  const std::vector<Entry> entries = Entries(n, path, kRateKeys);
  Number(Value(entries, "requests_per_minute"), Child(path, "requests_per_minute"), 0,
         kMaxRequestsPerMinute, false, &rate->requests_per_minute);
  Unsigned(Value(entries, "tokens_per_minute"), Child(path, "tokens_per_minute"), 0,
           kMaxTokensPerMinute, &rate->tokens_per_minute);
  Unsigned(Value(entries, "burst"), Child(path, "burst"), 0, kMaxBurst, &rate->burst);
  Unsigned(Value(entries, "max_concurrent"), Child(path, "max_concurrent"), 0, kMaxConcurrent,
           &rate->max_concurrent);
}

// "sha256:<32 hex>:<64 hex>": empty when valid, otherwise what is wrong.
std::string CheckKeyHash(std::string_view h) {
  const size_t c1 = h.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : h.find(':', c1 + 1);
  if (c2 == std::string_view::npos || h.substr(0, c1) != kHashScheme) {
    return "must be \"sha256:<salt: 32 hex digits>:<digest: 64 hex digits>\" (warden guard "
           "hash-key makes one)";
  }
  auto check = [](std::string_view what, std::string_view hex, size_t want) -> std::string {
    if (hex.size() != want) {
      return "the " + std::string(what) + " must be " + std::to_string(want) + " hex digits; got " +
             std::to_string(hex.size()) + " characters";
    }
    for (size_t i = 0; i < hex.size(); ++i) {
      const char c = hex[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return "the " + std::string(what) + " must be hex digits; character " +
               std::to_string(i + 1) + " is not";
      }
    }
    return "";
  };
  std::string bad = check("salt", h.substr(c1 + 1, c2 - c1 - 1), 2 * kSaltBytes);
  if (bad.empty()) bad = check("digest", h.substr(c2 + 1), 2 * crypto::kSha256Size);
  return bad;
}

void Reader::ReadKeys(const Node* n, Policy* policy) {
  std::unordered_map<std::string, const Node*> ids;
  std::unordered_map<std::string, const Node*> hashes;
  const std::vector<const Node*> items = Items(n, "keys");
  for (size_t i = 0; i < items.size(); ++i) {
    const Node& item = *items[i];
    const std::string path = Index("keys", i);
    ApiKey key;
    key.where = item.where;
    if (item.kind != Kind::kMap) {
      Add(item, path, "expected a mapping (id: ..., tier: ..., hash: ...); got " + Describe(item));
      continue;
    }
    const std::vector<Entry> entries = Entries(&item, path, kKeyKeys);
    for (std::string_view field : kKeyKeys) {
      if (Find(entries, field) == nullptr) Add(item, Child(path, field), "missing");
    }
    if (String(Value(entries, "id"), Child(path, "id"), &key.id, /*allow_empty=*/false)) {
      auto [it, fresh] = ids.emplace(key.id, Value(entries, "id"));
      if (!fresh) {
        Add(*Value(entries, "id"), Child(path, "id"),
            "duplicate key id " + Quote(key.id) + " (first at line " +
                std::to_string(it->second->where.line) + ")");
      }
    }
    String(Value(entries, "tier"), Child(path, "tier"), &key.tier, /*allow_empty=*/false);
    if (const Node* h = Value(entries, "hash");
        String(h, Child(path, "hash"), &key.hash, /*allow_empty=*/false)) {
      const std::string bad = CheckKeyHash(key.hash);
      if (!bad.empty()) {
        Add(*h, Child(path, "hash"), bad);
      } else {
        std::string lower = key.hash;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        auto [it, fresh] = hashes.emplace(lower, h);
        if (!fresh) {
          Add(*h, Child(path, "hash"),
              "the same hash as the key at line " + std::to_string(it->second->where.line) +
                  "; one key must map to one tier");
        }
      }
    }
    policy->keys.push_back(std::move(key));
    key_tier_nodes_.push_back(Value(entries, "tier"));
  }
}

void Reader::ReadChain(const Node* n, bool input, ChainSpec* chain) {
  const std::string path = input ? "input" : "output";
  const std::vector<Entry> entries =
      Entries(n, path,
              input ? std::span<const std::string_view>(kInputKeys)
                    : std::span<const std::string_view>(kOutputKeys));
  if (input) {
    chain->roles = {"user", "assistant", "tool"};
    if (const Node* roles = Value(entries, "roles")) {
      chain->roles.clear();
      const std::string roles_path = Child(path, "roles");
      const std::vector<const Node*> items = Items(roles, roles_path);
      if (roles->kind == Kind::kNull || (roles->kind == Kind::kSeq && items.empty())) {
        Add(*roles, roles_path,
            "lists no role; name the roles to scan (system, user, assistant, tool)");
      }
      for (size_t i = 0; i < items.size(); ++i) {
        size_t role = 0;
        if (!Choice(items[i], Index(roles_path, i), kInputRoles, &role)) continue;
        const std::string name(kInputRoles[role]);
        if (std::find(chain->roles.begin(), chain->roles.end(), name) != chain->roles.end()) {
          Add(*items[i], Index(roles_path, i), "role " + Quote(name) + " is listed twice");
          continue;
        }
        chain->roles.push_back(name);
      }
    }
  } else {
    chain->roles = {"output"};
    if (const Entry* roles = Find(entries, "roles")) {
      Add(*roles->key, Child(path, "roles"),
          "the output chain always scans the model's answer and has no roles; remove this key");
    }
  }

  const std::string scanners_path = Child(path, "scanners");
  const std::vector<const Node*> items = Items(Value(entries, "scanners"), scanners_path);
  std::unordered_map<std::string, std::string> names;  // instance name -> path of its entry
  for (size_t i = 0; i < items.size(); ++i) {
    ScannerEntry s;
    const Node* name_node = nullptr;
    ReadScanner(*items[i], Index(scanners_path, i), &s, &name_node);
    if (s.name.empty()) continue;  // reported
    auto [it, fresh] = names.emplace(s.name, s.path);
    if (!fresh) {
      Add(name_node != nullptr ? *name_node : *items[i], Child(s.path, "name"),
          "scanner name " + Quote(s.name) + " is already used by " + it->second +
              "; give each instance its own name");
      continue;
    }
    chain->scanners.push_back(std::move(s));
  }
}

void Reader::ReadScanner(const Node& n, const std::string& path, ScannerEntry* s,
                         const Node** name_node) {
  s->path = path;
  s->where = n.where;
  if (n.kind != Kind::kMap) {
    Add(n, path, "expected a mapping (type: ..., action: ...); got " + Describe(n));
    return;
  }
  const Node* type = nullptr;
  for (const Entry& e : Entries(&n, path, {}, /*any_key=*/true)) {
    const std::string& key = e.key->text;
    const std::string key_path = Child(path, key);
    if (key == "type") {
      type = e.value;
      String(e.value, key_path, &s->type, /*allow_empty=*/false);
    } else if (key == "name") {
      *name_node = e.value;
      String(e.value, key_path, &s->name, /*allow_empty=*/false);
    } else if (key == "action") {
      size_t a = 0;
      if (Choice(e.value, key_path, kActionNames, &a)) s->action = static_cast<ConfiguredAction>(a);
    } else if (key == "on_error") {
      size_t a = 0;
      if (Choice(e.value, key_path, kOnErrorNames, &a)) s->on_error = static_cast<OnError>(a);
    } else {
      json::value v;
      if (ToJson(*e.value, key_path, &v)) {
        s->options[key] = std::move(v);
        s->option_where[key] = e.key->where;
      }
    }
  }
  if (type == nullptr) Add(n, Child(path, "type"), "missing; every scanner entry has a type");
  if (s->name.empty() && *name_node == nullptr) s->name = s->type;
}

void Reader::ReadBreaker(const Node* n, CircuitBreakerSettings* b) {
  const std::string path = "circuit_breaker";
  const std::vector<Entry> entries = Entries(n, path, kBreakerKeys);
  Unsigned(Value(entries, "failure_threshold"), Child(path, "failure_threshold"), 1,
           kMaxFailureThreshold, &b->failure_threshold);
  Number(Value(entries, "open_seconds"), Child(path, "open_seconds"), 0, kMaxSeconds, true,
         &b->open_seconds);
  Unsigned(Value(entries, "half_open_requests"), Child(path, "half_open_requests"), 1,
           kMaxHalfOpenRequests, &b->half_open_requests);
}

void Reader::ReadAudit(const Node* n, AuditSettings* a) {
  const std::string path = "audit";
  const std::vector<Entry> entries = Entries(n, path, kAuditKeys);
  Bool(Value(entries, "enabled"), Child(path, "enabled"), &a->enabled);
  String(Value(entries, "path"), Child(path, "path"), &a->path);
  Unsigned(Value(entries, "checkpoint_every"), Child(path, "checkpoint_every"), 1,
           kMaxCheckpointEvery, &a->checkpoint_every);
  Number(Value(entries, "checkpoint_seconds"), Child(path, "checkpoint_seconds"), 0, kMaxSeconds,
         true, &a->checkpoint_seconds);
  String(Value(entries, "ledger"), Child(path, "ledger"), &a->ledger);
  Bool(Value(entries, "record_text"), Child(path, "record_text"), &a->record_text);
}

void Reader::ReadLimits(const Node* n, Limits* l) {
  const std::string path = "limits";
  const std::vector<Entry> entries = Entries(n, path, kLimitsKeys);
  Unsigned(Value(entries, "max_input_bytes"), Child(path, "max_input_bytes"), 1, kMaxTextBytes,
           &l->max_input_bytes);
  Unsigned(Value(entries, "max_output_bytes"), Child(path, "max_output_bytes"), 1, kMaxTextBytes,
           &l->max_output_bytes);
  Unsigned(Value(entries, "max_messages"), Child(path, "max_messages"), 1, kMaxMessages,
           &l->max_messages);
  Unsigned(Value(entries, "max_decode_depth"), Child(path, "max_decode_depth"), 1, kMaxDecodeDepth,
           &l->max_decode_depth);
  Unsigned(Value(entries, "max_decoded_bytes"), Child(path, "max_decoded_bytes"), 1, kMaxTextBytes,
           &l->max_decoded_bytes);
}

// Hex digit value, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool DecodeHex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

std::string_view ConfiguredActionName(ConfiguredAction a) {
  return kActionNames[static_cast<size_t>(a)];
}

std::string_view ValueTypeName(ValueType t) { return kValueTypeNames[static_cast<size_t>(t)]; }

bool ValueHasType(const json::value& v, ValueType t) {
  switch (t) {
    case ValueType::kAny:
      return true;
    case ValueType::kString:
      return v.is_string();
    case ValueType::kInteger:
      if (v.is_int64() || v.is_uint64()) return true;
      return v.is_double() && std::isfinite(v.get_double()) &&
             std::trunc(v.get_double()) == v.get_double();
    case ValueType::kNumber:
      return v.is_number();
    case ValueType::kBoolean:
      return v.is_bool();
    case ValueType::kObject:
      return v.is_object();
    case ValueType::kArray:
      return v.is_array();
    case ValueType::kNull:
      return v.is_null();
  }
  return false;
}

Result<Policy> ParsePolicy(std::string_view yaml, std::string_view source) {
  Problems problems(source);
  if (yaml.size() > kMaxPolicyBytes) {
    return DataLossError(std::string(source) + ": " + std::to_string(yaml.size()) +
                         " bytes is more than the limit of " + std::to_string(kMaxPolicyBytes) +
                         " bytes (4 MiB) for a policy");
  }
  if (!CheckText(yaml, &problems)) return problems.ToStatus();
  std::vector<Node> nodes;
  if (!BuildTree(yaml, &nodes, &problems)) return problems.ToStatus();
  if (nodes.empty()) {
    problems.Add({}, "version", "missing: the file is empty; a policy starts with \"version: 1\"");
    return problems.ToStatus();
  }
  Policy policy;
  policy.source = std::string(source);
  Reader(nodes, &problems).ReadPolicy(&policy);
  if (!problems.empty()) return problems.ToStatus();
  return policy;
}

Result<Policy> LoadPolicy(const std::string& path) {
  Result<std::string> text = ReadFileToString(path, kMaxPolicyBytes);
  if (!text.has_value()) {
    if (text.error().code() == StatusCode::kResourceExhausted) {
      return DataLossError(text.error().message());
    }
    return text.error();
  }
  WARDEN_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(*text, path));
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  policy.base_dir = dir.empty() ? "." : dir.string();
  return policy;
}

std::string Where(const Policy& policy, const SourceLocation& where) {
  return Prefix(policy.source, where);
}

const Tier* FindTier(const Policy& policy, std::string_view name) {
  for (const Tier& t : policy.tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string HashApiKey(std::string_view key) {
  std::array<uint8_t, kSaltBytes> salt{};
  // Without randomness there is no safe salt, and nothing sensible to return.
  WARDEN_CHECK(RAND_bytes(salt.data(), static_cast<int>(salt.size())) == 1);
  crypto::Sha256Hasher h;
  h.Update(std::span<const uint8_t>(salt));
  h.Update(key);
  return std::string(kHashScheme) + ":" + HexEncode(salt) + ":" + crypto::DigestHex(h.Finish());
}

const ApiKey* MatchApiKey(const Policy& policy, std::string_view presented_key) {
  // Every configured key is hashed and compared, whether or not one matched already, and the
  // comparison does not stop at the first differing byte: the time taken says nothing about
  // which key (or how much of a digest) matched.
  const ApiKey* match = nullptr;
  crypto::Sha256Hasher h;
  for (const ApiKey& key : policy.keys) {
    std::string_view hash = key.hash;
    const size_t salt_at = kHashScheme.size() + 1;
    const size_t digest_at = salt_at + 2 * kSaltBytes + 1;
    std::array<uint8_t, kSaltBytes> salt{};
    crypto::Sha256Digest want{};
    if (hash.size() != digest_at + 2 * crypto::kSha256Size ||
        hash.substr(0, salt_at - 1) != kHashScheme || hash[salt_at - 1] != ':' ||
        hash[digest_at - 1] != ':' || !DecodeHex(hash.substr(salt_at, 2 * kSaltBytes), salt) ||
        !DecodeHex(hash.substr(digest_at), want)) {
      continue;  // not a hash ParsePolicy accepts; a hand-built Policy may hold anything
    }
    h.Update(std::span<const uint8_t>(salt));
    h.Update(presented_key);
    const crypto::Sha256Digest got = h.Finish();
    const bool equal = CRYPTO_memcmp(got.data(), want.data(), got.size()) == 0;
    if (equal && match == nullptr) match = &key;
  }
  return match;
}

}  // namespace warden::guard
