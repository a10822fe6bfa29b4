// Generator: runs one model for a sequence of requests, streaming tokens as they are sampled.
//
// This is the library face of the engine that `warden generate` and the gateway call per
// request: a prompt (token ids), a sampler chain owned by the request, a token budget, a
// streaming callback that may stop the generation, and a cancellation flag another thread may
// raise. The generator keeps one Context (KV cache) and remembers the tokens it holds, so a
// request whose prompt extends the previous conversation only evaluates the new tokens.
//
// Text: each streamed token carries the text it completes. A multi-byte UTF-8 character split
// over several byte tokens is held back until it is complete, so every callback receives valid
// UTF-8 and concatenating them gives the final `text`. A byte sequence that never completes
// is replaced by U+FFFD at the end.
//
// Thread-safety: one Generator serves one request at a time (a gateway keeps a pool of them);
// `cancel` may be set from any thread. The Model is shared and immutable.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"
#include "engine/types.h"

namespace warden::engine {

struct GeneratedToken {
  Token id = kNoToken;
  std::string text;      // the valid UTF-8 text this token completes (may be empty)
  float logprob = 0.0f;  // natural log-probability under the model's full softmax
};

enum class FinishReason {
  kLength,         // max_tokens generated
  kEndOfSequence,  // the model produced an end-of-generation token (not included in text)
  kContextFull,    // the context window is full
  kStopped,        // the streaming callback returned false
  kCancelled,      // the cancel flag was raised
};
std::string_view FinishReasonName(FinishReason reason);  // "length", "eos", ...

struct GenerateRequest {
  std::vector<Token> prompt;     // as tokenized (BOS included when the model wants it)
  uint32_t max_tokens = 128;     // at least 1
  // The per-request chain; it must select a token (end with greedy or dist). Reset, then fed
  // the prompt through Accept, before the first token is sampled.
  std::unique_ptr<Sampler> sampler;
  // Called once per generated token (the end-of-generation token excluded), in order; return
  // false to stop. May be empty.
  std::function<bool(const GeneratedToken&)> on_token;
  const std::atomic<bool>* cancel = nullptr;  // checked before every model evaluation
  bool stop_at_end_of_generation = true;
};

struct GenerateResult {
  std::vector<GeneratedToken> tokens;
  std::string text;
  FinishReason finish = FinishReason::kLength;
  size_t prompt_tokens_evaluated = 0;  // prompt tokens not already in the KV cache
  double prompt_seconds = 0;           // prefill wall time
  double generate_seconds = 0;         // wall time from the first sampled token to the end
};

class Generator {
 public:
  // The tokenizer must be the model's own (Tokenizer::FromGguf(model->gguf(), ...)).
  static Result<std::unique_ptr<Generator>> Create(std::shared_ptr<const Model> model,
                                                   std::shared_ptr<const Tokenizer> tokenizer,
                                                   const ContextOptions& options = {});

  // Runs one request. Errors (nothing is generated): InvalidArgument for an empty prompt,
  // max_tokens 0, a missing sampler, a token id outside the vocabulary, or a prompt that
  // does not fit the context ("prompt of 600 tokens does not fit the context of 512");
  // FailedPrecondition when the sampler selects nothing. Running out of context while
  // generating is not an error: finish is kContextFull.
  Result<GenerateResult> Generate(GenerateRequest& request);

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  Context& context() { return *context_; }
  size_t n_ctx() const { return context_->n_ctx(); }

 private:
  Generator(std::shared_ptr<const Model> model, std::shared_ptr<const Tokenizer> tokenizer,
            std::unique_ptr<Context> context);

  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<Context> context_;
  std::vector<Token> cached_;  // the tokens whose keys and values are in the context
};

// Holds back incomplete UTF-8 sequences of a byte stream so that every chunk handed out is
// valid UTF-8. Invalid bytes become U+FFFD.
class Utf8Stream {
 public:
  // Appends bytes; returns the text that is now complete.
  std::string Push(std::string_view bytes);
  // Returns what is left (an incomplete sequence becomes U+FFFD).
  std::string Flush();

 private:
  std::string pending_;
};

}  // namespace warden::engine
