// The AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq; called only
// after engine::CpuHasAvx512()). Eight candidates per vector, two vectors per iteration (16
// candidates: the SipHash rounds of the two are independent, which keeps both vector ports
// busy, and 16 entries of TokenData are exactly three vectors).
// GCC 12's AVX-512 intrinsics pass an uninitialized "undefined" vector as the pass-through
// operand of their unmasked forms, which -W(maybe-)uninitialized reports at every use (GCC bug
// 105593, fixed in GCC 13; engine/internal/kernels_avx512.cc does the same). The warning is
// attributed to the header's lines, so silencing it there leaves it active for this file's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

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

// ---- SipHash, eight lanes ----

inline void Round(__m512i& v0, __m512i& v1, __m512i& v2, __m512i& v3) {
  v0 = _mm512_add_epi64(v0, v1);
  v1 = _mm512_rol_epi64(v1, 13);
  v1 = _mm512_xor_si512(v1, v0);
  v0 = _mm512_rol_epi64(v0, 32);
  v2 = _mm512_add_epi64(v2, v3);
  v3 = _mm512_rol_epi64(v3, 16);
  v3 = _mm512_xor_si512(v3, v2);
  v0 = _mm512_add_epi64(v0, v3);
  v3 = _mm512_rol_epi64(v3, 21);
  v3 = _mm512_xor_si512(v3, v0);
  v2 = _mm512_add_epi64(v2, v1);
  v1 = _mm512_rol_epi64(v1, 17);
  v1 = _mm512_xor_si512(v1, v2);
  v2 = _mm512_rol_epi64(v2, 32);
}

// The prepared state broadcast to every lane.
struct Consts {
  explicit Consts(const SipBatch& s)
      : v0(_mm512_set1_epi64(static_cast<long long>(s.v[0]))),
        v1(_mm512_set1_epi64(static_cast<long long>(s.v[1]))),
        v2(_mm512_set1_epi64(static_cast<long long>(s.v[2]))),
        v3(_mm512_set1_epi64(static_cast<long long>(s.v[3]))),
        tail(_mm512_set1_epi64(static_cast<long long>(s.tail))),
        length(_mm512_set1_epi64(static_cast<long long>(s.length))),
        shift_in(_mm_cvtsi32_si128(static_cast<int>(8 * s.tail_len))),
        shift_out(_mm_cvtsi32_si128(static_cast<int>(64 - 8 * s.tail_len))) {}
  __m512i v0, v1, v2, v3, tail, length;
  __m128i shift_in, shift_out;
};

inline __m512i Xor3(__m512i a, __m512i b, __m512i c) {
  return _mm512_ternarylogic_epi64(a, b, c, 0x96);
}
inline __m512i Or3(__m512i a, __m512i b, __m512i c) {
  return _mm512_ternarylogic_epi64(a, b, c, 0xFE);
}

// FinishToken for the tokens of `ta` and `tb` (zero-extended to 64 bits); kCompress when
// tail_len >= 4.
template <bool kCompress>
inline void Hash16(const Consts& c, __m512i ta, __m512i tb, __m512i& ha, __m512i& hb) {
  __m512i a0 = c.v0, a1 = c.v1, a2 = c.v2, a3 = c.v3;
  __m512i b0 = c.v0, b1 = c.v1, b2 = c.v2, b3 = c.v3;
  __m512i fa, fb;  // the final words
  if constexpr (kCompress) {
    const __m512i ma = _mm512_or_si512(c.tail, _mm512_sll_epi64(ta, c.shift_in));
    const __m512i mb = _mm512_or_si512(c.tail, _mm512_sll_epi64(tb, c.shift_in));
    a3 = _mm512_xor_si512(a3, ma);
    b3 = _mm512_xor_si512(b3, mb);
    Round(a0, a1, a2, a3);
    Round(b0, b1, b2, b3);
    Round(a0, a1, a2, a3);
    Round(b0, b1, b2, b3);
    a0 = _mm512_xor_si512(a0, ma);
    b0 = _mm512_xor_si512(b0, mb);
    fa = _mm512_or_si512(_mm512_srl_epi64(ta, c.shift_out), c.length);
    fb = _mm512_or_si512(_mm512_srl_epi64(tb, c.shift_out), c.length);
  } else {
    fa = Or3(c.tail, _mm512_sll_epi64(ta, c.shift_in), c.length);
    fb = Or3(c.tail, _mm512_sll_epi64(tb, c.shift_in), c.length);
  }
  a3 = _mm512_xor_si512(a3, fa);
  b3 = _mm512_xor_si512(b3, fb);
  Round(a0, a1, a2, a3);
  Round(b0, b1, b2, b3);
  Round(a0, a1, a2, a3);
  Round(b0, b1, b2, b3);
  const __m512i ff = _mm512_set1_epi64(0xff);
  a0 = _mm512_xor_si512(a0, fa);
  b0 = _mm512_xor_si512(b0, fb);
  a2 = _mm512_xor_si512(a2, ff);
  b2 = _mm512_xor_si512(b2, ff);
  for (int i = 0; i < 4; ++i) {
    Round(a0, a1, a2, a3);
    Round(b0, b1, b2, b3);
  }
  ha = Xor3(a0, a1, _mm512_xor_si512(a2, a3));
  hb = Xor3(b0, b1, _mm512_xor_si512(b2, b3));
}

