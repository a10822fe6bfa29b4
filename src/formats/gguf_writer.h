// GgufWriter: builds a GGUF v3 (or v2) file in memory and writes it out.
//
// Metadata pairs and tensors are written in the order they were added. Tensor data is laid
// out in that order after the header, each tensor at a multiple of the alignment and
// followed by zero padding up to the next multiple (as ggml lays it out), so the output
// passes ParseGguf and loads in llama.cpp. docs/formats/gguf.md describes the layout.
//
// The writer checks its input as strictly as ParseGguf checks a file: a key or name that is
// empty, not UTF-8 or already used, a value whose type tag disagrees with what it holds
// (or a uint8 above 255, an array item of the wrong type, ...), an unknown ggml type, or
// tensor bytes that do not match the type and dimensions are InvalidArgument.
//
// Ownership: the writer owns copies of all values and tensor bytes.
// Thread-safety: none; use one writer from one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/status.h"
#include "formats/gguf.h"

namespace warden::formats {

class GgufWriter {
 public:
  GgufWriter() = default;

  // 3 (the default) or 2; the two differ only in what readers may assume about byte order.
  Status SetVersion(uint32_t version);

  // A power of two that fits a uint32. Also stores it as `general.alignment` (uint32) so
  // that readers find it; the default of 32 is not stored unless set here.
  Status SetAlignment(uint64_t alignment);

  // Adds one metadata pair. Adding `general.alignment` is the same as SetAlignment (it
  // must then be a uint32 power of two).
  Status AddMetadata(std::string_view key, GgufValue value);

  // Convenience wrappers for the common types.
  Status AddString(std::string_view key, std::string value) {
    return AddMetadata(key, GgufValue::String(std::move(value)));
  }
  Status AddUint32(std::string_view key, uint32_t value) {
    return AddMetadata(key, GgufValue::U32(value));
  }
  Status AddFloat32(std::string_view key, float value) {
    return AddMetadata(key, GgufValue::F32(value));
  }
  Status AddBool(std::string_view key, bool value) {
    return AddMetadata(key, GgufValue::Bool(value));
  }
  Status AddStringArray(std::string_view key, const std::vector<std::string>& values);

  // Adds a tensor of ggml type `type` (formats/ggml_types.h) with `dims` in ggml order
  // (dims[0] innermost). `data` must hold exactly TensorBytes(type, dims) bytes.
  Status AddTensor(std::string_view name, uint32_t type, std::vector<uint64_t> dims,
                   std::string data);
  Status AddTensor(std::string_view name, uint32_t type, std::vector<uint64_t> dims,
                   std::span<const uint8_t> data) {
    std::string copy;
    if (!data.empty()) copy.assign(reinterpret_cast<const char*>(data.data()), data.size());
    return AddTensor(name, type, std::move(dims), std::move(copy));
  }

  uint64_t alignment() const { return alignment_; }
  size_t metadata_count() const { return metadata_.size(); }
  size_t tensor_count() const { return tensors_.size(); }

  // The whole file.
  std::string WriteToString() const;
  // WriteToString() written crash-safely (WriteFileAtomic); its errors are the file's.
  Status WriteToFile(const std::string& path, unsigned mode = 0644) const;

 private:
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> dims;
    std::string data;
  };

  uint32_t version_ = 3;
  uint64_t alignment_ = kGgufDefaultAlignment;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> names_;
};

}  // namespace warden::formats
