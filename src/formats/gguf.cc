#include "formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "base/encoding.h"
#include "formats/ggml_types.h"

namespace warden::formats {

std::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

std::optional<uint64_t> GgufValue::AsUint() const {
  if (const auto* x = std::get_if<uint64_t>(&v)) return *x;
  return std::nullopt;
}
std::optional<int64_t> GgufValue::AsInt() const {
  if (const auto* x = std::get_if<int64_t>(&v)) return *x;
  return std::nullopt;
}
std::optional<double> GgufValue::AsFloat() const {
  if (const auto* x = std::get_if<double>(&v)) return *x;
  return std::nullopt;
}
std::optional<bool> GgufValue::AsBool() const {
  if (const auto* x = std::get_if<bool>(&v)) return *x;
  return std::nullopt;
}
const std::string* GgufValue::AsString() const { return std::get_if<std::string>(&v); }
const GgufArray* GgufValue::AsArray() const { return std::get_if<GgufArray>(&v); }

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const auto& [k, value] : metadata) {
    if (k == key) return &value;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

// Smallest encoding of one key/value pair: a key length, a 1-byte key, a type tag and a
// 1-byte value (uint8, int8 or bool).
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
// Smallest tensor record: name length, 1-byte name, n_dims, one dimension, type, offset.
constexpr uint64_t kMinTensorBytes = 8 + 1 + 4 + 8 + 4 + 8;

bool IsKnownValueType(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::kFloat64); }

// Bytes that one item of `type` takes at least (for checking a count before reading).
uint64_t MinValueBytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString:  // its u64 length
      return 8;
    case GgufValueType::kArray:  // its u32 type and u64 count
      return 12;
  }
  return 1;
}

std::string Quote(std::string_view s) {
  // Names reach messages only after the UTF-8 check; cap what a long one prints.
  constexpr size_t kMax = 80;
  std::string out = "\"";
  if (s.size() > kMax) {
    out.append(s.substr(0, kMax));
    out += "...";
  } else {
    out.append(s);
  }
  out += '"';
  return out;
}

class Parser {
 public:
  Parser(std::span<const uint8_t> file, std::string_view source, const GgufLimits& limits)
      : file_(file), source_(source), limits_(limits) {}

  Result<GgufFile> Parse();

 private:
  Status Error(uint64_t offset, std::string_view what) const {
    return DataLossError(std::string(source_) + ": offset " + std::to_string(offset) + ": " +
                         std::string(what));
  }
  uint64_t Left() const { return file_.size() - pos_; }

  // Fixed-width little-endian reads; `what` names the field in the truncation message.
  template <typename T>
  Result<T> Read(std::string_view what) {
    if (Left() < sizeof(T)) {
      return Error(pos_, "truncated: " + std::string(what) + " needs " + std::to_string(sizeof(T)) +
                             " bytes, " + std::to_string(Left()) + " left");
    }
    T out = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      out = static_cast<T>(out | (static_cast<T>(file_[pos_ + i]) << (8 * i)));
    }
    pos_ += sizeof(T);
    return out;
  }

  // A u64 length and that many bytes. `max` is the limit for this kind of string.
  Result<std::string> ReadString(std::string_view what, uint64_t max);
  // A key or tensor name: non-empty, at most max_name_bytes, valid UTF-8.
  Result<std::string> ReadName(std::string_view what);
  Result<GgufValue> ReadValue(GgufValueType type, uint64_t type_offset, uint32_t depth);
  Result<GgufValueType> ReadType(std::string_view what);

  std::span<const uint8_t> file_;
  std::string_view source_;
  const GgufLimits& limits_;
  uint64_t pos_ = 0;
  uint64_t array_items_ = 0;  // all array items read so far, for max_array_elements
};

Result<std::string> Parser::ReadString(std::string_view what, uint64_t max) {
  const uint64_t at = pos_;
  WARDEN_ASSIGN_OR_RETURN(uint64_t len, Read<uint64_t>(std::string(what) + " length"));
  if (len > max) {
    return Error(at, std::string(what) + " length " + std::to_string(len) +
                         " exceeds the limit of " + std::to_string(max) + " bytes");
  }
  if (len > Left()) {
    return Error(at, std::string(what) + " length " + std::to_string(len) + " exceeds the " +
                         std::to_string(Left()) + " bytes left");
  }
  std::string out(reinterpret_cast<const char*>(file_.data() + pos_), len);
  pos_ += len;
  return out;
}

