#include "engine/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace warden::engine {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Length of the UTF-8 sequence starting at s[i] when it is valid and complete (> 0), 0 when it
// is a valid but incomplete prefix that ends the buffer, -1 when s[i] starts no valid sequence.
int Utf8SequenceAt(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = b(i);
  if (lead < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // no overlong forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const uint8_t c = b(i + k);
    const uint8_t min = k == 1 ? lo : 0x80;
    const uint8_t max = k == 1 ? hi : 0xBF;
    if (c < min || c > max) return -1;
  }
  return len;
}

}  // namespace

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfSequence:
      return "eos";
    case FinishReason::kContextFull:
      return "context_full";
    case FinishReason::kStopped:
      return "stopped";
    case FinishReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string Utf8Stream::Push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const int n = Utf8SequenceAt(pending_, i);
    if (n == 0) break;  // wait for the rest of this character
    if (n < 0) {
      out.append(kReplacementCharacter);
      ++i;
      continue;
    }
    out.append(pending_, i, static_cast<size_t>(n));
    i += static_cast<size_t>(n);
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::Flush() {
  std::string out;
  if (!pending_.empty()) out.append(kReplacementCharacter);
  pending_.clear();
  return out;
}

Generator::Generator(std::shared_ptr<const Model> model,
                     std::shared_ptr<const Tokenizer> tokenizer, std::unique_ptr<Context> context)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), context_(std::move(context)) {}

Result<std::unique_ptr<Generator>> Generator::Create(std::shared_ptr<const Model> model,
                                                     std::shared_ptr<const Tokenizer> tokenizer,
                                                     const ContextOptions& options) {
  if (model == nullptr || tokenizer == nullptr) {
    return InvalidArgumentError("generator: a model and its tokenizer are required");
  }
  if (tokenizer->vocab_size() != model->config().n_vocab) {
    return InvalidArgumentError("generator: the tokenizer has " +
                                std::to_string(tokenizer->vocab_size()) +
                                " tokens but the model's output has " +
                                std::to_string(model->config().n_vocab));
  }
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<Context> context, Context::Create(model, options));
  return std::unique_ptr<Generator>(
      new Generator(std::move(model), std::move(tokenizer), std::move(context)));
}

Result<GenerateResult> Generator::Generate(GenerateRequest& request) {
  const size_t n_vocab = model_->config().n_vocab;
  if (request.prompt.empty()) {
    return InvalidArgumentError("the prompt has no tokens (a model needs at least one, e.g. BOS)");
  }
  if (request.max_tokens == 0) {
    return InvalidArgumentError("max_tokens must be at least 1");
  }
  if (request.sampler == nullptr) {
    return InvalidArgumentError("the request has no sampler chain");
  }
  for (size_t i = 0; i < request.prompt.size(); ++i) {
    const Token t = request.prompt[i];
    if (t < 0 || static_cast<size_t>(t) >= n_vocab) {
      return InvalidArgumentError("prompt token " + std::to_string(i) + " is " +
                                  std::to_string(t) + ", outside the vocabulary of " +
                                  std::to_string(n_vocab));
    }
  }
  if (request.prompt.size() > context_->n_ctx()) {
    return InvalidArgumentError("prompt of " + std::to_string(request.prompt.size()) +
                                " tokens does not fit the context of " +
                                std::to_string(context_->n_ctx()));
  }

  GenerateResult result;
  const auto cancelled = [&] {
    return request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed);
  };

  // Reuse the longest prefix already in the KV cache, but always evaluate at least the last
  // prompt token: its logits are what the first sample needs.
  size_t reuse = 0;
  const size_t limit = std::min(cached_.size(), request.prompt.size() - 1);
  while (reuse < limit && cached_[reuse] == request.prompt[reuse]) ++reuse;
  WARDEN_RETURN_IF_ERROR(context_->Rewind(reuse));
  cached_.resize(reuse);

  request.sampler->Reset();
  for (Token t : request.prompt) request.sampler->Accept(t);

  if (cancelled()) {
    result.finish = FinishReason::kCancelled;
    return result;
  }
  const auto prefill_start = std::chrono::steady_clock::now();
  const std::span<const Token> fresh(request.prompt.data() + reuse, request.prompt.size() - reuse);
  Result<std::span<const float>> logits = context_->Decode(fresh);
  if (!logits.ok()) {
    // The cache may hold part of the batch; forget it rather than guess.
    context_->Reset();
    cached_.clear();
    return logits.status();
  }
  cached_.insert(cached_.end(), fresh.begin(), fresh.end());
  result.prompt_tokens_evaluated = fresh.size();
  result.prompt_seconds = SecondsSince(prefill_start);

  const auto generate_start = std::chrono::steady_clock::now();
  Utf8Stream utf8;
  Candidates candidates;
  // SentencePiece marks a word start with a space; the first word of a text that starts right
  // after BOS has no space before it (llama.cpp and llama2.c both drop it).
  bool strip_space =
      tokenizer_->kind() == TokenizerKind::kSpm && request.prompt.back() == tokenizer_->bos();
  result.finish = FinishReason::kLength;
  for (uint32_t step = 0; step < request.max_tokens; ++step) {
    Candidates::FromLogits(*logits, &candidates);
    request.sampler->Apply(candidates);
    if (candidates.selected < 0 ||
        static_cast<size_t>(candidates.selected) >= candidates.data.size()) {
      return FailedPreconditionError("the sampler chain selected no token (end it with " +
                                     std::string("greedy or dist)"));
    }
    const TokenData& chosen = candidates.data[static_cast<size_t>(candidates.selected)];
    if (chosen.logit == -INFINITY) {
      return FailedPreconditionError("the sampler chain masked every token (token " +
                                     std::to_string(chosen.id) + " chosen at -infinity)");
    }
    const Token id = chosen.id;
    request.sampler->Accept(id);
    if (request.stop_at_end_of_generation && tokenizer_->IsEndOfGeneration(id)) {
      result.finish = FinishReason::kEndOfSequence;
      break;
    }

    GeneratedToken token;
    token.id = id;
    token.logprob = static_cast<float>(LogSoftmaxAt(*logits, id));
    std::string piece = tokenizer_->TokenToPiece(id);
    if (strip_space && !piece.empty()) {
      if (piece.front() == ' ') piece.erase(0, 1);
      strip_space = false;
    }
    token.text = utf8.Push(piece);
    result.text += token.text;
    const bool keep_going = !request.on_token || request.on_token(token);
    result.tokens.push_back(std::move(token));
    if (!keep_going) {
      result.finish = FinishReason::kStopped;
      break;
    }
    if (step + 1 == request.max_tokens) break;  // no need to evaluate the last token
    if (context_->n_past() >= context_->n_ctx()) {
      result.finish = FinishReason::kContextFull;
      break;
    }
    if (cancelled()) {
      result.finish = FinishReason::kCancelled;
      break;
    }
    logits = context_->Decode(std::span<const Token>(&id, 1));
    if (!logits.ok()) {
      context_->Reset();
      cached_.clear();
      return logits.status();
    }
    cached_.push_back(id);
  }
  const std::string tail = utf8.Flush();
  if (!tail.empty()) {
    result.text += tail;
    if (!result.tokens.empty()) result.tokens.back().text += tail;
  }
  result.generate_seconds = SecondsSince(generate_start);
  return result;
}

}  // namespace warden::engine
