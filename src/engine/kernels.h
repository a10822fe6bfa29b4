// Compute kernels of the Llama forward pass: matrix products over ggml-typed weights
// (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K), f16 conversion, quantization, and the small vector helpers
// (RMSNorm, dot, axpy, softmax, SwiGLU).
//
// Every kernel has a portable scalar path and an AVX2+FMA+F16C path; the AVX2 one is chosen
// once at run time when the CPU has those extensions (and the build compiled them), unless
// the environment sets WARDEN_KERNELS=scalar. Both paths compute the same mathematics; they
// differ only in float summation order (see tests/engine/kernels_test.cc for the bounds).
//
// Quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) times few tokens (decode) are multiplied with
// activations that MatMulInput quantized once per call to 8-bit blocks of 32 (one float scale per
// block), so the inner loop is an integer dot product per block that reads weight bytes as they
// are: decode is bound by memory bandwidth. That costs a relative error of about 2^-8 per
// activation block, far below the weights' own quantization error (ggml does the same).
// With many tokens (prefill, kFloatActivationMinTokens or more) the product is bound by
// arithmetic instead; there each block of weight rows is dequantized once to f32 and
// multiplied with the float activations by FMA, which measured faster than the integer
// path (fewer instructions per multiply-add once the conversion is shared by all tokens) and
// is exact up to float rounding.
//
// Determinism: each output element is computed by the same sequence of operations whatever
// the row range or tile it falls into, so results are bitwise identical however rows are
// split across threads. They do depend on the path: a token computed alone (decode) and in a
// batch of kFloatActivationMinTokens or more (prefill) can differ in the last bits.
//
// Thread-safety: all functions are pure except ActiveIsa/SetIsaForTesting (an atomic).
// MatMul may run on many threads at once over disjoint row ranges of one output, sharing one
// prepared MatMulInput (read-only once prepared).
// Ownership: WeightView points into memory owned elsewhere (usually the model's mmap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/ggml_types.h"

namespace warden::engine {

// ggml's id of Q6_K (formats/ggml_types.h names only the ids other modules use).
inline constexpr uint32_t kGgmlTypeQ6_K = 14;

// Elements per block of the quantized types we compute with (ggml's QK8_0, QK4_0 and QK_K),
// and bytes per block. Q8_0 = {f16 d; int8 q[32]}, value d*q. Q4_0 = {f16 d; uint8 qs[16]},
// element j = d*((qs[j] & 15) - 8), element j+16 = d*((qs[j] >> 4) - 8).
// Q4_K = {f16 d, dmin; uint8 scales[12]; uint8 qs[128]}: 8 sub-blocks of 32 with 6-bit
// scale sc and min m each, value d*sc*q - dmin*m with q a nibble. Q6_K = {uint8 ql[128],
// qh[64]; int8 scales[16]; f16 d}: 16 sub-blocks of 16, value d*scale*(q - 32) with q 6 bits
// (low 4 in ql, high 2 in qh); kernels.cc (UnpackQ4_K, UnpackQ6_K) spells out the bit positions.
inline constexpr size_t kQ8BlockSize = 32;
inline constexpr size_t kQ4BlockSize = 32;
inline constexpr size_t kQKBlockSize = 256;
inline constexpr size_t kQ8_0BlockBytes = 2 + kQ8BlockSize;
inline constexpr size_t kQ4_0BlockBytes = 2 + kQ4BlockSize / 2;
inline constexpr size_t kQ4_KBlockBytes = 2 + 2 + 12 + kQKBlockSize / 2;
inline constexpr size_t kQ6_KBlockBytes = kQKBlockSize / 2 + kQKBlockSize / 4 + 16 + 2;

// Quantized weights with at least this many tokens use float activations (see above).
inline constexpr size_t kFloatActivationMinTokens = 16;

// A weight matrix in ggml layout: `rows` rows of `cols` elements; each row is
// cols / block_size blocks of `type`, rows `row_bytes` apart. Not owned (points into the mmap).
struct WeightView {
  uint32_t type = 0;  // formats::kGgmlTypeF32, F16, Q8_0, Q4_0, Q4_K, kGgmlTypeQ6_K
  const uint8_t* data = nullptr;
  size_t rows = 0, cols = 0, row_bytes = 0;
};

// Whether MatMul, DequantizeRow and QuantizeRows handle `ggml_type`.
bool IsSupportedWeightType(uint32_t ggml_type);
// "f32, f16, q8_0, q4_0, q4_K, q6_K" (for error messages).
std::string SupportedWeightTypeNames();
// Elements per block of a supported type (1 for F32/F16, 32 for Q8_0/Q4_0, 256 for Q4_K/Q6_K);
// 0 if unsupported.
size_t WeightBlockSize(uint32_t ggml_type);
// Bytes of one row of `cols` elements of a supported type (cols a multiple of the block size).
size_t WeightRowBytes(uint32_t ggml_type, size_t cols);

enum class KernelIsa { kScalar, kAvx2 };
// Chosen once: AVX2 when the CPU has AVX2+FMA+F16C (and the build has the AVX2 file), unless
// env WARDEN_KERNELS=scalar.
KernelIsa ActiveIsa();
// Tests and benchmarks run both paths; kAvx2 is ignored (scalar stays) if unsupported.
void SetIsaForTesting(KernelIsa isa);
// Whether this CPU (and OS) support AVX2, FMA and F16C, and the build compiled the AVX2 file.
bool CpuHasAvx2();
std::string_view IsaName(KernelIsa isa);  // "scalar", "avx2"

// The input of a matrix product, converted once for the weight type (quantized to 8-bit
// blocks for quantized weights and fewer than kFloatActivationMinTokens tokens, copied as
// floats otherwise) so that many row ranges (threads) can reuse it. Reusable buffer: Prepare()
// does not allocate when capacity suffices.
class MatMulInput {
 public:
  // x: n_tokens rows of `cols` floats, row-major, contiguous. Preconditions (checked, a
  // violation aborts: callers validated shapes at load): weight_type supported, cols a
  // multiple of its block size. x is not kept.
  void Prepare(uint32_t weight_type, const float* x, size_t n_tokens, size_t cols);

