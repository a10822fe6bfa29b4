// Tests of engine/kernels.h against slow double-precision references written here from the
// format definitions (plain loops, double accumulators), on every instruction-set path (those
// the CPU lacks are skipped).
#include "engine/kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/internal/kernels_internal.h"
#include "formats/ggml_types.h"

namespace warden::engine {
namespace {

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ4_K;
using formats::kGgmlTypeQ8_0;
constexpr uint32_t kGgmlTypeQ6_K = engine::kGgmlTypeQ6_K;

constexpr uint32_t kAllTypes[] = {kGgmlTypeF32,  kGgmlTypeF16,  kGgmlTypeQ8_0,
                                  kGgmlTypeQ4_0, kGgmlTypeQ4_K, kGgmlTypeQ6_K};
constexpr KernelIsa kAllIsas[] = {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512};
constexpr double kF32Eps = 1.0 / (1 << 24);  // unit roundoff of float (half an ulp at 1)
constexpr float kInf = std::numeric_limits<float>::infinity();

bool IsaSupported(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::kScalar:
      return true;
    case KernelIsa::kAvx2:
      return CpuHasAvx2();
    case KernelIsa::kAvx512:
      return CpuHasAvx512();
  }
  return false;
}

#define SKIP_UNLESS_SUPPORTED(isa) \
  if (!IsaSupported(isa)) GTEST_SKIP() << "no " << IsaName(isa) << " on this CPU"

// Sets the kernel path for one test and restores the previous one afterwards.
class IsaScope {
 public:
  explicit IsaScope(KernelIsa isa) : saved_(ActiveIsa()) { SetIsaForTesting(isa); }
  ~IsaScope() { SetIsaForTesting(saved_); }

 private:
  KernelIsa saved_;
};

// ---- references ----

// binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals m 2^-24.
double RefHalf(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  double v;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa == 0 ? std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(1024 + mantissa, exponent - 25);
  }
  return sign ? -v : v;
}

