// libFuzzer target for the GGUF reader (formats/gguf.h) and the GGUF side of IndexTensors.
//
// Beyond "no crash, no leak, no UB", it checks what the parser promises on success: every
// tensor lies inside the input, data ranges do not overlap, offsets are aligned; and that
// the writer can re-encode whatever the parser accepted, and that re-encoding is stable
// (write(parse(write(parse(x)))) == write(parse(x))).
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "base/encoding.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "formats/tensor_index.h"

namespace {

using warden::formats::GgufFile;
using warden::formats::GgufWriter;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Re-encodes a parsed file with the writer; traps if the writer refuses it.
std::string Rewrite(const GgufFile& f, std::span<const uint8_t> file) {
  GgufWriter w;
  Check(w.SetVersion(f.version).ok());
  for (const auto& [key, value] : f.metadata) Check(w.AddMetadata(key, value).ok());
  for (const auto& t : f.tensors) {
    const auto bytes = file.subspan(t.AbsoluteOffset(f.data_offset), t.size_bytes);
    Check(w.AddTensor(t.name, t.type, t.dims, bytes).ok());
  }
  return w.WriteToString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  auto parsed = warden::formats::ParseGguf(file, "fuzz.gguf");
  auto index =
      warden::formats::IndexTensors(warden::formats::ModelFormat::kGguf, file, "fuzz.gguf");
  Check(parsed.has_value() == index.has_value());
  if (!parsed.has_value()) {
    Check(parsed.error().code() == warden::StatusCode::kDataLoss);
    return 0;
  }
  const GgufFile& f = *parsed;
  Check(f.alignment != 0 && (f.alignment & (f.alignment - 1)) == 0);
  Check(f.data_offset % f.alignment == 0 && f.data_offset >= f.header_size);
  uint64_t prev_end = 0;
  for (const auto& r : *index) {
    Check(r.offset <= size && r.size <= size - r.offset);
    if (r.size > 0) {
      Check(r.offset >= prev_end);
      prev_end = r.offset + r.size;
    }
  }
  for (const auto& t : f.tensors) Check(t.offset % f.alignment == 0);

  const std::string once = Rewrite(f, file);
  auto again = warden::formats::ParseGguf(warden::AsBytes(once), "rewrite.gguf");
  Check(again.has_value());
  Check(again->metadata.size() == f.metadata.size() && again->tensors.size() == f.tensors.size());
  Check(Rewrite(*again, warden::AsBytes(once)) == once);
  return 0;
}
