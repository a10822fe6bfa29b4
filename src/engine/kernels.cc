// Scalar kernels and the run-time choice between them and the AVX2 and AVX-512 ones.
//
// The scalar code is the portable fallback and the yardstick the vector code is tested
// against; it favours plain loops over speed, but keeps the same structure (activations
// quantized once, integer dot products per block) so that both paths round the same way.
#include "engine/kernels.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "engine/internal/kernels_internal.h"

#if WARDEN_HAVE_AVX2_KERNELS
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace warden::engine {
namespace {

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;

// Q4_0 stores each weight as an unsigned nibble w in [0, 15] meaning w - 8.
constexpr int kQ4Offset = 8;
constexpr int kQ4Max = 15;
// Q8_0 weights are quantized to [-127, 127] (symmetric, like ggml: -128 is never produced).
constexpr float kQ8WeightMax = 127.0f;

// ---- ISA choice ----

// The environment variable that caps the path (for comparisons and bug hunts).
constexpr const char* kIsaEnv = "WARDEN_KERNELS";

// The highest path at or below `wanted` that this CPU supports.
KernelIsa SupportedAtMost(KernelIsa wanted) {
  if (wanted >= KernelIsa::kAvx512 && CpuHasAvx512()) return KernelIsa::kAvx512;
  if (wanted >= KernelIsa::kAvx2 && CpuHasAvx2()) return KernelIsa::kAvx2;
  return KernelIsa::kScalar;
}

KernelIsa InitialIsa() { return internal::IsaForEnvironment(std::getenv(kIsaEnv)); }

std::atomic<KernelIsa>& IsaSlot() {
  static std::atomic<KernelIsa> isa{InitialIsa()};
  return isa;
}

#if WARDEN_HAVE_AVX2_KERNELS
// The AVX-512 path uses the AVX2 code for everything it does not do itself.
bool UseAvx2() { return IsaSlot().load(std::memory_order_relaxed) >= KernelIsa::kAvx2; }
#endif
#if WARDEN_HAVE_AVX512_KERNELS
bool UseAvx512() { return IsaSlot().load(std::memory_order_relaxed) == KernelIsa::kAvx512; }
#endif

// ---- f16 ----

// A table of all 65536 halves as floats: the scalar F16 matrix product converts every weight,
// and a lookup is several times cheaper than the bit manipulation.
const float* F16Table() {
  static const std::array<float, 65536>* table = [] {
    auto* t = new std::array<float, 65536>;
    for (uint32_t h = 0; h < 65536; ++h) {
      (*t)[h] = internal::F16ToF32Portable(static_cast<uint16_t>(h));
    }
    return t;
  }();
  return table->data();
}

uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;  // ggml files are little-endian, and so are the machines we build for
}

// ---- scalar matrix products ----

float DotF32Scalar(const float* a, const float* b, size_t n) {
  // Four partial sums: shorter dependency chains and a smaller rounding error than one.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float DotF16Scalar(const uint8_t* w, const float* x, size_t n) {
  const float* table = F16Table();
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += table[LoadU16(w + 2 * i)] * x[i];
    s1 += table[LoadU16(w + 2 * i + 2)] * x[i + 1];
    s2 += table[LoadU16(w + 2 * i + 4)] * x[i + 2];
    s3 += table[LoadU16(w + 2 * i + 6)] * x[i + 3];
  }
  for (; i < n; ++i) s0 += table[LoadU16(w + 2 * i)] * x[i];
  return (s0 + s1) + (s2 + s3);
}

float DotQ8_0Scalar(const uint8_t* w, const MatMulInput& x, size_t t) {
  const float* table = F16Table();
  const int8_t* q = x.quants(t);
  const float* d = x.scales(t);
  const size_t blocks = x.cols() / kQ8BlockSize;
  float sum = 0;
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* block = w + b * kQ8_0BlockBytes;
    const int8_t* wq = reinterpret_cast<const int8_t*>(block + 2);
    const int8_t* xq = q + b * kQ8BlockSize;
    int32_t isum = 0;
    for (size_t i = 0; i < kQ8BlockSize; ++i) isum += int32_t{wq[i]} * int32_t{xq[i]};
    sum += (table[LoadU16(block)] * d[b]) * static_cast<float>(isum);
  }
  return sum;
}

float DotQ4_0Scalar(const uint8_t* w, const MatMulInput& x, size_t t) {
  const float* table = F16Table();
  const int8_t* q = x.quants(t);
  const float* d = x.scales(t);
  const int32_t* sums = x.sums(t);
  const size_t blocks = x.cols() / kQ4BlockSize;
  constexpr size_t kHalf = kQ4BlockSize / 2;
  float sum = 0;
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* block = w + b * kQ4_0BlockBytes;
    const uint8_t* nibbles = block + 2;
    const int8_t* xq = q + b * kQ4BlockSize;
    int32_t isum = 0;
    for (size_t j = 0; j < kHalf; ++j) {
      isum += int32_t{nibbles[j] & 0xF} * xq[j] + int32_t{nibbles[j] >> 4} * xq[j + kHalf];
    }
    isum -= kQ4Offset * sums[b];
    sum += (table[LoadU16(block)] * d[b]) * static_cast<float>(isum);
  }
  return sum;
}