uint16_t U16At(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Dequantizes one row from the ggml layouts, independently of the code under test.
std::vector<double> RefDequantize(uint32_t type, const uint8_t* row, size_t cols) {
  std::vector<double> out(cols);
  for (size_t i = 0; i < cols; ++i) {
    switch (type) {
      case kGgmlTypeF32: {
        float f;
        std::memcpy(&f, row + 4 * i, 4);
        out[i] = f;
        break;
      }
      case kGgmlTypeF16:
        out[i] = RefHalf(U16At(row + 2 * i));
        break;
      case kGgmlTypeQ8_0: {
        const uint8_t* block = row + (i / 32) * 34;
        out[i] = RefHalf(U16At(block)) * static_cast<int8_t>(block[2 + i % 32]);
        break;
      }
      case kGgmlTypeQ4_0: {
        const uint8_t* block = row + (i / 32) * 18;
        const size_t j = i % 32;
        const int nibble = j < 16 ? (block[2 + j] & 0xF) : (block[2 + j - 16] >> 4);
        out[i] = RefHalf(U16At(block)) * (nibble - 8);
        break;
      }
      case kGgmlTypeQ4_K: {
        // {f16 d, dmin; scales[12]; qs[128]}; element e of the block sits in sub-block e/32;
        // qs byte 32*(e/64) + e%32 holds it, in the low nibble for the first 32 of each 64.
        const uint8_t* block = row + (i / 256) * 144;
        const size_t e = i % 256, sub = e / 32;
        const uint8_t* sc = block + 4;
        int scale, min;
        if (sub < 4) {
          scale = sc[sub] & 63;
          min = sc[sub + 4] & 63;
        } else {
          scale = (sc[sub + 4] & 0xF) | ((sc[sub - 4] >> 6) << 4);
          min = (sc[sub + 4] >> 4) | ((sc[sub] >> 6) << 4);
        }
        const uint8_t byte = block[16 + 32 * (e / 64) + e % 32];
        const int q = (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
        out[i] = RefHalf(U16At(block)) * scale * q - RefHalf(U16At(block + 2)) * min;
        break;
      }
      case kGgmlTypeQ6_K: {
        // {ql[128]; qh[64]; int8 scales[16]; f16 d}: halves of 128 elements each use 64 ql
        // and 32 qh bytes; quarter k of a half takes its low 4 bits from ql byte l (+32 for odd
        // k), the low nibble for k < 2, and its high 2 bits from bits 2k of qh byte l.
        const uint8_t* block = row + (i / 256) * 210;
        const size_t e = i % 256, half = e / 128, k = (e % 128) / 32, l = e % 32;
        const uint8_t lo = block[64 * half + l + (k % 2) * 32];
        const int low4 = k < 2 ? (lo & 0xF) : (lo >> 4);
        const int high2 = (block[128 + 32 * half + l] >> (2 * k)) & 3;
        const int q = (low4 | (high2 << 4)) - 32;
        out[i] = RefHalf(U16At(block + 208)) * static_cast<int8_t>(block[192 + e / 16]) * q;
        break;
      }
    }
  }
  return out;
}

size_t RowBytes(uint32_t type, size_t cols) {
  switch (type) {
    case kGgmlTypeF32:
      return 4 * cols;
    case kGgmlTypeF16:
      return 2 * cols;
    case kGgmlTypeQ8_0:
      return cols / 32 * 34;
    case kGgmlTypeQ4_0:
      return cols / 32 * 18;
    case kGgmlTypeQ4_K:
      return cols / 256 * 144;
    default:
      return cols / 256 * 210;
  }
}

size_t BlockSize(uint32_t type) {
  if (type == kGgmlTypeF32 || type == kGgmlTypeF16) return 1;
  return type == kGgmlTypeQ8_0 || type == kGgmlTypeQ4_0 ? 32 : 256;
}

// Random weights straight in the ggml byte layout (so that every legal quant occurs,
// including Q8_0's -128, which our quantizer never writes but files may hold).
std::string RandomWeights(uint32_t type, size_t rows, size_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  std::string out;
  auto put16 = [&](uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  };
  for (size_t r = 0; r < rows; ++r) {
    if (type == kGgmlTypeF32 || type == kGgmlTypeF16) {
      for (size_t i = 0; i < cols; ++i) {
        const float v = normal(rng);
        if (type == kGgmlTypeF16) {
          put16(F32ToF16(v));
        } else {
          out.append(reinterpret_cast<const char*>(&v), 4);
        }
      }
      continue;
    }
    const size_t block = BlockSize(type), block_bytes = RowBytes(type, block);
    for (size_t b = 0; b < cols / block; ++b) {
      const size_t start = out.size();
      for (size_t k = 0; k < block_bytes; ++k) out.push_back(static_cast<char>(byte(rng)));
      // Random bytes everywhere except the f16 scales, which get sane values (K-quant
      // sub-block scales multiply them: keep the products near the other types').
      auto set16 = [&](size_t offset, float v) {
        const uint16_t h = F32ToF16(v);
        out[start + offset] = static_cast<char>(h & 0xFF);
        out[start + offset + 1] = static_cast<char>(h >> 8);
      };
      if (type == kGgmlTypeQ8_0 || type == kGgmlTypeQ4_0) set16(0, scale(rng));
      if (type == kGgmlTypeQ4_K) set16(0, scale(rng) / 32), set16(2, scale(rng) / 4);
      if (type == kGgmlTypeQ6_K) set16(208, scale(rng) / 64);
    }
  }
  return out;
}

std::vector<float> RandomActivations(size_t n_tokens, size_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n_tokens * cols);
  for (float& v : x) v = normal(rng);
  // A few outliers (as real activations have) and an all-zero block (scale 0).
  if (x.size() > 40) x[7] = 40.0f;
  if (n_tokens > 2) std::fill(x.begin() + 2 * cols, x.begin() + 2 * cols + 32, 0.0f);
  return x;
}

struct RefProduct {
  double value;      // dot(dequantized row, exact float activations)
  double abs_terms;  // sum |w_i x_i|, the scale of float summation error
  double act_error;  // bound on the effect of 8-bit activation quantization (0 if none)
};

RefProduct RefDot(uint32_t type, const std::vector<double>& w, const float* x) {
  RefProduct p{0, 0, 0};
  const size_t n = w.size();
  for (size_t i = 0; i < n; ++i) {
    p.value += w[i] * x[i];
    p.abs_terms += std::fabs(w[i] * x[i]);
  }
  if (BlockSize(type) > 1) {
    // Each activation block is rounded to the grid d = max|x| / 127, an error of at most d/2
    // per element, weighted by |w|.
    for (size_t b = 0; b < n / 32; ++b) {
      double amax = 0, wsum = 0;
      for (size_t i = b * 32; i < b * 32 + 32; ++i) {
        amax = std::max(amax, std::fabs(double{x[i]}));
        wsum += std::fabs(w[i]);
      }
      p.act_error += amax / 127 / 2 * wsum;
    }
  }
  return p;
}

// Worst-case float summation error of a product prepared in `layout`. Scalar and AVX2 sum at
// most n/4 products per partial sum (4 scalar accumulators, or 8 vector lanes), then combine
// partial sums, and quantized blocks add two roundings for the scale products; (n/4 + 8) units
// of roundoff cover all of it, and the AVX-512 decode products (16 lanes) as well. The AVX-512 float panels sum sequentially in chunks of
// kPrefillSumChunk and then add the chunk sums: at most chunk + n/chunk additions in a row.
// The AVX-512 quantized panels add one exact integer sum per block of 32, scaled with two
// roundings: n/32 + 8.
double SummationBound(size_t cols, double abs_terms,
                      MatMulInput::Layout layout = MatMulInput::Layout::kFloats) {
  const auto n = static_cast<double>(cols);
  double units = n / 4 + 8;
  if (layout == MatMulInput::Layout::kFloatPanels) {
    const auto chunk = static_cast<double>(internal::kPrefillSumChunk);
    units = std::min(n, chunk) + std::ceil(n / chunk) + 8;
  } else if (layout == MatMulInput::Layout::kQuantPanels) {
    units = n / 32 + 8;
  }
  return units * kF32Eps * abs_terms;
}

bool IsQuantizedLayout(MatMulInput::Layout layout) {
  return layout == MatMulInput::Layout::kQuants || layout == MatMulInput::Layout::kQuantPanels;
}

// ---- MatMul against the reference, per type and path ----

class KernelsMatMulTest : public ::testing::TestWithParam<std::tuple<uint32_t, KernelIsa>> {};

TEST_P(KernelsMatMulTest, MatchesDoubleReferenceOnOddShapes) {
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  IsaScope scope(isa);
  std::mt19937 rng(type * 7919 + static_cast<int>(isa));
  MatMulInput input;  // reused across shapes, as the engine does
  const size_t block = std::max<size_t>(BlockSize(type), 32);
  // 17 and 30 rows (from row 1) leave remainders after every tile height of every path.
  for (size_t rows : {1, 3, 17, 30}) {
    for (size_t cols : {block, 2 * block, 3 * block, 4096 + block}) {
      const std::string bytes = RandomWeights(type, rows, cols, rng);
      const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                         RowBytes(type, cols)};
      std::vector<std::vector<double>> ref_rows;
      for (size_t r = 0; r < rows; ++r) {
        ref_rows.push_back(RefDequantize(type, w.data + r * w.row_bytes, cols));
      }
      // 1..9 hits every tile remainder; the next three straddle the switch to the prefill
      // path, and 3 panels + 5 tokens covers several panels per tile, panel remainders and a
      // padded last panel.
      for (size_t n_tokens :
           {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{5}, size_t{6}, size_t{7}, size_t{8},
            size_t{9}, kFloatActivationMinTokens - 1, kFloatActivationMinTokens,
            kFloatActivationMinTokens + 5, 3 * kTokenPanelWidth + 5}) {
        const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
        input.Prepare(type, x.data(), n_tokens, cols);
        // Rows [1, rows) when there are several: a range not starting at 0, and row 0 must
        // stay untouched.
        const size_t begin = rows > 1 ? 1 : 0;
        const size_t stride = rows + 2;
        // One token row more than the output: nothing may be written for tokens past the
        // last (the AVX-512 panels compute padding tokens).
        std::vector<float> y((n_tokens + 1) * stride, std::nanf(""));
        MatMul(w, input, y.data(), stride, begin, rows);
        for (size_t t = 0; t <= n_tokens; ++t) {
          for (size_t r = 0; r < stride; ++r) {
            const float got = y[t * stride + r];
            if (r < begin || r >= rows || t == n_tokens) {
              EXPECT_TRUE(std::isnan(got))
                  << "wrote outside the row range at t=" << t << " r=" << r;
              continue;
            }
            const RefProduct p = RefDot(type, ref_rows[r], x.data() + t * cols);
            // Activations rounded to 8 bits add their error; float ones only rounding.
            const double act_error = IsQuantizedLayout(input.layout()) ? p.act_error : 0.0;
            const double bound =
                act_error * 1.0001 + SummationBound(cols, p.abs_terms, input.layout());
            EXPECT_NEAR(got, p.value, bound)
                << "rows=" << rows << " cols=" << cols << " n_tokens=" << n_tokens << " t=" << t
                << " r=" << r;
          }
        }
      }
    }
  }
}

TEST_P(KernelsMatMulTest, ResultsDoNotDependOnHowRowsAreSplit) {
  // The engine splits rows across threads; a row's value must not depend on the split.
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  IsaScope scope(isa);
  std::mt19937 rng(type + 5);
  const size_t rows = 23, cols = 4096;  // several row blocks of the vector paths
  const std::string bytes = RandomWeights(type, rows, cols, rng);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     RowBytes(type, cols)};
  for (size_t n_tokens :
       {size_t{1}, size_t{6}, kFloatActivationMinTokens + 1, 3 * kTokenPanelWidth + 5}) {
    const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
    MatMulInput input;
    input.Prepare(type, x.data(), n_tokens, cols);
    std::vector<float> whole(n_tokens * rows), pieces(n_tokens * rows);
    MatMul(w, input, whole.data(), rows, 0, rows);
    for (auto [begin, end] :
         {std::pair{0, 5}, std::pair{5, 6}, std::pair{6, 19}, std::pair{19, 23}}) {
      MatMul(w, input, pieces.data(), rows, begin, end);
    }
    EXPECT_EQ(std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float)), 0)
        << "n_tokens=" << n_tokens;
  }
}

