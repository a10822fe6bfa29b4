// Implementation of the secret detector (guard/secrets.h).
//
// Hyperscan only finds where a known format starts: every pattern is a prefix plus a
// fixed-length minimum body, so that it reports one match per occurrence however long the token
// is (an unbounded repeat would report every end offset, and a hostile 64 KB token would fill
// the match budget). The code then extends the body to its real end, checks that the token is
// not glued to neighbouring token characters, and runs the structure checks. A candidate glued
// on its left is rejected before it is extended, and a candidate's extension can only cover
// characters whose left neighbour is a body character, so the total extension work is linear.
//
// High-entropy strings are not a Hyperscan pattern either: one pass over the text splits it
// into runs of base64 / hex characters and scores each run of 20+ characters.
#include "guard/secrets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace warden::guard {
namespace {

// ---- Character classes ----

enum CharSet : uint8_t {
  kAlnum = 1,       // [A-Za-z0-9]
  kUpperAlnum = 2,  // [A-Z0-9]
  kWord = 4,        // [A-Za-z0-9_]
  kUrlSafe = 8,     // [A-Za-z0-9_-] (base64url)
  kAlnumDash = 16,  // [A-Za-z0-9-]
  kB64Std = 32,     // [A-Za-z0-9+/] (standard base64, without padding)
};

constexpr std::array<uint8_t, 256> MakeCharTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    uint8_t bits = 0;
    if (upper || lower || digit) bits |= kAlnum | kWord | kUrlSafe | kAlnumDash | kB64Std;
    if (upper || digit) bits |= kUpperAlnum;
    if (c == '_') bits |= kWord | kUrlSafe;
    if (c == '-') bits |= kUrlSafe | kAlnumDash;
    if (c == '+' || c == '/') bits |= kB64Std;
    t[static_cast<size_t>(c)] = bits;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kCharTable = MakeCharTable();

bool In(char c, uint8_t set) { return (kCharTable[static_cast<unsigned char>(c)] & set) != 0; }

// End of the run of `set` characters that starts at `pos`.
size_t RunEnd(std::string_view text, size_t pos, uint8_t set) {
  while (pos < text.size() && In(text[pos], set)) ++pos;
  return pos;
}

bool GluedLeft(std::string_view text, size_t begin, uint8_t set) {
  return begin > 0 && In(text[begin - 1], set);
}

// ---- Known formats ----

// How a candidate's body is delimited once Hyperscan has found its prefix.
struct TokenFormat {
  const char* kind;
  const char* expression;  // prefix + minimum body, fixed length
  size_t prefix_len;       // bytes of the literal prefix (0: the expression has none)
  uint8_t body;            // characters of the body
  uint8_t boundary;        // characters that may not touch the token on either side
  size_t min_body;         // body length bounds after extension
  size_t max_body;
  bool needs_mixed_case_and_digit = false;  // for the loose `sk-` shape
};

// Indices into kFormats double as Hyperscan pattern ids; the structured checks (JWT, PEM,
// assignments) come after them.
constexpr TokenFormat kFormats[] = {
    {"aws_access_key_id", "(?:AKIA|ASIA)[A-Z0-9]{16}", 4, kUpperAlnum, kAlnum, 16, 16},
    {"github_token", "gh[pousr]_[A-Za-z0-9]{36}", 4, kAlnum, kWord, 36, 36},
    // Fine-grained PATs: 22 + '_' + 59 today; allow some growth in either direction.
    {"github_token", "github_pat_[A-Za-z0-9_]{40}", 11, kWord, kWord, 40, 255},
    {"gitlab_token", "glpat-[A-Za-z0-9_-]{20}", 6, kUrlSafe, kUrlSafe, 20, 255},
    {"slack_token", "xox[abprs]-[A-Za-z0-9-]{10}", 5, kAlnumDash, kUrlSafe, 10, 255},
    {"stripe_key", "[sr]k_live_[A-Za-z0-9]{24}", 8, kAlnum, kWord, 24, 247},
    {"anthropic_key", "sk-ant-[A-Za-z0-9_-]{32}", 7, kUrlSafe, kUrlSafe, 32, 255},
    // `sk-` alone is also the start of ordinary hyphenated words ("sk-learn-..."), so the body
    // must look random: upper case, lower case and a digit.
    {"openai_key", "sk-[A-Za-z0-9_-]{20}", 3, kUrlSafe, kUrlSafe, 20, 255, true},
    {"google_api_key", "AIza[A-Za-z0-9_-]{35}", 4, kUrlSafe, kUrlSafe, 35, 35},
};
constexpr uint32_t kFormatCount = sizeof(kFormats) / sizeof(kFormats[0]);

// A JSON object base64url-encodes to 'e' followed by 'y' ('{' then '"' or ' ') or 'w' ('{' then
// '\n', '\r' or '\t'); the pattern ends at the dot after the payload, and the code extends the
// signature.
constexpr uint32_t kJwtPattern = kFormatCount;
constexpr const char* kJwtExpression = "e[wy][A-Za-z0-9_-]{6,}\\.[A-Za-z0-9_-]{2,}\\.";

constexpr uint32_t kPemBeginPattern = kFormatCount + 1;
constexpr uint32_t kPemEndPattern = kFormatCount + 2;
constexpr const char* kPemBeginExpression = "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----";
constexpr const char* kPemEndExpression = "-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----";

// `password = ...`, `"api_key": "..."`, `DB_PASSWORD=...`: the key, an optional closing quote,
// the separator, an optional opening quote. The value is delimited in code.
constexpr uint32_t kAssignmentPattern = kFormatCount + 3;
constexpr const char* kAssignmentExpression =
    "(?:password|passwd|passphrase|pwd|secret|secret[_-]?key|api[_-]?key|apikey|"
    "access[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|token)"
    "[\"']?[ \\t]*[:=][ \\t]*[\"']?";
constexpr size_t kMinAssignedValue = 8;
constexpr size_t kMaxAssignedValue = 256;

bool HasUpperLowerDigit(std::string_view s) {
  bool upper = false, lower = false, digit = false;
  for (char c : s) {
    upper |= c >= 'A' && c <= 'Z';
    lower |= c >= 'a' && c <= 'z';
    digit |= c >= '0' && c <= '9';
  }
  return upper && lower && digit;
}

// The end of a token-format match, or npos when the candidate is rejected.
size_t CheckToken(std::string_view text, const TokenFormat& f, const Match& m) {
  if (GluedLeft(text, m.begin, f.boundary)) return std::string_view::npos;
  const size_t body_begin = m.begin + f.prefix_len;
  const size_t end = RunEnd(text, body_begin, f.body);
  const size_t body_len = end - body_begin;
  if (body_len < f.min_body || body_len > f.max_body) return std::string_view::npos;
  if (end < text.size() && In(text[end], f.boundary)) return std::string_view::npos;
  if (f.needs_mixed_case_and_digit) {
    const std::string_view body = text.substr(body_begin, body_len);
    if (body.starts_with("ant-") || !HasUpperLowerDigit(body)) return std::string_view::npos;
  }
  return end;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Unpadded base64url; false for a length that no byte string encodes to (4k + 1).
bool DecodeBase64Url(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  out->clear();
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64UrlValue(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JOSE header: a JSON object (by its braces; a full parse would add nothing for detection)
// that names its algorithm.
bool LooksLikeJoseHeader(std::string_view header) {
  size_t b = 0, e = header.size();
  while (b < e && IsJsonSpace(header[b])) ++b;
  while (e > b && IsJsonSpace(header[e - 1])) --e;
  if (e - b < 2 || header[b] != '{' || header[e - 1] != '}') return false;
  return header.substr(b, e - b).find("\"alg\"") != std::string_view::npos;
}

// The end of a JWT candidate, or npos. The header is capped so that a hostile candidate costs
// a bounded decode.
constexpr size_t kMaxJwtHeader = 4096;
size_t CheckJwt(std::string_view text, const Match& m) {
  if (GluedLeft(text, m.begin, kUrlSafe | kB64Std)) return std::string_view::npos;
  const size_t dot1 = RunEnd(text, m.begin, kUrlSafe);
  if (dot1 - m.begin > kMaxJwtHeader) return std::string_view::npos;
  const size_t dot2 = RunEnd(text, dot1 + 1, kUrlSafe);  // the pattern guarantees the dots
  size_t end = RunEnd(text, dot2 + 1, kUrlSafe);
  // A fourth dot-separated part would make it a JWE or something else entirely.
  if (end < text.size() &&
      (In(text[end], kB64Std) || text[end] == '=' ||
       (text[end] == '.' && end + 1 < text.size() && In(text[end + 1], kUrlSafe)))) {
    return std::string_view::npos;
  }
  std::string header;
  if (!DecodeBase64Url(text.substr(m.begin, dot1 - m.begin), &header)) {
    return std::string_view::npos;
  }
  std::string payload;
  if (!LooksLikeJoseHeader(header) ||
      !DecodeBase64Url(text.substr(dot1 + 1, dot2 - dot1 - 1), &payload) ||
      !DecodeBase64Url(text.substr(dot2 + 1, end - dot2 - 1), &payload)) {
    return std::string_view::npos;
  }
  return end;
}

// "-----BEGIN RSA PRIVATE KEY-----" -> "RSA PRIVATE KEY"; the same for END lines.
std::string_view PemLabel(std::string_view marker_line) {
  const size_t space = marker_line.find(' ');
  return marker_line.substr(space + 1, marker_line.size() - 5 - space - 1);
}

// The end of the base64 body lines that follow `pos` (a key pasted without its END line is
// still a leaked key): each line made only of base64 characters and '=' (a trailing '\r'
// allowed) extends the block.
size_t PemBodyEnd(std::string_view text, size_t pos) {
  size_t end = pos;
  size_t line = pos;
  if (line < text.size() && text[line] == '\r') ++line;
  if (line >= text.size() || text[line] != '\n') return end;
  ++line;
  while (line < text.size()) {
    size_t p = line;
    while (p < text.size() && (In(text[p], kB64Std) || text[p] == '=')) ++p;
    if (p == line) break;
    const size_t content_end = p;
    if (p < text.size() && text[p] == '\r') ++p;
    if (p < text.size() && text[p] != '\n') break;
    end = content_end;
    if (p >= text.size()) break;
    line = p + 1;
  }
  return end;
}

// The value span of an assignment whose separator (and opening quote, if any) ends at `pos`,
// or {npos, npos}.
std::pair<size_t, size_t> AssignedValue(std::string_view text, size_t key_begin, size_t pos) {
  constexpr std::pair<size_t, size_t> kNone{std::string_view::npos, std::string_view::npos};
  if (key_begin > 0 && In(text[key_begin - 1], kAlnum)) return kNone;
  const char quote = pos > key_begin ? text[pos - 1] : '\0';
  const bool quoted = quote == '"' || quote == '\'';
  size_t end = pos;
  if (quoted) {
    while (end < text.size() && text[end] != quote && text[end] != '\n' &&
           end - pos <= kMaxAssignedValue) {
      ++end;
    }
    if (end >= text.size() || text[end] != quote) return kNone;
  } else {
    // Unquoted: up to white space or a delimiter of the surrounding syntax (URL query, CSV,
    // shell, code; '(' so that `password = getpass.getpass()` leaves an identifier).
    constexpr std::string_view kStops = "\"'`,;&()]}<>";
    while (end < text.size() && end - pos <= kMaxAssignedValue) {
      const char c = text[end];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || kStops.find(c) != kStops.npos) {
        break;
      }
      ++end;
    }
  }
  const std::string_view value = text.substr(pos, end - pos);
  if (value.size() < kMinAssignedValue || value.size() > kMaxAssignedValue) return kNone;
  // Placeholders and references, not secrets: "${DB_PASSWORD}", "%(pw)s", "<your key>",
  // "********", "process.env.API_KEY", "string", "undefined". Real passwords are nearly always
  // required to hold a digit or a symbol; a run of letters is left to the known formats.
  constexpr std::string_view kReferenceStarts = "$%<{[(=";
  if (kReferenceStarts.find(value.front()) != kReferenceStarts.npos) return kNone;
  if (value.find_first_not_of(value.front()) == std::string_view::npos) return kNone;
  const bool identifier_like = std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '.';
  });
  if (identifier_like) return kNone;
  return {pos, end};
}

// ---- High entropy ----

constexpr size_t kMinEntropyToken = 20;
constexpr double kBase64Threshold = 4.0;  // bits per character; the maximum is 6
constexpr double kHexThreshold = 3.0;     // the maximum is 4

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// 8-4-4-4-12 hex: an identifier, not a credential.
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_slot = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_slot ? s[i] != '-' : !IsHexDigit(s[i])) return false;
  }
  return true;
}