// ---- TokenData, sixteen at a time ----

// Field f (0 id, 1 logit, 2 p) of 16 entries spread over three vectors of 16 dwords: lane j
// wants dword 3j + f, from the first two vectors below dword 32, from the third above.
template <int F>
struct Field {
  static constexpr std::array<int32_t, 16> kLow = [] {
    std::array<int32_t, 16> r{};
    for (int j = 0; j < 16; ++j) r[j] = (3 * j + F) & 31;
    return r;
  }();
  static constexpr std::array<int32_t, 16> kHigh = [] {
    std::array<int32_t, 16> r{};
    for (int j = 0; j < 16; ++j) r[j] = (3 * j + F) & 15;
    return r;
  }();
  static constexpr __mmask16 kHighLanes = [] {
    unsigned m = 0;
    for (int j = 0; j < 16; ++j) m |= (3 * j + F >= 32 ? 1u : 0u) << j;
    return static_cast<__mmask16>(m);
  }();

  static __m512i Get(__m512i z0, __m512i z1, __m512i z2) {
    const __m512i low = _mm512_permutex2var_epi32(z0, _mm512_loadu_si512(kLow.data()), z1);
    return _mm512_mask_permutexvar_epi32(low, kHighLanes, _mm512_loadu_si512(kHigh.data()), z2);
  }
};

struct Block16 {
  explicit Block16(const TokenData* d)
      : z0(_mm512_loadu_si512(reinterpret_cast<const char*>(d))),
        z1(_mm512_loadu_si512(reinterpret_cast<const char*>(d) + 64)),
        z2(_mm512_loadu_si512(reinterpret_cast<const char*>(d) + 128)) {}
  __m512i z0, z1, z2;
};

inline __m512i Low8(__m512i x32) { return _mm512_cvtepu32_epi64(_mm512_castsi512_si256(x32)); }
inline __m512i High8(__m512i x32) {
  return _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(x32, 1));
}

using PaddedBlock = internal::PaddedBlock<kBlock>;

// ---- kernels ----

template <bool kCompress>
void PrfIdsImpl(const SipBatch& s, const Token* ids, size_t n, uint64_t* out) {
  const Consts c(s);
  size_t i = 0;
  __m512i ha, hb;
  for (; i + kBlock <= n; i += kBlock) {
    const __m512i t = _mm512_loadu_si512(ids + i);
    Hash16<kCompress>(c, Low8(t), High8(t), ha, hb);
    _mm512_storeu_si512(out + i, ha);
    _mm512_storeu_si512(out + i + 8, hb);
  }
  if (i == n) return;
  const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
  const __m512i t = _mm512_maskz_loadu_epi32(m, ids + i);
  Hash16<kCompress>(c, Low8(t), High8(t), ha, hb);
  _mm512_mask_storeu_epi64(out + i, static_cast<__mmask8>(m), ha);
  _mm512_mask_storeu_epi64(out + i + 8, static_cast<__mmask8>(m >> 8), hb);
}

