// The format-independent view of a model file that per-tensor hashing needs: which format
// it is, and where each tensor's bytes lie.
//
// IndexTensors parses the header with the format's strict reader (gguf.h, safetensors.h)
// and returns each tensor's name and absolute byte range, in file order. Its errors are
// the parser's (DataLoss naming the source and the offset or field), so a caller that
// hashes per tensor refuses exactly the files the readers refuse.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::formats {

enum class ModelFormat { kUnknown, kGguf, kSafetensors };

// "gguf", "safetensors" or "unknown".
std::string_view ModelFormatName(ModelFormat format);

// GGUF when `head` (the first bytes of the file, at least 4 to be recognised) starts with
// the magic "GGUF"; otherwise safetensors when `file_name` ends in ".safetensors" (the
// format has no magic); otherwise kUnknown. The magic wins over the name.
ModelFormat DetectFormat(std::string_view file_name, std::span<const uint8_t> head);

struct TensorRange {
  std::string name;
  uint64_t offset = 0;  // absolute file offset of the first byte
  uint64_t size = 0;    // bytes (0 for an empty tensor)

  friend bool operator==(const TensorRange&, const TensorRange&) = default;
};

// The tensors of `file` (the whole file) sorted by offset (ties, only possible for empty
// tensors, by name). InvalidArgument for kUnknown; otherwise the parser's errors.
Result<std::vector<TensorRange>> IndexTensors(ModelFormat format, std::span<const uint8_t> file,
                                              std::string_view source);

}  // namespace warden::formats