Result<std::string> Parser::ReadName(std::string_view what) {
  const uint64_t at = pos_;
  WARDEN_ASSIGN_OR_RETURN(std::string name, ReadString(what, limits_.max_name_bytes));
  if (name.empty()) return Error(at, std::string(what) + " is empty");
  if (!IsValidUtf8(name)) return Error(at, std::string(what) + " is not valid UTF-8");
  return name;
}

Result<GgufValueType> Parser::ReadType(std::string_view what) {
  const uint64_t at = pos_;
  WARDEN_ASSIGN_OR_RETURN(uint32_t raw, Read<uint32_t>(what));
  if (!IsKnownValueType(raw)) {
    return Error(at,
                 "unknown " + std::string(what) + " " + std::to_string(raw) + " (known: 0..12)");
  }
  return static_cast<GgufValueType>(raw);
}

Result<GgufValue> Parser::ReadValue(GgufValueType type, uint64_t type_offset, uint32_t depth) {
  const uint64_t at = pos_;
  switch (type) {
    case GgufValueType::kUint8: {
      WARDEN_ASSIGN_OR_RETURN(uint8_t x, Read<uint8_t>("uint8 value"));
      return GgufValue::U8(x);
    }
    case GgufValueType::kInt8: {
      WARDEN_ASSIGN_OR_RETURN(uint8_t x, Read<uint8_t>("int8 value"));
      return GgufValue::I8(static_cast<int8_t>(x));
    }
    case GgufValueType::kUint16: {
      WARDEN_ASSIGN_OR_RETURN(uint16_t x, Read<uint16_t>("uint16 value"));
      return GgufValue::U16(x);
    }
    case GgufValueType::kInt16: {
      WARDEN_ASSIGN_OR_RETURN(uint16_t x, Read<uint16_t>("int16 value"));
      return GgufValue::I16(static_cast<int16_t>(x));
    }
    case GgufValueType::kUint32: {
      WARDEN_ASSIGN_OR_RETURN(uint32_t x, Read<uint32_t>("uint32 value"));
      return GgufValue::U32(x);
    }
    case GgufValueType::kInt32: {
      WARDEN_ASSIGN_OR_RETURN(uint32_t x, Read<uint32_t>("int32 value"));
      return GgufValue::I32(static_cast<int32_t>(x));
    }
    case GgufValueType::kUint64: {
      WARDEN_ASSIGN_OR_RETURN(uint64_t x, Read<uint64_t>("uint64 value"));
      return GgufValue::U64(x);
    }
    case GgufValueType::kInt64: {
      WARDEN_ASSIGN_OR_RETURN(uint64_t x, Read<uint64_t>("int64 value"));
      return GgufValue::I64(static_cast<int64_t>(x));
    }
    case GgufValueType::kFloat32: {
      WARDEN_ASSIGN_OR_RETURN(uint32_t bits, Read<uint32_t>("float32 value"));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return GgufValue::F32(f);
    }
    case GgufValueType::kFloat64: {
      WARDEN_ASSIGN_OR_RETURN(uint64_t bits, Read<uint64_t>("float64 value"));
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return GgufValue::F64(d);
    }
    case GgufValueType::kBool: {
      WARDEN_ASSIGN_OR_RETURN(uint8_t x, Read<uint8_t>("bool value"));
      // Anything but 0 or 1 would read differently in different loaders.
      if (x > 1) return Error(at, "bool value " + std::to_string(x) + " is neither 0 nor 1");
      return GgufValue::Bool(x == 1);
    }
    case GgufValueType::kString: {
      WARDEN_ASSIGN_OR_RETURN(std::string s, ReadString("string value", limits_.max_string_bytes));
      return GgufValue::String(std::move(s));
    }
    case GgufValueType::kArray: {
      if (depth >= limits_.max_array_depth) {
        return Error(type_offset, "arrays nested deeper than " +
                                      std::to_string(limits_.max_array_depth) + " levels");
      }
      WARDEN_ASSIGN_OR_RETURN(GgufValueType elem_type, ReadType("array element type"));
      const uint64_t count_at = pos_;
      WARDEN_ASSIGN_OR_RETURN(uint64_t count, Read<uint64_t>("array count"));
      const uint64_t min = MinValueBytes(elem_type);
      if (count > Left() / min) {
        return Error(count_at, "array count " + std::to_string(count) + " of " +
                                   std::string(GgufValueTypeName(elem_type)) + " needs at least " +
                                   (count > std::numeric_limits<uint64_t>::max() / min
                                        ? std::string("2^64")
                                        : std::to_string(count * min)) +
                                   " bytes, " + std::to_string(Left()) + " left");
      }
      if (count > limits_.max_array_elements - array_items_) {
        return Error(count_at, "array count " + std::to_string(count) + " exceeds the limit of " +
                                   std::to_string(limits_.max_array_elements) +
                                   " array items per file");
      }
      array_items_ += count;
      GgufArray array;
      array.elem_type = elem_type;
      array.items.reserve(count);
      for (uint64_t i = 0; i < count; ++i) {
        const uint64_t item_at = pos_;
        WARDEN_ASSIGN_OR_RETURN(GgufValue item, ReadValue(elem_type, item_at, depth + 1));
        array.items.push_back(std::move(item));
      }
      return GgufValue{GgufValueType::kArray, std::move(array)};
    }
  }
  return Error(type_offset, "unknown value type");
}

