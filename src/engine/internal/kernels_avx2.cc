// AVX2 + FMA + F16C kernels. This file alone is compiled with -mavx2 -mfma -mf16c; the
// dispatcher in engine/kernels.cc calls it only after CpuHasAvx2() said yes.
//
// Matrix products work on tiles of R weight rows x T tokens: each weight vector loaded (and
// converted or sign-folded) once serves T tokens, and each activation vector serves R rows,
// with all R*T partial sums in registers. Decode (one token) is bound by how fast weights
// stream from memory; prefill (many tokens) by arithmetic, which the tile reuse makes
// dense. The tile shapes below were measured (bench/kernels_bench.cc).
//
// Quantized weights: integer dot products per block of 32 on activations quantized to int8
// (MatMulInput). For Q8_0 the signed x signed product uses the sign trick: maddubs multiplies
// unsigned by signed bytes, so we pass |w| and x * sign(w). |w| <= 128 and |x| <= 127 keep
// every pair sum (2 * 128 * 127 = 32512) inside int16, so the saturating maddubs is exact.
// Q4_0 nibbles are already unsigned (0..15), so maddubs takes them directly and the offset
// of 8 is taken off with the activation block's sum: sum((w - 8) x) = sum(w x) - 8 sum(x).
// Q4_K works the same per sub-block of 32 (its mins via the block sums); Q6_K's unsigned
// 6-bit quants go through maddubs and lose their offset of 32 by subtracting 32 * the
// activation pair sums, then madd applies the two sub-block scales of each 32.
//
// Prefill (kFloatActivationMinTokens or more tokens) instead converts each block of rows to
// f32 once and runs the float tiles: with the conversion shared by all tokens, FMA needs
// fewer instructions per multiply-add than the integer sequence (measured: about 90 vs 70
// GFLOP/s on one core).
#include "engine/internal/kernels_internal.h"

#if WARDEN_HAVE_AVX2_KERNELS
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace warden::engine::internal {
namespace {

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;

constexpr size_t kLanes = 8;  // floats per __m256
constexpr int kQ4Offset = 8;

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _cvtsh_ss(h);
}

// Sum of 32 products of |w| (unsigned bytes) and signed bytes, as 8 int32 lanes.
inline __m256i DotBytes(__m256i unsigned_w, __m256i signed_x) {
  const __m256i pairs = _mm256_maddubs_epi16(unsigned_w, signed_x);
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// ---- tile kernels: R rows x T tokens ----

// What a tile needs: weight rows from `w` (row r at w + r * w_stride bytes), the prepared
// input, and the output, where y[t * y_stride + r] receives row r, token t. Row and token
// indices passed to a tile are relative to these pointers.
struct TileArgs {
  const uint8_t* w;
  size_t w_stride;
  const MatMulInput* x;
  size_t cols;
  float* y;
  size_t y_stride;
};

using TileFn = void (*)(const TileArgs&, size_t r0, size_t t0);

// Float weights: loads 8 as floats (F32 in place, F16 converted; both exact).
struct F32Rows {
  static __m256 Load(const uint8_t* row, size_t i) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
  }
  static float At(const uint8_t* row, size_t i) {
    float v;
    std::memcpy(&v, row + i * sizeof(float), sizeof(v));
    return v;
  }
};
struct F16Rows {
  static __m256 Load(const uint8_t* row, size_t i) {
    return _mm256_cvtph_ps(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + i * sizeof(uint16_t))));
  }
  static float At(const uint8_t* row, size_t i) { return LoadF16(row + i * sizeof(uint16_t)); }
};

// Every (row, token) result is the same sequence of operations whatever R and T are, so a
// row's value does not depend on the tile it fell into (or on how rows were split across
// threads).
template <class Rows, int R, int T>
void FloatTile(const TileArgs& a, size_t r0, size_t t0) {
  const size_t n = a.cols;
  const uint8_t* wr[R];
  const float* xt[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) xt[t] = a.x->floats(t0 + t);
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __m256 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = Rows::Load(wr[r], i);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(xt[t] + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      float s = HorizontalSum(acc[r][t]);
      for (size_t k = i; k < n; ++k) s += Rows::At(wr[r], k) * xt[t][k];
      a.y[(t0 + t) * a.y_stride + r0 + r] = s;
    }
  }
}

