#include "engine/context.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "base/thread_pool.h"
#include "engine/internal/parallel.h"

namespace warden::engine {
namespace {

// Row ranges of a matrix product start at multiples of this: even, so that a RoPE pair never
// straddles two threads and each thread can rotate the rows it computed, and 16 floats (one
// 64-byte cache line) so that two threads rarely write the same line of an output. (Results
// do not depend on the split: the kernels compute every row the same way in any range.)
constexpr size_t kRowAlign = 16;

// A forward pass uses one more thread per this many weight bytes touched (weights x tokens):
// below it, the ~50 barrier crossings per token cost more than the split saves (and much
// more when the machine is oversubscribed). A 1 MB model decodes on one thread; a 100 MB
// one, or a 128-token prompt on the 1 MB one, uses them all. Results do not depend on it.
constexpr uint64_t kDefaultWorkPerThread = uint64_t{4} << 20;

struct Range {
  size_t begin, end;
};

// Member tid's share of `rows` rows among n members: contiguous, aligned to kRowAlign.
Range RowRange(size_t rows, size_t tid, size_t n) {
  size_t chunk = (rows + n - 1) / n;
  chunk = (chunk + kRowAlign - 1) / kRowAlign * kRowAlign;
  const size_t begin = std::min(rows, tid * chunk);
  return {begin, std::min(rows, begin + chunk)};
}

// Physical memory, or the cap itself when the system does not say.
uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return kMaxKvCacheBytes;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

// Upper bound of the scratch a batch of n tokens needs: the activations Context keeps
// (residual, normalised input, projection output, queries, attention output, gate, up,
// rotation tables) and, as much again, the kernels' prepared copies of matrix inputs.
uint64_t ScratchBytes(const ModelConfig& c, uint64_t n) {
  const uint64_t q_dim = uint64_t{c.n_head} * c.head_dim;
  const uint64_t per_token = 3 * uint64_t{c.n_embd} + 2 * q_dim + 2 * uint64_t{c.n_ff} + c.n_rot;
  return 2 * n * per_token * sizeof(float);
}

std::string MiB(uint64_t bytes) {
  return std::to_string((bytes + (uint64_t{1} << 20) - 1) >> 20) + " MiB";
}

}  // namespace

std::string_view KvCacheTypeName(KvCacheType type) {
  return type == KvCacheType::kF16 ? "f16" : "f32";
}

Context::Context(std::shared_ptr<const Model> model, size_t n_ctx, size_t threads, size_t n_batch,
                 KvCacheType kv_type)
    : model_(std::move(model)),
      cfg_(model_->config()),
      n_ctx_(n_ctx),
      n_batch_(n_batch),
      kv_dim_(size_t{cfg_.n_head_kv} * cfg_.head_dim),
      q_dim_(size_t{cfg_.n_head} * cfg_.head_dim),
      runner_(std::make_unique<internal::ParallelRunner>(threads)),
      work_per_thread_(kDefaultWorkPerThread),
      kv_type_(kv_type) {
  // Not value-initialised: pages are touched only as positions are written.
  const size_t kv_elements = n_ctx_ * cfg_.n_layer * 2 * kv_dim_;
  if (kv_type_ == KvCacheType::kF16) {
    kv16_ = std::make_unique_for_overwrite<uint16_t[]>(kv_elements);
    q16_.resize(runner_->size() * cfg_.head_dim);
    acc16_.resize(runner_->size() * cfg_.head_dim);
  } else {
    kv_ = std::make_unique_for_overwrite<float[]>(kv_elements);
  }
  inv_freq_.resize(cfg_.n_rot / 2);
  const float* factors = model_->rope_freq_factors();
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    inv_freq_[i] = double{cfg_.rope_freq_scale} *
                   std::pow(double{cfg_.rope_freq_base},
                            -2.0 * static_cast<double>(i) / static_cast<double>(cfg_.n_rot));
    if (factors != nullptr) inv_freq_[i] /= double{factors[i]};
  }
  scores_.resize(runner_->size() * n_ctx_);
  logits_.resize(cfg_.n_vocab);
}

Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::Create(std::shared_ptr<const Model> model,
                                                 const ContextOptions& options) {
  if (model == nullptr) return InvalidArgumentError("Context::Create: no model");
  const ModelConfig& c = model->config();
  const uint64_t n_ctx = options.n_ctx == 0 ? c.n_ctx_train : options.n_ctx;
  if (n_ctx > kMaxContext) {
    return InvalidArgumentError("context of " + std::to_string(n_ctx) +
                                " positions exceeds the limit of " + std::to_string(kMaxContext));
  }
  if (options.threads > kMaxThreads) {
    return InvalidArgumentError("threads " + std::to_string(options.threads) +
                                " exceeds the limit of " + std::to_string(kMaxThreads));
  }
  if (options.n_batch > kMaxContext) {
    return InvalidArgumentError("batch of " + std::to_string(options.n_batch) +
                                " tokens exceeds the limit of " + std::to_string(kMaxContext));
  }
  const size_t threads = options.threads == 0 ? ThreadPool::HardwareThreads() : options.threads;
  const size_t n_batch =
      std::min<uint64_t>(options.n_batch == 0 ? kDefaultBatch : options.n_batch, n_ctx);

  // Caps on hyper-parameters (model.h) keep these products far below 2^64.
  const uint64_t kv_element_bytes = options.kv_type == KvCacheType::kF16 ? 2 : 4;
  const uint64_t kv_bytes =
      n_ctx * c.n_layer * 2 * uint64_t{c.n_head_kv} * c.head_dim * kv_element_bytes;
  const uint64_t score_bytes = threads * n_ctx * 4;
  const uint64_t scratch_bytes = ScratchBytes(c, n_batch);
  const uint64_t limit = std::min(kMaxKvCacheBytes, PhysicalMemoryBytes());
  if (kv_bytes + score_bytes > limit) {
    return ResourceExhaustedError("KV cache of " + MiB(kv_bytes) + " for " + std::to_string(n_ctx) +
                                  " positions (" + std::to_string(c.n_layer) + " layers x 2 x " +
                                  std::to_string(uint64_t{c.n_head_kv} * c.head_dim) +
                                   " values each) exceeds the limit of " + MiB(limit) +
                                  "; choose a smaller context");
  }
  if (kv_bytes + score_bytes + scratch_bytes > limit) {
    return ResourceExhaustedError("scratch of " + MiB(scratch_bytes) + " for batches of " +
                                  std::to_string(n_batch) + " tokens (with a KV cache of " +
                                  MiB(kv_bytes) + ") exceeds the limit of " + MiB(limit) +
                                  "; choose a smaller batch");
  }
  return std::unique_ptr<Context>(
      new Context(std::move(model), n_ctx, threads, n_batch, options.kv_type));
}

