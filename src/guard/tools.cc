#include "guard/tools.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "guard/hyperscan.h"
#include "guard/unicode.h"

namespace warden::guard {

namespace {

// A call can produce one violation per string in its arguments; past this many, the rest are
// counted in one closing entry instead of listed (each entry carries a path, and a 64 KiB
// argument text could otherwise yield tens of thousands of them).
constexpr size_t kMaxListedViolations = 64;
// Attacker-chosen text (keys, tool names, values) quoted in a reason or path is cut to this
// many bytes, at a code-point boundary.
constexpr size_t kMaxQuotedBytes = 64;
// Enum values listed in a reason.
constexpr size_t kMaxListedEnumValues = 8;

// ---------------------------------------------------------------------------------------------
// Text for messages.

// `s` cut to at most `max` bytes (never inside a UTF-8 sequence) with "..." when cut, and with
// control characters escaped, so that a hostile key cannot forge lines in a log.
std::string Quoted(std::string_view s, size_t max = kMaxQuotedBytes) {
  bool cut = false;
  if (s.size() > max) {
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
    cut = true;
  }
  std::string out;
  out.reserve(s.size() + 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  if (cut) out += "...";
  return out;
}

std::string FormatDouble(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), d);
  if (r.ec != std::errc()) return "?";
  return std::string(buf, r.ptr);
}

// A JSON value as a person would write it; long strings and containers are shortened.
std::string Show(const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      return std::to_string(v.get_int64());
    case boost::json::kind::uint64:
      return std::to_string(v.get_uint64());
    case boost::json::kind::double_:
      return FormatDouble(v.get_double());
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      return "\"" + Quoted(std::string_view(s.data(), s.size())) + "\"";
    }
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
    default:
      return boost::json::serialize(v);
  }
}