// The 256 nibbles of a Q4_K block in element order: chunk j (0..3) of 64 elements takes qs
// bytes 32j..32j+31, low nibbles for its first 32 elements, high nibbles for the next 32.
void UnpackQ4_K(const uint8_t* block, uint8_t* q) {
  const uint8_t* qs = block + internal::kQ4_KQuantsOffset;
  for (size_t j = 0; j < 4; ++j) {
    for (size_t l = 0; l < 32; ++l) {
      q[64 * j + l] = qs[32 * j + l] & 0xF;
      q[64 * j + 32 + l] = qs[32 * j + l] >> 4;
    }
  }
}

// The 256 quants of a Q6_K block in element order, offset removed (-32..31). Each half of
// 128 elements has 64 ql bytes and 32 qh bytes; quarter k (32 elements) takes its low 4 bits
// from ql bytes 0..31 (k even) or 32..63 (k odd), low nibbles for k < 2 and high nibbles
// for k >= 2, and its high 2 bits from bits 2k, 2k+1 of the qh bytes.
void UnpackQ6_K(const uint8_t* block, int8_t* q) {
  for (size_t h = 0; h < 2; ++h) {
    const uint8_t* ql = block + 64 * h;
    const uint8_t* qh = block + internal::kQ6_KHighOffset + 32 * h;
    int8_t* out = q + 128 * h;
    for (size_t l = 0; l < 32; ++l) {
      const int lows[4] = {ql[l] & 0xF, ql[l + 32] & 0xF, ql[l] >> 4, ql[l + 32] >> 4};
      for (int k = 0; k < 4; ++k) {
        const int high = (qh[l] >> (2 * k)) & 3;
        out[32 * k + l] = static_cast<int8_t>((lows[k] | (high << 4)) - internal::kQ6_KOffset);
      }
    }
  }
}

float DotQ4_KScalar(const uint8_t* w, const MatMulInput& x, size_t t) {
  const int8_t* xq = x.quants(t);
  const float* dx = x.scales(t);
  const int32_t* sums = x.sums(t);
  constexpr size_t kSubBlocks = kQKBlockSize / kQ8BlockSize;
  uint8_t q[kQKBlockSize];
  float sum = 0;
  for (size_t sb = 0; sb < x.cols() / kQKBlockSize; ++sb) {
    const uint8_t* block = w + sb * kQ4_KBlockBytes;
    const float d = F16ToF32(LoadU16(block)), dmin = F16ToF32(LoadU16(block + 2));
    UnpackQ4_K(block, q);
    for (size_t s = 0; s < kSubBlocks; ++s) {
      int scale = 0, min = 0;
      internal::Q4_KScaleMin(block + internal::kQ4_KScalesOffset, static_cast<int>(s), &scale,
                             &min);
      const size_t b = sb * kSubBlocks + s;  // the activation block
      int32_t isum = 0;
      for (size_t i = 0; i < kQ8BlockSize; ++i) {
        isum += q[s * kQ8BlockSize + i] * xq[b * kQ8BlockSize + i];
      }
      sum += (d * static_cast<float>(scale) * dx[b]) * static_cast<float>(isum);
      sum -= (dmin * static_cast<float>(min) * dx[b]) * static_cast<float>(sums[b]);
    }
  }
  return sum;
}

float DotQ6_KScalar(const uint8_t* w, const MatMulInput& x, size_t t) {
  const int8_t* xq = x.quants(t);
  const float* dx = x.scales(t);
  constexpr size_t kGroups = kQKBlockSize / kQ8BlockSize;  // activation blocks per block
  constexpr size_t kSubBlock = 16;
  int8_t q[kQKBlockSize];
  float sum = 0;
  for (size_t sb = 0; sb < x.cols() / kQKBlockSize; ++sb) {
    const uint8_t* block = w + sb * kQ6_KBlockBytes;
    const auto* scales = reinterpret_cast<const int8_t*>(block + internal::kQ6_KScalesOffset);
    const float d = F16ToF32(LoadU16(block + internal::kQ6_KScaleOffset));
    UnpackQ6_K(block, q);
    for (size_t g = 0; g < kGroups; ++g) {
      const size_t b = sb * kGroups + g;
      // Two sub-blocks of 16 per activation block; the scaled integer sum stays exact (at
      // most 2 * 128 * 16 * 32 * 127 in magnitude).
      int32_t isum = 0;
      for (size_t h = 0; h < 2; ++h) {
        int32_t part = 0;
        for (size_t i = h * kSubBlock; i < (h + 1) * kSubBlock; ++i) {
          part += q[g * kQ8BlockSize + i] * xq[b * kQ8BlockSize + i];
        }
        isum += part * scales[2 * g + h];
      }
      sum += (d * dx[b]) * static_cast<float>(isum);
    }
  }
  return sum;
}

void DequantizeRowScalar(uint32_t type, const uint8_t* src, float* dst, size_t n);