size_t Context::threads() const { return runner_->size(); }

void Context::SetWorkPerThreadForTesting(uint64_t bytes) {
  work_per_thread_ = bytes == 0 ? kDefaultWorkPerThread : bytes;
}

uint64_t Context::kv_cache_bytes() const {
  const uint64_t element = kv_type_ == KvCacheType::kF16 ? sizeof(uint16_t) : sizeof(float);
  return uint64_t{n_ctx_} * cfg_.n_layer * 2 * kv_dim_ * element;
}

Status Context::Rewind(size_t n_past) {
  if (n_past > n_past_) {
    return InvalidArgumentError("cannot rewind to position " + std::to_string(n_past) + ": only " +
                                std::to_string(n_past_) + " are in the cache");
  }
  n_past_ = n_past;
  return Status::Ok();
}

Result<std::span<const float>> Context::Decode(std::span<const Token> tokens, bool all_logits) {
  if (tokens.empty()) return InvalidArgumentError("Decode: no tokens");
  if (tokens.size() > n_ctx_ - n_past_) {
    if (n_past_ == 0) {
      return InvalidArgumentError("prompt of " + std::to_string(tokens.size()) +
                                  " tokens does not fit the context of " + std::to_string(n_ctx_));
    }
    return InvalidArgumentError(std::to_string(tokens.size()) +
                                " more tokens do not fit the context of " + std::to_string(n_ctx_) +
                                " (" + std::to_string(n_past_) + " positions in use)");
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<uint64_t>(tokens[i]) >= cfg_.n_vocab) {
      return InvalidArgumentError("token " + std::to_string(tokens[i]) + " at index " +
                                  std::to_string(i) + " is outside the vocabulary [0, " +
                                  std::to_string(cfg_.n_vocab) + ")");
    }
  }
  const size_t n_vocab = cfg_.n_vocab;
  if (all_logits) {
    const uint64_t bytes = uint64_t{tokens.size()} * n_vocab * sizeof(float);
    const uint64_t limit = std::min(kMaxAllLogitsBytes, PhysicalMemoryBytes() / 2);
    if (bytes > limit) {
      return ResourceExhaustedError("logits of all " + std::to_string(tokens.size()) +
                                    " tokens would take " + MiB(bytes) + ", above the limit of " +
                                    MiB(limit) + "; decode in smaller pieces");
    }
  }
  if (all_logits && all_logits_.size() < tokens.size() * n_vocab) {
    all_logits_.resize(tokens.size() * n_vocab);
  }
  for (size_t begin = 0; begin < tokens.size(); begin += n_batch_) {
    const size_t n = std::min(n_batch_, tokens.size() - begin);
    const bool last = begin + n == tokens.size();
    float* out = nullptr;
    if (all_logits) {
      out = all_logits_.data() + begin * n_vocab;
    } else if (last) {
      out = logits_.data();
    }
    Forward(tokens.subspan(begin, n), out, all_logits);
    n_past_ += n;
  }
  if (all_logits) return std::span<const float>(all_logits_.data(), tokens.size() * n_vocab);
  return std::span<const float>(logits_.data(), n_vocab);
}