// On every path a token's prefill result is computed from that token alone: a batch that
// shares its first tokens with another gives those tokens the same bits.
TEST_P(KernelsMatMulTest, PrefillTokenDoesNotDependOnTheRestOfTheBatch) {
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  IsaScope scope(isa);
  std::mt19937 rng(type + 9);
  const size_t rows = 13, cols = 512;
  const std::string bytes = RandomWeights(type, rows, cols, rng);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     RowBytes(type, cols)};
  const size_t long_batch = 2 * kTokenPanelWidth + 7, short_batch = kFloatActivationMinTokens;
  const std::vector<float> x = RandomActivations(long_batch, cols, rng);
  std::vector<float> y_long(long_batch * rows), y_short(short_batch * rows);
  MatMulInput input;
  input.Prepare(type, x.data(), long_batch, cols);
  MatMul(w, input, y_long.data(), rows, 0, rows);
  input.Prepare(type, x.data(), short_batch, cols);
  MatMul(w, input, y_short.data(), rows, 0, rows);
  EXPECT_EQ(std::memcmp(y_long.data(), y_short.data(), y_short.size() * sizeof(float)), 0);
}

// Below kFloatActivationMinTokens every token of a batch gets the bits it gets alone (decode),
// whatever tile shape its token count selects; odd columns exercise the partial chunks.
TEST_P(KernelsMatMulTest, ShortBatchTokenEqualsSingleToken) {
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  IsaScope scope(isa);
  std::mt19937 rng(type + 17);
  const size_t rows = 11, cols = BlockSize(type) > 1 ? 29 * BlockSize(type) : 469;
  const std::string bytes = RandomWeights(type, rows, cols, rng);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     RowBytes(type, cols)};
  const size_t batch = kFloatActivationMinTokens - 1;
  const std::vector<float> x = RandomActivations(batch, cols, rng);
  MatMulInput input;
  for (size_t n_tokens = 2; n_tokens <= batch; n_tokens += 3) {
    std::vector<float> y_batch(n_tokens * rows);
    input.Prepare(type, x.data(), n_tokens, cols);
    MatMul(w, input, y_batch.data(), rows, 0, rows);
    for (size_t t = 0; t < n_tokens; ++t) {
      std::vector<float> y_one(rows);
      input.Prepare(type, x.data() + t * cols, 1, cols);
      MatMul(w, input, y_one.data(), rows, 0, rows);
      EXPECT_EQ(std::memcmp(y_one.data(), y_batch.data() + t * rows, rows * sizeof(float)), 0)
          << "n_tokens=" << n_tokens << " t=" << t;
    }
  }
}

TEST_P(KernelsMatMulTest, DequantizeRowMatchesReference) {
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  IsaScope scope(isa);
  std::mt19937 rng(type + 3);
  const size_t cols = 256 * 3;
  const std::string bytes = RandomWeights(type, 1, cols, rng);
  std::vector<float> out(cols);
  DequantizeRow(type, reinterpret_cast<const uint8_t*>(bytes.data()), out.data(), cols);
  const std::vector<double> ref =
      RefDequantize(type, reinterpret_cast<const uint8_t*>(bytes.data()), cols);
  for (size_t i = 0; i < cols; ++i) {
    // At most one rounding: products of an f16 scale with small integers are exact in float
    // up to Q6_K's (scale * q needs 25 bits), and Q4_K subtracts its min once.
    EXPECT_NEAR(out[i], ref[i], kF32Eps * std::fabs(ref[i])) << "element " << i;
  }
}

std::string TypeIsaName(const ::testing::TestParamInfo<std::tuple<uint32_t, KernelIsa>>& info) {
  return formats::GgmlTypeName(std::get<0>(info.param)) + "_" +
         std::string(IsaName(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsMatMulTest,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes),
                                            ::testing::ValuesIn(kAllIsas)),
                         TypeIsaName);

// Every vector path against the scalar one on the same inputs.
class KernelsAgreementTest : public ::testing::TestWithParam<std::tuple<uint32_t, KernelIsa>> {};