template <int R, int T>
void Q8_0Tile(const TileArgs& a, size_t r0, size_t t0) {
  const size_t blocks = a.cols / kQ8BlockSize;
  const uint8_t* wr[R];
  const int8_t* xq[T];
  const float* xd[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = a.x->quants(t0 + t);
    xd[t] = a.x->scales(t0 + t);
  }
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (size_t b = 0; b < blocks; ++b) {
    __m256i wabs[R], wsign[R];
    float wd[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint8_t* block = wr[r] + b * kQ8_0BlockBytes;
      wd[r] = LoadF16(block);
      wsign[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
      wabs[r] = _mm256_sign_epi8(wsign[r], wsign[r]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256i xv =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b * kQ8BlockSize));
      const float dx = xd[t][b];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i dot = DotBytes(wabs[r], _mm256_sign_epi8(xv, wsign[r]));
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(wd[r] * dx), acc[r][t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.y_stride + r0 + r] = HorizontalSum(acc[r][t]);
  }
}

template <int R, int T>
void Q4_0Tile(const TileArgs& a, size_t r0, size_t t0) {
  const size_t blocks = a.cols / kQ4BlockSize;
  const uint8_t* wr[R];
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xs[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = a.x->quants(t0 + t);
    xd[t] = a.x->scales(t0 + t);
    xs[t] = a.x->sums(t0 + t);
  }
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  for (size_t b = 0; b < blocks; ++b) {
    __m256i wq[R];
    float wd[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint8_t* block = wr[r] + b * kQ4_0BlockBytes;
      wd[r] = LoadF16(block);
      const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
      // Low nibbles are elements 0..15, high nibbles 16..31.
      wq[r] = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low_nibble);
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256i xv =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b * kQ4BlockSize));
      const float dx = xd[t][b];
      const __m256i offset = _mm256_zextsi128_si256(_mm_cvtsi32_si128(kQ4Offset * xs[t][b]));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i dot = _mm256_sub_epi32(DotBytes(wq[r], xv), offset);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(wd[r] * dx), acc[r][t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.y_stride + r0 + r] = HorizontalSum(acc[r][t]);
  }
}

// Q4_K: per sub-block of 32, the nibbles' integer dot product with the activation block,
// scaled by d*scale; the mins contribute dmin*min*sum(x), kept in a scalar per tile entry.
template <int R, int T>
void Q4_KTile(const TileArgs& a, size_t r0, size_t t0) {
  constexpr size_t kSubBlocks = kQKBlockSize / kQ8BlockSize;
  const size_t supers = a.cols / kQKBlockSize;
  const uint8_t* wr[R];
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xs[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = a.x->quants(t0 + t);
    xd[t] = a.x->scales(t0 + t);
    xs[t] = a.x->sums(t0 + t);
  }
  __m256 acc[R][T];
  float min_acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      acc[r][t] = _mm256_setzero_ps();
      min_acc[r][t] = 0;
    }
  }
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  for (size_t sb = 0; sb < supers; ++sb) {
    const uint8_t* block[R];
    float step[R][kSubBlocks], offset[R][kSubBlocks];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      block[r] = wr[r] + sb * kQ4_KBlockBytes;
      const float d = LoadF16(block[r]), dmin = LoadF16(block[r] + 2);
      for (size_t sub = 0; sub < kSubBlocks; ++sub) {
        int scale = 0, min = 0;
        Q4_KScaleMin(block[r] + kQ4_KScalesOffset, static_cast<int>(sub), &scale, &min);
        step[r][sub] = d * static_cast<float>(scale);
        offset[r][sub] = dmin * static_cast<float>(min);
      }
    }
    for (size_t j = 0; j < kSubBlocks / 2; ++j) {
      // 32 bytes: low nibbles are sub-block 2j, high nibbles 2j+1.
      __m256i lo[R], hi[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i raw = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(block[r] + kQ4_KQuantsOffset + 32 * j));
        lo[r] = _mm256_and_si256(raw, low_nibble);
        hi[r] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low_nibble);
      }
      const size_t b0 = sb * kSubBlocks + 2 * j;
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m256i x0 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b0 * kQ8BlockSize));
        const __m256i x1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + (b0 + 1) * kQ8BlockSize));
        const float dx0 = xd[t][b0], dx1 = xd[t][b0 + 1];
        const float sum0 = static_cast<float>(xs[t][b0]) * dx0;
        const float sum1 = static_cast<float>(xs[t][b0 + 1]) * dx1;
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DotBytes(lo[r], x0)),
                                      _mm256_set1_ps(step[r][2 * j] * dx0), acc[r][t]);
          acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DotBytes(hi[r], x1)),
                                      _mm256_set1_ps(step[r][2 * j + 1] * dx1), acc[r][t]);
          min_acc[r][t] += offset[r][2 * j] * sum0 + offset[r][2 * j + 1] * sum1;
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      a.y[(t0 + t) * a.y_stride + r0 + r] = HorizontalSum(acc[r][t]) - min_acc[r][t];
    }
  }
}