void Context::ReserveScratch(size_t n_tokens) {
  if (n_tokens <= scratch_tokens_) return;
  scratch_tokens_ = n_tokens;
  x_.resize(n_tokens * cfg_.n_embd);
  xn_.resize(n_tokens * cfg_.n_embd);
  tmp_.resize(n_tokens * cfg_.n_embd);
  q_.resize(n_tokens * q_dim_);
  attn_.resize(n_tokens * q_dim_);
  gate_.resize(n_tokens * cfg_.n_ff);
  up_.resize(n_tokens * cfg_.n_ff);
  rope_cos_.resize(n_tokens * inv_freq_.size());
  rope_sin_.resize(n_tokens * inv_freq_.size());
  if (kv_type_ == KvCacheType::kF16) {
    k_new_.resize(n_tokens * kv_dim_);
    v_new_.resize(n_tokens * kv_dim_);
  }
}

void Context::AttendF32(const float* q, const float* k, const float* v, size_t n_keys,
                        float scale, float* scores, float* out) const {
  const size_t head_dim = cfg_.head_dim;
  for (size_t j = 0; j < n_keys; ++j) scores[j] = DotF32(q, k + j * kv_dim_, head_dim) * scale;
  SoftmaxInPlace(scores, n_keys);
  std::fill(out, out + head_dim, 0.0f);
  for (size_t j = 0; j < n_keys; ++j) AxpyF32(scores[j], v + j * kv_dim_, out, head_dim);
}

// One pass over the keys with a running maximum M and normaliser S (online softmax); the
// weighted sum of values lives in f16 and is rounded after every update, as llama.cpp's CPU
// flash attention does with an F16 cache. Rounding per step is deliberate: it is what makes
// the results agree with llama.cpp's (see KvCacheType).
void Context::AttendF16(const float* q, const uint16_t* k, const uint16_t* v, size_t n_keys,
                        float scale, float* q16, uint16_t* acc16, float* out) const {
  const size_t head_dim = cfg_.head_dim;
  for (size_t d = 0; d < head_dim; ++d) q16[d] = F16ToF32(F32ToF16(q[d]));
  std::fill(acc16, acc16 + head_dim, uint16_t{0});
  float max = -INFINITY;
  float sum = 0.0f;
  for (size_t j = 0; j < n_keys; ++j) {
    const float s = DotF32F16Row(q16, k + j * kv_dim_, head_dim) * scale;
    float rescale = 1.0f;  // factor for what was accumulated so far
    float weight = 1.0f;   // factor for this value
    if (s > max) {
      rescale = std::exp(max - s);
      max = s;
      ScaleF16Row(rescale, acc16, head_dim);
    } else {
      weight = std::exp(s - max);
    }
    AxpyF16Row(weight, v + j * kv_dim_, acc16, head_dim);
    sum = sum * rescale + weight;
  }
  const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
  for (size_t d = 0; d < head_dim; ++d) out[d] = F16ToF32(acc16[d]) * inv;
}