void MatMulScalar(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                  size_t row_begin, size_t row_end) {
  const size_t n_tokens = x.n_tokens();
  // Quantized weights with float activations: one row at a time as f32.
  const bool dequantize = WeightBlockSize(w.type) > 1 && !x.quantized();
  thread_local std::vector<float> scratch;
  if (dequantize) scratch.resize(w.cols);
  for (size_t r = row_begin; r < row_end; ++r) {
    const uint8_t* row = w.data + r * w.row_bytes;
    if (dequantize) DequantizeRowScalar(w.type, row, scratch.data(), w.cols);
    for (size_t t = 0; t < n_tokens; ++t) {
      float v = 0;
      switch (dequantize ? kGgmlTypeF32 : w.type) {
        case kGgmlTypeF32:
          v = DotF32Scalar(dequantize ? scratch.data() : reinterpret_cast<const float*>(row),
                           x.floats(t), w.cols);
          break;
        case kGgmlTypeF16:
          v = DotF16Scalar(row, x.floats(t), w.cols);
          break;
        case kGgmlTypeQ8_0:
          v = DotQ8_0Scalar(row, x, t);
          break;
        case kGgmlTypeQ4_0:
          v = DotQ4_0Scalar(row, x, t);
          break;
        case formats::kGgmlTypeQ4_K:
          v = DotQ4_KScalar(row, x, t);
          break;
        case kGgmlTypeQ6_K:
          v = DotQ6_KScalar(row, x, t);
          break;
        default:
          WARDEN_CHECK(false);
      }
      y[t * y_stride + r] = v;
    }
  }
}

void DequantizeRowScalar(uint32_t type, const uint8_t* src, float* dst, size_t n) {
  switch (type) {
    case kGgmlTypeF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case kGgmlTypeF16: {
      const float* table = F16Table();
      for (size_t i = 0; i < n; ++i) dst[i] = table[LoadU16(src + 2 * i)];
      return;
    }
    case kGgmlTypeQ8_0:
      for (size_t b = 0; b < n / kQ8BlockSize; ++b) {
        const uint8_t* block = src + b * kQ8_0BlockBytes;
        const float d = F16ToF32(LoadU16(block));
        const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
        for (size_t i = 0; i < kQ8BlockSize; ++i) dst[b * kQ8BlockSize + i] = d * q[i];
      }
      return;
    case kGgmlTypeQ4_0: {
      constexpr size_t kHalf = kQ4BlockSize / 2;
      for (size_t b = 0; b < n / kQ4BlockSize; ++b) {
        const uint8_t* block = src + b * kQ4_0BlockBytes;
        const float d = F16ToF32(LoadU16(block));
        float* out = dst + b * kQ4BlockSize;
        for (size_t j = 0; j < kHalf; ++j) {
          out[j] = d * static_cast<float>((block[2 + j] & 0xF) - kQ4Offset);
          out[j + kHalf] = d * static_cast<float>((block[2 + j] >> 4) - kQ4Offset);
        }
      }
      return;
    }
    case formats::kGgmlTypeQ4_K:
      for (size_t sb = 0; sb < n / kQKBlockSize; ++sb) {
        const uint8_t* block = src + sb * kQ4_KBlockBytes;
        const float d = F16ToF32(LoadU16(block)), dmin = F16ToF32(LoadU16(block + 2));
        uint8_t q[kQKBlockSize];
        UnpackQ4_K(block, q);
        for (size_t e = 0; e < kQKBlockSize; ++e) {
          int scale = 0, min = 0;
          internal::Q4_KScaleMin(block + internal::kQ4_KScalesOffset,
                                 static_cast<int>(e / kQ8BlockSize), &scale, &min);
          const float step = d * static_cast<float>(scale);
          const float offset = dmin * static_cast<float>(min);
          dst[sb * kQKBlockSize + e] = step * static_cast<float>(q[e]) - offset;
        }
      }
      return;
    case kGgmlTypeQ6_K:
      for (size_t sb = 0; sb < n / kQKBlockSize; ++sb) {
        const uint8_t* block = src + sb * kQ6_KBlockBytes;
        const auto* scales = reinterpret_cast<const int8_t*>(block + internal::kQ6_KScalesOffset);
        const float d = F16ToF32(LoadU16(block + internal::kQ6_KScaleOffset));
        int8_t q[kQKBlockSize];
        UnpackQ6_K(block, q);
        for (size_t e = 0; e < kQKBlockSize; ++e) {
          const float step = d * static_cast<float>(scales[e / 16]);
          dst[sb * kQKBlockSize + e] = step * static_cast<float>(q[e]);
        }
      }
      return;
    default:
      WARDEN_CHECK(false);
  }
}

// ---- quantization of weights (tests, benchmarks, synthetic models) ----

void AppendU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}

