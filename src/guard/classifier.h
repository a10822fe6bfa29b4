// A linear text classifier over hashed word and character n-grams, trained by warden itself
// (logistic regression): the model behind the `injection`, `jailbreak` and `harmful` scanners.
//
// Features: ASCII letters are lower-cased and every other byte is kept as it is (the `unicode`
// scanner normalises text, NFKC and confusables, before any classifier sees it); words are runs
// of ASCII letters and digits and UTF-8 multi-byte sequences. Features are word unigrams and
// bigrams and character n-grams of lengths [char_min, char_max] over the text with runs of
// whitespace collapsed to one space; each is hashed (FNV-1a 64 over a one-byte feature-kind
// prefix and the feature's bytes, then the splitmix64 finalizer: a mixing hash, not a keyed
// PRF, since nothing here is secret) into 2^hash_bits buckets with a sign bit (feature
// hashing with signed buckets); a bucket hit by `a` features with sign + and `b` with sign -
// gets log(1 + a) - log(1 + b), and the vector is scaled to unit L2 norm. score = sigmoid(bias + w . x).
//
// Training (Train): logistic loss with L2 regularisation, plain SGD with a learning rate that
// decays as lr / (1 + epoch), `epochs` passes over the examples in an order shuffled by a
// std::mt19937_64 seeded with `seed` (its output is fixed by the C++ standard; no
// std::*_distribution is used, they are implementation-defined). Same examples, same options
// -> the same model, byte for byte, on every platform with IEEE doubles.
//
// Model file (docs/formats/guard-classifier.md): little-endian binary, magic "WGCLS001", the
// options, the bias, 2^hash_bits float32 weights, and a SHA-256 of everything before it.
//
// Thread-safety: a Classifier is immutable after Train/Load; Score may run concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::guard {

struct ClassifierOptions {
  uint32_t hash_bits = 16;  // [10, 24]; 2^16 float32 weights = 256 KiB per model file
  uint32_t char_min = 3;    // [1, 8], <= char_max
  uint32_t char_max = 5;    // [1, 8]
  bool word_bigrams = true;
  // Training only (recorded in the file for reproducibility).
  uint32_t epochs = 8;      // [1, 1000]
  double learning_rate = 0.5;
  double l2 = 1e-6;         // [0, 1)
  uint64_t seed = 1;
};

struct Example {
  std::string text;
  bool positive = false;
};

class Classifier {
 public:
  // InvalidArgument for options out of range, no examples, or only one class.
  static Result<Classifier> Train(std::span<const Example> examples, const ClassifierOptions& options);

  // The model file bytes, and back. Parse: DataLoss naming `source` and the byte offset for a
  // bad magic, unsupported version, options out of range, truncated or oversized weights, a
  // checksum mismatch, or a non-finite weight.
  std::string Serialize() const;
  static Result<Classifier> Parse(std::string_view bytes, std::string_view source);
  static Result<Classifier> Load(const std::string& path);

  // Probability in [0, 1] that `text` is positive. Any bytes are accepted (text that is not
  // UTF-8 is scored as bytes). Cost is linear in the text length.
  double Score(std::string_view text) const;

  const ClassifierOptions& options() const { return options_; }

 private:
  ClassifierOptions options_;
  float bias_ = 0;
  std::vector<float> weights_;
};

}  // namespace warden::guard
