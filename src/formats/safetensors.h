// safetensors reader: a strict, bounds-checked parse of a .safetensors header.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON, and the
// data section. ParseSafetensors reads the length and the JSON (tensor data is never read)
// and checks everything the reference implementation checks, and a few things it does not:
//   - N at most 100,000,000 (the reference limit) and at most the file size - 8;
//   - the JSON is UTF-8, starts with '{', is one object with only whitespace after it;
//   - NO KEY APPEARS TWICE in any object. JSON parsers disagree on which duplicate wins,
//     so a file naming a tensor twice could load one tensor in one tool and another in the
//     next; Boost.JSON keeps one silently, so the header is first walked with a SAX handler
//     that compares decoded keys ("a" and "\u0061" are the same key);
//   - "__metadata__", if present, is an object of string values;
//   - every other key is a non-empty tensor name whose value is an object with exactly the
//     fields dtype (a known dtype name), shape (array of integers >= 0) and data_offsets
//     (array of two integers [begin, end]), begin <= end, and shape product x dtype bits
//     / 8 == end - begin without overflow (sub-byte dtypes must fill whole bytes);
//   - sorted by offsets, the tensors tile the data section exactly: the first begins at
//     0, each begins where the previous ends (no overlap, no hole), the last ends at the
//     end of the file.
// docs/formats/safetensors.md describes the format and every check.
//
// Errors are DataLoss, "<source>: offset <N>: <what>" for byte-level faults and
// "<source>: header field <path>: <what>" for a field of the JSON header.
//
// Thread-safety: ParseSafetensors is reentrant; results own their strings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace warden::formats {

inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;
inline constexpr std::string_view kSafetensorsMetadataKey = "__metadata__";

struct SafetensorsDtype {
  std::string_view name;  // "F32", "BF16", "F8_E4M3", "F4", ...
  uint32_t bits;          // bits per element (4 and 6 for the sub-byte float types)
};

// The dtype named `name` (exact, case-sensitive), or nullptr.
const SafetensorsDtype* FindSafetensorsDtype(std::string_view name);
std::span<const SafetensorsDtype> AllSafetensorsDtypes();

struct SafetensorsTensor {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;  // outermost first, as in the file; [] is a scalar
  uint64_t begin = 0;           // relative to the data section
  uint64_t end = 0;             // one past the last byte, relative to the data section

  uint64_t size() const { return end - begin; }
};

struct SafetensorsFile {
  uint64_t header_size = 0;                // N, the JSON length
  uint64_t data_offset = 0;                // 8 + N: absolute offset of the data section
  std::vector<SafetensorsTensor> tensors;  // sorted by (begin, end, name)
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", file order

  const SafetensorsTensor* Find(std::string_view name) const;
  const std::string* FindMetadata(std::string_view key) const;
};

struct SafetensorsLimits {
  uint64_t max_header_bytes = kSafetensorsMaxHeaderBytes;
  size_t max_json_depth = 16;  // the format needs 3
};

// Parses the header of `file` (the whole file); `source` names it in messages. Returns
// DataLoss for anything listed above.
Result<SafetensorsFile> ParseSafetensors(std::span<const uint8_t> file, std::string_view source,
                                         const SafetensorsLimits& limits = {});

}  // namespace warden::formats
