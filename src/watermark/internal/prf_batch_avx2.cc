// The AVX2 kernels (compiled with -mavx2; called only after engine::CpuHasAvx2()). Four
// candidates per vector, two vectors per iteration for the hash (eight candidates: eight
// entries of TokenData are exactly three vectors); the tournament takes sixteen per iteration
// so that its four accumulators hold the sixteen partial sums of CombinePartialSums.
// AVX2 has no 64-bit rotate: rotations by 16 and 32 are byte and dword shuffles, the others
// two shifts and an or.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <limits>

#include "watermark/internal/prf_batch.h"
#include "watermark/internal/prf_batch_vector.h"

namespace warden::watermark::internal {
namespace {

using engine::Token;
using engine::TokenData;

static_assert(sizeof(TokenData) == 12, "the deinterleaving below assumes {id, logit, p}");

constexpr size_t kHashBlock = 8;

// ---- SipHash, four lanes ----

template <int kBits>
inline __m256i Rotl(__m256i x) {
  return _mm256_or_si256(_mm256_slli_epi64(x, kBits), _mm256_srli_epi64(x, 64 - kBits));
}
inline __m256i Rotl32(__m256i x) { return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)); }
inline __m256i Rotl16(__m256i x, __m256i shuffle) { return _mm256_shuffle_epi8(x, shuffle); }

struct Consts {
  explicit Consts(const SipBatch& s)
      : v0(_mm256_set1_epi64x(static_cast<long long>(s.v[0]))),
        v1(_mm256_set1_epi64x(static_cast<long long>(s.v[1]))),
        v2(_mm256_set1_epi64x(static_cast<long long>(s.v[2]))),
        v3(_mm256_set1_epi64x(static_cast<long long>(s.v[3]))),
        tail(_mm256_set1_epi64x(static_cast<long long>(s.tail))),
        length(_mm256_set1_epi64x(static_cast<long long>(s.length))),
        rot16(_mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13, 6, 7, 0, 1, 2,
                               3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13)),
        shift_in(_mm_cvtsi32_si128(static_cast<int>(8 * s.tail_len))),
        shift_out(_mm_cvtsi32_si128(static_cast<int>(64 - 8 * s.tail_len))) {}
  __m256i v0, v1, v2, v3, tail, length, rot16;
  __m128i shift_in, shift_out;
};

inline void Round(__m256i& v0, __m256i& v1, __m256i& v2, __m256i& v3, __m256i rot16) {
  v0 = _mm256_add_epi64(v0, v1);
  v1 = Rotl<13>(v1);
  v1 = _mm256_xor_si256(v1, v0);
  v0 = Rotl32(v0);
  v2 = _mm256_add_epi64(v2, v3);
  v3 = Rotl16(v3, rot16);
  v3 = _mm256_xor_si256(v3, v2);
  v0 = _mm256_add_epi64(v0, v3);
  v3 = Rotl<21>(v3);
  v3 = _mm256_xor_si256(v3, v0);
  v2 = _mm256_add_epi64(v2, v1);
  v1 = Rotl<17>(v1);
  v1 = _mm256_xor_si256(v1, v2);
  v2 = Rotl32(v2);
}

