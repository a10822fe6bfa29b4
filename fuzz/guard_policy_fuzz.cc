// libFuzzer target for the policy loader (guard/policy.h ParsePolicy): arbitrary bytes as a
// policy file.
//
// Beyond "no crash, no leak, no UB, bounded time", it checks what the loader promises: a
// refusal is DataLoss whose every line starts with the source name (so a person can find each
// problem); a parse is deterministic; an accepted policy is consistent: version 1, a default
// tier that exists, keys naming existing tiers with well-formed hashes, unique non-empty tier
// names, unique scanner names per chain, known input roles, the output chain's fixed role,
// constraints whose bounds are ordered and whose enum values fit their type, and an option
// location for every scanner option.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "guard/policy.h"

namespace {

namespace guard = warden::guard;
using warden::StatusCode;

constexpr std::string_view kSource = "fuzz.yaml";

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

void CheckRefusal(const warden::Status& error) {
  Check(error.code() == StatusCode::kDataLoss);
  const std::string& m = error.message();
  Check(!m.empty());
  size_t lines = 0;
  size_t start = 0;
  while (start <= m.size()) {
    size_t end = m.find('\n', start);
    if (end == std::string::npos) end = m.size();
    const std::string_view line(m.data() + start, end - start);
    Check(StartsWith(line, kSource) && line.size() > kSource.size() + 1);
    Check(line[kSource.size()] == ':');
    ++lines;
    start = end + 1;
  }
  Check(lines <= 101);  // 100 listed problems and the "... and N more" line
}

void CheckConstraint(const guard::ArgumentConstraint& c) {
  Check(!c.path.empty());
  if (c.min_length && c.max_length) Check(*c.min_length <= *c.max_length);
  if (c.minimum && c.maximum) Check(*c.minimum <= *c.maximum);
  for (const warden::json::value& v : c.enum_values) {
    switch (c.type) {
      case guard::ValueType::kString:
        Check(v.is_string());
        break;
      case guard::ValueType::kInteger:
        Check(v.is_int64() || v.is_uint64());
        break;
      case guard::ValueType::kNumber:
        Check(v.is_number());
        break;
      case guard::ValueType::kBoolean:
        Check(v.is_bool());
        break;
      case guard::ValueType::kObject:
        Check(v.is_object());
        break;
      case guard::ValueType::kArray:
        Check(v.is_array());
        break;
      case guard::ValueType::kNull:
        Check(v.is_null());
        break;
      case guard::ValueType::kAny:
        break;
    }
  }
}

void CheckChain(const guard::ChainSpec& chain, std::string_view prefix) {
  std::set<std::string> names;
  for (size_t i = 0; i < chain.scanners.size(); ++i) {
    const guard::ScannerEntry& s = chain.scanners[i];
    Check(!s.type.empty() && !s.name.empty());
    Check(names.insert(s.name).second);
    Check(s.path == std::string(prefix) + ".scanners[" + std::to_string(i) + "]");
    Check(s.where.line > 0);
    Check(s.option_where.size() == s.options.size());
    for (const auto& [key, value] : s.options) {
      (void)value;
      Check(s.option_where.count(std::string(key)) == 1);
    }
  }
}

void CheckAccepted(const guard::Policy& p, std::string_view text_key) {
  Check(p.version == 1);
  Check(p.source == kSource);
  Check(!p.tiers.empty());
  std::set<std::string> tiers;
  for (const guard::Tier& t : p.tiers) {
    Check(!t.name.empty());
    Check(tiers.insert(t.name).second);
    std::set<std::string> tools;
    for (const guard::ToolRule& r : t.tools.allow) {
      Check(!r.name.empty() && tools.insert(r.name).second);
      for (const guard::ArgumentConstraint& c : r.arguments) CheckConstraint(c);
    }
    for (const std::string& d : t.tools.deny_patterns) Check(!d.empty());
    Check(t.tools.max_argument_bytes >= 1 && t.tools.max_argument_depth >= 1);
    Check(t.rate_limit.requests_per_minute >= 0 && t.rate_limit.requests_per_minute <= 1e6);
    Check(t.rate_limit.burst <= 1000000);
  }
  Check(guard::FindTier(p, p.default_tier) != nullptr);
  std::set<std::string> ids;
  for (const guard::ApiKey& k : p.keys) {
    Check(!k.id.empty() && ids.insert(k.id).second);
    Check(guard::FindTier(p, k.tier) != nullptr);
    Check(k.hash.size() == 7 + 32 + 1 + 64 && StartsWith(k.hash, "sha256:"));
  }
  Check(!p.input.roles.empty());
  std::set<std::string> roles;
  for (const std::string& r : p.input.roles) {
    Check(r == "system" || r == "user" || r == "assistant" || r == "tool");
    Check(roles.insert(r).second);
  }
  Check(p.output.roles.size() == 1 && p.output.roles[0] == "output");
  CheckChain(p.input, "input");
  CheckChain(p.output, "output");
  Check(p.circuit_breaker.failure_threshold >= 1 && p.circuit_breaker.open_seconds > 0);
  Check(p.audit.checkpoint_every >= 1 && p.audit.checkpoint_seconds > 0);
  Check(p.limits.max_input_bytes >= 1 && p.limits.max_messages >= 1);
  // The matcher must cope with every key set the loader accepts.
  (void)guard::MatchApiKey(p, text_key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const warden::Result<guard::Policy> first = guard::ParsePolicy(text, kSource);
  const warden::Result<guard::Policy> again = guard::ParsePolicy(text, kSource);
  Check(first.has_value() == again.has_value());
  if (!first.has_value()) {
    CheckRefusal(first.error());
    Check(first.error().message() == again.error().message());
    return 0;
  }
  CheckAccepted(*first, text.substr(0, 64));
  Check(first->name == again->name && first->tiers.size() == again->tiers.size());
  return 0;
}
