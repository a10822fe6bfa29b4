// libFuzzer target for the llm_judge scanner's reply parsing (guard/llm_judge.h): the text a
// remote model sends back, and the chat-completions JSON around it. Both come from a server
// the policy names, which may be misconfigured, compromised or simply not a safety model.
//
// The first byte picks the mode, the rest is the input:
//   even: the reply text, for ParseJudgeReply;
//   odd:  a whole response body, for ParseJudgeResponse.
// Seeds in fuzz/corpus/guard_judge_fuzz/ carry that prefix byte.
//
// Checks beyond "no crash, no leak, no UB": every failure is DataLoss with a bounded message
// (quoted bytes are capped and escaped); a verdict keeps raw within 1 KiB, one name per
// category, at most 32 categories of at most 64 bytes, and no categories when safe; parsing is
// deterministic.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "guard/llm_judge.h"

namespace {

using warden::guard::JudgeVerdict;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckResult(const warden::Result<JudgeVerdict>& result) {
  if (!result.has_value()) {
    Check(result.error().code() == warden::StatusCode::kDataLoss);
    // A quote is at most 200 input bytes, each written as at most 4 characters.
    Check(result.error().message().size() < 2048);
    return;
  }
  const JudgeVerdict& v = *result;
  Check(v.raw.size() <= 1024);
  Check(v.categories.size() == v.category_names.size());
  Check(v.categories.size() <= 32);
  if (!v.unsafe) Check(v.categories.empty());
  for (const auto& c : v.categories) Check(!c.empty() && c.size() <= 64);
}

bool SameVerdict(const warden::Result<JudgeVerdict>& a, const warden::Result<JudgeVerdict>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a.has_value()) return a.error().message() == b.error().message();
  return a->unsafe == b->unsafe && a->categories == b->categories &&
         a->category_names == b->category_names && a->raw == b->raw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool response = data[0] % 2 == 1;
  auto parse = [&] {
    return response ? warden::guard::ParseJudgeResponse(rest)
                    : warden::guard::ParseJudgeReply(rest);
  };
  const auto first = parse();
  CheckResult(first);
  Check(SameVerdict(first, parse()));
  return 0;
}