// Entropy score in (0.5, 1) for a token above its threshold, or 0 when it is not a secret.
//
// Decisions (each keeps a class of ordinary text out):
// - pure hex of 32, 40, 64 or 128 characters is exempt: those are the MD5 / SHA-1 (git
//   commits) / SHA-256 / SHA-512 digest lengths, and digests are not secrets (most scanners
//   exempt them too); other hex needs letters and digits and 3.0 bits per character.
// - base64-like tokens need upper case, lower case and a digit, which random base64 of 20+
//   characters has with probability > 0.96 and words, identifiers and lower-case paths lack.
// - a token that starts with '/' or holds '/' more densely than 1 in 16 characters (random
//   base64: 1 in 64) is a path; UUIDs are identifiers.
double EntropyScore(std::string_view token) {
  const bool all_hex = std::all_of(token.begin(), token.end(), IsHexDigit);
  if (all_hex) {
    const size_t n = token.size();
    if (n == 32 || n == 40 || n == 64 || n == 128) return 0;
    const bool letters = std::any_of(token.begin(), token.end(), [](char c) { return c > '9'; });
    const bool digits = std::any_of(token.begin(), token.end(), [](char c) { return c <= '9'; });
    if (!letters || !digits) return 0;
    const double h = ShannonEntropy(token);
    if (h <= kHexThreshold) return 0;
    return std::min(0.99, 0.5 + 0.5 * (h - kHexThreshold) / (4.0 - kHexThreshold));
  }
  if (IsUuid(token)) return 0;
  const size_t slashes = static_cast<size_t>(std::count(token.begin(), token.end(), '/'));
  if (token.front() == '/' || (slashes >= 2 && slashes * 16 > token.size())) return 0;
  if (!HasUpperLowerDigit(token)) return 0;
  const double h = ShannonEntropy(token);
  if (h <= kBase64Threshold) return 0;
  return std::min(0.99, 0.5 + 0.5 * (h - kBase64Threshold) / (6.0 - kBase64Threshold));
}

