#include "formats/tensor_index.h"

#include <algorithm>
#include <cstring>

#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace warden::formats {

std::string_view ModelFormatName(ModelFormat format) {
  switch (format) {
    case ModelFormat::kGguf:
      return "gguf";
    case ModelFormat::kSafetensors:
      return "safetensors";
    case ModelFormat::kUnknown:
      break;
  }
  return "unknown";
}

ModelFormat DetectFormat(std::string_view file_name, std::span<const uint8_t> head) {
  if (head.size() >= 4 && std::memcmp(head.data(), kGgufMagic, 4) == 0) {
    return ModelFormat::kGguf;
  }
  constexpr std::string_view kExt = ".safetensors";
  if (file_name.size() >= kExt.size() && file_name.substr(file_name.size() - kExt.size()) == kExt) {
    return ModelFormat::kSafetensors;
  }
  return ModelFormat::kUnknown;
}

Result<std::vector<TensorRange>> IndexTensors(ModelFormat format, std::span<const uint8_t> file,
                                              std::string_view source) {
  std::vector<TensorRange> out;
  switch (format) {
    case ModelFormat::kGguf: {
      WARDEN_ASSIGN_OR_RETURN(GgufFile gguf, ParseGguf(file, source));
      out.reserve(gguf.tensors.size());
      for (const GgufTensorInfo& t : gguf.tensors) {
        out.push_back({t.name, t.AbsoluteOffset(gguf.data_offset), t.size_bytes});
      }
      break;
    }
    case ModelFormat::kSafetensors: {
      WARDEN_ASSIGN_OR_RETURN(SafetensorsFile st, ParseSafetensors(file, source));
      out.reserve(st.tensors.size());
      for (const SafetensorsTensor& t : st.tensors) {
        out.push_back({t.name, st.data_offset + t.begin, t.size()});
      }
      break;
    }
    case ModelFormat::kUnknown:
      return InvalidArgumentError(std::string(source) +
                                  ": not a recognised model format (GGUF or .safetensors)");
  }
  std::sort(out.begin(), out.end(), [](const TensorRange& a, const TensorRange& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.name < b.name;
  });
  return out;
}

}  // namespace warden::formats