// The 32 six-bit quants (0..63) of quarter k of a Q6_K half: low nibbles from ql (bytes 0..31
// for quarters 0 and 2, 32..63 for 1 and 3; quarters 2 and 3 take the high nibbles), high
// bits from bits 2k, 2k+1 of the 32 qh bytes.
inline __m256i Q6_KQuarter(__m256i ql_a, __m256i ql_b, __m256i qh, int k) {
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  const __m256i src = (k & 1) ? ql_b : ql_a;
  const __m256i nibble = k < 2 ? _mm256_and_si256(src, low_nibble)
                               : _mm256_and_si256(_mm256_srli_epi16(src, 4), low_nibble);
  const __m256i high =
      _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * k)), _mm256_set1_epi8(3));
  return _mm256_or_si256(nibble, _mm256_slli_epi16(high, 4));
}

// Q6_K: per activation block of 32 (two sub-blocks of 16), maddubs of the unsigned quants
// with the activations, minus 32 * the activations' pair sums (the stored offset), then
// madd with the two sub-block scales: an exact integer sum, scaled by d * dx.
template <int R, int T>
void Q6_KTile(const TileArgs& a, size_t r0, size_t t0) {
  constexpr size_t kGroups = kQKBlockSize / kQ8BlockSize;
  const size_t supers = a.cols / kQKBlockSize;
  const uint8_t* wr[R];
  const int8_t* xq[T];
  const float* xd[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    xq[t] = a.x->quants(t0 + t);
    xd[t] = a.x->scales(t0 + t);
  }
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  const __m256i offset = _mm256_set1_epi8(kQ6_KOffset);
  for (size_t sb = 0; sb < supers; ++sb) {
    const uint8_t* block[R];
    const int8_t* scales[R];
    float d[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      block[r] = wr[r] + sb * kQ6_KBlockBytes;
      scales[r] = reinterpret_cast<const int8_t*>(block[r] + kQ6_KScalesOffset);
      d[r] = LoadF16(block[r] + kQ6_KScaleOffset);
    }
    for (int h = 0; h < 2; ++h) {
      for (int k = 0; k < 4; ++k) {
        __m256i q[R], sc[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const uint8_t* ql = block[r] + 64 * h;
          q[r] = Q6_KQuarter(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32)),
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                 block[r] + kQ6_KHighOffset + 32 * h)),
                             k);
          const int8_t* s = scales[r] + 8 * h + 2 * k;
          sc[r] = _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]));
        }
        const size_t g = sb * kGroups + 4 * h + k;
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const __m256i xv =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + g * kQ8BlockSize));
          const __m256i x_offset = _mm256_maddubs_epi16(offset, xv);
          const float dx = xd[t][g];
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const __m256i pairs = _mm256_sub_epi16(_mm256_maddubs_epi16(q[r], xv), x_offset);
            const __m256i dot = _mm256_madd_epi16(pairs, sc[r]);
            acc[r][t] =
                _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(d[r] * dx), acc[r][t]);
          }
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a.y[(t0 + t) * a.y_stride + r0 + r] = HorizontalSum(acc[r][t]);
  }
}

