// Context: the state of one token sequence over a shared Model (KV cache and scratch), and
// the forward pass that extends it.
//
// Decode(tokens) appends the tokens at positions n_past(), n_past()+1, ... and returns their
// logits. Several tokens at once (a prompt) are evaluated as a batch: every weight matrix is
// streamed once per batch (matrix-matrix products), with causal attention inside the batch.
// Long batches are cut into chunks of ContextOptions::n_batch tokens, which bounds scratch
// memory. One token at a time (generation) streams every weight once per token, so decode
// speed is bounded by memory bandwidth; the work of each matrix product is split over the
// context's threads by rows, attention by (token, head).
//
// The llama forward pass: x = embedding(token); per layer
//   h = x + Wo·Attention(RoPE(Wq·n), RoPE(Wk·n), Wv·n) with n = RmsNorm(x)·attn_norm,
//   x = h + Wdown·(silu(Wgate·m) * (Wup·m)) with m = RmsNorm(h)·ffn_norm;
// logits = Woutput·(RmsNorm(x)·output_norm). RoPE is llama's "normal" mode: adjacent pairs
// (2i, 2i+1) of the first n_rot dimensions of each head rotate by pos·freq_scale·
// base^(-2i/n_rot) (divided by rope_freqs[i] when the file has them). Attention scores are
// scaled by 1/sqrt(head_dim); with grouped-query attention query head h reads KV head
// h / (n_head / n_head_kv).
//
// Determinism: every output element is computed by one thread with the same operations in
// the same order whatever the thread count and however the work is split, so the same calls
// give bit-identical logits with 1 or 16 threads. How tokens are grouped into calls can
// matter: the matrix kernels compute a batch of fewer than kFloatActivationMinTokens tokens
// exactly as they compute one token, but a longer batch (a prompt) takes the prefill kernels
// (float FMA tiles, or 8-bit VNNI tiles for Q8_0/Q4_0 on AVX-512; engine/kernels.h), whose
// summation order differs from token-at-a-time decoding in the low bits. forward_test checks
// both properties.
//
// Memory: the KV cache holds n_ctx x n_layer x 2 x (n_head_kv * head_dim) values, 2 bytes
// each (F16, the default) or 4 (F32). It is allocated but not touched at Create, so
// resident memory grows with the positions actually used. Scratch grows to the largest batch
// seen (capped by n_batch) and is then reused: decoding allocates nothing after the first
// call of a given size.
//
// Thread-safety: a Context is used by one thread at a time (it owns worker threads of its
// own). Many Contexts may share one Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/types.h"

namespace warden::engine {

namespace internal {
class ParallelRunner;
}  // namespace internal

// How keys and values are stored, and so how attention is computed.
//   kF16 (default): half-precision cache (half the memory), and attention computed the way
//     llama.cpp's CPU flash attention computes it with its default F16 cache: queries
//     rounded to f16, scores in f32, an online softmax, and the weighted sum of values
//     accumulated in f16 (rounded after every step). This is what makes our log-probabilities
//     agree with llama.cpp's to ~1e-4 instead of ~1e-2 (tests/engine/reference_logprobs_test).
//   kF32: single-precision cache and exact-as-float attention (scores, softmax, f32 sums):
//     twice the memory, closest to exact arithmetic (the forward tests use it).
enum class KvCacheType { kF16, kF32 };
std::string_view KvCacheTypeName(KvCacheType type);  // "f16", "f32"

struct ContextOptions {
  uint32_t n_ctx = 0;    // positions; 0: the model's training context (llama.context_length)
  uint32_t threads = 0;  // 0: every hardware thread
  uint32_t n_batch = 0;  // most tokens per forward pass; 0: kDefaultBatch
  KvCacheType kv_type = KvCacheType::kF16;
};

inline constexpr uint32_t kDefaultBatch = 256;
inline constexpr uint32_t kMaxThreads = 256;
// A KV cache (plus the scratch of the largest batch) above this is refused
// (ResourceExhausted) before anything is allocated, as is one larger than the machine's
// physical memory.
inline constexpr uint64_t kMaxKvCacheBytes = uint64_t{64} << 30;
// Decode(all_logits) refuses to return more than this (or half the physical memory).
inline constexpr uint64_t kMaxAllLogitsBytes = uint64_t{8} << 30;

class Context {
 public:
  // Errors: InvalidArgument for a null model, n_ctx above kMaxContext, threads above
  // kMaxThreads, n_batch above kMaxContext; ResourceExhausted when the KV cache, or it and
  // the scratch of an n_batch batch, would exceed kMaxKvCacheBytes or the physical memory
  // ("KV cache of 131072 MiB for 1048576 positions ...").
  // An n_ctx larger than the model was trained for is allowed (quality degrades past it).
  static Result<std::unique_ptr<Context>> Create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Evaluates `tokens` at positions n_past().. and advances n_past() by their number.
  // Returns the logits (n_vocab floats) of the last token, or with `all_logits` those of
  // every token (tokens.size() x n_vocab, token-major). The span stays valid until the next
  // Decode, Reset, Rewind or destruction.
  // Errors (nothing is evaluated, the state is unchanged): InvalidArgument for no tokens, a
  // token id outside [0, n_vocab) (naming its index), or more tokens than the context has
  // room for ("prompt of 600 tokens does not fit the context of 512"); ResourceExhausted
  // when all_logits would exceed kMaxAllLogitsBytes (or half the physical memory).
  Result<std::span<const float>> Decode(std::span<const Token> tokens, bool all_logits = false);

