// The scalar kernels (the portable path and the yardstick of the vector ones) and the choice of
// path.
#include "watermark/internal/prf_batch.h"

#include <algorithm>

#include <bit>
#include <cmath>
#include <limits>

namespace warden::watermark::internal {
namespace {

using engine::KernelIsa;
using engine::Token;
using engine::TokenData;

void PrfIdsScalar(const SipBatch& s, const Token* ids, size_t n, uint64_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = FinishToken(s, static_cast<uint32_t>(ids[i]));
}

void PrfCandidatesScalar(const SipBatch& s, const TokenData* data, size_t n, uint64_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = FinishToken(s, static_cast<uint32_t>(data[i].id));
}

void KgwBiasScalar(const SipBatch& s, TokenData* data, size_t n, uint64_t threshold53,
                   float delta) {
  for (size_t i = 0; i < n; ++i) {
    // -inf must stay masked (and +inf / NaN have nothing to gain), so skip the hash too.
    if (!std::isfinite(data[i].logit)) continue;
    if (KgwGreen(FinishToken(s, static_cast<uint32_t>(data[i].id)), threshold53)) {
      data[i].logit += delta;
    }
  }
}

// x when `bit` is 1, +0.0 when 0, without a branch (the bits are random: a branch would be
// mispredicted half the time). Bit for bit what the vector paths' masked additions add.
inline double IfBit(double x, uint64_t bit) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(x) & (0 - bit));
}

// The g = 1 mass of bit `bit` over w, in the order of CombinePartialSums.
double GMassScalar(const double* w, const uint64_t* values, size_t n16, uint32_t bit) {
  double acc[kBlock] = {};
  for (size_t i = 0; i < n16; i += kBlock) {
    for (size_t j = 0; j < kBlock; ++j) acc[j] += IfBit(w[i + j], (values[i + j] >> bit) & 1);
  }
  return CombinePartialSums(acc);
}

void TournamentScalar(double* w, const uint64_t* values, size_t n16, uint32_t layers) {
  double g_mass = GMassScalar(w, values, n16, 0);
  for (uint32_t layer = 0; layer < layers; ++layer) {
    // The factor of bit b is f0 ^ ((f0 ^ f1) & -b) in bits: a select without a branch or a
    // table lookup (either keeps the compiler from vectorising the loop).
    const uint64_t f0 = std::bit_cast<uint64_t>(1.0 - g_mass);
    const uint64_t f_diff = f0 ^ std::bit_cast<uint64_t>(2.0 - g_mass);
    double acc[kBlock] = {};
    const uint32_t next = layer + 1 < 64 ? layer + 1 : 63;  // the last layer's sum is unused
    for (size_t i = 0; i < n16; i += kBlock) {
      for (size_t j = 0; j < kBlock; ++j) {
        const uint64_t v = values[i + j];
        double x = w[i + j] * std::bit_cast<double>(f0 ^ (f_diff & (0 - ((v >> layer) & 1))));
        x = x < kTournamentNegligible ? 0.0 : x;
        w[i + j] = x;
        acc[j] += IfBit(x, (v >> next) & 1);
      }
    }
    g_mass = CombinePartialSums(acc);
  }
}

double GumbelBoundScalar(const uint64_t* values, const TokenData* data, size_t n) {
  double bound = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (!(data[i].p > 0.0f)) continue;
    const double r = GumbelUniform(values[i]);
    const double ub = (1.0 - r) / (r * static_cast<double>(data[i].p));
    bound = ub < bound ? ub : bound;
  }
  return bound;
}

size_t GumbelFilterScalar(const uint64_t* values, const TokenData* data, size_t n, double bound,
                          uint32_t* out) {
  const double limit = bound * kGumbelSlack;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(data[i].p > 0.0f)) continue;
    const double r = GumbelUniform(values[i]);
    if (!(1.0 - r > limit * static_cast<double>(data[i].p)))
      out[count++] = static_cast<uint32_t>(i);
  }
  return count;
}

constexpr Kernels kScalarKernels = {PrfIdsScalar,     PrfCandidatesScalar, KgwBiasScalar,
                                    TournamentScalar, GumbelBoundScalar,   GumbelFilterScalar};

}  // namespace

SipBatch PrepareBatch(const SipHasher& absorbed) {
  const SipHasher::RawState raw = absorbed.raw_state();
  SipBatch s;
  for (int i = 0; i < 4; ++i) s.v[i] = raw.v[i];
  s.tail = raw.tail;
  s.tail_len = raw.tail_len;
  s.length = ((raw.total + 4) & 0xff) << 56;
  return s;
}

const Kernels& KernelsFor(KernelIsa isa) {
  // The CPU checks run cpuid (a trap to the hypervisor in a VM): once, not once per step.
#if WARDEN_HAVE_WATERMARK_AVX512_KERNELS
  static const bool has_avx512 = engine::CpuHasAvx512();
  if (isa >= KernelIsa::kAvx512 && has_avx512) return Avx512Kernels();
#endif
#if WARDEN_HAVE_WATERMARK_AVX2_KERNELS
  static const bool has_avx2 = engine::CpuHasAvx2();
  if (isa >= KernelIsa::kAvx2 && has_avx2) return Avx2Kernels();
#endif
  (void)isa;
  return kScalarKernels;
}

const Kernels& ActiveKernels() { return KernelsFor(engine::ActiveIsa()); }

const Kernels& ActiveKernels(size_t n) {
  const KernelIsa isa = engine::ActiveIsa();
  return KernelsFor(n < kAvx512MinCandidates ? std::min(isa, KernelIsa::kAvx2) : isa);
}

}  // namespace warden::watermark::internal