// ---- tiling driver ----

constexpr size_t kMaxTileTokens = 4;

// The tiles of one kind, indexed by token count - 1: rows[k] x (k+1) tokens for the body, 1 x
// (k+1) for the rows left over. The shapes keep all accumulators plus the weight vectors in
// the 16 ymm registers (float: R*T + R; quantized: R*T + 2R); decode (one token) takes 4 rows
// so that 4 weight streams are in flight, which measured best.
struct TileSet {
  size_t rows[kMaxTileTokens];
  TileFn wide[kMaxTileTokens];
  TileFn narrow[kMaxTileTokens];
};

template <class Rows>
constexpr TileSet FloatTiles() {
  return {
      {4, 4, 4, 3},
      {FloatTile<Rows, 4, 1>, FloatTile<Rows, 4, 2>, FloatTile<Rows, 4, 3>, FloatTile<Rows, 3, 4>},
      {FloatTile<Rows, 1, 1>, FloatTile<Rows, 1, 2>, FloatTile<Rows, 1, 3>, FloatTile<Rows, 1, 4>}};
}
constexpr TileSet kF32Tiles = FloatTiles<F32Rows>();
constexpr TileSet kF16Tiles = FloatTiles<F16Rows>();
constexpr TileSet kQ8_0Tiles = {{4, 3, 2, 2},
                                {Q8_0Tile<4, 1>, Q8_0Tile<3, 2>, Q8_0Tile<2, 3>, Q8_0Tile<2, 4>},
                                {Q8_0Tile<1, 1>, Q8_0Tile<1, 2>, Q8_0Tile<1, 3>, Q8_0Tile<1, 4>}};
constexpr TileSet kQ4_0Tiles = {{4, 3, 2, 2},
                                {Q4_0Tile<4, 1>, Q4_0Tile<3, 2>, Q4_0Tile<2, 3>, Q4_0Tile<2, 4>},
                                {Q4_0Tile<1, 1>, Q4_0Tile<1, 2>, Q4_0Tile<1, 3>, Q4_0Tile<1, 4>}};
constexpr TileSet kQ4_KTiles = {{4, 2, 2, 2},
                                {Q4_KTile<4, 1>, Q4_KTile<2, 2>, Q4_KTile<2, 3>, Q4_KTile<2, 4>},
                                {Q4_KTile<1, 1>, Q4_KTile<1, 2>, Q4_KTile<1, 3>, Q4_KTile<1, 4>}};
constexpr TileSet kQ6_KTiles = {{2, 2, 2, 2},
                                {Q6_KTile<2, 1>, Q6_KTile<2, 2>, Q6_KTile<2, 3>, Q6_KTile<2, 4>},
                                {Q6_KTile<1, 1>, Q6_KTile<1, 2>, Q6_KTile<1, 3>, Q6_KTile<1, 4>}};

// Rows are processed in blocks of about this many bytes (as f32 when dequantized), all tokens
// of a block before the next, so that a block stays in the core's L2 cache while every group
// of tokens passes over it: weights then come from memory once per call.
constexpr size_t kRowBlockBytes = 192 << 10;

void RunTiles(const TileSet& tiles, const TileArgs& a, size_t rows, size_t n_tokens) {
  for (size_t t0 = 0; t0 < n_tokens; t0 += kMaxTileTokens) {
    const size_t tokens = std::min(kMaxTileTokens, n_tokens - t0);
    const size_t step = tiles.rows[tokens - 1];
    size_t r = 0;
    for (; r + step <= rows; r += step) tiles.wide[tokens - 1](a, r, t0);
    for (; r < rows; ++r) tiles.narrow[tokens - 1](a, r, t0);
  }
}

}  // namespace