TEST_P(KernelsAgreementTest, AgreesWithScalar) {
  const auto [type, isa] = GetParam();
  SKIP_UNLESS_SUPPORTED(isa);
  std::mt19937 rng(type + 1);
  const size_t rows = 29, cols = 2048 + 3 * std::max<size_t>(BlockSize(type), 32);
  const std::string bytes = RandomWeights(type, rows, cols, rng);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     RowBytes(type, cols)};
  // Decode-sized batches and prefill ones (one panel plus a padded one, and several).
  for (size_t n_tokens : {size_t{7}, kFloatActivationMinTokens + 3, 3 * kTokenPanelWidth + 5}) {
    const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
    std::vector<float> y_scalar(n_tokens * rows), y_vector(n_tokens * rows);
    MatMulInput scalar_input, vector_input;
    {
      IsaScope scope(KernelIsa::kScalar);
      scalar_input.Prepare(type, x.data(), n_tokens, cols);
      MatMul(w, scalar_input, y_scalar.data(), rows, 0, rows);
    }
    {
      IsaScope scope(isa);
      vector_input.Prepare(type, x.data(), n_tokens, cols);
      MatMul(w, vector_input, y_vector.data(), rows, 0, rows);
    }
    // Both paths quantize activations identically and compute integer block sums exactly, so
    // with the same kind of activations they differ only in float summation order: the two
    // summation bounds cover it (the terms summed are products with quantized activations,
    // within 1% of the float ones). Where one path rounds activations to 8 bits and the
    // other does not (AVX-512 Q8_0/Q4_0 prefill), the rounding's effect adds.
    const bool same_activations =
        IsQuantizedLayout(scalar_input.layout()) == IsQuantizedLayout(vector_input.layout());
    for (size_t r = 0; r < rows; ++r) {
      const std::vector<double> ref_row = RefDequantize(type, w.data + r * w.row_bytes, cols);
      for (size_t t = 0; t < n_tokens; ++t) {
        const RefProduct p = RefDot(type, ref_row, x.data() + t * cols);
        const double bound = SummationBound(cols, 1.01 * p.abs_terms, scalar_input.layout()) +
                             SummationBound(cols, 1.01 * p.abs_terms, vector_input.layout()) +
                             (same_activations ? 0.0 : p.act_error * 1.0001);
        EXPECT_NEAR(y_vector[t * rows + r], y_scalar[t * rows + r], bound)
            << "n_tokens=" << n_tokens << " t=" << t << " r=" << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsAgreementTest,
                         ::testing::Combine(::testing::ValuesIn(kAllTypes),
                                            ::testing::Values(KernelIsa::kAvx2,
                                                              KernelIsa::kAvx512)),
                         TypeIsaName);

// The AVX-512 Q8_0 and Q4_0 prefill (VNNI on 8-bit activation panels) against the scalar
// path on the same 8-bit activations (one token at a time, as decode quantizes them): the
// integer block sums must be exact (the +128 bias of the unsigned activations removed
// exactly), leaving only float summation order.
class KernelsQuantPanelTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(KernelsQuantPanelTest, MatchesScalarOnTheSameQuantizedActivations) {
  const uint32_t type = GetParam();
  SKIP_UNLESS_SUPPORTED(KernelIsa::kAvx512);
  std::mt19937 rng(type + 17);
  const size_t rows = 19, cols = 1024 + 96, n_tokens = 2 * kTokenPanelWidth + 3;
  const std::string bytes = RandomWeights(type, rows, cols, rng);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     RowBytes(type, cols)};
  const std::vector<float> x = RandomActivations(n_tokens, cols, rng);
  std::vector<float> y_panels(n_tokens * rows), y_scalar(n_tokens * rows);
  {
    IsaScope scope(KernelIsa::kAvx512);
    MatMulInput input;
    input.Prepare(type, x.data(), n_tokens, cols);
    ASSERT_EQ(input.layout(), MatMulInput::Layout::kQuantPanels);
    MatMul(w, input, y_panels.data(), rows, 0, rows);
  }
  {
    IsaScope scope(KernelIsa::kScalar);
    MatMulInput input;
    for (size_t t = 0; t < n_tokens; ++t) {
      input.Prepare(type, x.data() + t * cols, 1, cols);
      ASSERT_EQ(input.layout(), MatMulInput::Layout::kQuants);
      MatMul(w, input, y_scalar.data() + t * rows, rows, 0, rows);
    }
  }
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<double> ref_row = RefDequantize(type, w.data + r * w.row_bytes, cols);
    for (size_t t = 0; t < n_tokens; ++t) {
      const RefProduct p = RefDot(type, ref_row, x.data() + t * cols);
      const double bound =
          SummationBound(cols, 1.01 * p.abs_terms, MatMulInput::Layout::kQuants) +
          SummationBound(cols, 1.01 * p.abs_terms, MatMulInput::Layout::kQuantPanels);
      EXPECT_NEAR(y_panels[t * rows + r], y_scalar[t * rows + r], bound) << "t=" << t << " r=" << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsQuantPanelTest,
                         ::testing::Values(kGgmlTypeQ8_0, kGgmlTypeQ4_0),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return formats::GgmlTypeName(info.param);
                         });

class KernelsIsaTest : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override { SKIP_UNLESS_SUPPORTED(GetParam()); }
  IsaScope scope_{GetParam()};
};

TEST_P(KernelsIsaTest, Q8_0ExtremeQuantsDoNotSaturate) {
  // Every weight -128 (legal in a file) against activations that quantize to +-127: each
  // pair of products is 2 * 128 * 127, the largest the int16 step of the AVX2 path must hold,
  // and the AVX-512 prefill's unsigned activations (255) times -128 meet its bias of
  // -128 * sum(w) at its largest.
  const size_t cols = 64;
  std::string bytes;
  for (size_t b = 0; b < cols / 32; ++b) {
    const uint16_t d = F32ToF16(1.0f);
    bytes.push_back(static_cast<char>(d & 0xFF));
    bytes.push_back(static_cast<char>(d >> 8));
    bytes.append(32, static_cast<char>(-128));
  }
  std::vector<float> x(cols);
  for (size_t i = 0; i < cols; ++i) x[i] = i % 3 == 0 ? -1.0f : 1.0f;
  std::fill(x.begin(), x.begin() + 32, 1.0f);  // one block all +127
  const WeightView w{kGgmlTypeQ8_0, reinterpret_cast<const uint8_t*>(bytes.data()), 1, cols,
                     RowBytes(kGgmlTypeQ8_0, cols)};
  double expected = 0;
  for (float v : x) expected += -128.0 * v;
  // One token (decode) and the same token repeated into a prefill batch.
  for (size_t n_tokens : {size_t{1}, kFloatActivationMinTokens}) {
    std::vector<float> xs;
    for (size_t t = 0; t < n_tokens; ++t) xs.insert(xs.end(), x.begin(), x.end());
    MatMulInput input;
    input.Prepare(kGgmlTypeQ8_0, xs.data(), n_tokens, cols);
    std::vector<float> y(n_tokens);
    MatMul(w, input, y.data(), 1, 0, 1);
    for (size_t t = 0; t < n_tokens; ++t) {
      EXPECT_NEAR(y[t], expected, 1e-3) << "n_tokens=" << n_tokens << " t=" << t;
    }
  }
}

// Prepare picks the layout of the active path, and UsesQuantizedActivations says whether it
// rounds activations to 8 bits.
TEST_P(KernelsIsaTest, PrepareChoosesTheLayoutOfThePath) {
  using Layout = MatMulInput::Layout;
  const bool avx512 = GetParam() == KernelIsa::kAvx512;
  std::vector<float> x(kFloatActivationMinTokens * 256, 0.25f);
  MatMulInput input;
  for (uint32_t type : kAllTypes) {
    const bool quantized_type = BlockSize(type) > 1;
    const bool vnni_type = type == kGgmlTypeQ8_0 || type == kGgmlTypeQ4_0;
    for (size_t n_tokens : {size_t{1}, kFloatActivationMinTokens - 1, kFloatActivationMinTokens}) {
      Layout expected = quantized_type ? Layout::kQuants : Layout::kFloats;
      if (n_tokens >= kFloatActivationMinTokens) {
        expected =
            !avx512 ? Layout::kFloats : (vnni_type ? Layout::kQuantPanels : Layout::kFloatPanels);
      }
      input.Prepare(type, x.data(), n_tokens, 256);
      EXPECT_EQ(input.layout(), expected)
          << formats::GgmlTypeName(type) << " n_tokens=" << n_tokens;
      EXPECT_EQ(UsesQuantizedActivations(type, n_tokens), IsQuantizedLayout(expected))
          << formats::GgmlTypeName(type) << " n_tokens=" << n_tokens;
    }
  }
}

TEST_P(KernelsIsaTest, DotF32MatchesReferenceForEveryLengthUpTo70) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  for (size_t n = 0; n <= 70; ++n) {
    std::vector<float> a(n), b(n);
    for (size_t i = 0; i < n; ++i) a[i] = normal(rng), b[i] = normal(rng);
    double ref = 0, abs_terms = 0;
    for (size_t i = 0; i < n; ++i) ref += double{a[i]} * b[i], abs_terms += std::fabs(a[i] * b[i]);
    EXPECT_NEAR(DotF32(a.data(), b.data(), n), ref, SummationBound(n, abs_terms)) << "n=" << n;
  }
}

