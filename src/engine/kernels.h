// Compute kernels of the Llama forward pass: matrix products over ggml-typed weights
// (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K), f16 conversion, quantization, and the small vector helpers
// (RMSNorm, dot, axpy, softmax, SwiGLU).
//
// Paths (KernelIsa): every kernel has a portable scalar path and an AVX2+FMA+F16C path; on CPUs
// with AVX-512 (F, BW, VL, DQ, VNNI) the prefill products (kFloatActivationMinTokens or more
// tokens) and the Q8_0 and F16 decode products (fewer tokens) take an AVX-512 path, everything
// else staying on the AVX2 code. The highest path the CPU and the build support is chosen once
// at run time; the environment variable
// WARDEN_KERNELS=scalar|avx2 caps it. All paths compute the same mathematics; they differ in
// float summation order (tests/engine/kernels_test.cc bounds it) and, for Q8_0 and Q4_0
// prefill, in whether activations are rounded to 8 bits (below).
//
// Quantized weights (Q8_0, Q4_0, Q4_K, Q6_K) times few tokens (decode) are multiplied with
// activations that MatMulInput quantized once per call to 8-bit blocks of 32 (one float scale per
// block), so the inner loop is an integer dot product per block that reads weight bytes as they
// are: decode is bound by memory bandwidth. That costs a relative error of about 2^-8 per
// activation block, far below the weights' own quantization error (ggml does the same).
// With many tokens (prefill, kFloatActivationMinTokens or more) the product is bound by
// arithmetic instead. The scalar and AVX2 paths dequantize each block of weight rows to f32
// once and multiply it with the float activations by FMA (faster there than their integer
// code, and exact up to float rounding). The AVX-512 path packs the activations into panels
// of 16 tokens, one per vector lane (MatMulInput::Layout), so that one instruction serves 16
// tokens of a row: F32, F16, Q4_K and Q6_K with f32 FMA (about 1.7x the AVX2 tiles), Q8_0
// and Q4_0 with VNNI integer dot products on 8-bit activations, as for decode (about 4x the
// AVX2 tiles; the activation rounding is then the same as decode's and ggml's, not exact:
// UsesQuantizedActivations says which). Figures: bench/kernels_bench.cc.
//
// Determinism: each output element is computed by the same sequence of operations whatever
// the row range or tile it falls into, so results are bitwise identical however rows are
// split across threads, and a token's result does not depend on the other tokens of its
// batch. They do depend on the path: on the ISA, and on whether a token is computed in a batch
// of fewer than kFloatActivationMinTokens tokens (the very bits of a single token) or more
// (prefill): those differ in the last bits, or by the 8-bit activation rounding where only
// one of them applies it.
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

// Batches of at least this many tokens take the prefill products (see above): float
// activations for quantized weights (except Q8_0/Q4_0 on AVX-512), and the AVX-512 token
// panels. Below it, a batch computes every token exactly as a single token.
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

// The kernel paths, in increasing order: each one uses the previous one's code for what it
// does not do itself. kAvx512 implements the prefill products (activations packed in token
// panels) and the Q8_0 and F16 decode products, and uses the AVX2 code for everything else.
// AMX (tile matrix units on the same CPUs) is a possible next path for prefill, not
// implemented (kernels_avx512.cc says why).
enum class KernelIsa { kScalar, kAvx2, kAvx512 };
// Chosen once: the highest path the CPU supports (CpuHasAvx512, CpuHasAvx2), capped by the
// environment variable WARDEN_KERNELS=scalar|avx2|avx512 (other values are ignored; a path
// the CPU lacks gives the highest supported below it).
KernelIsa ActiveIsa();
// Tests and benchmarks run every path; an unsupported one falls back to the highest supported
// below it (ActiveIsa then says which).
void SetIsaForTesting(KernelIsa isa);
// Whether this CPU (and OS) support AVX2, FMA and F16C, and the build compiled the AVX2 file.
bool CpuHasAvx2();
// Whether this CPU and OS support AVX-512 F, BW, VL, DQ and VNNI with the zmm state saved on
// context switches (XCR0), AVX2 as above, and the build compiled the AVX-512 file.
bool CpuHasAvx512();
// The highest path this CPU supports.
KernelIsa BestSupportedIsa();
std::string_view IsaName(KernelIsa isa);  // "scalar", "avx2", "avx512"

// Tokens per panel of packed activations (MatMulInput::Layout::kFloatPanels, kQuantPanels).
inline constexpr size_t kTokenPanelWidth = 16;

// Whether MatMulInput::Prepare, on the active path, rounds the activations of a product with
// `weight_type` weights and `n_tokens` tokens to 8 bits per element (blocks of 32 with one
// float scale: a relative error up to about 2^-8 of the block's largest value). True for the
// quantized types below kFloatActivationMinTokens tokens, and on the AVX-512 path also for
// Q8_0 and Q4_0 at any count (their prefill runs VNNI integer dot products); false otherwise
// (float activations, exact up to float rounding).
bool UsesQuantizedActivations(uint32_t weight_type, size_t n_tokens);

