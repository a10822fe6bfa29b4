// Byte builders shared by the formats tests: raw little-endian GGUF pieces (for files the
// writer would refuse to make) and safetensors files from a header text and data bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/encoding.h"

namespace warden::formats::testing {

// Appends little-endian fields to a string.
class Bytes {
 public:
  Bytes& U8(uint8_t x) { return Le(x, 1); }
  Bytes& U32(uint32_t x) { return Le(x, 4); }
  Bytes& U64(uint64_t x) { return Le(x, 8); }
  Bytes& Raw(std::string_view s) {
    s_.append(s);
    return *this;
  }
  // A GGUF string: u64 length then the bytes.
  Bytes& Str(std::string_view s) {
    U64(s.size());
    return Raw(s);
  }
  // A GGUF header: magic, version, tensor count, metadata count.
  Bytes& Header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    Raw("GGUF");
    U32(version);
    U64(tensors);
    return U64(kvs);
  }
  // A uint32 metadata pair.
  Bytes& KvU32(std::string_view key, uint32_t value) {
    Str(key);
    U32(4);
    return U32(value);
  }
  // A tensor record.
  Bytes& Tensor(std::string_view name, std::initializer_list<uint64_t> dims, uint32_t type,
                uint64_t offset) {
    Str(name);
    U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    U32(type);
    return U64(offset);
  }
  // Zero bytes up to a multiple of `alignment`.
  Bytes& PadTo(uint64_t alignment) {
    while (s_.size() % alignment != 0) s_.push_back('\0');
    return *this;
  }
  Bytes& Zeros(size_t n) {
    s_.append(n, '\0');
    return *this;
  }

  size_t size() const { return s_.size(); }
  const std::string& str() const { return s_; }
  std::span<const uint8_t> span() const { return AsBytes(s_); }

 private:
  Bytes& Le(uint64_t x, int n) {
    for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
    return *this;
  }
  std::string s_;
};

// A safetensors file: u64 header length, the header text, the data bytes.
inline std::string Safetensors(std::string_view header, std::string_view data) {
  Bytes b;
  b.U64(header.size());
  b.Raw(header);
  b.Raw(data);
  return b.str();
}

}  // namespace warden::formats::testing
