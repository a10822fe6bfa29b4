// libFuzzer target for the whole guard (guard/guard.h) under the shipped strict-and-default
// mix: a policy whose input chain has every deterministic scanner (unicode, encoding, pii,
// secrets, patterns, the three classifiers, canary) with redaction where a scanner allows it,
// so that decoding, redaction in decoded payloads and span mapping all run on hostile text.
//
// The input is split into messages at 0x1E bytes (the first byte of each message picks its
// role); a second run checks the same bytes as a model's answer, with tool calls whose
// arguments are the last message.
//
// Checks beyond "no crash, no leak, no UB, no time-out": an allowed request's messages are
// valid UTF-8 (redaction never cuts a character); a blocked decision names its scanner and has
// a block verdict; every verdict's span lies inside its message as the scanner saw it.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "guard/builtin_scanners.h"
#include "guard/guard.h"
#include "guard/policy.h"

namespace {

namespace guard = warden::guard;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kPolicy = R"(version: 1
default_tier: t
tiers:
  t:
    tools:
      allow:
        - name: f
          arguments:
            a: {type: string, max_length: 10, pattern: "[a-z]+"}
            "b[*].c": {type: integer, minimum: 0, maximum: 5}
      deny_patterns: ['rm\s+-rf']
input:
  scanners:
    - {type: unicode, action: flag}
    - {type: encoding, action: redact}
    - {type: pii, action: redact}
    - {type: secrets, action: redact}
    - {type: patterns, action: redact, keywords: [secret plan], regexes: ['ign[o0]re\s+previous']}
    - {type: injection, action: flag}
    - {type: jailbreak, action: flag}
    - {type: harmful, action: flag}
    - {type: canary, action: block}
output:
  scanners:
    - {type: unicode, action: flag}
    - {type: pii, action: redact}
    - {type: secrets, action: redact}
    - {type: canary, action: redact}
limits:
  max_input_bytes: 65536
  max_decode_depth: 3
  max_decoded_bytes: 65536
)";

const guard::Guard& TheGuard() {
  static const guard::Guard* g = [] {
    static guard::ScannerRegistry registry;
    guard::RegisterBuiltinScanners(registry);
    auto policy = guard::ParsePolicy(kPolicy, "fuzz.yaml");
    if (!policy) std::abort();
    const char* dir = std::getenv("WARDEN_DATA_DIR");
    auto made = guard::Guard::Create(*policy, registry, dir ? dir : WARDEN_FUZZ_DATA_DIR);
    if (!made) std::abort();
    return new guard::Guard(std::move(*made));
  }();
  return *g;
}

void CheckDecision(const guard::Decision& d) {
  if (!d.allowed) {
    Check(!d.blocked_by.empty());
    bool has_block = false;
    for (const auto& v : d.verdicts) has_block = has_block || v.action == guard::Action::kBlock;
    Check(has_block);
  }
  for (const auto& v : d.verdicts) Check(v.span.begin <= v.span.end);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const guard::Guard& g = TheGuard();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static const char* kRoles[] = {"user", "assistant", "tool", "system"};
  guard::Conversation conv;
  size_t at = 0;
  while (at <= in.size() && conv.messages.size() < 16) {
    size_t end = in.find('\x1e', at);
    if (end == std::string_view::npos) end = in.size();
    std::string_view part = in.substr(at, end - at);
    guard::Message m;
    m.role = kRoles[part.empty() ? 0 : static_cast<unsigned char>(part[0]) % 4];
    m.content = std::string(part);
    conv.messages.push_back(std::move(m));
    at = end + 1;
  }
  conv.tools = {"f", "g"};
  guard::RequestState state;
  guard::Decision d = g.CheckInput(conv, "t", state);
  CheckDecision(d);
  if (d.allowed) {
    for (const auto& m : conv.messages) Check(warden::IsValidUtf8(m.content));
  }
  std::string answer(in);
  std::vector<guard::ToolCall> calls = {
      guard::ToolCall{"1", "f", std::string(conv.messages.back().content)}};
  guard::Decision o = g.CheckOutput(answer, calls, "t", state);
  CheckDecision(o);
  if (o.allowed) Check(warden::IsValidUtf8(answer));
  return 0;
}
