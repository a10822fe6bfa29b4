// Private interface between the kernel dispatcher (engine/kernels.cc) and the AVX2 and
// AVX-512 kernels (engine/internal/kernels_avx2.cc, compiled with -mavx2 -mfma -mf16c, and
// engine/internal/kernels_avx512.cc, compiled with the AVX-512 flags as well).
//
// The AVX2 functions may only be called after CpuHasAvx2() said yes, the AVX-512 ones after
// CpuHasAvx512(): they use instructions that fault on older CPUs. Preconditions are those of the
// public functions in kernels.h, already checked by the dispatcher.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/kernels.h"

namespace warden::engine::internal {

// Activation quantization shared by both paths so that they produce identical quants: for each
// block of 32 values, d = max|x| / 127, q = round_half_even(x * (1/d)) (0 when d is 0), and
// sum(q). Both paths compute 1/d and x * (1/d) with single IEEE operations, so the quants
// agree bit for bit and the integer dot products that follow are exact on both.
inline constexpr float kQ8ActivationMax = 127.0f;

// Q4_K packs 8 six-bit scales and 8 six-bit mins into 12 bytes: sub-blocks 0..3 keep theirs in
// the low 6 bits of bytes j (scale) and j+4 (min); sub-blocks 4..7 keep their low 4 bits in
// the nibbles of byte j+4 and their top 2 bits in the top bits of bytes j-4 (scale) and j
// (min).
inline void Q4_KScaleMin(const uint8_t* packed, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Byte offsets inside the K-quant blocks.
inline constexpr size_t kQ4_KScalesOffset = 4;
inline constexpr size_t kQ4_KQuantsOffset = 16;
inline constexpr size_t kQ6_KHighOffset = 128;
inline constexpr size_t kQ6_KScalesOffset = 192;
inline constexpr size_t kQ6_KScaleOffset = 208;
// Q6_K quants are stored as q + 32.
inline constexpr int kQ6_KOffset = 32;

// The path for a value of WARDEN_KERNELS (nullptr: unset): the named path, or the highest
// supported one below it; the best supported path for an unset or unknown value.
KernelIsa IsaForEnvironment(const char* value);

// The IEEE binary16 conversions in plain integer arithmetic (F16ToF32 and F32ToF16 on the
// scalar path; the vector paths use the F16C instructions, which give the same bits).
float F16ToF32Portable(uint16_t h);
uint16_t F32ToF16Portable(float f);

// One token: n values (n a multiple of 32) into n quants, n/32 scales and n/32 sums.
void QuantizeActivationsScalar(const float* x, size_t n, int8_t* quants, float* scales,
                               int32_t* sums);

// The AVX-512 prefill product sums each output's products in column order in chunks of this
// many columns, then adds the chunk sums in order (kernels_avx512.cc; tests bound its rounding
// with it).
inline constexpr size_t kPrefillSumChunk = 64;

#if WARDEN_HAVE_AVX2_KERNELS
void QuantizeActivationsAvx2(const float* x, size_t n, int8_t* quants, float* scales,
                             int32_t* sums);
void MatMulAvx2(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                size_t row_begin, size_t row_end);
void DequantizeRowAvx2(uint32_t type, const uint8_t* src, float* dst, size_t n);
float DotF32Avx2(const float* a, const float* b, size_t n);
void AxpyF32Avx2(float a, const float* x, float* y, size_t n);
void F16ToF32RowAvx2(const uint16_t* h, float* out, size_t n);
void F32ToF16RowAvx2(const float* x, uint16_t* out, size_t n);
float DotF32F16RowAvx2(const float* a, const uint16_t* b, size_t n);
void ScaleF16RowAvx2(float a, uint16_t* y, size_t n);
void AxpyF16RowAvx2(float a, const uint16_t* x, uint16_t* y, size_t n);
#endif

#if WARDEN_HAVE_AVX512_KERNELS
// Whether the AVX-512 prefill multiplies `weight_type` with 8-bit activations (kQuantPanels;
// otherwise kFloatPanels).
bool HasQuantPanelKernel(uint32_t weight_type);
// n_tokens rows of `cols` floats into ceil(n_tokens / 16) panels (MatMulInput::float_panel).
void PackFloatPanelsAvx512(const float* x, size_t n_tokens, size_t cols, float* panels);
// n_tokens rows of quants, scales and sums (as MatMulInput::quants, scales and sums) into
// ceil(n_tokens / 16) panels (MatMulInput::quant_panel, quant_panel_scales and
// quant_panel_corrections for `weight_type`).
void PackQuantPanelsAvx512(uint32_t weight_type, const int8_t* quants, const float* scales,
                           const int32_t* sums, size_t n_tokens, size_t cols, int8_t* panels,
                           float* panel_scales, int32_t* panel_corrections);
// Products with token panels (kFloatPanels, kQuantPanels); other layouts go to MatMulAvx2.
void MatMulAvx512(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                  size_t row_begin, size_t row_end);
#endif

}  // namespace warden::engine::internal