  uint32_t weight_type() const { return weight_type_; }
  size_t n_tokens() const { return n_tokens_; }
  size_t cols() const { return cols_; }
  bool quantized() const { return quantized_; }

  // Kernel access to the prepared data (valid until the next Prepare).
  // Not quantized(): token t's floats.
  const float* floats(size_t t) const { return floats_.data() + t * cols_; }
  // quantized(): token t's cols/32 blocks: 32 int8 quants in [-127, 127] each, a float scale d
  // (x ~= d * q), and sum(q), for weights with an offset: Q4_0 stores w + 8, so sum(w*q) =
  // sum(stored*q) - 8*sum(q); Q4_K subtracts its mins the same way.
  const int8_t* quants(size_t t) const { return quants_.data() + t * cols_; }
  const float* scales(size_t t) const { return scales_.data() + t * (cols_ / kQ8BlockSize); }
  const int32_t* sums(size_t t) const { return sums_.data() + t * (cols_ / kQ8BlockSize); }

 private:
  uint32_t weight_type_ = formats::kGgmlTypeF32;
  size_t n_tokens_ = 0;
  size_t cols_ = 0;
  bool quantized_ = false;
  std::vector<float> floats_;
  std::vector<int8_t> quants_;
  std::vector<float> scales_;
  std::vector<int32_t> sums_;
};

// y[t * y_stride + r] = dot(row r of w, x token t) for t in [0, n_tokens), r in
// [row_begin, row_end). Called from several threads with disjoint row ranges.
// Preconditions (checked, abort on violation): x was prepared for w.type with x.cols() ==
// w.cols, row_begin <= row_end <= w.rows, y_stride >= w.rows when n_tokens > 1.
void MatMul(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride, size_t row_begin,
            size_t row_end);

// Dequantizes one row of n elements of `type` (n a multiple of its block size) to floats
// (used for embedding lookup and tests). Precondition (checked): type supported.
void DequantizeRow(uint32_t type, const uint8_t* src, float* dst, size_t n);

// Quantizes rows x cols floats into ggml bytes of `type` (for tests, benchmarks and the
// synthetic model writer). InvalidArgument if src.size() != rows * cols, cols is not a
// multiple of the block size, the type is not supported, or a value is not finite.
Result<std::string> QuantizeRows(uint32_t type, std::span<const float> src, size_t rows,
                                 size_t cols);

// IEEE 754 binary16 <-> binary32. F32ToF16 rounds to nearest even; overflow gives infinity,
// NaN stays NaN (quiet).
float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Vector helpers of the forward pass.
// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]; out may alias x.
void RmsNorm(const float* x, const float* weight, float eps, size_t n, float* out);
float DotF32(const float* a, const float* b, size_t n);
void AxpyF32(float a, const float* x, float* y, size_t n);  // y += a*x
// x = exp(x - max) / sum, stable for huge values; -inf entries (masked) become 0. When all are
// -inf the result is uniform; +inf entries share all the mass.
void SoftmaxInPlace(float* x, size_t n);
// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)); out may alias gate or up.
void SwiGlu(const float* gate, const float* up, float* out, size_t n);

}  // namespace warden::engine