Result<GgufFile> Parser::Parse() {
  GgufFile out;
  if (file_.size() < 4) {
    return Error(
        0, "truncated: the magic needs 4 bytes, the file has " + std::to_string(file_.size()));
  }
  if (std::memcmp(file_.data(), kGgufMagic, 4) != 0) {
    return Error(0, "bad magic " + HexEncode(file_.subspan(0, 4)) +
                        " (a GGUF file starts with \"GGUF\", 47475546)");
  }
  pos_ = 4;
  WARDEN_ASSIGN_OR_RETURN(out.version, Read<uint32_t>("version"));
  if (out.version == 1) {
    return Error(4,
                 "GGUF version 1 is not supported (it used 32-bit counts and lengths; "
                 "convert the model again with a current llama.cpp)");
  }
  if (out.version == 0x02000000 || out.version == 0x03000000) {
    return Error(4, "big-endian GGUF (version bytes " + HexEncode(file_.subspan(4, 4)) +
                        ") is not supported");
  }
  if (out.version != 2 && out.version != 3) {
    return Error(4, "unsupported GGUF version " + std::to_string(out.version) +
                        " (warden reads versions 2 and 3)");
  }

  const uint64_t tensor_count_at = pos_;
  WARDEN_ASSIGN_OR_RETURN(uint64_t tensor_count, Read<uint64_t>("tensor count"));
  const uint64_t kv_count_at = pos_;
  WARDEN_ASSIGN_OR_RETURN(uint64_t kv_count, Read<uint64_t>("metadata count"));
  if (tensor_count > limits_.max_tensor_count) {
    return Error(tensor_count_at, "tensor count " + std::to_string(tensor_count) +
                                      " exceeds the limit of " +
                                      std::to_string(limits_.max_tensor_count));
  }
  if (kv_count > limits_.max_kv_count) {
    return Error(kv_count_at, "metadata count " + std::to_string(kv_count) +
                                  " exceeds the limit of " + std::to_string(limits_.max_kv_count));
  }
  // Both counts are below 2^20 here, so the products cannot overflow.
  if (kv_count * kMinKvBytes > Left()) {
    return Error(kv_count_at, "metadata count " + std::to_string(kv_count) + " needs at least " +
                                  std::to_string(kv_count * kMinKvBytes) + " bytes, " +
                                  std::to_string(Left()) + " left");
  }
  if (kv_count * kMinKvBytes + tensor_count * kMinTensorBytes > Left()) {
    return Error(tensor_count_at,
                 "tensor count " + std::to_string(tensor_count) + " needs at least " +
                     std::to_string(tensor_count * kMinTensorBytes) + " bytes after the " +
                     "metadata, " + std::to_string(Left()) + " left for both");
  }

  // Metadata.
  std::unordered_map<std::string, uint64_t> key_offsets;  // key -> offset of its record
  uint64_t alignment_value_at = 0;
  out.metadata.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    const uint64_t kv_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(std::string key, ReadName("metadata key"));
    if (auto it = key_offsets.find(key); it != key_offsets.end()) {
      return Error(kv_at, "duplicate metadata key " + Quote(key) + " (first at offset " +
                              std::to_string(it->second) + ")");
    }
    const uint64_t type_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(GgufValueType type, ReadType("value type"));
    const uint64_t value_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(GgufValue value, ReadValue(type, type_at, 0));
    if (key == kGgufAlignmentKey) alignment_value_at = value_at;
    key_offsets.emplace(key, kv_at);
    out.metadata.emplace_back(std::move(key), std::move(value));
  }

  if (const GgufValue* a = out.Find(kGgufAlignmentKey); a != nullptr) {
    if (a->type != GgufValueType::kUint32) {
      return Error(alignment_value_at, std::string(kGgufAlignmentKey) + " is a " +
                                           std::string(GgufValueTypeName(a->type)) +
                                           ", not a uint32");
    }
    const uint64_t alignment = *a->AsUint();
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
      return Error(alignment_value_at, std::string(kGgufAlignmentKey) + " " +
                                           std::to_string(alignment) + " is not a power of two");
    }
    out.alignment = alignment;
  }

  // Tensor records.
  std::unordered_map<std::string, uint64_t> name_offsets;
  out.tensors.reserve(tensor_count);
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    t.info_offset = pos_;
    WARDEN_ASSIGN_OR_RETURN(t.name, ReadName("tensor name"));
    if (auto it = name_offsets.find(t.name); it != name_offsets.end()) {
      return Error(t.info_offset, "duplicate tensor name " + Quote(t.name) + " (first at offset " +
                                      std::to_string(it->second) + ")");
    }
    const std::string label = "tensor " + Quote(t.name);
    const uint64_t n_dims_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(uint32_t n_dims, Read<uint32_t>("n_dims"));
    if (n_dims == 0 || n_dims > kGgmlMaxDims) {
      return Error(n_dims_at, label + ": n_dims " + std::to_string(n_dims) + " is not in 1.." +
                                  std::to_string(kGgmlMaxDims));
    }
    const uint64_t dims_at = pos_;
    t.dims.reserve(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      WARDEN_ASSIGN_OR_RETURN(uint64_t dim, Read<uint64_t>("dimension"));
      t.dims.push_back(dim);
    }
    const uint64_t type_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(t.type, Read<uint32_t>("tensor type"));
    if (FindGgmlType(t.type) == nullptr) {
      return Error(type_at, label + ": unknown ggml type " + std::to_string(t.type) +
                                " (supported: " + SupportedGgmlTypeNames() + ")");
    }
    Result<uint64_t> size = TensorBytes(t.type, t.dims);
    if (!size.has_value()) {
      return Error(dims_at, label + ": " + size.error().message());
    }
    t.size_bytes = *size;
    const uint64_t offset_at = pos_;
    WARDEN_ASSIGN_OR_RETURN(t.offset, Read<uint64_t>("tensor data offset"));
    if (t.offset % out.alignment != 0) {
      return Error(offset_at, label + ": data offset " + std::to_string(t.offset) +
                                  " is not a multiple of the alignment " +
                                  std::to_string(out.alignment));
    }
    name_offsets.emplace(t.name, t.info_offset);
    out.tensors.push_back(std::move(t));
  }

  out.header_size = pos_;
  const uint64_t rem = pos_ % out.alignment;
  const uint64_t pad = rem == 0 ? 0 : out.alignment - rem;
  if (pos_ > std::numeric_limits<uint64_t>::max() - pad) {
    return Error(pos_, "data section offset overflows 64 bits");
  }
  out.data_offset = pos_ + pad;

  // Every tensor's data inside the file, and no two overlapping. (Gaps are allowed: the
  // format does not forbid them, and a whole-file hash covers whatever they hold.)
  for (const GgufTensorInfo& t : out.tensors) {
    const uint64_t file_size = file_.size();
    const bool past = t.offset > file_size || out.data_offset > file_size - t.offset ||
                      t.size_bytes > file_size - out.data_offset - t.offset;
    if (past) {
      return Error(t.info_offset,
                   "tensor " + Quote(t.name) + ": data at " + std::to_string(out.data_offset) +
                       "+" + std::to_string(t.offset) + ", " + std::to_string(t.size_bytes) +
                       " bytes, runs past the end of the file (" + std::to_string(file_size) +
                       " bytes)");
    }
  }
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(out.tensors.size());
  for (const GgufTensorInfo& t : out.tensors) {
    if (t.size_bytes > 0) by_offset.push_back(&t);
  }
  std::sort(
      by_offset.begin(), by_offset.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) {
        return a->offset != b->offset ? a->offset < b->offset : a->info_offset < b->info_offset;
      });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& prev = *by_offset[i - 1];
    const GgufTensorInfo& cur = *by_offset[i];
    if (cur.offset < prev.offset + prev.size_bytes) {
      return Error(cur.info_offset,
                   "tensor " + Quote(cur.name) + ": data [" + std::to_string(cur.offset) + ", " +
                       std::to_string(cur.offset + cur.size_bytes) + ") overlaps tensor " +
                       Quote(prev.name) + " [" + std::to_string(prev.offset) + ", " +
                       std::to_string(prev.offset + prev.size_bytes) +
                       ") (offsets relative to the data section)");
    }
  }
  return out;
}

}  // namespace

Result<GgufFile> ParseGguf(std::span<const uint8_t> file, std::string_view source,
                           const GgufLimits& limits) {
  return Parser(file, source, limits).Parse();
}

}  // namespace warden::formats