template <bool kCompress>
inline void Hash8(const Consts& c, __m256i ta, __m256i tb, __m256i& ha, __m256i& hb) {
  __m256i a0 = c.v0, a1 = c.v1, a2 = c.v2, a3 = c.v3;
  __m256i b0 = c.v0, b1 = c.v1, b2 = c.v2, b3 = c.v3;
  __m256i fa, fb;
  if constexpr (kCompress) {
    const __m256i ma = _mm256_or_si256(c.tail, _mm256_sll_epi64(ta, c.shift_in));
    const __m256i mb = _mm256_or_si256(c.tail, _mm256_sll_epi64(tb, c.shift_in));
    a3 = _mm256_xor_si256(a3, ma);
    b3 = _mm256_xor_si256(b3, mb);
    Round(a0, a1, a2, a3, c.rot16);
    Round(b0, b1, b2, b3, c.rot16);
    Round(a0, a1, a2, a3, c.rot16);
    Round(b0, b1, b2, b3, c.rot16);
    a0 = _mm256_xor_si256(a0, ma);
    b0 = _mm256_xor_si256(b0, mb);
    fa = _mm256_or_si256(_mm256_srl_epi64(ta, c.shift_out), c.length);
    fb = _mm256_or_si256(_mm256_srl_epi64(tb, c.shift_out), c.length);
  } else {
    fa = _mm256_or_si256(_mm256_or_si256(c.tail, _mm256_sll_epi64(ta, c.shift_in)), c.length);
    fb = _mm256_or_si256(_mm256_or_si256(c.tail, _mm256_sll_epi64(tb, c.shift_in)), c.length);
  }
  a3 = _mm256_xor_si256(a3, fa);
  b3 = _mm256_xor_si256(b3, fb);
  Round(a0, a1, a2, a3, c.rot16);
  Round(b0, b1, b2, b3, c.rot16);
  Round(a0, a1, a2, a3, c.rot16);
  Round(b0, b1, b2, b3, c.rot16);
  const __m256i ff = _mm256_set1_epi64x(0xff);
  a0 = _mm256_xor_si256(a0, fa);
  b0 = _mm256_xor_si256(b0, fb);
  a2 = _mm256_xor_si256(a2, ff);
  b2 = _mm256_xor_si256(b2, ff);
  for (int i = 0; i < 4; ++i) {
    Round(a0, a1, a2, a3, c.rot16);
    Round(b0, b1, b2, b3, c.rot16);
  }
  ha = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  hb = _mm256_xor_si256(_mm256_xor_si256(b0, b1), _mm256_xor_si256(b2, b3));
}

// ---- TokenData, eight at a time ----

// Field f (0 id, 1 logit, 2 p) of 8 entries in three vectors of 8 dwords: lane j wants dword
// 3j + f, which lies in vector (3j + f) / 8.
template <int F>
struct Field {
  static constexpr std::array<int32_t, 8> kIndex = [] {
    std::array<int32_t, 8> r{};
    for (int j = 0; j < 8; ++j) r[j] = (3 * j + F) & 7;
    return r;
  }();
  static constexpr int LanesFrom(int vec) {
    int m = 0;
    for (int j = 0; j < 8; ++j) m |= ((3 * j + F) / 8 == vec ? 1 : 0) << j;
    return m;
  }

  static __m256i Get(__m256i y0, __m256i y1, __m256i y2) {
    const __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kIndex.data()));
    const __m256i a = _mm256_permutevar8x32_epi32(y0, index);
    const __m256i b = _mm256_permutevar8x32_epi32(y1, index);
    const __m256i c = _mm256_permutevar8x32_epi32(y2, index);
    return _mm256_blend_epi32(_mm256_blend_epi32(a, b, LanesFrom(1)), c, LanesFrom(2));
  }
};

struct Block8 {
  explicit Block8(const TokenData* d)
      : y0(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d))),
        y1(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d) + 1)),
        y2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d) + 2)) {}
  __m256i y0, y1, y2;
};

inline __m256i Low4(__m256i x32) { return _mm256_cvtepu32_epi64(_mm256_castsi256_si128(x32)); }
inline __m256i High4(__m256i x32) {
  return _mm256_cvtepu32_epi64(_mm256_extracti128_si256(x32, 1));
}

using PaddedBlock = internal::PaddedBlock<kHashBlock>;

// ---- kernels ----

template <bool kCompress>
void PrfIdsImpl(const SipBatch& s, const Token* ids, size_t n, uint64_t* out) {
  const Consts c(s);
  size_t i = 0;
  __m256i ha, hb;
  for (; i + kHashBlock <= n; i += kHashBlock) {
    const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i));
    Hash8<kCompress>(c, Low4(t), High4(t), ha, hb);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), ha);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 4), hb);
  }
  if (i == n) return;
  Token rest[kHashBlock] = {};
  std::memcpy(rest, ids + i, (n - i) * sizeof(Token));
  const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rest));
  Hash8<kCompress>(c, Low4(t), High4(t), ha, hb);
  uint64_t h[kHashBlock];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(h), ha);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + 4), hb);
  std::memcpy(out + i, h, (n - i) * sizeof(uint64_t));
}