void PrfIds(const SipBatch& s, const Token* ids, size_t n, uint64_t* out) {
  s.tail_len >= 4 ? PrfIdsImpl<true>(s, ids, n, out) : PrfIdsImpl<false>(s, ids, n, out);
}

template <bool kCompress>
void PrfCandidatesImpl(const SipBatch& s, const TokenData* data, size_t n, uint64_t* out) {
  const Consts c(s);
  size_t i = 0;
  __m512i ha, hb;
  for (; i + kBlock <= n; i += kBlock) {
    const Block16 b(data + i);
    const __m512i t = Field<0>::Get(b.z0, b.z1, b.z2);
    Hash16<kCompress>(c, Low8(t), High8(t), ha, hb);
    _mm512_storeu_si512(out + i, ha);
    _mm512_storeu_si512(out + i + 8, hb);
  }
  if (i == n) return;
  const PaddedBlock padded(data + i, n - i);
  const Block16 b(padded.entries);
  const __m512i t = Field<0>::Get(b.z0, b.z1, b.z2);
  Hash16<kCompress>(c, Low8(t), High8(t), ha, hb);
  const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
  _mm512_mask_storeu_epi64(out + i, static_cast<__mmask8>(m), ha);
  _mm512_mask_storeu_epi64(out + i + 8, static_cast<__mmask8>(m >> 8), hb);
}

void PrfCandidates(const SipBatch& s, const TokenData* data, size_t n, uint64_t* out) {
  s.tail_len >= 4 ? PrfCandidatesImpl<true>(s, data, n, out)
                  : PrfCandidatesImpl<false>(s, data, n, out);
}

// For vector k (dwords 16k..16k+15 of a block): the entry each dword belongs to, and which
// dwords are logits.
template <int K>
struct LogitLanes {
  static constexpr std::array<int32_t, 16> kEntry = [] {
    std::array<int32_t, 16> r{};
    for (int l = 0; l < 16; ++l) r[l] = (16 * K + l) / 3;
    return r;
  }();
  static constexpr __mmask16 kIsLogit = [] {
    unsigned m = 0;
    for (int l = 0; l < 16; ++l) m |= ((16 * K + l) % 3 == 1 ? 1u : 0u) << l;
    return static_cast<__mmask16>(m);
  }();

  // Adds delta to the finite logits of green entries (bit e of `green` for entry e).
  static __m512i Apply(__m512i z, __m512i green, __m512 delta) {
    const __m512i bits = _mm512_srlv_epi32(green, _mm512_loadu_si512(kEntry.data()));
    __mmask16 m = _mm512_test_epi32_mask(bits, _mm512_set1_epi32(1)) & kIsLogit;
    const __m512 x = _mm512_castsi512_ps(z);
    // fpclass 0x99: QNaN, +inf, -inf, SNaN.
    m &= static_cast<__mmask16>(~_mm512_fpclass_ps_mask(x, 0x99));
    return _mm512_castps_si512(_mm512_mask_add_ps(x, m, x, delta));
  }
};

template <bool kCompress>
inline void KgwBlock(const Consts& c, TokenData* d, __m512i threshold, __m512 delta) {
  char* p = reinterpret_cast<char*>(d);
  Block16 b(d);
  const __m512i t = Field<0>::Get(b.z0, b.z1, b.z2);
  __m512i ha, hb;
  Hash16<kCompress>(c, Low8(t), High8(t), ha, hb);
  const __mmask8 ga = _mm512_cmplt_epu64_mask(_mm512_srli_epi64(ha, 11), threshold);
  const __mmask8 gb = _mm512_cmplt_epu64_mask(_mm512_srli_epi64(hb, 11), threshold);
  const unsigned green16 = static_cast<unsigned>(ga) | (static_cast<unsigned>(gb) << 8);
  if (green16 == 0) return;
  const __m512i green = _mm512_set1_epi32(static_cast<int>(green16));
  _mm512_storeu_si512(p, LogitLanes<0>::Apply(b.z0, green, delta));
  _mm512_storeu_si512(p + 64, LogitLanes<1>::Apply(b.z1, green, delta));
  _mm512_storeu_si512(p + 128, LogitLanes<2>::Apply(b.z2, green, delta));
}

