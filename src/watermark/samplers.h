// The watermark schemes as samplers of the engine's chain (engine/sampler.h).
//
//   kgw         (Kirchenbauer et al., 2023) a bias sampler: adds `delta` to the logit of every
//               green token, green being keyed on the previous `context` tokens. Runs on the
//               full vocabulary, before truncation (ChainExtensions::bias). Not distortion-free.
//   tournament  (SynthID-Text style, Dathathri et al., 2024) a selector: `layers` rounds of a
//               two-player tournament with keyed binary g-values, computed in closed form on
//               the candidates' probabilities (after one layer with mass G on g = 1 tokens,
//               p(t) <- p(t) * (g(t) == 1 ? 2 - G : 1 - G)), then one draw from the seeded
//               SamplerRng. The expectation over keys of the result is the input distribution
//               (distortion-free per step).
//   gumbel      (Aaronson, 2022) a selector: picks argmin over candidates with p > 0 of
//               -ln(r_t) / p_t, r_t = GumbelUniform(PRF(context, t)), ties to the lower id.
//               Distortion-free per step; deterministic given the context.
// A step has no watermark (and the selectors draw from the SamplerRng like `dist`) when fewer
// than `context` tokens precede it, and, for tournament and gumbel, when its context already
// occurred earlier in the sequence (prompt included): the context-history mask, which keeps
// repeated n-grams from repeating the same keyed choice and keeps the sequence distortion-free.
// kgw does not mask (its detector skips repeated (context, token) pairs instead).
//
// Callers that only have logits (the library API, a remote backend) use these samplers the
// same way: SamplerChain::Sample(logits) per step, Accept for the tokens they appended.
//
// Thread-safety and ownership: as engine::Sampler (one per sequence; Clone for more).
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "engine/sampler.h"
#include "watermark/key.h"
#include "watermark/prf.h"

namespace warden::watermark {

// Samplers for one scheme. Precondition: ValidateParams(scheme, params) is OK (the factories
// below and MakeWatermarkExtensions check it). `seed` seeds the selectors' SamplerRng (the
// draws of unwatermarked steps and of the tournament's final choice).
std::unique_ptr<engine::Sampler> MakeKgwSampler(const Prf& prf, const SchemeParams& params);
std::unique_ptr<engine::Sampler> MakeTournamentSampler(const Prf& prf, const SchemeParams& params,
                                                       uint64_t seed);
std::unique_ptr<engine::Sampler> MakeGumbelSampler(const Prf& prf, const SchemeParams& params,
                                                   uint64_t seed);

// What to hand BuildSamplerChain to watermark with `key` under `scheme`: kgw as `bias`,
// tournament and gumbel as `selector`. InvalidArgument when params do not validate.
Result<engine::ChainExtensions> MakeWatermarkExtensions(const WatermarkKey& key, Scheme scheme,
                                                        const SchemeParams& params, uint64_t seed);

// Registers the factories "watermark_kgw", "watermark_tournament" and "watermark_gumbel"
// (maturity "stable"). Config keys: "secret" (64 hex digits, required), "context", and per
// scheme "gamma", "delta" (kgw), "layers" (tournament), "seed" (tournament, gumbel); missing
// keys take DefaultParams. Errors name the sampler and the key, as the built-ins do. Call once
// per registry, after RegisterBuiltinSamplers.
void RegisterWatermarkSamplers(engine::SamplerRegistry& registry);

}  // namespace warden::watermark