void MatMulAvx2(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                size_t row_begin, size_t row_end) {
  // Many tokens (for quantized weights MatMulInput then kept float activations): the product
  // is bound by arithmetic, so each row block is converted to f32 once and the float tiles
  // run over it; F16 saves the conversion on every pass of tokens, and the result is the same
  // bit for bit (the conversion is exact).
  const bool dequantize =
      w.type != kGgmlTypeF32 && !x.quantized() && x.n_tokens() >= kFloatActivationMinTokens;
  const TileSet* tiles = nullptr;
  size_t f32_row_bytes = w.cols * sizeof(float);
  if (dequantize) {
    tiles = &kF32Tiles;
  } else if (w.type == kGgmlTypeF32) {
    tiles = &kF32Tiles;
  } else if (w.type == kGgmlTypeF16) {
    tiles = &kF16Tiles;
  } else if (w.type == kGgmlTypeQ8_0) {
    tiles = &kQ8_0Tiles;
  } else if (w.type == kGgmlTypeQ4_0) {
    tiles = &kQ4_0Tiles;
  } else if (w.type == formats::kGgmlTypeQ4_K) {
    tiles = &kQ4_KTiles;
  } else if (w.type == kGgmlTypeQ6_K) {
    tiles = &kQ6_KTiles;
  }
  WARDEN_CHECK(tiles != nullptr);
  const size_t block_rows =
      std::max<size_t>(1, kRowBlockBytes / std::max<size_t>(1, f32_row_bytes));
  thread_local std::vector<float> scratch;
  for (size_t rb = row_begin; rb < row_end; rb += block_rows) {
    const size_t rows = std::min(block_rows, row_end - rb);
    TileArgs a{w.data + rb * w.row_bytes, w.row_bytes, &x, w.cols, y + rb, y_stride};
    if (dequantize) {
      scratch.resize(rows * w.cols);
      for (size_t r = 0; r < rows; ++r) {
        DequantizeRowAvx2(w.type, w.data + (rb + r) * w.row_bytes, scratch.data() + r * w.cols,
                          w.cols);
      }
      a.w = reinterpret_cast<const uint8_t*>(scratch.data());
      a.w_stride = f32_row_bytes;
    }
    RunTiles(*tiles, a, rows, x.n_tokens());
  }
}

void QuantizeActivationsAvx2(const float* x, size_t n, int8_t* quants, float* scales,
                             int32_t* sums) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (size_t b = 0; b < n / kQ8BlockSize; ++b) {
    const float* in = x + b * kQ8BlockSize;
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(in + k * kLanes);
    __m256 m = _mm256_max_ps(
        _mm256_max_ps(_mm256_andnot_ps(sign_bit, v[0]), _mm256_andnot_ps(sign_bit, v[1])),
        _mm256_max_ps(_mm256_andnot_ps(sign_bit, v[2]), _mm256_andnot_ps(sign_bit, v[3])));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    // Same scalar arithmetic as QuantizeActivationsScalar, so the quants agree exactly.
    const float d = amax / kQ8ActivationMax;
    const float inv = d != 0 ? 1.0f / d : 0.0f;
    const __m256 vinv = _mm256_set1_ps(inv);
    // Garbage activations (inf or NaN from a hostile model) must neither overflow the block
    // sum nor disagree with the scalar path: a NaN product becomes 0 and everything is clamped
    // to +-127 before summing, exactly as QuantizeActivationsScalar does.
    const __m256 q_max = _mm256_set1_ps(kQ8ActivationMax);
    const __m256 q_min = _mm256_set1_ps(-kQ8ActivationMax);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      const __m256 scaled = _mm256_mul_ps(v[k], vinv);
      const __m256 ordered = _mm256_cmp_ps(scaled, scaled, _CMP_ORD_Q);
      const __m256 rounded = _mm256_and_ps(
          _mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), ordered);
      q[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(rounded, q_min), q_max));
    }
    const __m256i total =
        _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(1, 0, 3, 2)));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
    // packs works within 128-bit lanes; the permutation puts the 32 bytes back in order.
    const __m256i q16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i q16b = _mm256_packs_epi32(q[2], q[3]);
    __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b), order);
    // Only NaN activations reach -128 (the conversion's "invalid" value); keep the int16
    // bound of the sign trick.
    q8 = _mm256_max_epi8(q8, _mm256_set1_epi8(-127));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(quants + b * kQ8BlockSize), q8);
    scales[b] = d;
    sums[b] = _mm_cvtsi128_si32(s4);
  }
}

