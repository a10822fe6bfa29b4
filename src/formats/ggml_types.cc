#include "formats/ggml_types.h"

#include <limits>

namespace warden::formats {

namespace {

// Block layouts follow ggml-common.h: K-quants and most IQ types use super-blocks of 256
// elements; the byte counts are the packed struct sizes (scales + quants).
constexpr GgmlTypeInfo kTypes[] = {
    {0, "f32", 1, 4},         {1, "f16", 1, 2},         {2, "q4_0", 32, 18},
    {3, "q4_1", 32, 20},      {6, "q5_0", 32, 22},      {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},      {9, "q8_1", 32, 36},      {10, "q2_K", 256, 84},
    {11, "q3_K", 256, 110},   {12, "q4_K", 256, 144},   {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},   {15, "q8_K", 256, 292},   {16, "iq2_xxs", 256, 66},
    {17, "iq2_xs", 256, 74},  {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},   {21, "iq3_s", 256, 110},  {22, "iq2_s", 256, 82},
    {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},         {25, "i16", 1, 2},
    {26, "i32", 1, 4},        {27, "i64", 1, 8},        {28, "f64", 1, 8},
    {29, "iq1_m", 256, 56},   {30, "bf16", 1, 2},       {34, "tq1_0", 256, 54},
    {35, "tq2_0", 256, 66},   {39, "mxfp4", 32, 17},    {40, "nvfp4", 64, 36},
    {41, "q1_0", 128, 18},
};
constexpr size_t kTypeCount = sizeof(kTypes) / sizeof(kTypes[0]);

constexpr uint64_t kMaxSigned = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

}  // namespace

const GgmlTypeInfo* FindGgmlType(uint32_t id) {
  for (size_t i = 0; i < kTypeCount; ++i) {
    if (kTypes[i].id == id) return &kTypes[i];
  }
  return nullptr;
}

std::span<const GgmlTypeInfo> AllGgmlTypes() { return {kTypes, kTypeCount}; }

std::string SupportedGgmlTypeNames() {
  std::string out;
  for (const GgmlTypeInfo& t : AllGgmlTypes()) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

std::string GgmlTypeName(uint32_t id) {
  const GgmlTypeInfo* t = FindGgmlType(id);
  if (t == nullptr) return "unknown type " + std::to_string(id);
  return std::string(t->name);
}

Result<uint64_t> TensorBytes(uint32_t type, std::span<const uint64_t> dims) {
  const GgmlTypeInfo* t = FindGgmlType(type);
  if (t == nullptr) {
    return DataLossError("unknown ggml tensor type " + std::to_string(type) +
                         " (supported: " + SupportedGgmlTypeNames() + ")");
  }
  if (dims.empty() || dims.size() > kGgmlMaxDims) {
    return DataLossError("a tensor has 1 to " + std::to_string(kGgmlMaxDims) + " dimensions, not " +
                         std::to_string(dims.size()));
  }
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] > kMaxSigned) {
      return DataLossError("dimension " + std::to_string(i) + " is " + std::to_string(dims[i]) +
                           ", more than 2^63-1");
    }
  }
  if (dims[0] % t->block_size != 0) {
    return DataLossError("dimension 0 (" + std::to_string(dims[0]) + ") is not a multiple of the " +
                         std::string(t->name) + " block size " + std::to_string(t->block_size));
  }
  for (uint64_t d : dims) {
    if (d == 0) return uint64_t{0};
  }
  uint64_t elements = 1;
  for (uint64_t d : dims) {
    if (elements > kMaxSigned / d) {
      return DataLossError("element count overflows 63 bits");
    }
    elements *= d;
  }
  // elements is a multiple of block_size because dims[0] is.
  const uint64_t blocks = elements / t->block_size;
  if (blocks > kMaxSigned / t->type_size) {
    return DataLossError("byte size overflows 63 bits");
  }
  return blocks * t->type_size;
}

}  // namespace warden::formats