void Context::Forward(std::span<const Token> tokens, float* logits, bool all_logits) {
  const size_t n_tok = tokens.size();
  const size_t p0 = n_past_;
  const size_t n_embd = cfg_.n_embd;
  const size_t n_ff = cfg_.n_ff;
  const size_t n_head = cfg_.n_head;
  const size_t head_dim = cfg_.head_dim;
  const size_t n_rot = cfg_.n_rot;
  const size_t group = cfg_.n_head / cfg_.n_head_kv;
  const size_t n_pairs = inv_freq_.size();
  const float eps = cfg_.rms_eps;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const size_t n_out = logits == nullptr ? 0 : (all_logits ? n_tok : 1);
  ReserveScratch(n_tok);

  // Rotation angles in double precision (exact enough at any position), per token and pair.
  for (size_t t = 0; t < n_tok; ++t) {
    for (size_t i = 0; i < n_pairs; ++i) {
      const double angle = static_cast<double>(p0 + t) * inv_freq_[i];
      rope_cos_[t * n_pairs + i] = static_cast<float>(std::cos(angle));
      rope_sin_[t * n_pairs + i] = static_cast<float>(std::sin(angle));
    }
  }
  // Rotates rows [begin, end) (even bounds) of every token of a row-major buffer.
  auto rope = [&](float* buf, size_t stride, Range r) {
    for (size_t t = 0; t < n_tok; ++t) {
      float* row = buf + t * stride;
      const float* cs = &rope_cos_[t * n_pairs];
      const float* sn = &rope_sin_[t * n_pairs];
      for (size_t j = r.begin; j < r.end; j += 2) {
        const size_t d = j % head_dim;
        if (d >= n_rot) continue;
        const float c = cs[d / 2], s = sn[d / 2];
        const float x0 = row[j], x1 = row[j + 1];
        row[j] = x0 * c - x1 * s;
        row[j + 1] = x0 * s + x1 * c;
      }
    }
  };
  // Inputs shared by several products are prepared once when their weight types agree.
  auto input_for = [](const WeightView& w, const WeightView& first, MatMulInput& shared,
                      MatMulInput& own) -> MatMulInput& {
    return w.type == first.type ? shared : own;
  };

  const WeightView& embd = model_->token_embedding();
  const uint64_t work = model_->weight_bytes() * n_tok;
  const size_t n_threads =
      static_cast<size_t>(std::min<uint64_t>(runner_->size(), 1 + work / work_per_thread_));
  runner_->Run(n_threads, [&](size_t tid, size_t nth) {
    internal::ParallelRunner& team = *runner_;
    float* scores = &scores_[tid * n_ctx_];
    if (tid == 0) {
      for (size_t t = 0; t < n_tok; ++t) {
        DequantizeRow(embd.type, embd.data + static_cast<size_t>(tokens[t]) * embd.row_bytes,
                      &x_[t * n_embd], n_embd);
      }
    }
    for (size_t l = 0; l < cfg_.n_layer; ++l) {
      const LayerWeights& w = model_->layer(l);
      const bool f16 = kv_type_ == KvCacheType::kF16;
      const size_t layer_offset = l * 2 * n_ctx_ * kv_dim_;
      float* k_cache = f16 ? nullptr : kv_.get() + layer_offset;
      float* v_cache = f16 ? nullptr : k_cache + n_ctx_ * kv_dim_;
      uint16_t* k_cache16 = f16 ? kv16_.get() + layer_offset : nullptr;
      uint16_t* v_cache16 = f16 ? k_cache16 + n_ctx_ * kv_dim_ : nullptr;
      // New keys and values: straight into an F32 cache at positions p0..., or through f32
      // staging rows into an F16 one.
      float* k_dst = f16 ? k_new_.data() : k_cache + p0 * kv_dim_;
      float* v_dst = f16 ? v_new_.data() : v_cache + p0 * kv_dim_;
      MatMulInput& in_k = input_for(w.wk, w.wq, in_q_, in_k_);
      MatMulInput& in_v = input_for(w.wv, w.wq, in_q_, in_v_);
      MatMulInput& in_up = input_for(w.w_up, w.w_gate, in_gate_, in_up_);

      // Attention block.
      if (tid == 0) {
        for (size_t t = 0; t < n_tok; ++t) {
          RmsNorm(&x_[t * n_embd], w.attn_norm, eps, n_embd, &xn_[t * n_embd]);
        }
        in_q_.Prepare(w.wq.type, xn_.data(), n_tok, n_embd);
        if (&in_k != &in_q_) in_k.Prepare(w.wk.type, xn_.data(), n_tok, n_embd);
        if (&in_v != &in_q_) in_v.Prepare(w.wv.type, xn_.data(), n_tok, n_embd);
      }
      team.Barrier();
      const Range rq = RowRange(q_dim_, tid, nth);
      MatMul(w.wq, in_q_, q_.data(), q_dim_, rq.begin, rq.end);
      rope(q_.data(), q_dim_, rq);
      const Range rkv = RowRange(kv_dim_, tid, nth);
      MatMul(w.wk, in_k, k_dst, kv_dim_, rkv.begin, rkv.end);
      rope(k_dst, kv_dim_, rkv);
      MatMul(w.wv, in_v, v_dst, kv_dim_, rkv.begin, rkv.end);
      if (f16) {
        for (size_t t = 0; t < n_tok; ++t) {
          const size_t row = (p0 + t) * kv_dim_;
          for (size_t c = rkv.begin; c < rkv.end; ++c) {
            k_cache16[row + c] = F32ToF16(k_dst[t * kv_dim_ + c]);
            v_cache16[row + c] = F32ToF16(v_dst[t * kv_dim_ + c]);
          }
        }
      }
      team.Barrier();
      // Interleaved (token, head) units balance the causal triangle of a batch.
      for (size_t u = tid; u < n_tok * n_head; u += nth) {
        const size_t t = u / n_head, h = u % n_head;
        const size_t n_keys = p0 + t + 1;
        const float* q = &q_[t * q_dim_ + h * head_dim];
        const size_t kv_off = (h / group) * head_dim;
        float* out = &attn_[t * q_dim_ + h * head_dim];
        if (f16) {
          AttendF16(q, k_cache16 + kv_off, v_cache16 + kv_off, n_keys, scale,
                    &q16_[tid * head_dim], &acc16_[tid * head_dim], out);
        } else {
          AttendF32(q, k_cache + kv_off, v_cache + kv_off, n_keys, scale, scores, out);
        }
      }
      team.Barrier();
      if (tid == 0) in_o_.Prepare(w.wo.type, attn_.data(), n_tok, q_dim_);
      team.Barrier();
      const Range re = RowRange(n_embd, tid, nth);
      MatMul(w.wo, in_o_, tmp_.data(), n_embd, re.begin, re.end);
      team.Barrier();

      // Feed-forward block.
      if (tid == 0) {
        AxpyF32(1.0f, tmp_.data(), x_.data(), n_tok * n_embd);
        for (size_t t = 0; t < n_tok; ++t) {
          RmsNorm(&x_[t * n_embd], w.ffn_norm, eps, n_embd, &xn_[t * n_embd]);
        }
        in_gate_.Prepare(w.w_gate.type, xn_.data(), n_tok, n_embd);
        if (&in_up != &in_gate_) in_up.Prepare(w.w_up.type, xn_.data(), n_tok, n_embd);
      }
      team.Barrier();
      const Range rf = RowRange(n_ff, tid, nth);
      MatMul(w.w_gate, in_gate_, gate_.data(), n_ff, rf.begin, rf.end);
      MatMul(w.w_up, in_up, up_.data(), n_ff, rf.begin, rf.end);
      team.Barrier();
      if (tid == 0) {
        SwiGlu(gate_.data(), up_.data(), gate_.data(), n_tok * n_ff);
        in_down_.Prepare(w.w_down.type, gate_.data(), n_tok, n_ff);
      }
      team.Barrier();
      MatMul(w.w_down, in_down_, tmp_.data(), n_embd, re.begin, re.end);
      team.Barrier();
      // The residual add is tid 0's, like the stage that follows it: no barrier between.
      if (tid == 0) AxpyF32(1.0f, tmp_.data(), x_.data(), n_tok * n_embd);
    }
    if (n_out == 0) return;
    if (tid == 0) {
      const size_t first = n_tok - n_out;
      for (size_t t = 0; t < n_out; ++t) {
        RmsNorm(&x_[(first + t) * n_embd], model_->output_norm(), eps, n_embd, &xn_[t * n_embd]);
      }
      in_out_.Prepare(model_->output().type, xn_.data(), n_out, n_embd);
    }
    team.Barrier();
    const Range rv = RowRange(cfg_.n_vocab, tid, nth);
    MatMul(model_->output(), in_out_, logits, cfg_.n_vocab, rv.begin, rv.end);
  });
}

}  // namespace warden::engine