  size_t n_past() const { return n_past_; }
  size_t n_ctx() const { return n_ctx_; }
  size_t threads() const;
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }

  // Empties the KV cache (n_past() becomes 0).
  void Reset() { n_past_ = 0; }
  // Forgets positions >= n_past so that a shared prefix is kept and the rest re-evaluated.
  // InvalidArgument if n_past > n_past().
  Status Rewind(size_t n_past);

  // The KV cache's size as allocated (not necessarily resident).
  uint64_t kv_cache_bytes() const;

  // A forward pass uses one thread per `bytes` of weight bytes x tokens (at most threads()),
  // so that tiny models do not pay for synchronisation; tests pass 1 to split even tiny
  // models over every thread. 0 restores the default (4 MiB).
  void SetWorkPerThreadForTesting(uint64_t bytes);

 private:
  Context(std::shared_ptr<const Model> model, size_t n_ctx, size_t threads, size_t n_batch,
          KvCacheType kv_type);

  // Attention of query `q` (head_dim floats) over positions [0, n_keys) of one KV head of
  // layer l, into `out` (head_dim floats). `scores` has n_ctx floats of scratch; `acc16`
  // and `q16` have head_dim entries (F16 cache only).
  void AttendF32(const float* q, const float* k, const float* v, size_t n_keys, float scale,
                 float* scores, float* out) const;
  void AttendF16(const float* q, const uint16_t* k, const uint16_t* v, size_t n_keys,
                 float scale, float* q16, uint16_t* acc16, float* out) const;

  // Makes sure the scratch buffers hold n_tokens tokens.
  void ReserveScratch(size_t n_tokens);
  // Runs the forward pass over tokens (at most n_batch) at positions n_past_...; writes the
  // logits of every token into `logits` (stride n_vocab) when all_logits, else of the last
  // token only, or none when logits is null. Does not advance n_past_.
  void Forward(std::span<const Token> tokens, float* logits, bool all_logits);

  std::shared_ptr<const Model> model_;
  const ModelConfig& cfg_;
  size_t n_ctx_;
  size_t n_batch_;
  size_t n_past_ = 0;
  size_t kv_dim_;  // n_head_kv * head_dim
  size_t q_dim_;   // n_head * head_dim
  std::unique_ptr<internal::ParallelRunner> runner_;
  uint64_t work_per_thread_;

  KvCacheType kv_type_;
  // KV cache: per layer, n_ctx rows of kv_dim for K, then the same for V; kv_ (F32) or
  // kv16_ (F16 bits), whichever kv_type_ says.
  std::unique_ptr<float[]> kv_;
  std::unique_ptr<uint16_t[]> kv16_;
  // F16 cache: the batch's new keys and values in f32 before rounding into the cache
  // (tokens x kv_dim each), and per-thread attention scratch (2 x head_dim).
  std::vector<float> k_new_, v_new_;
  std::vector<float> q16_;
  std::vector<uint16_t> acc16_;
  // Rotation frequency of pair i of a head (pos * inv_freq_[i] is the angle).
  std::vector<double> inv_freq_;

  // Scratch, sized for scratch_tokens_ tokens.
  size_t scratch_tokens_ = 0;
  std::vector<float> x_;                    // residual stream, tokens x n_embd
  std::vector<float> xn_;                   // normalised input of a matrix product, tokens x n_embd
  std::vector<float> q_;                    // queries, tokens x q_dim
  std::vector<float> attn_;                 // attention output, tokens x q_dim
  std::vector<float> tmp_;                  // attention / FFN output before the residual add
  std::vector<float> gate_;                 // tokens x n_ff
  std::vector<float> up_;                   // tokens x n_ff
  std::vector<float> rope_cos_, rope_sin_;  // tokens x n_rot/2
  std::vector<float> scores_;               // per thread: n_ctx attention scores
  std::vector<float> logits_;               // n_vocab (last token)
  std::vector<float> all_logits_;
  // Prepared matrix-product inputs: q/k/v (one per distinct weight type), output
  // projection, gate/up, down, classifier.
  MatMulInput in_q_, in_k_, in_v_, in_o_, in_gate_, in_up_, in_down_, in_out_;
};

}  // namespace warden::engine