void PrfIds(const SipBatch& s, const Token* ids, size_t n, uint64_t* out) {
  s.tail_len >= 4 ? PrfIdsImpl<true>(s, ids, n, out) : PrfIdsImpl<false>(s, ids, n, out);
}

template <bool kCompress>
inline void HashBlock(const Consts& c, const Block8& b, __m256i& ha, __m256i& hb) {
  const __m256i t = Field<0>::Get(b.y0, b.y1, b.y2);
  Hash8<kCompress>(c, Low4(t), High4(t), ha, hb);
}

template <bool kCompress>
void PrfCandidatesImpl(const SipBatch& s, const TokenData* data, size_t n, uint64_t* out) {
  const Consts c(s);
  size_t i = 0;
  __m256i ha, hb;
  for (; i + kHashBlock <= n; i += kHashBlock) {
    HashBlock<kCompress>(c, Block8(data + i), ha, hb);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), ha);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 4), hb);
  }
  if (i == n) return;
  const PaddedBlock padded(data + i, n - i);
  HashBlock<kCompress>(c, Block8(padded.entries), ha, hb);
  uint64_t h[kHashBlock];
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(h), ha);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + 4), hb);
  std::memcpy(out + i, h, (n - i) * sizeof(uint64_t));
}

void PrfCandidates(const SipBatch& s, const TokenData* data, size_t n, uint64_t* out) {
  s.tail_len >= 4 ? PrfCandidatesImpl<true>(s, data, n, out)
                  : PrfCandidatesImpl<false>(s, data, n, out);
}

// For vector k (dwords 8k..8k+7 of a block): the entry of each dword, and which are logits.
template <int K>
struct LogitLanes {
  static constexpr std::array<int32_t, 8> kEntry = [] {
    std::array<int32_t, 8> r{};
    for (int l = 0; l < 8; ++l) r[l] = (8 * K + l) / 3;
    return r;
  }();
  static constexpr std::array<int32_t, 8> kIsLogit = [] {
    std::array<int32_t, 8> r{};
    for (int l = 0; l < 8; ++l) r[l] = (8 * K + l) % 3 == 1 ? -1 : 0;
    return r;
  }();

  static __m256i Apply(__m256i y, __m256i green, __m256 delta) {
    const __m256i entry = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kEntry.data()));
    const __m256i is_logit = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kIsLogit.data()));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i exponent = _mm256_set1_epi32(0x7f800000);
    const __m256i is_green =
        _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_srlv_epi32(green, entry), one), one);
    const __m256i not_finite = _mm256_cmpeq_epi32(_mm256_and_si256(y, exponent), exponent);
    const __m256i add = _mm256_andnot_si256(not_finite, _mm256_and_si256(is_green, is_logit));
    // Only the selected lanes go through the addition (the others may hold ids, which read as
    // denormal floats).
    const __m256 x = _mm256_castsi256_ps(_mm256_and_si256(y, add));
    const __m256 sum = _mm256_add_ps(x, delta);
    return _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(y), sum, _mm256_castsi256_ps(add)));
  }
};

template <bool kCompress>
inline void KgwBlock(const Consts& c, TokenData* d, __m256i threshold, __m256 delta) {
  const Block8 b(d);
  __m256i ha, hb;
  HashBlock<kCompress>(c, b, ha, hb);
  // (v >> 11) < threshold: both below 2^63, so the signed compare is exact.
  const int ga = _mm256_movemask_pd(
      _mm256_castsi256_pd(_mm256_cmpgt_epi64(threshold, _mm256_srli_epi64(ha, 11))));
  const int gb = _mm256_movemask_pd(
      _mm256_castsi256_pd(_mm256_cmpgt_epi64(threshold, _mm256_srli_epi64(hb, 11))));
  const int green8 = ga | (gb << 4);
  if (green8 == 0) return;
  const __m256i green = _mm256_set1_epi32(green8);
  __m256i* p = reinterpret_cast<__m256i*>(d);
  _mm256_storeu_si256(p, LogitLanes<0>::Apply(b.y0, green, delta));
  _mm256_storeu_si256(p + 1, LogitLanes<1>::Apply(b.y1, green, delta));
  _mm256_storeu_si256(p + 2, LogitLanes<2>::Apply(b.y2, green, delta));
}