std::string_view TypeWord(ValueType t) {
  switch (t) {
    case ValueType::kAny:
      return "any value";
    case ValueType::kString:
      return "a string";
    case ValueType::kInteger:
      return "an integer";
    case ValueType::kNumber:
      return "a number";
    case ValueType::kBoolean:
      return "a boolean";
    case ValueType::kObject:
      return "an object";
    case ValueType::kArray:
      return "an array";
    case ValueType::kNull:
      return "null";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Numbers. JSON has one number type; Boost.JSON keeps int64, uint64 or double. Comparisons are
// exact (converting 2^53 + 1 to double would make it equal to 2^53).

constexpr int kUnordered = 2;  // a NaN bound (not reachable from JSON, possible from YAML .nan)

int CompareUintDouble(uint64_t u, double d) {
  if (std::isnan(d)) return kUnordered;
  if (d < 0) return 1;
  if (d >= 18446744073709551616.0) return -1;  // 2^64
  const double t = std::trunc(d);
  const auto ut = static_cast<uint64_t>(t);
  if (u < ut) return -1;
  if (u > ut) return 1;
  return d > t ? -1 : 0;
}

int CompareIntDouble(int64_t i, double d) {
  if (i >= 0) return CompareUintDouble(static_cast<uint64_t>(i), d);
  if (std::isnan(d)) return kUnordered;
  if (d >= 0) return -1;
  if (d < -9223372036854775808.0) return 1;  // -2^63
  const double t = std::trunc(d);
  const auto it = static_cast<int64_t>(t);
  if (i < it) return -1;
  if (i > it) return 1;
  return d < t ? 1 : 0;
}

// -1, 0, 1, or kUnordered. Both must be numbers.
int CompareNumberToDouble(const json::value& v, double d) {
  switch (v.kind()) {
    case boost::json::kind::int64:
      return CompareIntDouble(v.get_int64(), d);
    case boost::json::kind::uint64:
      return CompareUintDouble(v.get_uint64(), d);
    default: {
      const double x = v.get_double();
      if (std::isnan(x) || std::isnan(d)) return kUnordered;
      return x < d ? -1 : (x > d ? 1 : 0);
    }
  }
}

bool NumbersEqual(const json::value& a, const json::value& b) {
  if (a.is_double()) return CompareNumberToDouble(b, a.get_double()) == 0;
  if (b.is_double()) return CompareNumberToDouble(a, b.get_double()) == 0;
  if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
  if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
  const int64_t i = a.is_int64() ? a.get_int64() : b.get_int64();
  const uint64_t u = a.is_uint64() ? a.get_uint64() : b.get_uint64();
  return i >= 0 && static_cast<uint64_t>(i) == u;
}


// Enum equality: numbers by value (1 == 1.0: JSON does not distinguish them, and the integer
// type accepts 1.0 too), strings byte for byte, objects regardless of key order. Recursion is
// bounded by the enum value's depth, which comes from the policy (YAML nesting is capped).
bool JsonEqual(const json::value& a, const json::value& b) {
  if (a.is_number() && b.is_number()) return NumbersEqual(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (other == nullptr || !JsonEqual(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}


// Code points of well-formed UTF-8 (the JSON parser refuses anything else).
uint64_t CodePoints(std::string_view s) {
  uint64_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Constraint paths.

struct Segment {
  enum class Kind { kKey, kIndex, kEach };
  Kind kind = Kind::kKey;
  std::string key;
  size_t index = 0;
};

Result<std::vector<Segment>> ParsePath(std::string_view path) {
  std::vector<Segment> out;
  size_t i = 0;
  auto key = [&]() -> Status {
    const size_t start = i;
    while (i < path.size() && path[i] != '.' && path[i] != '[' && path[i] != ']') ++i;
    if (i == start) {
      return InvalidArgumentError("expected a key at offset " + std::to_string(start));
    }
    out.push_back({Segment::Kind::kKey, std::string(path.substr(start, i - start)), 0});
    return Status::Ok();
  };
  WARDEN_RETURN_IF_ERROR(key());
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      WARDEN_RETURN_IF_ERROR(key());
    } else if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) return InvalidArgumentError("unclosed '['");
      const std::string_view inner = path.substr(i + 1, close - i - 1);
      if (inner == "*") {
        out.push_back({Segment::Kind::kEach, {}, 0});
      } else {
        size_t index = 0;
        const auto r = std::from_chars(inner.data(), inner.data() + inner.size(), index);
        if (inner.empty() || r.ec != std::errc() || r.ptr != inner.data() + inner.size()) {
          return InvalidArgumentError("\"[" + std::string(inner) +
                                      "]\" is neither an index nor [*]");
        }
        out.push_back({Segment::Kind::kIndex, {}, index});
      }
      i = close + 1;
    } else {
      return InvalidArgumentError("unexpected '" + std::string(1, path[i]) + "' at offset " +
                                  std::to_string(i));
    }
  }
  return out;
}

std::string Render(const std::vector<Segment>& segments, size_t from, std::string path) {
  for (size_t i = from; i < segments.size(); ++i) {
    const Segment& s = segments[i];
    if (s.kind == Segment::Kind::kKey) {
      path = json::Join(path, s.key);
    } else if (s.kind == Segment::Kind::kIndex) {
      path = json::JoinIndex(path, s.index);
    } else {
      path += "[*]";
    }
  }
  return path;
}

struct Resolved {
  const json::value* value;
  std::string path;  // concrete: "items[1].name"
};
struct DeadEnd {
  std::string path;  // concrete up to where it stopped, the rest as written
  std::string why;   // "" when a key is simply absent
};

// Follows `segments` from `root`, fanning out at [*]. Every value reached, and every branch
// that stops short (a missing key, an index past the end, a container of the wrong kind), in
// document order. Recursion depth is the number of segments (from the policy, not the call);
// the number of values reached is at most the number of values in the document.
void Resolve(const json::value& v, const std::vector<Segment>& segments, size_t at,
             const std::string& path, std::vector<Resolved>* found, std::vector<DeadEnd>* dead) {
  if (at == segments.size()) {
    found->push_back({&v, path});
    return;
  }
  const Segment& s = segments[at];
  if (s.kind == Segment::Kind::kKey) {
    const std::string next = json::Join(path, s.key);
    if (!v.is_object()) {
      dead->push_back({Render(segments, at + 1, next),
                       (path.empty() ? std::string("the arguments") : path) + " is " +
                           std::string(json::KindName(v)) + ", not an object"});
      return;
    }
    const json::value* child = v.get_object().if_contains(s.key);
    if (child == nullptr) {
      dead->push_back({Render(segments, at + 1, next), ""});
      return;
    }
    Resolve(*child, segments, at + 1, next, found, dead);
    return;
  }
  if (!v.is_array()) {
    dead->push_back({Render(segments, at, path),
                     path + " is " + std::string(json::KindName(v)) + ", not an array"});
    return;
  }
  const auto& a = v.get_array();
  if (s.kind == Segment::Kind::kIndex) {
    const std::string next = json::JoinIndex(path, s.index);
    if (s.index >= a.size()) {
      dead->push_back({Render(segments, at + 1, next),
                       path + " has " + std::to_string(a.size()) + " elements"});
      return;
    }
    Resolve(a[s.index], segments, at + 1, next, found, dead);
    return;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    Resolve(a[i], segments, at + 1, json::JoinIndex(path, i), found, dead);
  }
}

// ---------------------------------------------------------------------------------------------

class Violations {
 public:
  explicit Violations(std::string_view tool) : tool_(tool) {}

  void Add(std::string path, std::string reason) {
    ++total_;
    if (list_.size() < kMaxListedViolations) {
      list_.push_back({tool_, std::move(path), std::move(reason)});
    }
  }

  size_t total() const { return total_; }

  std::vector<ToolViolation> Take() && {
    if (total_ > list_.size()) {
      list_.push_back({tool_, "",
                       std::to_string(total_ - list_.size()) + " more violations not listed (" +
                           std::to_string(total_) + " in all)"});
    }
    return std::move(list_);
  }

 private:
  std::string tool_;
  std::vector<ToolViolation> list_;
  size_t total_ = 0;
};

struct CompiledConstraint {
  const ArgumentConstraint* spec;
  std::vector<Segment> segments;
  std::optional<Database> pattern;  // "^(?:p\E)\z", no start tracking, empty allowed
};

struct CompiledRule {
  const ToolRule* spec;
  std::vector<CompiledConstraint> constraints;
  std::set<std::string, std::less<>> top_level_keys;  // first segments of the paths
};

// Hyperscan's message without the wrapper's "pattern 0 ("..."): " (we name the pattern
// ourselves, with where it is in the policy).
std::string HyperscanMessage(const Status& s, size_t index, const std::string& expression) {
  const std::string prefix = "pattern " + std::to_string(index) + " (\"" + expression + "\"): ";
  if (s.message().compare(0, prefix.size(), prefix) == 0) return s.message().substr(prefix.size());
  return s.message();
}

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

struct ToolGuard::Impl {
  ToolPolicy policy;
  std::string tier;
  std::map<std::string, CompiledRule, std::less<>> rules;
  std::optional<Database> deny;  // all deny patterns, caseless, one database

  void CheckValue(const CompiledConstraint& c, const json::value& v, const std::string& path,
                  Violations* out) const;
  void CheckDenyPatterns(const json::value& root, Violations* out) const;
  // Adds a violation per deny pattern found in `text`; `path` is called only then.
  template <typename PathFn>
  void ScanForDeny(std::string_view text, const PathFn& path, bool is_key, Violations* out) const;
};

ToolGuard::ToolGuard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ToolGuard::ToolGuard(ToolGuard&&) noexcept = default;
ToolGuard& ToolGuard::operator=(ToolGuard&&) noexcept = default;
ToolGuard::~ToolGuard() = default;

const ToolPolicy& ToolGuard::policy() const { return impl_->policy; }

Result<ToolGuard> ToolGuard::Create(const ToolPolicy& policy, std::string tier_name) {
  auto impl = std::make_unique<Impl>();
  impl->policy = policy;
  impl->tier = std::move(tier_name);
  const std::string tier = "tier \"" + impl->tier + "\"";
  // Pointers below point into impl->policy, which is never modified after this.
  for (const ToolRule& rule : impl->policy.allow) {
    const std::string where = tier + ", tool \"" + rule.name + "\"";
    CompiledRule compiled{&rule, {}, {}};
    for (const ArgumentConstraint& c : rule.arguments) {
      const std::string at = where + ", argument \"" + c.path + "\": ";
      auto segments = ParsePath(c.path);
      if (!segments.has_value()) {
        return InvalidArgumentError(at + "bad path: " + segments.error().message());
      }
      const ValueType t = c.type;
      if (c.pattern && t != ValueType::kAny && t != ValueType::kString) {
        return InvalidArgumentError(at + "a pattern applies to strings, but the type is " +
                                    std::string(TypeWord(t)));
      }
      if ((c.min_length || c.max_length) && t != ValueType::kAny && t != ValueType::kString &&
          t != ValueType::kArray) {
        return InvalidArgumentError(at + "lengths apply to strings and arrays, but the type is " +
                                    std::string(TypeWord(t)));
      }
      if ((c.minimum || c.maximum) && t != ValueType::kAny && t != ValueType::kInteger &&
          t != ValueType::kNumber) {
        return InvalidArgumentError(at + "minimum and maximum apply to numbers, but the type is " +
                                    std::string(TypeWord(t)));
      }
      if (c.min_length && c.max_length && *c.min_length > *c.max_length) {
        return InvalidArgumentError(at + "min_length is greater than max_length");
      }
      if ((c.minimum && std::isnan(*c.minimum)) || (c.maximum && std::isnan(*c.maximum))) {
        return InvalidArgumentError(at + "minimum and maximum must be numbers, not NaN");
      }
      if (c.minimum && c.maximum && *c.minimum > *c.maximum) {
        return InvalidArgumentError(at + "minimum is greater than maximum");
      }
      CompiledConstraint cc{&c, std::move(segments).value(), std::nullopt};
      if (c.pattern) {
        // The pattern alone first: its own errors name it as written, and a pattern that only
        // compiles inside the wrapper ("a)|(b" would become "^(?:a)|(b\E)\z", no longer
        // anchored) is refused. "\E" closes a "\Q" left open so that it cannot quote the
        // wrapper's tail.
        PatternSpec alone{*c.pattern, false, false, true};
        if (auto db = Database::Compile({alone}); !db.has_value()) {
          return InvalidArgumentError(at + "pattern \"" + *c.pattern + "\" does not compile: " +
                                      HyperscanMessage(db.error(), 0, *c.pattern));
        }
        PatternSpec whole{"^(?:" + *c.pattern + "\\E)\\z", false, false, true};
        auto db = Database::Compile({whole});
        if (!db.has_value()) {
          return InvalidArgumentError(at + "pattern \"" + *c.pattern +
                                      "\" does not compile when anchored: " +
                                      HyperscanMessage(db.error(), 0, whole.expression));
        }
        cc.pattern = std::move(db).value();
      }
      compiled.top_level_keys.insert(cc.segments.front().key);
      compiled.constraints.push_back(std::move(cc));
    }
    if (!impl->rules.emplace(rule.name, std::move(compiled)).second) {
      return InvalidArgumentError(where + ": listed twice");
    }
  }
  if (!impl->policy.deny_patterns.empty()) {
    std::vector<PatternSpec> specs;
    for (const std::string& p : impl->policy.deny_patterns)
      specs.push_back({p, true, false, false});
    auto db = Database::Compile(specs);
    if (!db.has_value()) {
      return InvalidArgumentError(tier + ", deny_patterns: " + db.error().message());
    }
    impl->deny = std::move(db).value();
  }
  return ToolGuard(std::move(impl));
}

std::vector<std::string> ToolGuard::RefusedOffers(
    const std::vector<std::string>& offered_names) const {
  std::vector<std::string> refused;
  for (const std::string& name : offered_names) {
    if (impl_->rules.find(name) == impl_->rules.end()) refused.push_back(name);
  }
  return refused;
}

std::vector<ToolViolation> ToolGuard::CheckCall(std::string_view name,
                                                std::string_view arguments_json) const {
  Violations out(name);
  const auto rule_it = impl_->rules.find(name);
  if (rule_it == impl_->rules.end()) {
    out.Add("", "tool \"" + Quoted(name) + "\" is not allowed for tier \"" + impl_->tier + "\"");
    return std::move(out).Take();
  }
  const CompiledRule& rule = rule_it->second;
  const ToolPolicy& policy = impl_->policy;

  if (arguments_json.size() > policy.max_argument_bytes) {
    out.Add("", "arguments are " + std::to_string(arguments_json.size()) +
                    " bytes, more than the limit of " + std::to_string(policy.max_argument_bytes));
    return std::move(out).Take();
  }
  bool blank = true;
  for (char c : arguments_json) blank = blank && IsJsonWhitespace(c);
  json::value parsed = json::object();
  if (!blank) {
    auto r = json::Parse(arguments_json, "arguments", policy.max_argument_depth);
    if (!r.has_value()) {
      out.Add("", "arguments are not a JSON text of at most " +
                      std::to_string(policy.max_argument_depth) +
                      " nesting levels: " + Quoted(r.error().message(), 4 * kMaxQuotedBytes));
      return std::move(out).Take();
    }
    parsed = std::move(r).value();
  }
  if (!parsed.is_object()) {
    out.Add("", "arguments must be a JSON object, got " + std::string(json::KindName(parsed)));
    return std::move(out).Take();
  }
  const json::object& args = parsed.get_object();

  if (!rule.spec->allow_unlisted_arguments) {
    for (const auto& kv : args) {
      const std::string_view key(kv.key().data(), kv.key().size());
      if (rule.top_level_keys.find(key) == rule.top_level_keys.end()) {
        out.Add(Quoted(key), "unexpected argument '" + Quoted(key) + "'");
      }
    }
  }

  for (const CompiledConstraint& c : rule.constraints) {
    std::vector<Resolved> found;
    std::vector<DeadEnd> dead;
    Resolve(parsed, c.segments, 0, "", &found, &dead);
    if (c.spec->required) {
      for (DeadEnd& d : dead) {
        out.Add(std::move(d.path), d.why.empty() ? "required argument is missing"
                                                 : "required argument is missing (" + d.why + ")");
      }
    }
    for (const Resolved& r : found) impl_->CheckValue(c, *r.value, r.path, &out);
  }

  if (impl_->deny) impl_->CheckDenyPatterns(parsed, &out);
  return std::move(out).Take();
}

void ToolGuard::Impl::CheckValue(const CompiledConstraint& c, const json::value& v,
                                 const std::string& path, Violations* out) const {
  const ArgumentConstraint& spec = *c.spec;
  if (!ValueHasType(v, spec.type)) {
    // The other checks would only restate the mismatch.
    out->Add(path, "must be " + std::string(TypeWord(spec.type)) + ", got " + Show(v));
    return;
  }
  if (!spec.enum_values.empty()) {
    bool listed = false;
    for (const json::value& e : spec.enum_values) listed = listed || JsonEqual(v, e);
    if (!listed) {
      std::string options;
      for (size_t i = 0; i < spec.enum_values.size() && i < kMaxListedEnumValues; ++i) {
        options += (i ? ", " : "") + boost::json::serialize(spec.enum_values[i]);
      }
      if (spec.enum_values.size() > kMaxListedEnumValues) options += ", ...";
      out->Add(path, "must be one of " + options + "; got " + Show(v));
    }
  }
  if (spec.min_length || spec.max_length) {
    std::optional<uint64_t> length;
    std::string unit;
    if (v.is_string()) {
      length = CodePoints(std::string_view(v.get_string().data(), v.get_string().size()));
      unit = " characters";
    } else if (v.is_array()) {
      length = v.get_array().size();
      unit = " elements";
    }
    if (!length) {
      out->Add(path, "must be a string or an array to have a length, got " + Show(v));
    } else if (spec.min_length && *length < *spec.min_length) {
      out->Add(path, "must have at least " + std::to_string(*spec.min_length) + unit + ", got " +
                         std::to_string(*length));
    } else if (spec.max_length && *length > *spec.max_length) {
      out->Add(path, "must have at most " + std::to_string(*spec.max_length) + unit + ", got " +
                         std::to_string(*length));
    }
  }
  if (spec.minimum || spec.maximum) {
    if (!v.is_number()) {
      out->Add(path, "must be a number to compare with its bounds, got " + Show(v));
    } else {
      if (spec.minimum) {
        const int cmp = CompareNumberToDouble(v, *spec.minimum);
        if (cmp < 0 || cmp == kUnordered) {
          out->Add(path, "must be >= " + FormatDouble(*spec.minimum) + ", got " + Show(v));
        }
      }
      if (spec.maximum) {
        const int cmp = CompareNumberToDouble(v, *spec.maximum);
        if (cmp > 0) {
          out->Add(path, "must be <= " + FormatDouble(*spec.maximum) + ", got " + Show(v));
        }
      }
    }
  }
  if (c.pattern) {
    if (!v.is_string()) {
      out->Add(path, "must be a string to match the pattern, got " + Show(v));
    } else {
      const std::string_view text(v.get_string().data(), v.get_string().size());
      auto matches = c.pattern->Scan(text);
      if (!matches.has_value()) {
        // Fail closed: a value we could not check does not pass.
        out->Add(path, "could not be matched against its pattern: " + matches.error().message());
      } else {
        // The wrapper anchors at both ends; the end check is a second lock (`$` alone would also
        // accept a final newline).
        bool whole = false;
        for (const Match& m : *matches) whole = whole || m.end == text.size();
        if (!whole) {
          out->Add(path, "must match the pattern \"" + *spec.pattern + "\", got " + Show(v));
        }
      }
    }
  }
}

template <typename PathFn>
void ToolGuard::Impl::ScanForDeny(std::string_view text, const PathFn& path, bool is_key,
                                  Violations* out) const {
  const std::string what = is_key ? "key" : "value";
  // Pattern index -> whether it matched the text as sent (else only once normalised).
  std::map<uint32_t, bool> found;
  auto scan = [&](std::string_view t, bool as_sent) -> Status {
    auto matches = deny->Scan(t);
    if (!matches.has_value()) return matches.error();
    for (const Match& m : *matches) found[m.pattern] |= as_sent;
    return Status::Ok();
  };
  Status s = scan(text, true);
  // A deny pattern written in ASCII must not be dodged with a zero-width space, a Cyrillic
  // look-alike or full-width letters: non-ASCII text is also scanned as the unicode scanner
  // normalises it (ASCII text is returned unchanged, without calling ICU).
  if (s.ok()) {
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (!ascii) {
      auto n = NormalizeForScanning(text);
      if (!n.has_value()) {
        s = n.error();
      } else {
        if (n->changed) s = scan(n->text, false);
        if (s.ok() && !n->tag_payload.empty()) s = scan(n->tag_payload, false);
      }
    }
  }
  if (!s.ok()) {
    // Fail closed: text we could not search does not pass.
    out->Add(path(), what + " could not be searched for deny patterns: " + s.message());
    return;
  }
  if (found.empty()) return;
  const std::string where = path();
  for (const auto& [p, as_sent] : found) {
    out->Add(where, what + " matches deny pattern \"" + policy.deny_patterns[p] + "\"" +
                        (as_sent ? "" : " once Unicode-normalised"));
  }
}

void ToolGuard::Impl::CheckDenyPatterns(const json::value& root, Violations* out) const {
  // Iterative, in document order; a frame per open container, so memory follows the depth
  // (capped by the parse) and paths are only built for the strings scanned.
  struct Frame {
    const json::value* container;
    size_t next;  // the child being visited is next - 1
  };
  std::vector<Frame> stack{{&root, 0}};
  std::unordered_set<std::string_view> clean_keys;  // views into `root`
  auto path_of = [&stack]() {
    std::string path;
    for (const Frame& f : stack) {
      if (f.next == 0) continue;
      if (f.container->is_object()) {
        const auto& kv = *(f.container->get_object().begin() + (f.next - 1));
        path = json::Join(path, Quoted(std::string_view(kv.key().data(), kv.key().size())));
      } else {
        path = json::JoinIndex(path, f.next - 1);
      }
    }
    return path;
  };
  while (!stack.empty()) {
    Frame& top = stack.back();
    const json::value* child = nullptr;
    if (top.container->is_object()) {
      const auto& o = top.container->get_object();
      if (top.next == o.size()) {
        stack.pop_back();
        continue;
      }
      const auto& kv = *(o.begin() + top.next);
      ++top.next;
      const std::string_view key(kv.key().data(), kv.key().size());
      // Arrays of objects repeat their keys; a key found clean once is clean again.
      if (clean_keys.count(key) == 0) {
        const size_t before = out->total();
        ScanForDeny(key, path_of, true, out);
        if (out->total() == before) clean_keys.insert(key);
      }
      child = &kv.value();
    } else {
      const auto& a = top.container->get_array();
      if (top.next == a.size()) {
        stack.pop_back();
        continue;
      }
      child = &a[top.next];
      ++top.next;
    }
    if (child->is_object() || child->is_array()) {
      stack.push_back({child, 0});
    } else if (child->is_string()) {
      ScanForDeny(std::string_view(child->get_string().data(), child->get_string().size()), path_of,
                  false, out);
    }
  }
}

}  // namespace warden::guard