TEST_P(KernelsIsaTest, AxpyF32MatchesReferenceForEveryLengthUpTo70) {
  std::mt19937 rng(12);
  std::normal_distribution<float> normal;
  for (size_t n = 0; n <= 70; ++n) {
    std::vector<float> x(n), y(n);
    for (size_t i = 0; i < n; ++i) x[i] = normal(rng), y[i] = normal(rng);
    std::vector<float> out = y;
    AxpyF32(0.75f, x.data(), out.data(), n);
    for (size_t i = 0; i < n; ++i) {
      // One multiply-add: fused (one rounding) or not (two), within 2 roundoffs.
      const double ref = 0.75 * x[i] + y[i];
      EXPECT_NEAR(out[i], ref, 2 * kF32Eps * (std::fabs(0.75 * x[i]) + std::fabs(y[i])));
    }
  }
}

// Random halves of moderate size (as attention values are), with some specials mixed in.
std::vector<uint16_t> RandomHalves(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<uint16_t> h(n);
  for (uint16_t& v : h) v = F32ToF16(normal(rng));
  const uint16_t specials[] = {0x0000, 0x8000, 0x0001, 0x03FF, 0x7BFF, 0xFBFF, 0x7C00, 0x3C00};
  for (size_t i = 0; i < n; i += 9) h[i] = specials[(i / 9) % std::size(specials)];
  return h;
}

uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }

// The F16 row helpers against their element-wise definitions (kernels.h), bit for bit, for
// every length up to 70 (vector bodies and every tail).
TEST_P(KernelsIsaTest, F16RowHelpersMatchTheirDefinitionsBitForBit) {
  std::mt19937 rng(18);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (size_t n = 0; n <= 70; ++n) {
    const std::vector<uint16_t> h = RandomHalves(n, rng), y0 = RandomHalves(n, rng);
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    if (n > 3) x[3] = 70000.0f;  // overflows to infinity
    std::vector<float> floats(n);
    F16ToF32Row(h.data(), floats.data(), n);
    std::vector<uint16_t> halves(n);
    F32ToF16Row(x.data(), halves.data(), n);
    std::vector<uint16_t> scaled = y0, added = y0;
    ScaleF16Row(0.3f, scaled.data(), n);
    AxpyF16Row(-1.7f, h.data(), added.data(), n);
    double sums[kF16DotLanes] = {};
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(Bits(floats[i]), Bits(internal::F16ToF32Portable(h[i]))) << n << ":" << i;
      ASSERT_EQ(halves[i], internal::F32ToF16Portable(x[i])) << n << ":" << i;
      const float y = internal::F16ToF32Portable(y0[i]), hv = internal::F16ToF32Portable(h[i]);
      ASSERT_EQ(scaled[i], internal::F32ToF16Portable(0.3f * y)) << n << ":" << i;
      ASSERT_EQ(added[i], internal::F32ToF16Portable(std::fma(hv, -1.7f, y))) << n << ":" << i;
      sums[i % kF16DotLanes] += static_cast<double>(x[i] * hv);
    }
    const auto dot = static_cast<float>((sums[0] + sums[1]) + (sums[2] + sums[3]));
    ASSERT_EQ(Bits(DotF32F16Row(x.data(), h.data(), n)), Bits(dot)) << "n=" << n;
  }
}

// y + x * a with a = 1 + 2^-23 and y = -x: the fused result is x * 2^-23, exactly; a product
// rounded to float first leaves a different residual (for x = 1536: 2^-12 instead of 1.5 *
// 2^-13).
TEST_P(KernelsIsaTest, AxpyF16RowFusesTheMultiplyAdd) {
  const float a = std::nextafter(1.0f, 2.0f);
  const size_t n = 19;  // a vector body and a tail
  const std::vector<uint16_t> x(n, F32ToF16(1536.0f));
  std::vector<uint16_t> y(n, F32ToF16(-1536.0f));
  AxpyF16Row(a, x.data(), y.data(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(y[i], F32ToF16(std::ldexp(1536.0f, -23))) << i;
  }
}

TEST_P(KernelsIsaTest, PrepareReusesItsBuffers) {
  std::vector<float> x(4 * 256, 0.5f);
  MatMulInput input;
  input.Prepare(kGgmlTypeQ8_0, x.data(), 4, 256);
  const int8_t* quants = input.quants(0);
  input.Prepare(kGgmlTypeQ8_0, x.data(), 1, 64);
  input.Prepare(kGgmlTypeQ4_0, x.data(), 2, 512);
  EXPECT_EQ(input.quants(0), quants);
}

INSTANTIATE_TEST_SUITE_P(Kernels, KernelsIsaTest, ::testing::ValuesIn(kAllIsas),
                         [](const ::testing::TestParamInfo<KernelIsa>& info) {
                           return std::string(IsaName(info.param));
                         });

// ---- ISA choice ----

TEST(KernelsAvx2, QuantizedActivationsAreIdenticalToScalar) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(13);
  const std::vector<float> x = RandomActivations(3, 256, rng);
  MatMulInput scalar, avx2;
  {
    IsaScope s(KernelIsa::kScalar);
    scalar.Prepare(kGgmlTypeQ8_0, x.data(), 3, 256);
  }
  {
    IsaScope s(KernelIsa::kAvx2);
    avx2.Prepare(kGgmlTypeQ8_0, x.data(), 3, 256);
  }
  for (size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(std::memcmp(scalar.quants(t), avx2.quants(t), 256), 0) << "token " << t;
    for (size_t b = 0; b < 8; ++b) {
      EXPECT_EQ(scalar.scales(t)[b], avx2.scales(t)[b]);
      EXPECT_EQ(scalar.sums(t)[b], avx2.sums(t)[b]);
    }
  }
}

// A hostile model can drive activations to inf or NaN. Quantizing them must stay defined
// (the fuzzer found an int32 overflow of the block sum here) and agree across paths: NaN
// becomes 0, everything is clamped to +-127, sums come from the clamped values.
TEST(KernelsAvx2, NonFiniteActivationsQuantizeLikeScalar) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::vector<float> x(64, 0.5f);
  x[1] = INFINITY;
  x[2] = -INFINITY;
  x[3] = NAN;
  x[40] = NAN;  // second block: NaN only (amax is NaN-free there)
  MatMulInput scalar, avx2;
  {
    IsaScope s(KernelIsa::kScalar);
    scalar.Prepare(kGgmlTypeQ4_0, x.data(), 1, 64);
  }
  {
    IsaScope s(KernelIsa::kAvx2);
    avx2.Prepare(kGgmlTypeQ4_0, x.data(), 1, 64);
  }
  EXPECT_EQ(std::memcmp(scalar.quants(0), avx2.quants(0), 64), 0);
  for (size_t b = 0; b < 2; ++b) {
    EXPECT_EQ(scalar.sums(0)[b], avx2.sums(0)[b]) << "block " << b;
    EXPECT_LE(std::abs(avx2.sums(0)[b]), 32 * 127) << "block " << b;
  }
}

