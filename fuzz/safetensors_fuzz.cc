// libFuzzer target for the safetensors reader (formats/safetensors.h) and the safetensors
// side of IndexTensors. On success it checks the promises: the tensors, in the order
// returned, tile the data section exactly, and each size agrees with dtype and shape.
#include <cstdint>
#include <span>

#include "formats/safetensors.h"
#include "formats/tensor_index.h"

namespace {
void Check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  auto parsed = warden::formats::ParseSafetensors(file, "fuzz.safetensors");
  auto index = warden::formats::IndexTensors(warden::formats::ModelFormat::kSafetensors, file,
                                             "fuzz.safetensors");
  Check(parsed.has_value() == index.has_value());
  if (!parsed.has_value()) {
    Check(parsed.error().code() == warden::StatusCode::kDataLoss);
    return 0;
  }
  Check(parsed->data_offset == 8 + parsed->header_size && parsed->data_offset <= size);
  uint64_t expected = 0;
  for (const auto& t : parsed->tensors) {
    Check(t.begin == expected && t.end >= t.begin);
    expected = t.end;
    const auto* dtype = warden::formats::FindSafetensorsDtype(t.dtype);
    Check(dtype != nullptr);
    bool zero = false;
    for (uint64_t d : t.shape) zero = zero || d == 0;
    if (zero) Check(t.size() == 0);
  }
  Check(parsed->data_offset + expected == size);
  Check(index->size() == parsed->tensors.size());
  return 0;
}
