// The ggml tensor types that GGUF files name by number, and the byte size of a tensor of each.
//
// ggml stores a tensor as a run of blocks: a block holds `block_size` elements in
// `type_size` bytes (1 element for the plain types F32, F16, I8, ...; 32 or 256 elements
// for the quantized ones). The table covers every id that current ggml assigns; ids that
// ggml has retired (4, 5, 31-33, 36-38) and ids beyond the table are unknown here, and a
// file that uses them is refused. docs/formats/gguf.md lists the table.
//
// Thread-safety: pure functions over a constant table.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::formats {

// Type ids as ggml numbers them (enum ggml_type). Only the ones our code names directly;
// the full table is in ggml_types.cc.
inline constexpr uint32_t kGgmlTypeF32 = 0;
inline constexpr uint32_t kGgmlTypeF16 = 1;
inline constexpr uint32_t kGgmlTypeQ4_0 = 2;
inline constexpr uint32_t kGgmlTypeQ8_0 = 8;
inline constexpr uint32_t kGgmlTypeQ4_K = 12;
inline constexpr uint32_t kGgmlTypeI8 = 24;
inline constexpr uint32_t kGgmlTypeI32 = 26;
inline constexpr uint32_t kGgmlTypeBF16 = 30;
inline constexpr uint32_t kGgmlTypeMXFP4 = 39;

// ggml's GGML_MAX_DIMS: a tensor has 1 to 4 dimensions.
inline constexpr uint32_t kGgmlMaxDims = 4;

struct GgmlTypeInfo {
  uint32_t id;
  std::string_view name;  // ggml's name, lower case: "f32", "q4_0", "iq2_xxs", "mxfp4"
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
};

// The table entry for `id`, or nullptr when ggml does not (or no longer) define it.
const GgmlTypeInfo* FindGgmlType(uint32_t id);

// Every known type in id order (for docs, tests and messages).
std::span<const GgmlTypeInfo> AllGgmlTypes();

// "f32, f16, q4_0, ..." (every known name, for error messages).
std::string SupportedGgmlTypeNames();

// "q4_0", or "unknown type 4" when the id is not in the table.
std::string GgmlTypeName(uint32_t id);

// Bytes of a tensor of type `type` with `dims` (ggml order: dims[0] is the innermost,
// contiguous dimension). Errors, all DataLoss:
//   - unknown `type` (the message lists the supported names);
//   - empty `dims` or more than kGgmlMaxDims of them;
//   - a dimension of 2^63 or more (ggml keeps dimensions as int64_t);
//   - dims[0] not a multiple of the type's block size (a row must be whole blocks);
//   - the element count or the byte count overflowing 63 bits.
// A dimension of 0 is legal (ggml accepts it) and gives 0 bytes.
Result<uint64_t> TensorBytes(uint32_t type, std::span<const uint64_t> dims);

}  // namespace warden::formats