// Appends the high-entropy tokens of `text`: maximal runs of base64 / base64url characters,
// with up to two '=' of padding. '=' elsewhere splits (so `KEY=value` scores the value alone).
void FindHighEntropy(std::string_view text, std::vector<SecretMatch>* out) {
  constexpr uint8_t kTokenChars = kUrlSafe | kB64Std;
  size_t i = 0;
  while (i < text.size()) {
    if (!In(text[i], kTokenChars)) {
      ++i;
      continue;
    }
    const size_t begin = i;
    size_t end = RunEnd(text, begin, kTokenChars);
    i = end;
    if (end - begin < kMinEntropyToken) continue;
    const double score = EntropyScore(text.substr(begin, end - begin));
    if (score <= 0) continue;
    for (int pad = 0; pad < 2 && end < text.size() && text[end] == '='; ++pad) ++end;
    out->push_back({"high_entropy", begin, end, score});
  }
}

// Finds, in O(log n) per query, whether a span overlaps any of a set of spans.
class SpanIndex {
 public:
  explicit SpanIndex(std::vector<SecretMatch> spans) : spans_(std::move(spans)) {
    std::sort(spans_.begin(), spans_.end(),
              [](const SecretMatch& a, const SecretMatch& b) { return a.begin < b.begin; });
    prefix_max_end_.reserve(spans_.size());
    size_t max_end = 0;
    for (const SecretMatch& s : spans_) {
      max_end = std::max(max_end, s.end);
      prefix_max_end_.push_back(max_end);
    }
  }