namespace {

// dst[0..31] = d * q[0..31] for 32 signed bytes q (the same multiplication as the scalar
// path, so both give the same floats).
inline void StoreScaledBytes(__m256i q, __m256 d, float* dst) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(dst + k * kLanes,
                     _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]))));
  }
}

// dst[0..15] = d0 * q[0..15], dst[16..31] = d1 * q[16..31] (Q6_K's sub-blocks of 16).
inline void StoreScaledBytes2(__m256i q, __m256 d0, __m256 d1, float* dst) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(
        dst + k * kLanes,
        _mm256_mul_ps(k < 2 ? d0 : d1, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]))));
  }
}

// dst[0..31] = step * q[0..31] - offset (Q4_K), multiply then subtract as the scalar path.
inline void StoreAffineBytes(__m256i q, __m256 step, __m256 offset, float* dst) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int k = 0; k < 4; ++k) {
    const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[k]));
    _mm256_storeu_ps(dst + k * kLanes, _mm256_sub_ps(_mm256_mul_ps(step, v), offset));
  }
}

}  // namespace

void DequantizeRowAvx2(uint32_t type, const uint8_t* src, float* dst, size_t n) {
  switch (type) {
    case kGgmlTypeF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case kGgmlTypeF16: {
      size_t i = 0;
      for (; i + kLanes <= n; i += kLanes) {
        _mm256_storeu_ps(
            dst + i,
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i))));
      }
      for (; i < n; ++i) dst[i] = LoadF16(src + 2 * i);
      return;
    }
    case kGgmlTypeQ8_0:
      for (size_t b = 0; b < n / kQ8BlockSize; ++b) {
        const uint8_t* block = src + b * kQ8_0BlockBytes;
        StoreScaledBytes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2)),
                         _mm256_set1_ps(LoadF16(block)), dst + b * kQ8BlockSize);
      }
      return;
    case kGgmlTypeQ4_0:
      for (size_t b = 0; b < n / kQ4BlockSize; ++b) {
        const uint8_t* block = src + b * kQ4_0BlockBytes;
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
        const __m256i nibbles = _mm256_and_si256(
            _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
        StoreScaledBytes(_mm256_sub_epi8(nibbles, _mm256_set1_epi8(kQ4Offset)),
                         _mm256_set1_ps(LoadF16(block)), dst + b * kQ4BlockSize);
      }
      return;
    case formats::kGgmlTypeQ4_K:
      for (size_t sb = 0; sb < n / kQKBlockSize; ++sb) {
        const uint8_t* block = src + sb * kQ4_KBlockBytes;
        const float d = LoadF16(block), dmin = LoadF16(block + 2);
        float* out = dst + sb * kQKBlockSize;
        for (int j = 0; j < 4; ++j) {
          const __m256i raw = _mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(block + kQ4_KQuantsOffset + 32 * j));
          const __m256i halves[2] = {
              _mm256_and_si256(raw, _mm256_set1_epi8(0x0F)),
              _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0F))};
          for (int half = 0; half < 2; ++half) {
            int scale = 0, min = 0;
            Q4_KScaleMin(block + kQ4_KScalesOffset, 2 * j + half, &scale, &min);
            StoreAffineBytes(halves[half], _mm256_set1_ps(d * static_cast<float>(scale)),
                             _mm256_set1_ps(dmin * static_cast<float>(min)),
                             out + (2 * j + half) * kQ8BlockSize);
          }
        }
      }
      return;
    case kGgmlTypeQ6_K:
      for (size_t sb = 0; sb < n / kQKBlockSize; ++sb) {
        const uint8_t* block = src + sb * kQ6_KBlockBytes;
        const auto* scales = reinterpret_cast<const int8_t*>(block + kQ6_KScalesOffset);
        const float d = LoadF16(block + kQ6_KScaleOffset);
        float* out = dst + sb * kQKBlockSize;
        for (int h = 0; h < 2; ++h) {
          const uint8_t* ql = block + 64 * h;
          const __m256i ql_a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
          const __m256i ql_b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
          const __m256i qh = _mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(block + kQ6_KHighOffset + 32 * h));
          for (int k = 0; k < 4; ++k) {
            const __m256i q =
                _mm256_sub_epi8(Q6_KQuarter(ql_a, ql_b, qh, k), _mm256_set1_epi8(kQ6_KOffset));
            const int8_t* s = scales + 8 * h + 2 * k;
            StoreScaledBytes2(q, _mm256_set1_ps(d * static_cast<float>(s[0])),
                              _mm256_set1_ps(d * static_cast<float>(s[1])), out + 128 * h + 32 * k);
          }
        }
      }
      return;
    default:
      WARDEN_CHECK(false);
  }
}

