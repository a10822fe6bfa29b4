// Tokenizer: text <-> token ids from a GGUF file's vocabulary, as llama.cpp tokenizes.
//
// Built once from the `tokenizer.ggml.*` metadata of a GGUF file (docs/formats/gguf-vocab.md
// lists the keys, what each tokenizer kind does and what is validated). Three kinds:
//   - kSpm ("llama"): SentencePiece-style bigram merging by token score over the text with
//     spaces escaped to U+2581 and a space prefix, falling back to <0xNN> byte tokens;
//   - kBpe ("gpt2"): a pre-tokenizer (hand-written equivalents of llama.cpp's regexes for
//     the "default", "gpt-2", "falcon", "starcoder", "llama-bpe" and "qwen2" families) then
//     GPT-2 byte-to-unicode mapping and merges by rank;
//   - kWpm ("bert"): BERT WordPiece (lower-casing, accent stripping, greedy longest match).
// The goal is token-for-token agreement with llama.cpp's `llama_tokenize` (checked against
// llama.cpp's own known-answer files in the tests), including its special-token handling:
// control and user-defined token texts in the input are cut out before the text is
// tokenized, longest first; user-defined tokens always, control tokens only with
// parse_special (as llama.cpp and Hugging Face tokenizers do).
//
// Work is bounded: encoding takes O(n log n) time in the text length for merging, plus
// O(n * k) for cutting out the k distinct special tokens that occur in the text (one linear
// pass finds them), never quadratic in n, whatever the input.
//
// Ownership and thread-safety: a Tokenizer is an immutable value; copies share one
// read-only vocabulary. All const methods may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/types.h"
#include "formats/gguf.h"

namespace warden::engine {

enum class TokenizerKind { kSpm, kBpe, kWpm };

// "spm", "bpe", "wpm".
std::string_view TokenizerKindName(TokenizerKind kind);

// GGUF tokenizer.ggml.token_type values (formats/gguf.h).
using TokenType = formats::GgufTokenType;

struct EncodeOptions {
  bool add_special = true;  // BOS (and EOS) as the vocabulary's add_bos/add_eos say
  // Control (and unknown) token texts in the input become those tokens. User-defined token
  // texts always do, as in llama.cpp and Hugging Face tokenizers.
  bool parse_special = false;
};

class Tokenizer {
 public:
  // Builds from parsed GGUF metadata. `source` names the file in messages. Errors:
  // DataLoss for a missing or mistyped key or inconsistent arrays (the message names the key
  // and, for arrays, the index); InvalidArgument for an unsupported tokenizer.ggml.model or
  // tokenizer.ggml.pre, with the list of supported ones. Everything is validated here once
  // (ids in range, token types known, merges well-formed and naming known tokens, no
  // duplicate token texts, byte tokens well-formed), so encoding never meets a bad table.
  static Result<Tokenizer> FromGguf(const formats::GgufFile& gguf, std::string_view source);

  // Token ids for `text`. InvalidArgument when `text` is not valid UTF-8 (the message gives
  // the byte offset), or, for an SPM vocabulary without byte tokens and without an unknown
  // token, when a byte of the text has no token at all.
  Result<std::vector<Token>> Encode(std::string_view text, const EncodeOptions& opts = {}) const;

  // The bytes token `id` contributes to the output text: SPM/WPM turn U+2581 into a space,
  // <0xNN> byte tokens give that byte, BPE maps its byte-level characters back to bytes.
  // Control and unknown tokens give "" unless `render_special` (then their text);
  // user-defined tokens give their text. May be a partial UTF-8 sequence (byte tokens).
  // Out-of-range id -> "".
  std::string TokenToPiece(Token id, bool render_special = false) const;

  // The concatenated pieces. With `strip_leading_space`, a vocabulary that adds a space
  // prefix (SPM) drops one leading space from the first piece that is not empty, so that
  // Decode(Encode(s)) == s (BOS or other unrendered tokens before it do not count).
  std::string Decode(std::span<const Token> ids, bool render_special = false,
                     bool strip_leading_space = true) const;

  size_t vocab_size() const;
  TokenizerKind kind() const;
  std::string_view pre() const;                // pre-tokenizer name ("default", "gpt-2", ...)
  std::string_view TokenText(Token id) const;  // raw vocabulary string; "" when out of range
  TokenType GetTokenType(Token id) const;      // kUndefined when out of range
  float TokenScore(Token id) const;            // 0 when out of range
  // A control token (also one that llama.cpp promotes to control because it ends a turn).
  bool IsControl(Token id) const;

  Token bos() const;  // kNoToken when absent
  Token eos() const;
  Token eot() const;  // end of turn: tokenizer.ggml.eot_token_id or found by text
  Token unk() const;
  Token pad() const;
  Token sep() const;
  // True for eos, eot, eom and the other end-of-turn tokens llama.cpp recognises by text
  // ("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", ...).
  bool IsEndOfGeneration(Token id) const;
  std::span<const Token> end_of_generation_tokens() const;  // sorted

  bool add_bos() const;
  bool add_eos() const;
  bool add_space_prefix() const;

  // Exact vocabulary string -> id, or kNoToken.
  Token FindToken(std::string_view text) const;

 private:
  struct Vocab;
  explicit Tokenizer(std::shared_ptr<const Vocab> vocab) : v_(std::move(vocab)) {}

  std::shared_ptr<const Vocab> v_;
};

}  // namespace warden::engine