template <bool kCompress>
void KgwBiasImpl(const SipBatch& s, TokenData* data, size_t n, uint64_t threshold53, float delta) {
  const Consts c(s);
  const __m512i threshold = _mm512_set1_epi64(static_cast<long long>(threshold53));
  const __m512 d = _mm512_set1_ps(delta);
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) KgwBlock<kCompress>(c, data + i, threshold, d);
  if (i == n) return;
  PaddedBlock padded(data + i, n - i);
  KgwBlock<kCompress>(c, padded.entries, threshold, d);
  std::memcpy(data + i, padded.entries, (n - i) * sizeof(TokenData));
}

void KgwBias(const SipBatch& s, TokenData* data, size_t n, uint64_t threshold53, float delta) {
  s.tail_len >= 4 ? KgwBiasImpl<true>(s, data, n, threshold53, delta)
                  : KgwBiasImpl<false>(s, data, n, threshold53, delta);
}

// CombinePartialSums of acc0 (partial sums 0-7) and acc1 (8-15).
inline double Combine(__m512d acc0, __m512d acc1) {
  const __m512d s8 = _mm512_add_pd(acc0, acc1);
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd(s8, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  return _mm_cvtsd_f64(s2) + _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2));
}

// The scalar path adds x or +0.0; a masked addition that skips the lane instead is the same:
// acc + 0.0 == acc for every acc but -0.0, which a sum starting at +0.0 never becomes (in
// round-to-nearest a sum is -0.0 only if both terms are).
void Tournament(double* w, const uint64_t* values, size_t n16, uint32_t layers) {
  const __m512d zero = _mm512_setzero_pd();
  const __m512d negligible = _mm512_set1_pd(kTournamentNegligible);
  __m512d acc0 = zero, acc1 = zero;
  {
    const __m512i bit = _mm512_set1_epi64(1);
    for (size_t i = 0; i < n16; i += kBlock) {
      const __mmask8 m0 = _mm512_test_epi64_mask(_mm512_loadu_si512(values + i), bit);
      const __mmask8 m1 = _mm512_test_epi64_mask(_mm512_loadu_si512(values + i + 8), bit);
      acc0 = _mm512_mask_add_pd(acc0, m0, acc0, _mm512_loadu_pd(w + i));
      acc1 = _mm512_mask_add_pd(acc1, m1, acc1, _mm512_loadu_pd(w + i + 8));
    }
  }
  double g_mass = Combine(acc0, acc1);
  for (uint32_t layer = 0; layer < layers; ++layer) {
    const __m512d f0 = _mm512_set1_pd(1.0 - g_mass);
    const __m512d f1 = _mm512_set1_pd(2.0 - g_mass);
    const __m512i bit = _mm512_set1_epi64(static_cast<long long>(1ull << layer));
    const uint32_t next_layer = layer + 1 < 64 ? layer + 1 : 63;
    const __m512i next = _mm512_set1_epi64(static_cast<long long>(1ull << next_layer));
    acc0 = zero;
    acc1 = zero;
    for (size_t i = 0; i < n16; i += kBlock) {
      const __m512i v0 = _mm512_loadu_si512(values + i);
      const __m512i v1 = _mm512_loadu_si512(values + i + 8);
      __m512d x0 = _mm512_mul_pd(_mm512_loadu_pd(w + i),
                                 _mm512_mask_blend_pd(_mm512_test_epi64_mask(v0, bit), f0, f1));
      __m512d x1 = _mm512_mul_pd(_mm512_loadu_pd(w + i + 8),
                                 _mm512_mask_blend_pd(_mm512_test_epi64_mask(v1, bit), f0, f1));
      x0 = _mm512_mask_mov_pd(x0, _mm512_cmp_pd_mask(x0, negligible, _CMP_LT_OQ), zero);
      x1 = _mm512_mask_mov_pd(x1, _mm512_cmp_pd_mask(x1, negligible, _CMP_LT_OQ), zero);
      _mm512_storeu_pd(w + i, x0);
      _mm512_storeu_pd(w + i + 8, x1);
      acc0 = _mm512_mask_add_pd(acc0, _mm512_test_epi64_mask(v0, next), acc0, x0);
      acc1 = _mm512_mask_add_pd(acc1, _mm512_test_epi64_mask(v1, next), acc1, x1);
    }
    g_mass = Combine(acc0, acc1);
  }
}