// The input of a matrix product, converted once for the weight type and the active path (see
// Layout) so that many row ranges (threads) can reuse it. Reusable buffer: Prepare() does
// not allocate when capacity suffices.
class MatMulInput {
 public:
  // How Prepare stored the activations; MatMul computes the product on the path that
  // matches (a later SetIsaForTesting does not change it).
  enum class Layout {
    kFloats,       // floats(t): copied as they are
    kQuants,       // quants/scales/sums(t): 8-bit blocks per token (decode, short batches)
    kFloatPanels,  // float_panel(p): AVX-512 prefill, float activations
    kQuantPanels,  // quant_panel(p), quant_panel_scales(p): AVX-512 VNNI prefill
  };

  // x: n_tokens rows of `cols` floats, row-major, contiguous. Preconditions (checked, a
  // violation aborts: callers validated shapes at load): weight_type supported, cols a
  // multiple of its block size. x is not kept.
  void Prepare(uint32_t weight_type, const float* x, size_t n_tokens, size_t cols);

  uint32_t weight_type() const { return weight_type_; }
  size_t n_tokens() const { return n_tokens_; }
  size_t cols() const { return cols_; }
  Layout layout() const { return layout_; }
  bool quantized() const { return layout_ == Layout::kQuants; }

  // Kernel access to the prepared data (valid until the next Prepare), by layout().
  // kFloats: token t's floats.
  const float* floats(size_t t) const { return floats_.data() + t * cols_; }
  // kQuants: token t's cols/32 blocks: 32 int8 quants in [-127, 127] each, a float scale d
  // (x ~= d * q), and sum(q), for weights with an offset: Q4_0 stores w + 8, so sum(w*q) =
  // sum(stored*q) - 8*sum(q); Q4_K subtracts its mins the same way.
  const int8_t* quants(size_t t) const { return quants_.data() + t * cols_; }
  const float* scales(size_t t) const { return scales_.data() + t * (cols_ / kQ8BlockSize); }
  const int32_t* sums(size_t t) const { return sums_.data() + t * (cols_ / kQ8BlockSize); }
  // The panel layouts: panel p holds tokens 16p..16p+15 (kTokenPanelWidth), one vector lane
  // per token, so that one 16-lane instruction serves 16 tokens; lanes past n_tokens in the
  // last panel hold zeros.
  size_t n_token_panels() const { return (n_tokens_ + kTokenPanelWidth - 1) / kTokenPanelWidth; }
  // kFloatPanels: cols x 16 floats, element k of lane l at [k * 16 + l].
  const float* float_panel(size_t p) const {
    return float_panels_.data() + p * cols_ * kTokenPanelWidth;
  }
  // kQuantPanels: the tokens quantized exactly as for kQuants, in cols/4 groups of 16 lanes x
  // 4 quants (quant 4g+i of lane l at [(g * 16 + l) * 4 + i]); per block of 32, the scales
  // and the weight-offset corrections as cols/32 x 16 values (block b of lane l at
  // [b * 16 + l]). The kernel reads the weights as unsigned bytes w + offset (Q8_0: + 128,
  // Q4_0: its stored nibble, + 8), so each block's integer sum starts from the correction
  // -offset * sum(q) to come out as sum(w * q).
  const int8_t* quant_panel(size_t p) const {
    return quant_panels_.data() + p * cols_ * kTokenPanelWidth;
  }
  const float* quant_panel_scales(size_t p) const {
    return panel_scales_.data() + p * (cols_ / kQ8BlockSize) * kTokenPanelWidth;
  }
  const int32_t* quant_panel_corrections(size_t p) const {
    return panel_corrections_.data() + p * (cols_ / kQ8BlockSize) * kTokenPanelWidth;
  }

 private:
  uint32_t weight_type_ = formats::kGgmlTypeF32;
  size_t n_tokens_ = 0;
  size_t cols_ = 0;
  Layout layout_ = Layout::kFloats;
  std::vector<float> floats_;
  std::vector<int8_t> quants_;
  std::vector<float> scales_;
  std::vector<int32_t> sums_;
  std::vector<float> float_panels_;
  std::vector<int8_t> quant_panels_;
  std::vector<float> panel_scales_;
  std::vector<int32_t> panel_corrections_;
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

// IEEE 754 binary16 <-> binary32. F32ToF16 rounds to nearest even; overflow gives infinity.
// NaN stays NaN (made quiet, payload kept as far as it fits). The same bits on every path
// (F16C instructions on the vector paths).
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

// Helpers for attention over an F16 KV cache. Each gives the same bits on every path (F16C
// and FMA instructions on the vector paths, the portable conversions and std::fma on the
// scalar one), so results do not depend on the ISA.
// out[i] = F16ToF32(h[i]) / F32ToF16(x[i]) for n elements.
void F16ToF32Row(const uint16_t* h, float* out, size_t n);
void F32ToF16Row(const float* x, uint16_t* out, size_t n);
// sum of a[i] * F16ToF32(b[i]), each product rounded to float and summed in double in
// kF16DotLanes interleaved partial sums (element i into sum i % 4, in order), combined as
// (s0 + s1) + (s2 + s3), the result rounded to float.
inline constexpr size_t kF16DotLanes = 4;
float DotF32F16Row(const float* a, const uint16_t* b, size_t n);
// y[i] = F32ToF16(a * F16ToF32(y[i])).
void ScaleF16Row(float a, uint16_t* y, size_t n);
// y[i] = F32ToF16(fma(F16ToF32(x[i]), a, F16ToF32(y[i]))): one rounding to float, one to f16.
void AxpyF16Row(float a, const uint16_t* x, uint16_t* y, size_t n);

}  // namespace warden::engine