TEST(KernelsIsa, NamesAreStable) {
  EXPECT_EQ(IsaName(KernelIsa::kScalar), "scalar");
  EXPECT_EQ(IsaName(KernelIsa::kAvx2), "avx2");
  EXPECT_EQ(IsaName(KernelIsa::kAvx512), "avx512");
}

// The highest supported path at or below `isa`.
KernelIsa ExpectedFallback(KernelIsa isa) {
  if (isa == KernelIsa::kAvx512 && !CpuHasAvx512()) isa = KernelIsa::kAvx2;
  if (isa == KernelIsa::kAvx2 && !CpuHasAvx2()) isa = KernelIsa::kScalar;
  return isa;
}

TEST(KernelsIsa, AnAvx512CpuHasAvx2) {
  EXPECT_TRUE(!CpuHasAvx512() || CpuHasAvx2());
  EXPECT_EQ(BestSupportedIsa(), ExpectedFallback(KernelIsa::kAvx512));
}

TEST(KernelsIsa, SetIsaForTestingFallsBackToTheHighestSupportedBelow) {
  IsaScope scope(KernelIsa::kScalar);
  for (KernelIsa isa : kAllIsas) {
    SetIsaForTesting(isa);
    EXPECT_EQ(ActiveIsa(), ExpectedFallback(isa)) << IsaName(isa);
  }
}

TEST(KernelsIsa, EnvironmentCapsThePath) {
  EXPECT_EQ(internal::IsaForEnvironment("scalar"), KernelIsa::kScalar);
  EXPECT_EQ(internal::IsaForEnvironment("avx2"), ExpectedFallback(KernelIsa::kAvx2));
  EXPECT_EQ(internal::IsaForEnvironment("avx512"), BestSupportedIsa());
  // Unset, empty or unknown (names are case-sensitive): the best path.
  EXPECT_EQ(internal::IsaForEnvironment(nullptr), BestSupportedIsa());
  EXPECT_EQ(internal::IsaForEnvironment(""), BestSupportedIsa());
  EXPECT_EQ(internal::IsaForEnvironment("AVX2"), BestSupportedIsa());
}

TEST(KernelsTypes, SupportsExactlyTheListedTypes) {
  for (const auto& info : formats::AllGgmlTypes()) {
    const bool expected =
        std::find(std::begin(kAllTypes), std::end(kAllTypes), info.id) != std::end(kAllTypes);
    EXPECT_EQ(IsSupportedWeightType(info.id), expected) << info.name;
  }
  EXPECT_EQ(SupportedWeightTypeNames(), "f32, f16, q8_0, q4_0, q4_K, q6_K");
}

TEST(KernelsTypes, RowBytesMatchGgmlTensorBytes) {
  for (uint32_t type : kAllTypes) {
    const uint64_t dims[] = {768};
    EXPECT_EQ(WeightRowBytes(type, 768), *formats::TensorBytes(type, dims))
        << formats::GgmlTypeName(type);
    EXPECT_EQ(WeightBlockSize(type), formats::FindGgmlType(type)->block_size);
  }
}

// ---- f16 ----

TEST(KernelsF16, DecodesEveryHalfExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double ref = RefHalf(static_cast<uint16_t>(h));
    const float got = F16ToF32(static_cast<uint16_t>(h));
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(got)) << std::hex << h;
      EXPECT_NE(std::bit_cast<uint32_t>(got) & 0x400000u, 0u) << "not quiet: " << std::hex << h;
    } else {
      EXPECT_EQ(got, ref) << std::hex << h;
      EXPECT_EQ(std::signbit(got), (h & 0x8000) != 0) << std::hex << h;  // incl. -0
    }
  }
}

TEST(KernelsF16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t back = F32ToF16(F16ToF32(static_cast<uint16_t>(h)));
    const bool is_nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
    if (is_nan) {
      // NaN stays NaN with its sign, made quiet.
      EXPECT_EQ(back & 0x7C00, 0x7C00) << std::hex << h;
      EXPECT_NE(back & 0x200, 0) << std::hex << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000) << std::hex << h;
    } else {
      EXPECT_EQ(back, h) << std::hex << h;
    }
  }
}

// The vector paths convert with the F16C instructions, the scalar path with integer
// arithmetic (the tests above check the active one): both must give the same bits, NaNs
// included, for every half and for floats across the whole range (random bit patterns:
// subnormals, overflow, NaN payloads) and the rounding midpoints.
TEST(KernelsF16, HardwareAndPortableConversionsAgreeBitForBit) {
  SKIP_UNLESS_SUPPORTED(KernelIsa::kAvx2);
  IsaScope scope(KernelIsa::kAvx2);
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto half = static_cast<uint16_t>(h);
    ASSERT_EQ(std::bit_cast<uint32_t>(F16ToF32(half)),
              std::bit_cast<uint32_t>(internal::F16ToF32Portable(half)))
        << std::hex << h;
  }
  std::vector<float> floats;
  std::mt19937 rng(16);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 300000; ++i) floats.push_back(std::bit_cast<float>(bits(rng)));
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float mid = static_cast<float>((RefHalf(static_cast<uint16_t>(h)) + RefHalf(h + 1)) / 2);
    floats.insert(floats.end(), {mid, -mid, std::nextafter(mid, 0.0f), std::nextafter(mid, kInf)});
  }
  for (float f : floats) {
    ASSERT_EQ(F32ToF16(f), internal::F32ToF16Portable(f)) << std::hex << std::bit_cast<uint32_t>(f);
  }
}

// Whether `h` is the correctly rounded half of `f`: no neighbouring half is nearer, and on a
// tie the mantissa is even.
bool IsCorrectlyRounded(float f, uint16_t h) {
  const double target = std::fabs(double{f});
  const double got = RefHalf(h);
  constexpr double kHalfOverflow = 65520;  // halfway from the largest half (65504) to 2^16
  if (target >= kHalfOverflow) return std::isinf(got) && (got < 0) == (f < 0);
  if (std::isinf(got) || (got != 0 && (got < 0) != (f < 0))) return false;
  // The neighbours of h's magnitude; past the largest half, 2^16 stands in for infinity.
  const uint16_t mag = h & 0x7FFF;
  const double g = RefHalf(mag);
  const double up = mag == 0x7BFF ? 65536.0 : RefHalf(static_cast<uint16_t>(mag + 1));
  const double down = mag == 0 ? -RefHalf(1) : RefHalf(static_cast<uint16_t>(mag - 1));
  const double err = std::fabs(target - g);
  const double to_up = std::fabs(target - up), to_down = std::fabs(target - down);
  if (err > to_up || err > to_down) return false;
  const bool tie = err == to_up || err == to_down;
  return !tie || (mag & 1) == 0;
}

TEST(KernelsF16, RoundsMidpointsToEven) {
  // Every midpoint between neighbouring positive halves, and one float step either side.
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const float mid = static_cast<float>((RefHalf(static_cast<uint16_t>(h)) + RefHalf(h + 1)) / 2);
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, kInf)}) {
      ASSERT_TRUE(IsCorrectlyRounded(f, F32ToF16(f))) << f << " -> " << std::hex << F32ToF16(f);
      ASSERT_TRUE(IsCorrectlyRounded(-f, F32ToF16(-f))) << -f;
    }
  }
}

