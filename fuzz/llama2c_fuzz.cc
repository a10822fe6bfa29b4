// libFuzzer target for the llama2.c reader and converter (formats/llama2c.h).
//
// Input: a little-endian uint32 N, then N bytes of checkpoint, then the tokenizer (N is
// clamped to what is there). Beyond "no crash, no leak, no UB", it checks what the
// converter promises: errors are DataLoss, and any output parses as GGUF with one tensor
// per checkpoint weight, each of the size the parser reported.
#include <algorithm>
#include <cstdint>
#include <span>

#include "base/encoding.h"
#include "formats/gguf.h"
#include "formats/llama2c.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint64_t n = static_cast<uint64_t>(data[0]) | static_cast<uint64_t>(data[1]) << 8 |
                     static_cast<uint64_t>(data[2]) << 16 | static_cast<uint64_t>(data[3]) << 24;
  const std::span<const uint8_t> rest(data + 4, size - 4);
  const size_t split = static_cast<size_t>(std::min<uint64_t>(n, rest.size()));
  const auto model = rest.first(split);
  const auto tokenizer = rest.subspan(split);

  auto m = warden::formats::ParseLlama2cModel(model, "fuzz.bin");
  if (!m.has_value()) Check(m.error().code() == warden::StatusCode::kDataLoss);
  auto out = warden::formats::ConvertLlama2cToGguf(model, "fuzz.bin", tokenizer, "tok.bin");
  Check(out.has_value() == false || m.has_value());
  if (!out.has_value()) {
    Check(out.error().code() == warden::StatusCode::kDataLoss);
    return 0;
  }
  auto g = warden::formats::ParseGguf(warden::AsBytes(*out), "out.gguf");
  Check(g.has_value());
  Check(g->tensors.size() == m->tensors.size());
  for (size_t i = 0; i < m->tensors.size(); ++i) {
    Check(g->tensors[i].name == m->tensors[i].name);
    Check(g->tensors[i].size_bytes == m->tensors[i].size);
  }
  return 0;
}