float DotF32Avx2(const float* a, const float* b, size_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + kLanes), _mm256_loadu_ps(b + i + kLanes), acc1);
  }
  for (; i + kLanes <= n; i += kLanes) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  float s = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void AxpyF32Avx2(float a, const float* x, float* y, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

// ---- F16 rows (attention over an F16 cache) ----
// The same operations as the scalar definitions in kernels.cc, 8 elements at a time: F16C
// conversions round to nearest even like F32ToF16, and _mm256_fmadd_ps is the fused
// multiply-add of std::fma, so the bits agree.

namespace {

constexpr int kToF16 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

inline __m256 LoadF16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline void StoreF16x8(uint16_t* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, kToF16));
}
inline uint16_t ToF16(float f) { return static_cast<uint16_t>(_cvtss_sh(f, kToF16)); }

}  // namespace

void F16ToF32RowAvx2(const uint16_t* h, float* out, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) _mm256_storeu_ps(out + i, LoadF16x8(h + i));
  for (; i < n; ++i) out[i] = _cvtsh_ss(h[i]);
}

void F32ToF16RowAvx2(const float* x, uint16_t* out, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreF16x8(out + i, _mm256_loadu_ps(x + i));
  for (; i < n; ++i) out[i] = ToF16(x[i]);
}

float DotF32F16RowAvx2(const float* a, const uint16_t* b, size_t n) {
  static_assert(kF16DotLanes == 4, "one __m256d of partial sums");
  // Elements i..i+3 of each group of 8 go to partial sums 0..3 in order, then i+4..i+7: the
  // scalar definition's sum i % 4.
  __m256d sums = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 products = _mm256_mul_ps(_mm256_loadu_ps(a + i), LoadF16x8(b + i));
    sums = _mm256_add_pd(sums, _mm256_cvtps_pd(_mm256_castps256_ps128(products)));
    sums = _mm256_add_pd(sums, _mm256_cvtps_pd(_mm256_extractf128_ps(products, 1)));
  }
  alignas(32) double s[kF16DotLanes];
  _mm256_store_pd(s, sums);
  for (; i < n; ++i) s[i % kF16DotLanes] += static_cast<double>(a[i] * _cvtsh_ss(b[i]));
  return static_cast<float>((s[0] + s[1]) + (s[2] + s[3]));
}

void ScaleF16RowAvx2(float a, uint16_t* y, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) StoreF16x8(y + i, _mm256_mul_ps(va, LoadF16x8(y + i)));
  for (; i < n; ++i) y[i] = ToF16(a * _cvtsh_ss(y[i]));
}

void AxpyF16RowAvx2(float a, const uint16_t* x, uint16_t* y, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    StoreF16x8(y + i, _mm256_fmadd_ps(LoadF16x8(x + i), va, LoadF16x8(y + i)));
  }
  for (; i < n; ++i)
    y[i] = ToF16(_mm_cvtss_f32(
        _mm_fmadd_ss(_mm_set_ss(_cvtsh_ss(x[i])), _mm_set_ss(a), _mm_set_ss(_cvtsh_ss(y[i])))));
}

}  // namespace warden::engine::internal

#endif  // WARDEN_HAVE_AVX2_KERNELS