template <bool kCompress>
void KgwBiasImpl(const SipBatch& s, TokenData* data, size_t n, uint64_t threshold53, float delta) {
  const Consts c(s);
  const __m256i threshold = _mm256_set1_epi64x(static_cast<long long>(threshold53));
  const __m256 d = _mm256_set1_ps(delta);
  size_t i = 0;
  for (; i + kHashBlock <= n; i += kHashBlock) KgwBlock<kCompress>(c, data + i, threshold, d);
  if (i == n) return;
  PaddedBlock padded(data + i, n - i);
  KgwBlock<kCompress>(c, padded.entries, threshold, d);
  std::memcpy(data + i, padded.entries, (n - i) * sizeof(TokenData));
}

void KgwBias(const SipBatch& s, TokenData* data, size_t n, uint64_t threshold53, float delta) {
  s.tail_len >= 4 ? KgwBiasImpl<true>(s, data, n, threshold53, delta)
                  : KgwBiasImpl<false>(s, data, n, threshold53, delta);
}

// CombinePartialSums of four accumulators holding partial sums 0-3, 4-7, 8-11, 12-15.
inline double Combine(const __m256d acc[4]) {
  const __m256d s4 = _mm256_add_pd(_mm256_add_pd(acc[0], acc[2]), _mm256_add_pd(acc[1], acc[3]));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  return _mm_cvtsd_f64(s2) + _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2));
}

inline __m256d BitSet(const uint64_t* values, __m256i bit) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values));
  return _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(v, bit), bit));
}

void Tournament(double* w, const uint64_t* values, size_t n16, uint32_t layers) {
  const __m256d zero = _mm256_setzero_pd();
  const __m256d negligible = _mm256_set1_pd(kTournamentNegligible);
  __m256d acc[4] = {zero, zero, zero, zero};
  {
    const __m256i bit = _mm256_set1_epi64x(1);
    for (size_t i = 0; i < n16; i += kBlock) {
      for (int k = 0; k < 4; ++k) {
        const __m256d x = _mm256_loadu_pd(w + i + 4 * k);
        acc[k] = _mm256_add_pd(acc[k], _mm256_and_pd(x, BitSet(values + i + 4 * k, bit)));
      }
    }
  }
  double g_mass = Combine(acc);
  for (uint32_t layer = 0; layer < layers; ++layer) {
    const __m256d f0 = _mm256_set1_pd(1.0 - g_mass);
    const __m256d f1 = _mm256_set1_pd(2.0 - g_mass);
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(1ull << layer));
    const uint32_t next_layer = layer + 1 < 64 ? layer + 1 : 63;
    const __m256i next = _mm256_set1_epi64x(static_cast<long long>(1ull << next_layer));
    for (int k = 0; k < 4; ++k) acc[k] = zero;
    for (size_t i = 0; i < n16; i += kBlock) {
      for (int k = 0; k < 4; ++k) {
        const size_t j = i + 4 * static_cast<size_t>(k);
        const __m256d f = _mm256_blendv_pd(f0, f1, BitSet(values + j, bit));
        __m256d x = _mm256_mul_pd(_mm256_loadu_pd(w + j), f);
        x = _mm256_andnot_pd(_mm256_cmp_pd(x, negligible, _CMP_LT_OQ), x);
        _mm256_storeu_pd(w + j, x);
        acc[k] = _mm256_add_pd(acc[k], _mm256_and_pd(x, BitSet(values + j, next)));
      }
    }
    g_mass = Combine(acc);
  }
}

// GumbelUniform of four values: below 2^52, v >> 12 becomes a double exactly by placing it in
// the mantissa of 2^52 and subtracting 2^52.
inline __m256d Uniform(const uint64_t* values) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values));
  const __m256i magic = _mm256_set1_epi64x(0x4330000000000000ll);
  const __m256d x =
      _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(v, 12), magic)),
                    _mm256_castsi256_pd(magic));
  return _mm256_mul_pd(_mm256_add_pd(x, _mm256_set1_pd(0.5)), _mm256_set1_pd(0x1.0p-52));
}