TEST(KernelsF16, RoundsRandomFloatsToNearest) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> bits(0, 0x477FFFFF);  // up to just past 65535
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(bits(rng));
    ASSERT_TRUE(IsCorrectlyRounded(f, F32ToF16(f))) << f;
  }
}

TEST(KernelsF16, KnownAnswers) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3C00);
  EXPECT_EQ(F32ToF16(-2.0f), 0xC000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(F32ToF16(65519.996f), 0x7BFF);  // just below the overflow midpoint
  EXPECT_EQ(F32ToF16(65520.0f), 0x7C00);    // the midpoint ties to the even side: infinity
  EXPECT_EQ(F32ToF16(1e10f), 0x7C00);
  EXPECT_EQ(F32ToF16(-kInf), 0xFC00);
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -25)), 0x0000);  // half of it ties to even: zero
  EXPECT_EQ(F32ToF16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 units ties to even: 2
  EXPECT_EQ(F32ToF16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(F32ToF16(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToF16(1e-30f), 0x0000);
  EXPECT_EQ(F32ToF16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(F32ToF16(std::nanf("")) & 0x7E00, 0x7E00);
}

// ---- QuantizeRows ----

std::vector<float> RandomValues(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(KernelsQuantize, F32IsExact) {
  std::mt19937 rng(1);
  const std::vector<float> v = RandomValues(2 * 40, rng);
  const Result<std::string> q = QuantizeRows(kGgmlTypeF32, v, 2, 40);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  ASSERT_EQ(q->size(), v.size() * 4);
  EXPECT_EQ(std::memcmp(q->data(), v.data(), q->size()), 0);
}

TEST(KernelsQuantize, F16RoundTripsWithinHalfAnUlp) {
  std::mt19937 rng(2);
  const std::vector<float> v = RandomValues(3 * 40, rng);
  const Result<std::string> q = QuantizeRows(kGgmlTypeF16, v, 3, 40);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  std::vector<float> back(v.size());
  DequantizeRow(kGgmlTypeF16, reinterpret_cast<const uint8_t*>(q->data()), back.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    // 11 significant bits: relative error at most 2^-11 (normals; these values are).
    EXPECT_LE(std::fabs(back[i] - v[i]), std::ldexp(std::fabs(v[i]), -11)) << i;
  }
}

TEST(KernelsQuantize, Q8_0RoundTripsWithinHalfAStep) {
  std::mt19937 rng(3);
  const size_t rows = 3, cols = 96;
  const std::vector<float> v = RandomValues(rows * cols, rng);
  const Result<std::string> q = QuantizeRows(kGgmlTypeQ8_0, v, rows, cols);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  ASSERT_EQ(q->size(), rows * RowBytes(kGgmlTypeQ8_0, cols));
  const auto* bytes = reinterpret_cast<const uint8_t*>(q->data());
  for (size_t b = 0; b < rows * cols / 32; ++b) {
    const double d = RefHalf(U16At(bytes + b * 34));
    double amax = 0;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(double{v[b * 32 + i]}));
    EXPECT_NEAR(d, amax / 127, amax / 127 / 1024) << "block " << b;  // f16 scale rounding
    for (size_t i = 0; i < 32; ++i) {
      const double back = d * static_cast<int8_t>(bytes[b * 34 + 2 + i]);
      // Nearest step, except that a scale rounded down may clamp the extreme by a little.
      EXPECT_LE(std::fabs(back - v[b * 32 + i]), d / 2 + amax / 1024) << b << ":" << i;
    }
  }
}

TEST(KernelsQuantize, Q4_0RoundTripsWithinAStep) {
  std::mt19937 rng(4);
  const size_t rows = 2, cols = 64;
  const std::vector<float> v = RandomValues(rows * cols, rng);
  const Result<std::string> q = QuantizeRows(kGgmlTypeQ4_0, v, rows, cols);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  ASSERT_EQ(q->size(), rows * RowBytes(kGgmlTypeQ4_0, cols));
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<double> back =
        RefDequantize(kGgmlTypeQ4_0, reinterpret_cast<const uint8_t*>(q->data()) + r * 36, cols);
    for (size_t b = 0; b < cols / 32; ++b) {
      double extreme = 0;
      for (size_t i = b * 32; i < b * 32 + 32; ++i) {
        if (std::fabs(v[r * cols + i]) > std::fabs(extreme)) extreme = v[r * cols + i];
      }
      const double step = std::fabs(extreme) / 8;
      for (size_t i = b * 32; i < b * 32 + 32; ++i) {
        // Half a step, but values near -extreme clamp from quant 8 to 7: up to a whole step.
        const bool clamped = -v[r * cols + i] / extreme * 8 > 7.5;
        EXPECT_LE(std::fabs(back[i] - v[r * cols + i]), (clamped ? 1.0 : 0.5) * step * 1.002)
            << r << ":" << i;
      }
    }
  }
}

// The K-quants fit a grid per sub-block and then quantize the grid's own scales (6 bits for
// Q4_K, 8 for Q6_K): the bound is half a step of the stored grid, plus what a grid shrunk by
// scale rounding can clamp off its ends (7.5 resp. 15.5 super-scale units), plus Q4_K's
// rounded min.
TEST(KernelsQuantize, Q4_KRoundTripsWithinItsGrid) {
  std::mt19937 rng(14);
  const size_t rows = 2, cols = 512;
  std::vector<float> v = RandomValues(rows * cols, rng);
  for (size_t i = 0; i < 64; ++i) v[i] = std::fabs(v[i]);  // sub-blocks with no negatives
  const Result<std::string> q = QuantizeRows(kGgmlTypeQ4_K, v, rows, cols);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  ASSERT_EQ(q->size(), rows * RowBytes(kGgmlTypeQ4_K, cols));
  const auto* bytes = reinterpret_cast<const uint8_t*>(q->data());
  double err2 = 0, val2 = 0;
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<double> back = RefDequantize(kGgmlTypeQ4_K, bytes + r * 288, cols);
    for (size_t i = 0; i < cols; ++i) {
      const uint8_t* block = bytes + r * 288 + (i / 256) * 144;
      const double d = RefHalf(U16At(block)), dmin = RefHalf(U16At(block + 2));
      const double err = std::fabs(back[i] - v[r * cols + i]);
      EXPECT_LE(err, (0.5 * 63 * d + 7.5 * d + 0.5 * dmin) * 1.002) << r << ":" << i;
      err2 += err * err;
      val2 += double{v[r * cols + i]} * v[r * cols + i];
    }
  }
  // 15 steps over a sub-block's range (about 4.5 sigma for 32 normal values): a step of 0.3
  // sigma, an RMS error of step / sqrt(12), about 9%.
  EXPECT_LT(std::sqrt(err2 / val2), 0.1);
}

TEST(KernelsQuantize, Q6_KRoundTripsWithinItsGrid) {
  std::mt19937 rng(15);
  const size_t rows = 2, cols = 512;
  const std::vector<float> v = RandomValues(rows * cols, rng);
  const Result<std::string> q = QuantizeRows(kGgmlTypeQ6_K, v, rows, cols);
  ASSERT_TRUE(q.ok()) << q.error().ToString();
  ASSERT_EQ(q->size(), rows * RowBytes(kGgmlTypeQ6_K, cols));
  const auto* bytes = reinterpret_cast<const uint8_t*>(q->data());
  double err2 = 0, val2 = 0;
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<double> back = RefDequantize(kGgmlTypeQ6_K, bytes + r * 420, cols);
    for (size_t i = 0; i < cols; ++i) {
      const uint8_t* block = bytes + r * 420 + (i / 256) * 210;
      const double d = RefHalf(U16At(block + 208));
      const double step = d * static_cast<int8_t>(block[192 + (i % 256) / 16]);
      const double err = std::fabs(back[i] - v[r * cols + i]);
      EXPECT_LE(err, (0.5 * step + 15.5 * d) * 1.002) << r << ":" << i;
      err2 += err * err;
      val2 += double{v[r * cols + i]} * v[r * cols + i];
    }
  }
  // 62 steps over 2 * max|x| of 16 normal values (about 4 sigma): RMS about 2%.
  EXPECT_LT(std::sqrt(err2 / val2), 0.03);
}