// GumbelUniform of eight values: the 52-bit integer converts exactly.
inline __m512d Uniform(__m512i v) {
  const __m512d x = _mm512_cvtepu64_pd(_mm512_srli_epi64(v, 12));
  return _mm512_mul_pd(_mm512_add_pd(x, _mm512_set1_pd(0.5)), _mm512_set1_pd(0x1.0p-52));
}

struct GumbelInputs {
  GumbelInputs(const uint64_t* values, const TokenData* data) {
    const Block16 b(data);
    const __m512 p = _mm512_castsi512_ps(Field<2>::Get(b.z0, b.z1, b.z2));
    positive = _mm512_cmp_ps_mask(p, _mm512_setzero_ps(), _CMP_GT_OQ);
    p0 = _mm512_cvtps_pd(_mm512_castps512_ps256(p));
    p1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1)));
    r0 = Uniform(_mm512_loadu_si512(values));
    r1 = Uniform(_mm512_loadu_si512(values + 8));
  }
  __mmask16 positive;
  __m512d p0, p1, r0, r1;
};

double GumbelBound(const uint64_t* values, const TokenData* data, size_t n) {
  const __m512d one = _mm512_set1_pd(1.0);
  __m512d bound = _mm512_set1_pd(std::numeric_limits<double>::infinity());
  auto add = [&](const GumbelInputs& g) {
    const __m512d ub0 = _mm512_div_pd(_mm512_sub_pd(one, g.r0), _mm512_mul_pd(g.r0, g.p0));
    const __m512d ub1 = _mm512_div_pd(_mm512_sub_pd(one, g.r1), _mm512_mul_pd(g.r1, g.p1));
    bound = _mm512_mask_min_pd(bound, static_cast<__mmask8>(g.positive), bound, ub0);
    bound = _mm512_mask_min_pd(bound, static_cast<__mmask8>(g.positive >> 8), bound, ub1);
  };
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) add(GumbelInputs(values + i, data + i));
  if (i < n) {
    const PaddedBlock padded(data + i, n - i);  // p = 0: ignored
    uint64_t v[kBlock] = {};
    std::memcpy(v, values + i, (n - i) * sizeof(uint64_t));
    add(GumbelInputs(v, padded.entries));
  }
  return _mm512_reduce_min_pd(bound);
}

size_t GumbelFilter(const uint64_t* values, const TokenData* data, size_t n, double bound,
                    uint32_t* out) {
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d limit = _mm512_set1_pd(bound * kGumbelSlack);
  size_t count = 0;
  auto scan = [&](const GumbelInputs& g, size_t base) {
    const __mmask8 k0 =
        _mm512_cmp_pd_mask(_mm512_sub_pd(one, g.r0), _mm512_mul_pd(limit, g.p0), _CMP_NGT_UQ);
    const __mmask8 k1 =
        _mm512_cmp_pd_mask(_mm512_sub_pd(one, g.r1), _mm512_mul_pd(limit, g.p1), _CMP_NGT_UQ);
    unsigned m = (static_cast<unsigned>(k0) | (static_cast<unsigned>(k1) << 8)) & g.positive;
    while (m != 0) {
      out[count++] = static_cast<uint32_t>(base + static_cast<size_t>(__builtin_ctz(m)));
      m &= m - 1;
    }
  };
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) scan(GumbelInputs(values + i, data + i), i);
  if (i < n) {
    const PaddedBlock padded(data + i, n - i);
    uint64_t v[kBlock] = {};
    std::memcpy(v, values + i, (n - i) * sizeof(uint64_t));
    scan(GumbelInputs(v, padded.entries), i);
  }
  return count;
}

constexpr Kernels kAvx512Kernels =
    CleanKernels<PrfIds, PrfCandidates, KgwBias, Tournament, GumbelBound, GumbelFilter>();

}  // namespace

const Kernels& Avx512Kernels() { return kAvx512Kernels; }

}  // namespace warden::watermark::internal