struct GumbelInputs {
  GumbelInputs(const uint64_t* values, const TokenData* data) {
    const Block8 b(data);
    const __m256 p = _mm256_castsi256_ps(Field<2>::Get(b.y0, b.y1, b.y2));
    positive = _mm256_movemask_ps(_mm256_cmp_ps(p, _mm256_setzero_ps(), _CMP_GT_OQ));
    p0 = _mm256_cvtps_pd(_mm256_castps256_ps128(p));
    p1 = _mm256_cvtps_pd(_mm256_extractf128_ps(p, 1));
    r0 = Uniform(values);
    r1 = Uniform(values + 4);
  }
  int positive;  // bit j: entry j has p > 0
  __m256d p0, p1, r0, r1;
};

// Lane masks (all ones) from four bits.
inline __m256d LaneMask(int bits4) {
  const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
  const __m256i b = _mm256_and_si256(_mm256_set1_epi64x(bits4), bit);
  return _mm256_castsi256_pd(_mm256_cmpeq_epi64(b, bit));
}

double GumbelBound(const uint64_t* values, const TokenData* data, size_t n) {
  const __m256d one = _mm256_set1_pd(1.0);
  __m256d bound = _mm256_set1_pd(std::numeric_limits<double>::infinity());
  auto add = [&](const GumbelInputs& g) {
    const __m256d ub0 = _mm256_div_pd(_mm256_sub_pd(one, g.r0), _mm256_mul_pd(g.r0, g.p0));
    const __m256d ub1 = _mm256_div_pd(_mm256_sub_pd(one, g.r1), _mm256_mul_pd(g.r1, g.p1));
    bound = _mm256_blendv_pd(bound, _mm256_min_pd(bound, ub0), LaneMask(g.positive & 15));
    bound = _mm256_blendv_pd(bound, _mm256_min_pd(bound, ub1), LaneMask(g.positive >> 4));
  };
  size_t i = 0;
  for (; i + kHashBlock <= n; i += kHashBlock) add(GumbelInputs(values + i, data + i));
  if (i < n) {
    const PaddedBlock padded(data + i, n - i);  // p = 0: ignored
    uint64_t v[kHashBlock] = {};
    std::memcpy(v, values + i, (n - i) * sizeof(uint64_t));
    add(GumbelInputs(v, padded.entries));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, bound);
  double b = lanes[0];
  for (int k = 1; k < 4; ++k) b = lanes[k] < b ? lanes[k] : b;
  return b;
}

size_t GumbelFilter(const uint64_t* values, const TokenData* data, size_t n, double bound,
                    uint32_t* out) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d limit = _mm256_set1_pd(bound * kGumbelSlack);
  size_t count = 0;
  auto scan = [&](const GumbelInputs& g, size_t base) {
    const int k0 = _mm256_movemask_pd(
        _mm256_cmp_pd(_mm256_sub_pd(one, g.r0), _mm256_mul_pd(limit, g.p0), _CMP_NGT_UQ));
    const int k1 = _mm256_movemask_pd(
        _mm256_cmp_pd(_mm256_sub_pd(one, g.r1), _mm256_mul_pd(limit, g.p1), _CMP_NGT_UQ));
    unsigned m = static_cast<unsigned>((k0 | (k1 << 4)) & g.positive);
    while (m != 0) {
      out[count++] = static_cast<uint32_t>(base + static_cast<size_t>(__builtin_ctz(m)));
      m &= m - 1;
    }
  };
  size_t i = 0;
  for (; i + kHashBlock <= n; i += kHashBlock) scan(GumbelInputs(values + i, data + i), i);
  if (i < n) {
    const PaddedBlock padded(data + i, n - i);
    uint64_t v[kHashBlock] = {};
    std::memcpy(v, values + i, (n - i) * sizeof(uint64_t));
    scan(GumbelInputs(v, padded.entries), i);
  }
  return count;
}

constexpr Kernels kAvx2Kernels =
    CleanKernels<PrfIds, PrfCandidates, KgwBias, Tournament, GumbelBound, GumbelFilter>();

}  // namespace

const Kernels& Avx2Kernels() { return kAvx2Kernels; }

}  // namespace warden::watermark::internal
