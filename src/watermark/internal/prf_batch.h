// The watermark samplers' per-step loops over every candidate, vectorised: the PRF of one
// context with each candidate token appended (SipHash-2-4 finished once per candidate), and the
// scheme-specific work that follows it (kgw's green bias, the tournament's layers, gumbel's
// search for the minimum score).
//
// Every loop has a scalar, an AVX2 (4 lanes of 64 bits) and an AVX-512 (8 lanes) kernel, picked
// per call from engine::ActiveIsa(), so the engine's choice and its WARDEN_KERNELS=scalar|avx2|
// avx512 cap apply here too. The kernels of one loop give bit-identical results on every path:
// the hash is integer arithmetic; the tournament's sums have one fixed summation order (below)
// that every path implements; gumbel's search only narrows down which candidates get the exact
// scalar score. That matters because generation and detection must agree across machines.
//
// Thread-safety: pure functions; Kernels tables are immutable. Ownership: callers own every
// buffer passed in.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "engine/kernels.h"
#include "engine/sampler.h"
#include "watermark/prf.h"

namespace warden::watermark::internal {

// A hasher that absorbed a context, ready to finish with one more 4-byte token. The token
// completes a message word (and is compressed) when 4 or more bytes are pending; otherwise it
// joins the pending bytes of the final word.
struct SipBatch {
  uint64_t v[4];
  uint64_t tail;      // pending bytes
  uint32_t tail_len;  // 0-7
  uint64_t length;    // ((total + 4) mod 256) << 56: the final word's length byte
};

SipBatch PrepareBatch(const SipHasher& absorbed);

namespace sip {

inline void Round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = std::rotl(v1, 13);
  v1 ^= v0;
  v0 = std::rotl(v0, 32);
  v2 += v3;
  v3 = std::rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = std::rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = std::rotl(v1, 17);
  v1 ^= v2;
  v2 = std::rotl(v2, 32);
}

}  // namespace sip

// SipHasher::UpdateLe32(token) followed by Finish(), from the prepared state: the scalar
// kernels, and the yardstick of the vector ones.
inline uint64_t FinishToken(const SipBatch& s, uint32_t token) {
  uint64_t v0 = s.v[0], v1 = s.v[1], v2 = s.v[2], v3 = s.v[3];
  const uint64_t t = token;
  uint64_t b;
  if (s.tail_len >= 4) {
    const uint64_t m = s.tail | (t << (8 * s.tail_len));
    v3 ^= m;
    sip::Round(v0, v1, v2, v3);
    sip::Round(v0, v1, v2, v3);
    v0 ^= m;
    b = (t >> (64 - 8 * s.tail_len)) | s.length;  // shift 32..8: the bytes that did not fit
  } else {
    b = s.tail | (t << (8 * s.tail_len)) | s.length;
  }
  v3 ^= b;
  sip::Round(v0, v1, v2, v3);
  sip::Round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) sip::Round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

// Candidates a vector kernel handles per iteration; the tournament's buffers are padded to a
// multiple of it.
inline constexpr size_t kBlock = 16;
inline size_t PaddedSize(size_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// The tournament's g-mass sums: candidate i adds to partial sum i mod 16, and the 16 partial
// sums a[0..15] are combined as s8[j] = a[j] + a[j + 8], s4[j] = s8[j] + s8[j + 4],
// s2[j] = s4[j] + s4[j + 2], total = s2[0] + s2[1] (what two 8-lane or four 4-lane
// accumulators reduce to naturally).
inline double CombinePartialSums(const double a[16]) {
  double s8[8], s4[4];
  for (int j = 0; j < 8; ++j) s8[j] = a[j] + a[j + 8];
  for (int j = 0; j < 4; ++j) s4[j] = s8[j] + s8[j + 4];
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// Weights below this become 0 in the tournament (see samplers.cc).
inline constexpr double kTournamentNegligible = 1e-300;

// Gumbel's search: the exact score -ln(r) / p is bracketed by (1 - r) / p <= score <=
// (1 - r) / (r p) (from 1 - r <= -ln r <= (1 - r) / r). With T the least upper bound over the
// candidates, a candidate whose lower bound exceeds T by more than rounding cannot be the
// argmin (nor tie it). kGumbelSlack covers the rounding of std::log, of the bounds and of the
// divisions (a few units of 2^-52) with a wide margin.
inline constexpr double kGumbelSlack = 1.0 + 0x1.0p-30;

struct Kernels {
  // out[i] = PRF of ids[i] (FinishToken(s, ids[i])), i < n.
  void (*prf_ids)(const SipBatch& s, const engine::Token* ids, size_t n, uint64_t* out);
  // out[i] = PRF of data[i].id, i < n.
  void (*prf_candidates)(const SipBatch& s, const engine::TokenData* data, size_t n, uint64_t* out);
  // kgw: data[i].logit += delta for every candidate with a finite logit and a green PRF value
  // ((v >> 11) < threshold53).
  void (*kgw_bias)(const SipBatch& s, engine::TokenData* data, size_t n, uint64_t threshold53,
                   float delta);
  // The tournament's `layers` rounds on weights w[0..n16) with PRF values values[0..n16),
  // n16 a multiple of kBlock (padding: w = 0). Per layer l, with G the g = 1 mass (sums as
  // CombinePartialSums): w = w * (bit l ? 2 - G : 1 - G), then w < kTournamentNegligible ? 0 : w.
  void (*tournament)(double* w, const uint64_t* values, size_t n16, uint32_t layers);
  // Gumbel: the least (1 - r) / (r p) over candidates with p > 0 (r = GumbelUniform(values[i]),
  // p = data[i].p), +infinity when none has p > 0.
  double (*gumbel_bound)(const uint64_t* values, const engine::TokenData* data, size_t n);
  // Gumbel: the indices, ascending, of the candidates with p > 0 and
  // !(1 - r > bound * kGumbelSlack * p), into `out` (room for n); returns how many.
  size_t (*gumbel_filter)(const uint64_t* values, const engine::TokenData* data, size_t n,
                          double bound, uint32_t* out);
};

// The kernels of a path (a path this build or CPU lacks gives the highest one below it).
const Kernels& KernelsFor(engine::KernelIsa isa);
// KernelsFor(engine::ActiveIsa()).
const Kernels& ActiveKernels();

// Running 512-bit instructions can lower the core's clock for a while. On the bundled model,
// whose own decode kernels stay on AVX2, the AVX-512 watermark kernels made every decode step
// 5-9% slower (measured with every kernel leaving through vzeroupper, so it is the clock) to
// save about 1 us per step. Batches below this size therefore use at most AVX2; every path
// gives identical results, so the choice never changes an output.
inline constexpr size_t kAvx512MinCandidates = 4096;
// The kernels for a batch of `n` candidates: ActiveKernels(), capped at AVX2 below
// kAvx512MinCandidates.
const Kernels& ActiveKernels(size_t n);

// The vector kernels (prf_batch_avx2.cc, prf_batch_avx512.cc): only to be called when
// engine::CpuHasAvx2() / CpuHasAvx512() say the CPU has the instructions.
const Kernels& Avx2Kernels();
const Kernels& Avx512Kernels();

}  // namespace warden::watermark::internal
