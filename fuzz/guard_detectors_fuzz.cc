// libFuzzer target for the guard's detectors (guard/pii.h, guard/secrets.h): attacker-written
// text in, spans out.
//
// Checks beyond "no crash, no leak, no UB": the only errors are InvalidArgument (text that is
// not UTF-8: and then the text really is not UTF-8) and ResourceExhausted (too many candidate
// matches); matches are ordered by begin, lie inside the text and start and end on character
// boundaries; PII matches do not overlap, and redaction keeps everything outside them.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "guard/pii.h"
#include "guard/secrets.h"

namespace {

namespace guard = warden::guard;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool OnBoundary(std::string_view text, size_t at) {
  return at == text.size() || (static_cast<unsigned char>(text[at]) & 0xC0) != 0x80;
}

void CheckError(const warden::Status& s, std::string_view text) {
  if (s.code() == warden::StatusCode::kInvalidArgument) {
    Check(!warden::IsValidUtf8(text));
  } else {
    Check(s.code() == warden::StatusCode::kResourceExhausted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const guard::PiiDetector* pii = [] {
    auto d = guard::PiiDetector::Create();
    Check(d.has_value());
    return new guard::PiiDetector(std::move(*d));
  }();
  static const guard::SecretDetector* secrets = [] {
    auto d = guard::SecretDetector::Create();
    Check(d.has_value());
    return new guard::SecretDetector(std::move(*d));
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto found = pii->Find(text);
  if (!found) {
    CheckError(found.error(), text);
  } else {
    size_t last_end = 0;
    for (const guard::PiiMatch& m : *found) {
      Check(m.begin < m.end && m.end <= text.size());
      Check(m.begin >= last_end);  // ordered and disjoint
      Check(OnBoundary(text, m.begin) && OnBoundary(text, m.end));
      last_end = m.end;
    }
    const std::string redacted = guard::PiiDetector::Redact(text, *found);
    if (found->empty()) Check(redacted == text);
  }

  auto secret = secrets->Find(text);
  if (!secret) {
    CheckError(secret.error(), text);
  } else {
    size_t last_begin = 0;
    for (const guard::SecretMatch& m : *secret) {
      Check(m.begin < m.end && m.end <= text.size());
      Check(m.begin >= last_begin);
      Check(OnBoundary(text, m.begin) && OnBoundary(text, m.end));
      Check(m.score > 0 && m.score <= 1);
      last_begin = m.begin;
    }
  }
  return 0;
}