// Q8_0: a symmetric scale d = max|x| / 127 (stored as f16), q = round(x / d). The quants are
// computed against the f16-rounded scale, so that d * q is as close to x as the stored
// scale allows.
void QuantizeBlockQ8_0(const float* x, std::string& out) {
  float amax = 0;
  for (size_t i = 0; i < kQ8BlockSize; ++i) amax = std::max(amax, std::fabs(x[i]));
  const uint16_t d16 = F32ToF16(amax / kQ8WeightMax);
  const float d = F16ToF32(d16);
  const float inv = d != 0 ? 1.0f / d : 0.0f;
  AppendU16(out, d16);
  for (size_t i = 0; i < kQ8BlockSize; ++i) {
    const float q = std::nearbyint(x[i] * inv);
    out.push_back(
        static_cast<char>(static_cast<int8_t>(std::clamp(q, -kQ8WeightMax, kQ8WeightMax))));
  }
}

// Q4_0: the value of largest magnitude m maps to the extreme quant -8 (d = m / -8), which
// uses the asymmetric range [-8, 7] fully for that sign; the rest round to nearest.
void QuantizeBlockQ4_0(const float* x, std::string& out) {
  float extreme = 0;
  for (size_t i = 0; i < kQ4BlockSize; ++i) {
    if (std::fabs(x[i]) > std::fabs(extreme)) extreme = x[i];
  }
  const uint16_t d16 = F32ToF16(extreme / -static_cast<float>(kQ4Offset));
  const float d = F16ToF32(d16);
  const float inv = d != 0 ? 1.0f / d : 0.0f;
  AppendU16(out, d16);
  constexpr size_t kHalf = kQ4BlockSize / 2;
  auto quant = [&](float v) {
    const float q = std::nearbyint(v * inv) + kQ4Offset;
    return static_cast<uint8_t>(std::clamp(q, 0.0f, static_cast<float>(kQ4Max)));
  };
  for (size_t j = 0; j < kHalf; ++j) {
    out.push_back(static_cast<char>(quant(x[j]) | (quant(x[j + kHalf]) << 4)));
  }
}

