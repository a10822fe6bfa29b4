// Shared by the vector kernel files (prf_batch_avx2.cc, prf_batch_avx512.cc) only: include it
// from a translation unit compiled for AVX2 or higher.
//
// Every kernel leaves through _mm256_zeroupper(): the rest of warden is baseline x86-64 (legacy
// SSE encoding), and SSE instructions that run while the upper halves of the vector registers
// are dirty pay for a merge on every instruction. GCC does not put vzeroupper on every exit
// path of these functions (one ended in a memcpy); without it the model's own double-precision
// exp in LogSoftmaxAt became several times slower after each kgw step (measured: 259 -> 92
// tokens/s on a 32000-token vocabulary with WARDEN_KERNELS=avx2).
#pragma once

#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "watermark/internal/prf_batch.h"

namespace warden::watermark::internal {

template <auto kKernel, typename... Args>
auto LeaveClean(Args... args) {
  if constexpr (std::is_void_v<decltype(kKernel(args...))>) {
    kKernel(args...);
    _mm256_zeroupper();
  } else {
    const auto result = kKernel(args...);
    _mm256_zeroupper();
    return result;
  }
}

// A partial block (n < N candidates) copied into zero-filled storage so that the vector code
// of an N-candidate block can run on it unchanged (p = 0 and logit 0 in the padding).
template <size_t N>
struct PaddedBlock {
  PaddedBlock(const engine::TokenData* d, size_t n) {
    std::memset(entries, 0, sizeof(entries));
    std::memcpy(entries, d, n * sizeof(engine::TokenData));
  }
  engine::TokenData entries[N];
};

// The kernel table of one ISA, every entry wrapped in LeaveClean.
template <auto kPrfIds, auto kPrfCandidates, auto kKgwBias, auto kTournament, auto kGumbelBound,
          auto kGumbelFilter>
constexpr Kernels CleanKernels() {
  return {LeaveClean<kPrfIds, const SipBatch&, const engine::Token*, size_t, uint64_t*>,
          LeaveClean<kPrfCandidates, const SipBatch&, const engine::TokenData*, size_t, uint64_t*>,
          LeaveClean<kKgwBias, const SipBatch&, engine::TokenData*, size_t, uint64_t, float>,
          LeaveClean<kTournament, double*, const uint64_t*, size_t, uint32_t>,
          LeaveClean<kGumbelBound, const uint64_t*, const engine::TokenData*, size_t>,
          LeaveClean<kGumbelFilter, const uint64_t*, const engine::TokenData*, size_t, double,
                     uint32_t*>};
}

}  // namespace warden::watermark::internal