struct BadQuantizeCase {
  std::string name;
  uint32_t type;
  size_t values, rows, cols;
  float poison;  // written into value 5 when not 0
  std::string message_part;
};

TEST(KernelsQuantize, RefusesBadArguments) {
  const BadQuantizeCase cases[] = {
      {"unsupported_type", formats::kGgmlTypeBF16, 256, 1, 256, 0, "f32, f16, q8_0, q4_0"},
      {"cols_not_a_block_multiple", kGgmlTypeQ8_0, 40, 1, 40, 0, "multiple"},
      {"too_few_values", kGgmlTypeF32, 10, 2, 8, 0, "values given"},
      {"too_many_values", kGgmlTypeF32, 20, 2, 8, 0, "values given"},
      {"nan_value", kGgmlTypeQ8_0, 64, 2, 32, std::nanf(""), "row 0, column 5"},
      {"infinite_value", kGgmlTypeF16, 64, 2, 32, kInf, "row 0, column 5"},
  };
  for (const BadQuantizeCase& c : cases) {
    std::vector<float> v(c.values, 1.0f);
    if (c.poison != 0 || std::isnan(c.poison)) v[5] = c.poison;
    const Result<std::string> q = QuantizeRows(c.type, v, c.rows, c.cols);
    ASSERT_FALSE(q.ok()) << c.name;
    EXPECT_EQ(q.error().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(q.error().message().find(c.message_part), std::string::npos)
        << c.name << ": " << q.error().message();
  }
}

// ---- vector helpers ----

TEST(KernelsRmsNorm, MatchesReference) {
  std::mt19937 rng(6);
  const size_t n = 77;
  const std::vector<float> x = RandomValues(n, rng), weight = RandomValues(n, rng);
  const float eps = 1e-5f;
  std::vector<float> out(n);
  RmsNorm(x.data(), weight.data(), eps, n, out.data());
  double ss = 0;
  for (float v : x) ss += double{v} * v;
  const double scale = 1 / std::sqrt(ss / n + eps);
  for (size_t i = 0; i < n; ++i) {
    const double ref = x[i] * scale * weight[i];
    EXPECT_NEAR(out[i], ref, 4 * kF32Eps * std::fabs(ref) + 1e-30) << i;
  }
}

TEST(KernelsRmsNorm, MayWriteInPlace) {
  std::mt19937 rng(7);
  std::vector<float> x = RandomValues(40, rng);
  const std::vector<float> weight = RandomValues(40, rng);
  std::vector<float> expected(40);
  RmsNorm(x.data(), weight.data(), 1e-6f, 40, expected.data());
  RmsNorm(x.data(), weight.data(), 1e-6f, 40, x.data());
  EXPECT_EQ(x, expected);
}

std::vector<double> RefSoftmax(const std::vector<float>& x) {
  double max = -std::numeric_limits<double>::infinity();
  for (float v : x) max = std::max(max, double{v});
  std::vector<double> out(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += out[i] = std::exp(x[i] - max);
  for (double& v : out) v /= sum;
  return out;
}

TEST(KernelsSoftmax, MatchesReference) {
  std::mt19937 rng(8);
  std::vector<float> x = RandomValues(50, rng);
  for (float& v : x) v *= 5;
  const std::vector<double> ref = RefSoftmax(x);
  SoftmaxInPlace(x.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], ref[i], 8 * kF32Eps * ref[i] + 1e-12);
}

TEST(KernelsSoftmax, MaskedEntriesGetZero) {
  std::vector<float> x = {1.0f, -kInf, 2.0f, -kInf};
  SoftmaxInPlace(x.data(), x.size());
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_EQ(x[3], 0.0f);
  EXPECT_NEAR(x[0], 1 / (1 + std::exp(1.0)), 1e-7);
  EXPECT_NEAR(x[0] + x[2], 1.0f, 1e-6);
}

TEST(KernelsSoftmax, HugeValuesStayFinite) {
  std::vector<float> x = {3e38f, 3e38f, -3e38f, 1e30f};
  SoftmaxInPlace(x.data(), x.size());
  EXPECT_FLOAT_EQ(x[0], 0.5f);
  EXPECT_FLOAT_EQ(x[1], 0.5f);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_EQ(x[3], 0.0f);
}

TEST(KernelsSoftmax, AllMaskedIsUniform) {
  std::vector<float> x(4, -kInf);
  SoftmaxInPlace(x.data(), x.size());
  for (float v : x) EXPECT_EQ(v, 0.25f);
}

TEST(KernelsSoftmax, InfiniteEntriesShareTheMass) {
  std::vector<float> x = {kInf, 5.0f, kInf};
  SoftmaxInPlace(x.data(), x.size());
  EXPECT_EQ(x, (std::vector<float>{0.5f, 0.0f, 0.5f}));
}

TEST(KernelsSwiGlu, MatchesReference) {
  std::vector<float> gate = {-100.0f, -3.0f, -0.5f, 0.0f, 0.5f, 3.0f, 100.0f, 1e-20f};
  std::vector<float> up = {2.0f, -1.5f, 0.25f, 7.0f, 1.0f, -2.0f, 0.5f, 3.0f};
  std::vector<float> out(gate.size());
  SwiGlu(gate.data(), up.data(), out.data(), gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i];
    const double ref = g / (1 + std::exp(-g)) * up[i];
    EXPECT_NEAR(out[i], ref, 4 * kF32Eps * std::fabs(ref) + 1e-40) << "gate " << g;
  }
}

}  // namespace
}  // namespace warden::engine