// Q4_K: each sub-block of 32 gets an affine grid x ~= step * q - offset with q in [0, 15],
// offset = -min(0, min x) and step = (max x + offset) / 15; the 8 steps and 8 offsets are
// then quantized to 6 bits against two f16 super-scales (d = max step / 63, dmin = max
// offset / 63), and the quants are computed against the grid actually stored. A plain
// min/max fit: good enough for tests and synthetic models (ggml searches for better grids).
void QuantizeBlockQ4_K(const float* x, std::string& out) {
  constexpr size_t kSubBlocks = kQKBlockSize / kQ8BlockSize;
  constexpr float kSixBitMax = 63.0f;
  float steps[kSubBlocks], offsets[kSubBlocks];
  float max_step = 0, max_offset = 0;
  for (size_t s = 0; s < kSubBlocks; ++s) {
    float lo = 0, hi = 0;
    for (size_t i = 0; i < kQ8BlockSize; ++i) {
      lo = std::min(lo, x[s * kQ8BlockSize + i]);
      hi = std::max(hi, x[s * kQ8BlockSize + i]);
    }
    offsets[s] = -lo;
    steps[s] = (hi - lo) / kQ4Max;
    max_step = std::max(max_step, steps[s]);
    max_offset = std::max(max_offset, offsets[s]);
  }
  const uint16_t d16 = F32ToF16(max_step / kSixBitMax);
  const uint16_t dmin16 = F32ToF16(max_offset / kSixBitMax);
  const float d = F16ToF32(d16), dmin = F16ToF32(dmin16);
  uint8_t scales[kSubBlocks], mins[kSubBlocks];
  for (size_t s = 0; s < kSubBlocks; ++s) {
    scales[s] = static_cast<uint8_t>(
        d > 0 ? std::clamp(std::nearbyint(steps[s] / d), 0.0f, kSixBitMax) : 0.0f);
    mins[s] = static_cast<uint8_t>(
        dmin > 0 ? std::clamp(std::nearbyint(offsets[s] / dmin), 0.0f, kSixBitMax) : 0.0f);
  }
  // The inverse of internal::Q4_KScaleMin.
  uint8_t packed[12] = {};
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>(scales[j] | ((scales[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>(mins[j] | ((mins[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((mins[j + 4] & 0xF) << 4));
  }
  uint8_t quants[kQKBlockSize / 2] = {};
  for (size_t e = 0; e < kQKBlockSize; ++e) {
    const size_t s = e / kQ8BlockSize;
    const float step = d * static_cast<float>(scales[s]);
    const float offset = dmin * static_cast<float>(mins[s]);
    const float q = step > 0 ? std::nearbyint((x[e] + offset) / step) : 0.0f;
    const auto nibble = static_cast<uint8_t>(std::clamp(q, 0.0f, static_cast<float>(kQ4Max)));
    // The inverse of UnpackQ4_K.
    quants[(e / 64) * 32 + e % 32] |= static_cast<uint8_t>((e % 64) < 32 ? nibble : nibble << 4);
  }
  AppendU16(out, d16);
  AppendU16(out, dmin16);
  out.append(reinterpret_cast<const char*>(packed), sizeof(packed));
  out.append(reinterpret_cast<const char*>(quants), sizeof(quants));
}

// Q6_K: each sub-block of 16 gets a symmetric step max|x| / 31 (q in [-31, 31] of the
// available [-32, 31]); the 16 steps are quantized to int8 against one f16 super-scale
// d = max step / 127, and the quants are computed against the stored steps.
void QuantizeBlockQ6_K(const float* x, std::string& out) {
  constexpr size_t kSubBlock = 16, kSubBlocks = kQKBlockSize / kSubBlock;
  constexpr float kQuantMax = 31.0f, kScaleMax = 127.0f;
  float steps[kSubBlocks];
  float max_step = 0;
  for (size_t s = 0; s < kSubBlocks; ++s) {
    float amax = 0;
    for (size_t i = 0; i < kSubBlock; ++i) amax = std::max(amax, std::fabs(x[s * kSubBlock + i]));
    steps[s] = amax / kQuantMax;
    max_step = std::max(max_step, steps[s]);
  }
  const uint16_t d16 = F32ToF16(max_step / kScaleMax);
  const float d = F16ToF32(d16);
  int8_t scales[kSubBlocks];
  for (size_t s = 0; s < kSubBlocks; ++s) {
    scales[s] = static_cast<int8_t>(
        d > 0 ? std::clamp(std::nearbyint(steps[s] / d), 0.0f, kScaleMax) : 0.0f);
  }
  uint8_t low[kQKBlockSize / 2] = {}, high[kQKBlockSize / 4] = {};
  for (size_t e = 0; e < kQKBlockSize; ++e) {
    const float step = d * static_cast<float>(scales[e / kSubBlock]);
    const float q = step > 0 ? std::nearbyint(x[e] / step) : 0.0f;
    const int stored =
        static_cast<int>(std::clamp(q, -static_cast<float>(internal::kQ6_KOffset), kQuantMax)) +
        internal::kQ6_KOffset;
    // The inverse of UnpackQ6_K.
    const size_t half = e / 128, quarter = (e % 128) / 32, l = e % 32;
    uint8_t& lo = low[64 * half + l + (quarter & 1) * 32];
    lo |= static_cast<uint8_t>(quarter < 2 ? (stored & 0xF) : (stored & 0xF) << 4);
    high[32 * half + l] |= static_cast<uint8_t>((stored >> 4) << (2 * quarter));
  }
  out.append(reinterpret_cast<const char*>(low), sizeof(low));
  out.append(reinterpret_cast<const char*>(high), sizeof(high));
  out.append(reinterpret_cast<const char*>(scales), sizeof(scales));
  AppendU16(out, d16);
}

}  // namespace

// ---- public API ----

bool IsSupportedWeightType(uint32_t ggml_type) { return WeightBlockSize(ggml_type) != 0; }

std::string SupportedWeightTypeNames() { return "f32, f16, q8_0, q4_0, q4_K, q6_K"; }

size_t WeightBlockSize(uint32_t ggml_type) {
  switch (ggml_type) {
    case kGgmlTypeF32:
    case kGgmlTypeF16:
      return 1;
    case kGgmlTypeQ8_0:
      return kQ8BlockSize;
    case kGgmlTypeQ4_0:
      return kQ4BlockSize;
    case formats::kGgmlTypeQ4_K:
    case kGgmlTypeQ6_K:
      return kQKBlockSize;
    default:
      return 0;
  }
}

size_t WeightRowBytes(uint32_t ggml_type, size_t cols) {
  switch (ggml_type) {
    case kGgmlTypeF32:
      return cols * sizeof(float);
    case kGgmlTypeF16:
      return cols * sizeof(uint16_t);
    case kGgmlTypeQ8_0:
      return cols / kQ8BlockSize * kQ8_0BlockBytes;
    case kGgmlTypeQ4_0:
      return cols / kQ4BlockSize * kQ4_0BlockBytes;
    case formats::kGgmlTypeQ4_K:
      return cols / kQKBlockSize * kQ4_KBlockBytes;
    case kGgmlTypeQ6_K:
      return cols / kQKBlockSize * kQ6_KBlockBytes;
    default:
      return 0;
  }
}

bool CpuHasAvx2() {
#if WARDEN_HAVE_AVX2_KERNELS
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  constexpr unsigned kFma = 1u << 12, kOsxsave = 1u << 27, kAvx = 1u << 28, kF16c = 1u << 29;
  if ((ecx & (kFma | kOsxsave | kAvx | kF16c)) != (kFma | kOsxsave | kAvx | kF16c)) return false;
  // The OS must save the YMM registers on context switches (XCR0 bits 1 and 2).
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  constexpr uint32_t kXmmYmm = 0x6;
  if ((xcr0_lo & kXmmYmm) != kXmmYmm) return false;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  constexpr unsigned kAvx2 = 1u << 5;
  return (ebx & kAvx2) != 0;
#else
  return false;
#endif
}

bool CpuHasAvx512() {
#if WARDEN_HAVE_AVX512_KERNELS
  if (!CpuHasAvx2()) return false;  // also checked OSXSAVE, which xgetbv below needs
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  constexpr unsigned kAvx512F = 1u << 16, kAvx512Dq = 1u << 17, kAvx512Bw = 1u << 30,
                     kAvx512Vl = 1u << 31;
  constexpr unsigned kEbxNeeded = kAvx512F | kAvx512Dq | kAvx512Bw | kAvx512Vl;
  constexpr unsigned kAvx512Vnni = 1u << 11;  // in ecx
  if ((ebx & kEbxNeeded) != kEbxNeeded || (ecx & kAvx512Vnni) == 0) return false;
  // The OS must save the opmask registers and all 32 zmm registers in full (XCR0 bits 5-7)
  // besides xmm and ymm (bits 1, 2); some hypervisors and kernels (avx512=off) do not.
  uint32_t xcr0_lo = 0, xcr0_hi = 0;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  constexpr uint32_t kXmmYmmZmm = 0xE6;
  return (xcr0_lo & kXmmYmmZmm) == kXmmYmmZmm;
#else
  return false;
#endif
}

KernelIsa BestSupportedIsa() { return SupportedAtMost(KernelIsa::kAvx512); }

KernelIsa internal::IsaForEnvironment(const char* value) {
  const std::string_view cap = value != nullptr ? value : "";
  for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512}) {
    if (cap == IsaName(isa)) return SupportedAtMost(isa);
  }
  return BestSupportedIsa();
}

KernelIsa ActiveIsa() { return IsaSlot().load(std::memory_order_relaxed); }

void SetIsaForTesting(KernelIsa isa) {
  IsaSlot().store(SupportedAtMost(isa), std::memory_order_relaxed);
}

std::string_view IsaName(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return "scalar";
    case KernelIsa::kAvx2:
      return "avx2";
    case KernelIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

float internal::F16ToF32Portable(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    bits = std::bit_cast<uint32_t>(magnitude) | sign;
  } else if (exponent == 0x1F) {
    // Infinity, or NaN with its payload, made quiet as IEEE conversions (and F16C) do.
    constexpr uint32_t kF32QuietBit = 0x400000u;
    bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? kF32QuietBit : 0);
  } else {
    // Rebias the exponent from 15 to 127.
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t internal::F32ToF16Portable(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  constexpr uint32_t kF32Inf = 0x7F800000u;
  // 65520 = halfway between the largest half (65504) and 65536; the tie goes to the even
  // neighbour, 65536, which is infinity.
  constexpr uint32_t kF32HalfOverflow = 0x477FF000u;
  constexpr uint32_t kF32HalfMinNormal = 0x38800000u;  // 2^-14
  if (abs > kF32Inf) {
    return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // quiet NaN
  }
  if (abs >= kF32HalfOverflow) return static_cast<uint16_t>(sign | 0x7C00u);
  if (abs < kF32HalfMinNormal) {
    // Result is a half subnormal (or zero, or rounds up to the smallest normal): count units
    // of 2^-24, rounding the remainder half to even.
    const uint32_t exponent = abs >> 23;
    if (exponent < 102) return sign;  // below 2^-25: rounds to zero
    const uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // value = mantissa * 2^-(shift) units of 2^-24
    uint32_t q = mantissa >> shift;
    const uint32_t rem = mantissa & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias the exponent, keep 10 mantissa bits, round the 13 dropped ones half to
  // even. A carry out of the mantissa correctly bumps the exponent.
  uint32_t h = ((abs >> 23) - (127 - 15)) << 10 | ((abs >> 13) & 0x3FFu);
  const uint32_t rem = abs & 0x1FFFu;
  constexpr uint32_t kHalfUlp = 0x1000u;
  if (rem > kHalfUlp || (rem == kHalfUlp && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

#if WARDEN_HAVE_AVX2_KERNELS
// One conversion by the F16C instructions (only called after CpuHasAvx2(), which includes
// F16C): several times faster than the portable bit manipulation, and bit-identical to it
// (kernels_test checks every half and the rounding of floats on both paths). The attention
// over an F16 KV cache converts every cached element this way.
__attribute__((target("f16c"))) static float F16ToF32Hardware(uint16_t h) { return _cvtsh_ss(h); }
__attribute__((target("f16c"))) static uint16_t F32ToF16Hardware(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#endif

float F16ToF32(uint16_t h) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return F16ToF32Hardware(h);
#endif
  return internal::F16ToF32Portable(h);
}

uint16_t F32ToF16(float f) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return F32ToF16Hardware(f);
#endif
  return internal::F32ToF16Portable(f);
}

void internal::QuantizeActivationsScalar(const float* x, size_t n, int8_t* quants, float* scales,
                                         int32_t* sums) {
  for (size_t b = 0; b < n / kQ8BlockSize; ++b) {
    const float* in = x + b * kQ8BlockSize;
    int8_t* out = quants + b * kQ8BlockSize;
    float amax = 0;
    for (size_t i = 0; i < kQ8BlockSize; ++i) amax = std::max(amax, std::fabs(in[i]));
    const float d = amax / kQ8ActivationMax;
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    int32_t sum = 0;
    for (size_t i = 0; i < kQ8BlockSize; ++i) {
      const float r = std::nearbyint(in[i] * inv);
      // The comparisons also send NaN (garbage activations) to 0 instead of undefined
      // behaviour in the conversion.
      const int q = r >= -kQ8ActivationMax && r <= kQ8ActivationMax
                        ? static_cast<int>(r)
                        : (r > 0 ? 127 : (r < 0 ? -127 : 0));
      out[i] = static_cast<int8_t>(q);
      sum += q;
    }
    scales[b] = d;
    sums[b] = sum;
  }
}

bool UsesQuantizedActivations(uint32_t weight_type, size_t n_tokens) {
  if (WeightBlockSize(weight_type) <= 1) return false;
  if (n_tokens < kFloatActivationMinTokens) return true;
#if WARDEN_HAVE_AVX512_KERNELS
  if (UseAvx512()) return internal::HasQuantPanelKernel(weight_type);
#endif
  return false;
}

void MatMulInput::Prepare(uint32_t weight_type, const float* x, size_t n_tokens, size_t cols) {
  const size_t block = WeightBlockSize(weight_type);
  WARDEN_CHECK(block != 0 && cols % block == 0);
  weight_type_ = weight_type;
  n_tokens_ = n_tokens;
  cols_ = cols;
  const bool quantize = UsesQuantizedActivations(weight_type, n_tokens);
#if WARDEN_HAVE_AVX512_KERNELS
  const bool panels = UseAvx512() && n_tokens >= kFloatActivationMinTokens;
#endif
  if (!quantize) {
#if WARDEN_HAVE_AVX512_KERNELS
    if (panels) {
      layout_ = Layout::kFloatPanels;
      float_panels_.resize(n_token_panels() * kTokenPanelWidth * cols);
      internal::PackFloatPanelsAvx512(x, n_tokens, cols, float_panels_.data());
      return;
    }
#endif
    layout_ = Layout::kFloats;
    floats_.resize(n_tokens * cols);
    if (n_tokens * cols != 0) std::memcpy(floats_.data(), x, n_tokens * cols * sizeof(float));
    return;
  }
  const size_t blocks = cols / kQ8BlockSize;
  quants_.resize(n_tokens * cols);
  scales_.resize(n_tokens * blocks);
  sums_.resize(n_tokens * blocks);
  for (size_t t = 0; t < n_tokens; ++t) {
    int8_t* q = quants_.data() + t * cols;
    float* d = scales_.data() + t * blocks;
    int32_t* s = sums_.data() + t * blocks;
#if WARDEN_HAVE_AVX2_KERNELS
    if (UseAvx2()) {
      internal::QuantizeActivationsAvx2(x + t * cols, cols, q, d, s);
      continue;
    }
#endif
    internal::QuantizeActivationsScalar(x + t * cols, cols, q, d, s);
  }
  layout_ = Layout::kQuants;
#if WARDEN_HAVE_AVX512_KERNELS
  if (panels) {
    // The row-major quants above are the staging area of the panels.
    layout_ = Layout::kQuantPanels;
    quant_panels_.resize(n_token_panels() * kTokenPanelWidth * cols);
    panel_scales_.resize(n_token_panels() * kTokenPanelWidth * blocks);
    panel_corrections_.resize(n_token_panels() * kTokenPanelWidth * blocks);
    internal::PackQuantPanelsAvx512(weight_type, quants_.data(), scales_.data(), sums_.data(),
                                    n_tokens, cols, quant_panels_.data(), panel_scales_.data(),
                                    panel_corrections_.data());
  }
#endif
}

void MatMul(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride, size_t row_begin,
            size_t row_end) {
  WARDEN_CHECK(x.weight_type() == w.type && x.cols() == w.cols);
  WARDEN_CHECK(row_begin <= row_end && row_end <= w.rows);
  WARDEN_CHECK(x.n_tokens() <= 1 || y_stride >= w.rows);
  if (row_begin == row_end || x.n_tokens() == 0) return;
#if WARDEN_HAVE_AVX512_KERNELS
  // Panels exist only if Prepare ran on the AVX-512 path (so the CPU has it): the layout, not
  // the current path, decides.
  if (x.layout() == MatMulInput::Layout::kFloatPanels ||
      x.layout() == MatMulInput::Layout::kQuantPanels) {
    return internal::MatMulAvx512(w, x, y, y_stride, row_begin, row_end);
  }
  // Few tokens: the AVX-512 decode products (Q8_0, F16); the rest falls back to AVX2 there.
  if (UseAvx512()) return internal::MatMulAvx512(w, x, y, y_stride, row_begin, row_end);
#endif
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::MatMulAvx2(w, x, y, y_stride, row_begin, row_end);
#endif
  MatMulScalar(w, x, y, y_stride, row_begin, row_end);
}

void DequantizeRow(uint32_t type, const uint8_t* src, float* dst, size_t n) {
  const size_t block = WeightBlockSize(type);
  WARDEN_CHECK(block != 0 && n % block == 0);
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::DequantizeRowAvx2(type, src, dst, n);
#endif
  DequantizeRowScalar(type, src, dst, n);
}

Result<std::string> QuantizeRows(uint32_t type, std::span<const float> src, size_t rows,
                                 size_t cols) {
  const size_t block = WeightBlockSize(type);
  if (block == 0) {
    return InvalidArgumentError("cannot quantize to " + formats::GgmlTypeName(type) +
                                ": supported types are " + SupportedWeightTypeNames());
  }
  if (cols % block != 0) {
    return InvalidArgumentError("cannot quantize rows of " + std::to_string(cols) + " to " +
                                formats::GgmlTypeName(type) + ": not a multiple of its block of " +
                                std::to_string(block));
  }
  if (cols != 0 && rows > src.size() / cols) {
    return InvalidArgumentError("cannot quantize " + std::to_string(rows) + " x " +
                                std::to_string(cols) + ": only " + std::to_string(src.size()) +
                                " values given");
  }
  if (rows * cols != src.size()) {
    return InvalidArgumentError("cannot quantize " + std::to_string(rows) + " x " +
                                std::to_string(cols) + ": " + std::to_string(src.size()) +
                                " values given");
  }
  for (size_t i = 0; i < src.size(); ++i) {
    if (!std::isfinite(src[i])) {
      return InvalidArgumentError("cannot quantize a non-finite value at row " +
                                  std::to_string(i / cols) + ", column " +
                                  std::to_string(i % cols));
    }
  }
  std::string out;
  out.reserve(rows * WeightRowBytes(type, cols));
  switch (type) {
    case kGgmlTypeF32:
      out.assign(reinterpret_cast<const char*>(src.data()), src.size() * sizeof(float));
      break;
    case kGgmlTypeF16:
      for (float v : src) AppendU16(out, F32ToF16(v));
      break;
    case kGgmlTypeQ8_0:
      for (size_t i = 0; i < src.size(); i += kQ8BlockSize) QuantizeBlockQ8_0(&src[i], out);
      break;
    case kGgmlTypeQ4_0:
      for (size_t i = 0; i < src.size(); i += kQ4BlockSize) QuantizeBlockQ4_0(&src[i], out);
      break;
    case formats::kGgmlTypeQ4_K:
      for (size_t i = 0; i < src.size(); i += kQKBlockSize) QuantizeBlockQ4_K(&src[i], out);
      break;
    case kGgmlTypeQ6_K:
      for (size_t i = 0; i < src.size(); i += kQKBlockSize) QuantizeBlockQ6_K(&src[i], out);
      break;
  }
  return out;
}

void RmsNorm(const float* x, const float* weight, float eps, size_t n, float* out) {
  // Sum of squares in double (as ggml does): the hidden sizes are large and this runs once per
  // layer, so the precision is free.
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += double{x[i]} * x[i];
  const float scale =
      static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n == 0 ? 1 : n) + eps));
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

float DotF32(const float* a, const float* b, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::DotF32Avx2(a, b, n);
#endif
  return DotF32Scalar(a, b, n);
}

void AxpyF32(float a, const float* x, float* y, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::AxpyF32Avx2(a, x, y, n);
#endif
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void F16ToF32Row(const uint16_t* h, float* out, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::F16ToF32RowAvx2(h, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = internal::F16ToF32Portable(h[i]);
}

void F32ToF16Row(const float* x, uint16_t* out, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::F32ToF16RowAvx2(x, out, n);
#endif
  for (size_t i = 0; i < n; ++i) out[i] = internal::F32ToF16Portable(x[i]);
}

float DotF32F16Row(const float* a, const uint16_t* b, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::DotF32F16RowAvx2(a, b, n);
#endif
  double sums[kF16DotLanes] = {};
  for (size_t i = 0; i < n; ++i) {
    sums[i % kF16DotLanes] += static_cast<double>(a[i] * internal::F16ToF32Portable(b[i]));
  }
  return static_cast<float>((sums[0] + sums[1]) + (sums[2] + sums[3]));
}

void ScaleF16Row(float a, uint16_t* y, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::ScaleF16RowAvx2(a, y, n);
#endif
  for (size_t i = 0; i < n; ++i) {
    y[i] = internal::F32ToF16Portable(a * internal::F16ToF32Portable(y[i]));
  }
}

void AxpyF16Row(float a, const uint16_t* x, uint16_t* y, size_t n) {
#if WARDEN_HAVE_AVX2_KERNELS
  if (UseAvx2()) return internal::AxpyF16RowAvx2(a, x, y, n);
#endif
  for (size_t i = 0; i < n; ++i) {
    const float sum =
        std::fma(internal::F16ToF32Portable(x[i]), a, internal::F16ToF32Portable(y[i]));
    y[i] = internal::F32ToF16Portable(sum);
  }
}

void SoftmaxInPlace(float* x, size_t n) {
  if (n == 0) return;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float max = -kInf;
  for (size_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  if (max == -kInf || max == kInf) {
    // Every entry masked: no distribution exists, and uniform is the least surprising answer.
    // Some entry +inf: it outweighs every finite one, so the +inf entries share the mass
    // (exp(x - max) would be NaN for them).
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) count += x[i] == max;
    for (size_t i = 0; i < n; ++i) x[i] = x[i] == max ? 1.0f / static_cast<float>(count) : 0.0f;
    return;
  }
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);  // exp(-inf) = 0: masked entries drop out
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void SwiGlu(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace warden::engine