  // Whether [begin, end) shares a byte with a span of the index.
  bool Overlaps(size_t begin, size_t end) const {
    // Spans that start before `end`: the first `n` (sorted by begin); one of them overlaps iff
    // the furthest end among them passes `begin`.
    const auto it = std::lower_bound(spans_.begin(), spans_.end(), end,
                                     [](const SecretMatch& s, size_t e) { return s.begin < e; });
    const size_t n = static_cast<size_t>(it - spans_.begin());
    return n > 0 && prefix_max_end_[n - 1] > begin;
  }

 private:
  std::vector<SecretMatch> spans_;
  std::vector<size_t> prefix_max_end_;
};

}  // namespace

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<uint32_t, 256> counts{};
  for (char c : s) ++counts[static_cast<unsigned char>(c)];
  // H = log2(n) - (1/n) * sum(c * log2(c)), one log per distinct byte.
  const double n = static_cast<double>(s.size());
  double sum = 0;
  for (uint32_t c : counts) {
    if (c > 1) sum += c * std::log2(static_cast<double>(c));
  }
  return std::log2(n) - sum / n;
}

Result<SecretDetector> SecretDetector::Create() {
  std::vector<PatternSpec> specs;
  for (const TokenFormat& f : kFormats) specs.push_back({f.expression, false});
  specs.push_back({kJwtExpression, false});
  specs.push_back({kPemBeginExpression, false});
  specs.push_back({kPemEndExpression, false});
  specs.push_back({kAssignmentExpression, true});
  auto db = Database::Compile(specs);
  if (!db.has_value()) {
    return InternalError("secret patterns do not compile: " + db.error().message());
  }
  return SecretDetector(std::move(db).value());
}

