// Credentials in text: provider key and token formats, private-key blocks, and high-entropy
// strings. The `secrets` scanner (to come) wraps this.
//
// Known formats (each a Hyperscan pattern, some with a checksum or structure check in code):
// AWS access key ids (AKIA/ASIA + 16), GitHub tokens (ghp_/gho_/ghu_/ghs_/ghr_ + 36, and
// github_pat_), GitLab (glpat-), Slack (xox[abprs]-), Stripe (sk_live_/rk_live_), OpenAI-style
// (sk-... and sk-proj-...), Anthropic-style (sk-ant-), Google API keys (AIza + 35), JSON Web
// Tokens (three base64url parts, the first decoding to a JSON object with "alg"), PEM private
// key blocks (-----BEGIN ... PRIVATE KEY----- to the matching END), and generic
// `password=` / `api_key:` style assignments. High entropy: a token of 20+ characters from the
// base64 / hex alphabets whose Shannon entropy per character is above a threshold (4.0 bits
// for base64-like, 3.0 for hex) and that mixes character classes, so that long words, paths
// and UUID-free prose do not trigger it.
//
// Thread-safety: a SecretDetector is immutable after Create; Find may run on many threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "guard/hyperscan.h"

namespace warden::guard {

struct SecretMatch {
  std::string kind;  // "aws_access_key_id", "github_token", "private_key", "jwt",
                     // "high_entropy", ...
  size_t begin = 0;
  size_t end = 0;
  double score = 1.0;  // 1 for a known format; entropy-based in (0, 1) for high_entropy
};

class SecretDetector {
 public:
  static Result<SecretDetector> Create();

  // Ordered by begin; a known-format match suppresses a high-entropy match it overlaps.
  // Errors: those of Database::Scan.
  Result<std::vector<SecretMatch>> Find(std::string_view text) const;

 private:
  explicit SecretDetector(Database db) : db_(std::move(db)) {}
  Database db_;
};

// Shannon entropy of the bytes of `s`, in bits per byte (exposed for tests).
double ShannonEntropy(std::string_view s);

}  // namespace warden::guard
