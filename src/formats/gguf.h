// GGUF reader: a bounds-checked parse of a GGUF v2/v3 header (metadata and tensor table).
//
// ParseGguf reads the header of a whole-file span (the caller maps the file; only the header
// pages are touched, tensor data is never read) and returns the metadata key/value pairs and
// the tensor table with absolute data offsets. It trusts nothing in the file: every read is
// bounds-checked, every count and length is compared with the bytes that are left before
// anything is allocated, and totals are capped by GgufLimits, so a hostile header cannot
// make it read out of bounds, allocate without bound, or recurse without bound.
// docs/formats/gguf.md describes the format byte by byte and every check made here.
//
// Errors are DataLoss with the message "<source>: offset <N>: <what is wrong>", where N is
// the file offset of the field at fault.
//
// Thread-safety: ParseGguf is reentrant; the returned values are plain data and own all
// their strings (nothing points into the span).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace warden::formats {

inline constexpr char kGgufMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint64_t kGgufDefaultAlignment = 32;
inline constexpr std::string_view kGgufAlignmentKey = "general.alignment";

// The type tag of a metadata value (u32 on disk).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// "uint8", "float32", "string", "array", ...; "unknown" for a value outside the enum.
std::string_view GgufValueTypeName(GgufValueType type);

struct GgufValue;

// An array value: every item has type `elem_type` (items of an array of arrays are arrays,
// each with its own element type).
struct GgufArray {
  GgufValueType elem_type = GgufValueType::kUint8;
  std::vector<GgufValue> items;

  friend bool operator==(const GgufArray&, const GgufArray&) = default;
};

// One metadata value. `type` is the on-disk tag; `v` holds it widened:
//   uint64_t for kUint8/16/32/64, int64_t for kInt8/16/32/64, double for kFloat32/64
//   (a float32 widened exactly), bool, std::string (bytes as stored, not checked for
//   UTF-8), GgufArray.
// Build values with the factories so that `type` and `v` agree; the writer checks that
// they do (a uint8 value above 255 is refused there).
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> v = uint64_t{0};

  static GgufValue U8(uint8_t x) { return {GgufValueType::kUint8, uint64_t{x}}; }
  static GgufValue I8(int8_t x) { return {GgufValueType::kInt8, int64_t{x}}; }
  static GgufValue U16(uint16_t x) { return {GgufValueType::kUint16, uint64_t{x}}; }
  static GgufValue I16(int16_t x) { return {GgufValueType::kInt16, int64_t{x}}; }
  static GgufValue U32(uint32_t x) { return {GgufValueType::kUint32, uint64_t{x}}; }
  static GgufValue I32(int32_t x) { return {GgufValueType::kInt32, int64_t{x}}; }
  static GgufValue U64(uint64_t x) { return {GgufValueType::kUint64, x}; }
  static GgufValue I64(int64_t x) { return {GgufValueType::kInt64, x}; }
  static GgufValue F32(float x) { return {GgufValueType::kFloat32, double{x}}; }
  static GgufValue F64(double x) { return {GgufValueType::kFloat64, x}; }
  static GgufValue Bool(bool x) { return {GgufValueType::kBool, x}; }
  static GgufValue String(std::string x) { return {GgufValueType::kString, std::move(x)}; }
  static GgufValue Array(GgufValueType elem_type, std::vector<GgufValue> items) {
    return {GgufValueType::kArray, GgufArray{elem_type, std::move(items)}};
  }

  // Typed reads: nullopt / nullptr when the value holds another kind. The integer reads
  // accept every width of their signedness (AsUint on a uint8 gives the uint8).
  std::optional<uint64_t> AsUint() const;
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsFloat() const;
  std::optional<bool> AsBool() const;
  const std::string* AsString() const;
  const GgufArray* AsArray() const;

  friend bool operator==(const GgufValue&, const GgufValue&) = default;
};

// Values of `tokenizer.ggml.token_type` (llama.cpp's llama_token_type), one per vocabulary
// token: the converter, the synthetic-model writer and the tokenizer all speak these.
enum class GgufTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the innermost dimension
  uint32_t type = 0;           // ggml type id (formats/ggml_types.h)
  uint64_t offset = 0;         // relative to the data section, a multiple of the alignment
  uint64_t size_bytes = 0;     // from type and dims (TensorBytes)
  uint64_t info_offset = 0;    // file offset of this tensor's record, for messages

  // Absolute file offset of the tensor's first byte, given the file's data_offset.
  uint64_t AbsoluteOffset(uint64_t data_offset) const { return data_offset + offset; }
};

struct GgufFile {
  uint32_t version = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata;  // in file order
  std::vector<GgufTensorInfo> tensors;                      // in file (record) order
  uint64_t alignment = kGgufDefaultAlignment;
  uint64_t header_size = 0;  // bytes up to the end of the last tensor record
  uint64_t data_offset = 0;  // absolute: header_size rounded up to the alignment

  // The value stored under `key`, or nullptr.
  const GgufValue* Find(std::string_view key) const;
  // The tensor named `name`, or nullptr.
  const GgufTensorInfo* FindTensor(std::string_view name) const;
};

// Caps that keep a hostile header's cost bounded. Each is also checked against the bytes
// actually left in the file, so the defaults only matter for very large files.
struct GgufLimits {
  uint64_t max_kv_count = uint64_t{1} << 20;        // metadata pairs
  uint64_t max_tensor_count = uint64_t{1} << 20;    // tensor records
  uint64_t max_name_bytes = 4096;                   // one key or tensor name
  uint64_t max_string_bytes = uint64_t{64} << 20;   // one string value
  uint64_t max_array_elements = uint64_t{1} << 22;  // all array items in the file together
  uint32_t max_array_depth = 4;  // 1 = arrays of scalars; 2 = arrays of such arrays; ...
};

// Parses the GGUF header of `file` (the whole file). `source` names the file in messages.
// Returns DataLoss (never another code) when the file is not a GGUF v2/v3 file or breaks
// any rule in docs/formats/gguf.md: bad magic; version 1, big-endian or unknown version;
// truncation anywhere in the header; a count or length larger than the bytes left or a
// limit; a key or tensor name that is empty, too long or not UTF-8; a duplicate key or
// tensor name; an unknown value type or ggml type; a bool other than 0 or 1; an array
// nested deeper than the limit; n_dims outside 1..4; a dimension or size overflowing 63
// bits; a first dimension that is not whole blocks; `general.alignment` that is not a
// uint32 power of two; a tensor offset that is not a multiple of the alignment; tensor
// data past the end of the file; two tensors whose data overlap.
Result<GgufFile> ParseGguf(std::span<const uint8_t> file, std::string_view source,
                           const GgufLimits& limits = {});

}  // namespace warden::formats