Result<std::vector<SecretMatch>> SecretDetector::Find(std::string_view text) const {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Match> candidates, db_.Scan(text));

  std::vector<SecretMatch> known;
  std::vector<SecretMatch> assignments;
  // PEM END lines, in text order, for pairing with BEGIN lines in one forward pass.
  std::vector<Match> pem_ends;
  for (const Match& m : candidates) {
    if (m.pattern == kPemEndPattern) pem_ends.push_back(m);
  }
  size_t next_end = 0;
  size_t pem_covered = 0;  // BEGIN lines inside a block already reported are its content

  for (const Match& m : candidates) {
    if (m.pattern < kFormatCount) {
      const TokenFormat& f = kFormats[m.pattern];
      const size_t end = CheckToken(text, f, m);
      if (end != std::string_view::npos) known.push_back({f.kind, m.begin, end, 1.0});
    } else if (m.pattern == kJwtPattern) {
      const size_t end = CheckJwt(text, m);
      if (end != std::string_view::npos) known.push_back({"jwt", m.begin, end, 1.0});
    } else if (m.pattern == kPemBeginPattern) {
      if (m.begin < pem_covered) continue;
      while (next_end < pem_ends.size() && pem_ends[next_end].begin < m.end) ++next_end;
      size_t end = PemBodyEnd(text, m.end);
      if (next_end < pem_ends.size()) {
        const Match& e = pem_ends[next_end];
        if (PemLabel(text.substr(e.begin, e.end - e.begin)) ==
            PemLabel(text.substr(m.begin, m.end - m.begin))) {
          end = e.end;
        }
      }
      known.push_back({"private_key", m.begin, end, 1.0});
      pem_covered = end;
    } else if (m.pattern == kAssignmentPattern) {
      const auto [vb, ve] = AssignedValue(text, m.begin, m.end);
      if (vb != std::string_view::npos) assignments.push_back({"secret_assignment", vb, ve, 1.0});
    }
  }

  // "client_secret: x" is also "secret: x": one value, reported once.
  std::stable_sort(assignments.begin(), assignments.end(),
                   [](const SecretMatch& a, const SecretMatch& b) { return a.begin < b.begin; });
  assignments.erase(
      std::unique(assignments.begin(), assignments.end(),
                  [](const SecretMatch& a, const SecretMatch& b) { return a.begin == b.begin; }),
      assignments.end());

  // A known format is more specific than "something was assigned to a password field", and a
  // token inside a private-key block is part of that key.
  std::vector<SecretMatch> pem_blocks;
  for (const SecretMatch& k : known) {
    if (k.kind == std::string_view("private_key")) pem_blocks.push_back(k);
  }
  const SpanIndex pem_index(std::move(pem_blocks));
  std::vector<SecretMatch> out;
  out.reserve(known.size() + assignments.size());
  for (SecretMatch& k : known) {
    if (k.kind == std::string_view("private_key") || !pem_index.Overlaps(k.begin, k.end)) {
      out.push_back(std::move(k));
    }
  }
  const SpanIndex known_index(out);
  for (SecretMatch& a : assignments) {
    if (!known_index.Overlaps(a.begin, a.end)) out.push_back(std::move(a));
  }

  std::vector<SecretMatch> entropy;
  FindHighEntropy(text, &entropy);
  if (!entropy.empty()) {
    const SpanIndex format_index(out);
    for (SecretMatch& h : entropy) {
      if (!format_index.Overlaps(h.begin, h.end)) out.push_back(std::move(h));
    }
  }

  std::stable_sort(out.begin(), out.end(), [](const SecretMatch& a, const SecretMatch& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  return out;
}

}  // namespace warden::guard
