#include "engine/tokenizer.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"

namespace warden::engine {
namespace {

using formats::GgufArray;
using formats::GgufFile;
using formats::GgufValue;
using formats::GgufValueType;

// ---------------------------------------------------------------------------------------
// Metadata keys (docs/formats/gguf-vocab.md).

constexpr std::string_view kKeyModel = "tokenizer.ggml.model";
constexpr std::string_view kKeyPre = "tokenizer.ggml.pre";
constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kKeyScores = "tokenizer.ggml.scores";
constexpr std::string_view kKeyTokenType = "tokenizer.ggml.token_type";
constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";
constexpr std::string_view kKeyBos = "tokenizer.ggml.bos_token_id";
constexpr std::string_view kKeyEos = "tokenizer.ggml.eos_token_id";
constexpr std::string_view kKeyEot = "tokenizer.ggml.eot_token_id";
constexpr std::string_view kKeyEom = "tokenizer.ggml.eom_token_id";
constexpr std::string_view kKeyUnk = "tokenizer.ggml.unknown_token_id";
// The misspelling is the key's real name in GGUF files.
constexpr std::string_view kKeySep = "tokenizer.ggml.seperator_token_id";
constexpr std::string_view kKeyPad = "tokenizer.ggml.padding_token_id";
constexpr std::string_view kKeyMask = "tokenizer.ggml.mask_token_id";
constexpr std::string_view kKeyAddBos = "tokenizer.ggml.add_bos_token";
constexpr std::string_view kKeyAddEos = "tokenizer.ggml.add_eos_token";
constexpr std::string_view kKeyAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
constexpr std::string_view kKeyGeneralName = "general.name";

// A special-token id of 0xFFFFFFFF (a uint32 -1) is how converters write "no such token".
constexpr uint64_t kAbsentTokenId = 0xFFFFFFFFu;

constexpr int32_t kMaxTokenType = static_cast<int32_t>(TokenType::kByte);

// Positions in a text are 32-bit, with room for SentencePiece's escaping to triple every
// byte (a space becomes U+2581, three bytes).
constexpr size_t kMaxTextBytes = size_t{1} << 30;

// U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible stand-in for a space.
constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

// ---------------------------------------------------------------------------------------
// Token attributes, as llama.cpp derives them from the token types (a bit set, because a
// token can gain CONTROL or the strip flags on top of its type).

enum Attr : uint16_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1 << 0,
  kAttrUnused = 1 << 1,
  kAttrNormal = 1 << 2,
  kAttrControl = 1 << 3,
  kAttrUserDefined = 1 << 4,
  kAttrByte = 1 << 5,
  kAttrLstrip = 1 << 6,  // eat whitespace before the token when cutting it out of the text
  kAttrRstrip = 1 << 7,  // eat whitespace after it
};

uint16_t AttrFromType(TokenType type) {
  switch (type) {
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kByte:
      return kAttrByte;
    case TokenType::kUndefined:
      break;
  }
  return kAttrUndefined;
}

// ---------------------------------------------------------------------------------------
// UTF-8.

// Length of the UTF-8 sequence that starts with `c`, from its high bits alone (a stray
// continuation byte counts as 1), as llama.cpp splits text into symbols.
size_t Utf8SeqLen(char c) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[static_cast<uint8_t>(c) >> 4];
}

// Decodes one code point of well-formed UTF-8 at s[i], advancing i.
uint32_t DecodeValid(std::string_view s, size_t& i) {
  const auto c = static_cast<uint8_t>(s[i]);
  const size_t len = Utf8SeqLen(s[i]);
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

// Decodes one code point leniently (vocabulary strings are not required to be UTF-8): an
// ill-formed byte is returned as itself with `valid` false.
uint32_t DecodeLenient(std::string_view s, size_t& i, bool& valid) {
  const size_t bad = FirstInvalidUtf8(s.substr(i, std::min<size_t>(4, s.size() - i)));
  const size_t len = Utf8SeqLen(s[i]);
  if (bad == 0 || (bad != std::string_view::npos && bad < len)) {
    valid = false;
    return static_cast<uint8_t>(s[i++]);
  }
  valid = true;
  return DecodeValid(s, i);
}


// A vocabulary string for a message: at most 40 bytes, control bytes escaped.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 40;
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "\"";
  return out;
}

// ---------------------------------------------------------------------------------------
// Unicode character classes, from ICU. The categories are llama.cpp's (one per code point,
// from the general category), with White_Space as a separate flag.

enum CpFlag : uint16_t {
  kCpUndefined = 1 << 0,  // unassigned (Cn)
  kCpNumber = 1 << 1,     // \p{N}
  kCpLetter = 1 << 2,     // \p{L}
  kCpSeparator = 1 << 3,  // \p{Z}
  kCpMark = 1 << 4,       // \p{M}
  kCpPunct = 1 << 5,      // \p{P}
  kCpSymbol = 1 << 6,     // \p{S}
  kCpControl = 1 << 7,    // \p{C} other than Cn
  kCpWhitespace = 1 << 8,
};

uint16_t ComputeFlags(uint32_t cp) {
  uint16_t f = 0;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      f = kCpLetter;
      break;
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_COMBINING_SPACING_MARK:
      f = kCpMark;
      break;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      f = kCpNumber;
      break;
    case U_SPACE_SEPARATOR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      f = kCpSeparator;
      break;
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      f = kCpControl;
      break;
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
      f = kCpPunct;
      break;
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      f = kCpSymbol;
      break;
    default:
      f = kCpUndefined;
      break;
  }
  if (u_isUWhiteSpace(static_cast<UChar32>(cp))) f |= kCpWhitespace;
  return f;
}

// Flags of a code point; the Basic Multilingual Plane comes from a table built once.
uint16_t CpFlags(uint32_t cp) {
  constexpr uint32_t kTableSize = 0x10000;
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(kTableSize);
    for (uint32_t c = 0; c < kTableSize; ++c) t[c] = ComputeFlags(c);
    return t;
  }();
  return cp < kTableSize ? table[cp] : ComputeFlags(cp);
}

uint32_t ToLower(uint32_t cp) { return static_cast<uint32_t>(u_tolower(static_cast<UChar32>(cp))); }

// The first code point of the canonical decomposition of `cp` (itself when it has none):
// "é" -> "e". This is the accent stripping llama.cpp's WordPiece normaliser does.
uint32_t NfdFirst(uint32_t cp) {
  if (cp < 0xC0) return cp;  // nothing below U+00C0 decomposes
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&status);
  if (U_FAILURE(status)) return cp;
  constexpr int32_t kCapacity = 32;
  UChar buf[kCapacity];
  const int32_t len =
      unorm2_getDecomposition(nfd, static_cast<UChar32>(cp), buf, kCapacity, &status);
  if (U_FAILURE(status) || len <= 0) return cp;
  UChar32 first = 0;
  int32_t i = 0;
  U16_NEXT(buf, i, len, first);
  return static_cast<uint32_t>(first);
}

bool IsChineseChar(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// ---------------------------------------------------------------------------------------
// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68
// bytes for U+0100.. in byte order, so that every byte is a visible character.

struct ByteUnicode {
  std::array<std::string, 256> utf8;   // byte -> its character, UTF-8 encoded
  std::array<int16_t, 512> byte_of{};  // code point (< 512) -> byte, or -1
};

const ByteUnicode& GetByteUnicode() {
  static const ByteUnicode table = [] {
    ByteUnicode t;
    t.byte_of.fill(-1);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;
      AppendUtf8(cp, t.utf8[b]);
      t.byte_of[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return table;
}

// ---------------------------------------------------------------------------------------
// BPE pre-tokenizers. Each stage splits every chunk of the previous stage into pieces (the
// matches of its pattern and the text between them), as llama.cpp applies its list of
// regexes; a chunk's ends act as the ends of the text for the next stage. The stages are
// written by hand after llama.cpp's own hand-written splitters and its category-collapsed
// std::regex fallback, so they agree with it rather than with a full Unicode regex engine.

enum class PreKind { kDefault, kGpt2, kFalcon, kStarcoder, kLlama3, kQwen2 };

struct Span {
  uint32_t begin;  // code point index
  uint32_t end;
};

struct CpText {
  std::vector<uint32_t> cps;
  std::vector<uint16_t> flags;
  std::vector<uint32_t> offsets;  // byte offset of each code point, plus the end
};

constexpr uint32_t kOutOfChunk = 0xFFFFFFFF;

// Shared scaffolding of the hand-written splitters: look-ups that see nothing past the
// chunk, and an emitter of the piece that ends at a position.
class ChunkCursor {
 public:
  ChunkCursor(const CpText& t, Span chunk, std::vector<Span>& out)
      : t_(t), begin_(chunk.begin), end_(chunk.end), prev_(chunk.begin), out_(out) {}
  uint32_t Cp(size_t pos) const { return pos < end_ ? t_.cps[pos] : kOutOfChunk; }
  uint16_t Flags(size_t pos) const { return pos < end_ ? t_.flags[pos] : 0; }
  size_t end() const { return end_; }
  size_t begin() const { return begin_; }
  // Emits [prev, end) if not empty; returns its length.
  size_t Emit(size_t end) {
    const size_t len = end - prev_;
    if (len > 0) out_.push_back({static_cast<uint32_t>(prev_), static_cast<uint32_t>(end)});
    prev_ = end;
    return len;
  }

 private:
  const CpText& t_;
  size_t begin_;
  size_t end_;
  size_t prev_;
  std::vector<Span>& out_;
};

// The tail the regexes share, `\s+(?!\S)|\s+`, over the n_ws whitespace code points at pos
// (a run followed by more text leaves its last one to start the next piece), or else one
// code point on its own. Emits the piece; returns the position after it.
size_t EmitWhitespaceOrOne(ChunkCursor& c, size_t pos, size_t n_ws) {
  if (n_ws > 1 && c.Cp(pos + n_ws) != kOutOfChunk) {
    pos += n_ws - 1;
  } else if (n_ws > 0) {
    pos += n_ws;
  } else {
    ++pos;
  }
  c.Emit(pos);
  return pos;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void SplitGpt2(const CpText& t, Span chunk, std::vector<Span>& out) {
  ChunkCursor c(t, chunk, out);
  constexpr uint16_t kWln = kCpWhitespace | kCpLetter | kCpNumber;
  for (size_t pos = c.begin(); pos < c.end();) {
    const uint32_t cp = c.Cp(pos);
    const uint16_t f = c.Flags(pos);
    if (cp == '\'' && pos + 1 < c.end()) {
      const uint32_t n1 = c.Cp(pos + 1);
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        pos += c.Emit(pos + 2);
        continue;
      }
      if (pos + 2 < c.end()) {
        const uint32_t n2 = c.Cp(pos + 2);
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
          pos += c.Emit(pos + 3);
          continue;
        }
      }
    }
    const uint16_t f2 = cp == ' ' ? c.Flags(pos + 1) : f;
    if (f2 & kCpLetter) {
      pos += cp == ' ';
      while (c.Flags(pos) & kCpLetter) ++pos;
      c.Emit(pos);
      continue;
    }
    if (f2 & kCpNumber) {
      pos += cp == ' ';
      while (c.Flags(pos) & kCpNumber) ++pos;
      c.Emit(pos);
      continue;
    }
    if (!(f2 & kWln) && f2 != 0) {
      pos += cp == ' ';
      while (!(c.Flags(pos) & kWln) && c.Flags(pos) != 0) ++pos;
      c.Emit(pos);
      continue;
    }
    size_t n_ws = 0;
    while (c.Flags(pos + n_ws) & kCpWhitespace) ++n_ws;
    pos = EmitWhitespaceOrOne(c, pos, n_ws);
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
void SplitLlama3(const CpText& t, Span chunk, size_t max_digits, std::vector<Span>& out) {
  ChunkCursor c(t, chunk, out);
  constexpr uint16_t kWln = kCpWhitespace | kCpLetter | kCpNumber;
  for (size_t pos = c.begin(); pos < c.end();) {
    const uint32_t cp = c.Cp(pos);
    const uint16_t f = c.Flags(pos);
    if (cp == '\'' && pos + 1 < c.end()) {
      const uint32_t n1 = ToLower(c.Cp(pos + 1));
      if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') {
        pos += c.Emit(pos + 2);
        continue;
      }
      if (pos + 2 < c.end()) {
        const uint32_t n2 = ToLower(c.Cp(pos + 2));
        if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) {
          pos += c.Emit(pos + 3);
          continue;
        }
      }
    }
    if (!(cp == '\r' || cp == '\n' || (f & kCpNumber))) {
      if ((f & kCpLetter) || (c.Flags(pos + 1) & kCpLetter)) {
        ++pos;
        while (c.Flags(pos) & kCpLetter) ++pos;
        c.Emit(pos);
        continue;
      }
    }
    if (f & kCpNumber) {
      size_t ini = pos;
      while (c.Flags(pos) & kCpNumber) {
        if (++pos - ini >= max_digits) {
          c.Emit(pos);
          ini = pos;
        }
      }
      c.Emit(pos);
      continue;
    }
    uint16_t f2 = cp == ' ' ? c.Flags(pos + 1) : f;
    if (!(f2 & kWln) && f != 0) {
      pos += cp == ' ';
      while (!(f2 & kWln) && f2 != 0) f2 = c.Flags(++pos);
      uint32_t cp2 = c.Cp(pos);
      while (cp2 == '\r' || cp2 == '\n') cp2 = c.Cp(++pos);
      c.Emit(pos);
      continue;
    }
    size_t n_ws = 0;
    size_t last_newline_end = 0;
    while (c.Flags(pos + n_ws) & kCpWhitespace) {
      const uint32_t cp2 = c.Cp(pos + n_ws);
      if (cp2 == '\r' || cp2 == '\n') last_newline_end = pos + n_ws + 1;
      ++n_ws;
    }
    if (last_newline_end > 0) {
      pos = last_newline_end;
      c.Emit(pos);
      continue;
    }
    pos = EmitWhitespaceOrOne(c, pos, n_ws);
  }
}

// A one-code-point character class of llama.cpp's collapsed regexes: ASCII code points
// are tested literally, others by category.
struct CharClass {
  std::string_view ascii;  // the ASCII members
  uint16_t categories;     // categories that non-ASCII members have
  bool Contains(const CpText& t, size_t pos) const {
    const uint32_t cp = t.cps[pos];
    if (cp < 0x80) return ascii.find(static_cast<char>(cp)) != std::string_view::npos;
    return (t.flags[pos] & kCpWhitespace) == 0 && (t.flags[pos] & categories) != 0;
  }
};

// [\p{P}\$\+<=>\^~\|]+ : ASCII punctuation (\p{P}) as llama.cpp's collapsed regexes spell it,
// and the symbols the pattern adds.
constexpr CharClass kDefaultPunctClass{"!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|", kCpPunct};
// [\p{P}\$\+<=>\^~\|`]+ : the same and the backquote.
constexpr CharClass kFalconPunctClass{"!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|`", kCpPunct};
// \p{N}
constexpr CharClass kNumberClass{"0123456789", kCpNumber};

// Pattern `[class]+` (runs = true) or `[class]` (runs = false): matches and gaps.
void SplitClass(const CpText& t, Span chunk, const CharClass& cls, bool runs,
                std::vector<Span>& out) {
  uint32_t last = chunk.begin;
  uint32_t pos = chunk.begin;
  while (pos < chunk.end) {
    if (!cls.Contains(t, pos)) {
      ++pos;
      continue;
    }
    uint32_t end = pos + 1;
    if (runs) {
      while (end < chunk.end && cls.Contains(t, end)) ++end;
    }
    if (pos > last) out.push_back({last, pos});
    out.push_back({pos, end});
    last = pos = end;
  }
  if (last < chunk.end) out.push_back({last, chunk.end});
}

// Pattern [0-9][0-9][0-9]: leftmost non-overlapping triples of ASCII digits.
void SplitDigitTriples(const CpText& t, Span chunk, std::vector<Span>& out) {
  constexpr uint32_t kTriple = 3;
  auto digit = [&](uint32_t p) { return t.cps[p] >= '0' && t.cps[p] <= '9'; };
  uint32_t last = chunk.begin;
  uint32_t pos = chunk.begin;
  while (pos + kTriple <= chunk.end) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      if (pos > last) out.push_back({last, pos});
      out.push_back({pos, pos + kTriple});
      last = pos = pos + kTriple;
    } else {
      ++pos;
    }
  }
  if (last < chunk.end) out.push_back({last, chunk.end});
}

enum class Stage {
  kGpt2,
  kLlama3,
  kQwen2,
  kDefaultPunct,
  kFalconPunct,
  kNumbers,
  kDigit,
  kDigitTriples
};

std::vector<Stage> StagesFor(PreKind kind) {
  switch (kind) {
    case PreKind::kDefault:
      return {Stage::kDefaultPunct, Stage::kGpt2, Stage::kNumbers, Stage::kDigitTriples};
    case PreKind::kGpt2:
      return {Stage::kGpt2};
    case PreKind::kFalcon:
      return {Stage::kFalconPunct, Stage::kGpt2, Stage::kDigitTriples};
    case PreKind::kStarcoder:
      return {Stage::kDigit, Stage::kGpt2};
    case PreKind::kLlama3:
      return {Stage::kLlama3};
    case PreKind::kQwen2:
      return {Stage::kQwen2};
  }
  return {Stage::kGpt2};
}

void RunStage(Stage stage, const CpText& t, const std::vector<Span>& in, std::vector<Span>& out) {
  constexpr size_t kLlama3Digits = 3;
  constexpr size_t kQwen2Digits = 1;
  out.clear();
  out.reserve(in.size() * 2);
  for (const Span& chunk : in) {
    switch (stage) {
      case Stage::kGpt2:
        SplitGpt2(t, chunk, out);
        break;
      case Stage::kLlama3:
        SplitLlama3(t, chunk, kLlama3Digits, out);
        break;
      case Stage::kQwen2:
        SplitLlama3(t, chunk, kQwen2Digits, out);
        break;
      case Stage::kDefaultPunct:
        SplitClass(t, chunk, kDefaultPunctClass, /*runs=*/true, out);
        break;
      case Stage::kFalconPunct:
        SplitClass(t, chunk, kFalconPunctClass, /*runs=*/true, out);
        break;
      case Stage::kNumbers:
        SplitClass(t, chunk, kNumberClass, /*runs=*/true, out);
        break;
      case Stage::kDigit:
        SplitClass(t, chunk, kNumberClass, /*runs=*/false, out);
        break;
      case Stage::kDigitTriples:
        SplitDigitTriples(t, chunk, out);
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Supported tokenizer.ggml.pre values of "gpt2" vocabularies (llama.cpp's names).

struct PreEntry {
  std::string_view name;
  PreKind kind;
  bool ignore_merges;  // a whole pre-token that is in the vocabulary is taken as is
  bool add_bos;        // default for tokenizer.ggml.add_bos_token
};

constexpr PreEntry kPreTokenizers[] = {
    {"default", PreKind::kDefault, false, false},
    {"gpt-2", PreKind::kGpt2, false, false},
    {"phi-2", PreKind::kGpt2, false, false},
    {"mpt", PreKind::kGpt2, false, false},
    {"olmo", PreKind::kGpt2, false, false},
    {"falcon", PreKind::kFalcon, false, false},
    {"starcoder", PreKind::kStarcoder, false, false},
    {"refact", PreKind::kStarcoder, false, false},
    {"command-r", PreKind::kStarcoder, false, false},
    {"smollm", PreKind::kStarcoder, false, false},
    {"codeshell", PreKind::kStarcoder, false, false},
    {"llama3", PreKind::kLlama3, true, true},
    {"llama-v3", PreKind::kLlama3, true, true},
    {"llama-bpe", PreKind::kLlama3, true, true},
    {"falcon3", PreKind::kLlama3, true, true},
    {"pixtral", PreKind::kLlama3, true, true},
    {"dbrx", PreKind::kLlama3, false, false},
    {"smaug-bpe", PreKind::kLlama3, false, false},
    {"qwen2", PreKind::kQwen2, false, false},
    {"deepseek-r1-qwen", PreKind::kQwen2, false, false},
    {"stablelm2", PreKind::kQwen2, false, false},
};

std::string SupportedPreList() {
  std::string s;
  for (const PreEntry& e : kPreTokenizers) {
    if (!s.empty()) s += ", ";
    s += e.name;
  }
  return s;
}

// Texts that mark end-of-turn tokens (llama.cpp recognises these by text; the GGUF has no
// key for most of them). The first ones found also serve as eot() when no key names it.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>",         "<|endoftext|>",
    "<|end_of_text|>", "<EOT>",      "_<EOT>",  "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>",    "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",        "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>",   "_<EOT>",     "<|end_of_text|>", "<end_of_utterance>",
};
constexpr std::string_view kEomText = "<|eom_id|>";

// An Aho-Corasick automaton over the special token texts: one pass over a text finds which
// of them occur in it at all (most texts contain none), in time linear in the text whatever
// the tokens, before they are cut out one by one.
class SpecialMatcher {
 public:
  void Insert(std::string_view text, Token token) {
    int32_t node = 0;
    for (const char ch : text) {
      const auto b = static_cast<uint8_t>(ch);
      int32_t child = Child(node, b);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        auto& edges = nodes_[node].edges;
        edges.insert(std::lower_bound(edges.begin(), edges.end(), Edge{b, 0}, ByByte), {b, child});
        nodes_.emplace_back();
      }
      node = child;
    }
    nodes_[node].token = token;
  }

  // Computes the failure and output links; call once after the last Insert.
  void Finish() {
    std::vector<int32_t> queue;
    for (const Edge& e : nodes_[0].edges) queue.push_back(e.child);
    for (size_t q = 0; q < queue.size(); ++q) {
      const int32_t u = queue[q];
      for (const Edge& e : nodes_[u].edges) {
        int32_t f = nodes_[u].fail;
        while (f != 0 && Child(f, e.byte) < 0) f = nodes_[f].fail;
        const int32_t g = Child(f, e.byte);
        Node& v = nodes_[e.child];
        v.fail = g >= 0 && g != e.child ? g : 0;
        v.output = nodes_[v.fail].token != kNoToken ? v.fail : nodes_[v.fail].output;
        queue.push_back(e.child);
      }
    }
  }

  // Sets present[t] for every special token t that occurs in `text`; returns whether any.
  bool FindPresent(std::string_view text, std::vector<bool>& present) const {
    bool any = false;
    int32_t state = 0;
    for (const char ch : text) {
      const auto b = static_cast<uint8_t>(ch);
      int32_t next = Child(state, b);
      while (next < 0 && state != 0) {
        state = nodes_[state].fail;
        next = Child(state, b);
      }
      state = next < 0 ? 0 : next;
      // Walk the tokens that end here, stopping at one already seen: everything after it on
      // its chain was marked when it was.
      for (int32_t n = nodes_[state].token != kNoToken ? state : nodes_[state].output;
           n > 0 && !present[nodes_[n].token]; n = nodes_[n].output) {
        present[nodes_[n].token] = true;
        any = true;
      }
    }
    return any;
  }

 private:
  struct Edge {
    uint8_t byte;
    int32_t child;
  };
  static bool ByByte(const Edge& x, const Edge& y) { return x.byte < y.byte; }
  struct Node {
    std::vector<Edge> edges;  // sorted by byte
    Token token = kNoToken;   // the special token whose text ends here
    int32_t fail = 0;         // longest proper suffix that is a path from the root
    int32_t output = 0;       // nearest node on the fail chain with a token (0: none)
  };

  int32_t Child(int32_t node, uint8_t b) const {
    const auto& edges = nodes_[node].edges;
    auto it = std::lower_bound(edges.begin(), edges.end(), Edge{b, 0}, ByByte);
    return it != edges.end() && it->byte == b ? it->child : -1;
  }

  std::vector<Node> nodes_{1};
};

// Token text -> id: an open-addressing hash table (linear probing) of ids; the texts stay in
// the vocabulary. Flat, so look-ups (the inner loop of every tokenizer) touch one or two
// cache lines; seeded per vocabulary so that a crafted vocabulary cannot pick collisions.
class TextIndex {
 public:
  void Init(size_t n, uint64_t seed) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, kNoToken);
    mask_ = cap - 1;
    seed_ = seed;
  }

  // Inserts `id` (whose text is texts[id]); returns the id that already has that text, or
  // kNoToken when it was new.
  Token Insert(const std::vector<std::string>& texts, Token id) {
    for (size_t i = Hash(texts[id]) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == kNoToken) {
        slots_[i] = id;
        return kNoToken;
      }
      if (texts[slots_[i]] == texts[id]) return slots_[i];
    }
  }

  Token Find(const std::vector<std::string>& texts, std::string_view key) const {
    if (slots_.empty()) return kNoToken;
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      const Token id = slots_[i];
      if (id == kNoToken) return kNoToken;
      if (texts[id] == key) return id;
    }
  }

 private:
  uint64_t Hash(std::string_view s) const {
    constexpr uint64_t kMul1 = 0xBF58476D1CE4E5B9ull;
    constexpr uint64_t kMul2 = 0x94D049BB133111EBull;
    uint64_t h = seed_ ^ (s.size() * kMul2);
    const char* p = s.data();
    size_t n = s.size();
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * kMul1;
      h ^= h >> 29;
    }
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul2;
    h ^= h >> 32;
    h *= kMul1;
    h ^= h >> 29;
    return h;
  }

  std::vector<Token> slots_;
  size_t mask_ = 0;
  uint64_t seed_ = 0;
};

// A 4-ary heap: half the depth of a binary heap, and a node's children share a cache line,
// which is what the merge loops spend their time on for long words. `Before(a, b)` says
// that a comes out first.
template <typename T, typename Before>
class QuadHeap {
 public:
  explicit QuadHeap(Before before) : before_(before) {}
  bool empty() const { return v_.empty(); }
  void clear() { v_.clear(); }
  void push(const T& x) {
    size_t i = v_.size();
    v_.push_back(x);
    while (i > 0) {
      const size_t parent = (i - 1) / kArity;
      if (!before_(x, v_[parent])) break;
      v_[i] = v_[parent];
      i = parent;
    }
    v_[i] = x;
  }
  T pop() {
    const T top = v_.front();
    const T last = v_.back();
    v_.pop_back();
    const size_t n = v_.size();
    if (n == 0) return top;
    size_t i = 0;
    while (true) {
      const size_t first = i * kArity + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = std::min(first + kArity, n);
      for (size_t c = first + 1; c < end; ++c) {
        if (before_(v_[c], v_[best])) best = c;
      }
      if (!before_(v_[best], last)) break;
      v_[i] = v_[best];
      i = best;
    }
    v_[i] = last;
    return top;
  }

 private:
  static constexpr size_t kArity = 4;
  Before before_;
  std::vector<T> v_;
};

struct Merge {
  int32_t rank;
  Token result;  // the token of the merged text, or kNoToken
};

// (left id, right id) -> merge: open addressing with linear probing, seeded like TextIndex.
class MergeIndex {
 public:
  void Init(size_t n, uint64_t seed) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{kEmpty, {}});
    mask_ = cap - 1;
    seed_ = seed;
  }
  // Keeps the first merge of a pair (its best rank), as llama.cpp's map does.
  void Insert(uint64_t key, Merge m) {
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, m};
        return;
      }
    }
  }
  const Merge* Find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = Hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  // Token ids are below 2^31, so no real pair has all bits set.
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  uint64_t Hash(uint64_t k) const {
    k ^= seed_;
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return k;
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  uint64_t seed_ = 0;
};

// Buffers reused across the words of one text.
struct BpeScratch {
  struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t start;
    uint32_t len;  // in bytes of the word (one byte-level character each)
    Token id;
  };
  struct Bigram {
    int32_t left;
    int32_t right;
    int32_t rank;
    uint32_t size;
    Token result;
  };
  // Lowest rank first; among equals the leftmost.
  struct Before {
    bool operator()(const Bigram& l, const Bigram& r) const {
      return l.rank < r.rank || (l.rank == r.rank && l.left < r.left);
    }
  };
  std::vector<Symbol> syms;
  QuadHeap<Bigram, Before> queue{Before{}};
  std::string mapped;
};

// A piece of the input: raw text still to tokenize, or a special token cut out of it.
struct Fragment {
  Token token;  // kNoToken for raw text
  size_t offset;
  size_t length;
};

uint64_t PairKey(Token left, Token right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

// ---------------------------------------------------------------------------------------

// The vocabulary and the tables derived from it: built once by Build, read-only afterwards
// and shared by every copy of the Tokenizer.
struct Tokenizer::Vocab {
  TokenizerKind kind = TokenizerKind::kSpm;
  PreKind pre_kind = PreKind::kDefault;
  std::string pre_name = "default";
  bool ignore_merges = false;

  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<TokenType> types;
  std::vector<uint16_t> attrs;
  std::vector<std::string> pieces;  // what each token decodes to (control tokens: "")
  TextIndex by_text;
  size_t max_token_len = 0;
  std::vector<size_t> token_lengths;  // WPM: the distinct token lengths, longest first

  Token bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken;
  Token sep = kNoToken, pad = kNoToken, mask = kNoToken;
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  std::vector<Token> eog;  // sorted

  // Control, user-defined and unknown tokens, longest text first (ties: lower id first).
  std::vector<Token> specials;
  SpecialMatcher special_matcher;

  // SPM: no token has U+2581 right after another character (so words merge separately).
  bool spm_words_independent = false;
  // SPM: the token of each byte for byte fallback (<0xNN>, else the byte as a string).
  std::array<Token, 256> spm_byte_tokens{};
  // BPE: the token of each byte's byte-level character, and of each raw one-byte string.
  std::array<Token, 256> bpe_char_tokens{};
  std::array<Token, 256> raw_byte_tokens{};
  MergeIndex merges;

  Token Find(std::string_view text) const { return by_text.Find(texts, text); }

  Status Build(const GgufFile& gguf, std::string_view source);
  Status ReadSpecialIds(const GgufFile& gguf, std::string_view source);
  Status ReadMerges(const GgufFile& gguf, std::string_view source);
  void FindEndOfGeneration();
  void BuildSpecialCache(const GgufFile& gguf);
  void BuildPieces();

  // Splits `text` into raw text and special tokens cut out of it (replaces `out`).
  void Partition(std::string_view text, bool parse_special, std::vector<Fragment>& out) const;
  // Tokenize one raw fragment each, appending to `out`.
  Status EncodeSpm(std::string_view text, bool space_prefix, std::vector<Token>& out) const;
  Status EncodeSpmSegment(std::string_view text, std::vector<Token>& out) const;
  void EncodeBpe(std::string_view text, std::vector<Token>& out) const;
  void BpeWord(std::string_view word, BpeScratch& scratch, std::vector<Token>& out) const;
  void EncodeWpm(std::string_view text, std::vector<Token>& out) const;
};

namespace {

Status KeyError(std::string_view source, std::string_view key, const std::string& what) {
  return DataLossError(std::string(source) + ": " + std::string(key) + ": " + what);
}

std::string TypeName(const GgufValue& v) {
  if (const GgufArray* a = v.AsArray()) {
    return "array of " + std::string(formats::GgufValueTypeName(a->elem_type));
  }
  return std::string(formats::GgufValueTypeName(v.type));
}

// nullptr when absent; DataLoss when present but not a string.
Result<const std::string*> OptionalString(const GgufFile& g, std::string_view source,
                                          std::string_view key) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return static_cast<const std::string*>(nullptr);
  const std::string* s = v->AsString();
  if (s == nullptr) return KeyError(source, key, "expected a string, found " + TypeName(*v));
  return s;
}

// Leaves `value` alone when absent; DataLoss when present but not a bool.
Status OptionalBool(const GgufFile& g, std::string_view source, std::string_view key, bool& value) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return Status::Ok();
  const std::optional<bool> b = v->AsBool();
  if (!b.has_value()) return KeyError(source, key, "expected a bool, found " + TypeName(*v));
  value = *b;
  return Status::Ok();
}

// nullptr when absent; DataLoss when present but not an array of one of `elem_types`.
Result<const GgufArray*> OptionalArray(const GgufFile& g, std::string_view source,
                                       std::string_view key,
                                       std::initializer_list<GgufValueType> elem_types) {
  const GgufValue* v = g.Find(key);
  if (v == nullptr) return static_cast<const GgufArray*>(nullptr);
  const GgufArray* a = v->AsArray();
  if (a != nullptr) {
    for (GgufValueType t : elem_types) {
      if (a->elem_type == t) return a;
    }
  }
  std::string want;
  for (GgufValueType t : elem_types) {
    if (!want.empty()) want += " or ";
    want += "array of " + std::string(formats::GgufValueTypeName(t));
  }
  return KeyError(source, key, "expected an " + want + ", found " + TypeName(*v));
}

}  // namespace

Status Tokenizer::Vocab::ReadSpecialIds(const GgufFile& gguf, std::string_view source) {
  const std::pair<std::string_view, Token*> keys[] = {
      {kKeyBos, &bos}, {kKeyEos, &eos}, {kKeyEot, &eot}, {kKeyEom, &eom},
      {kKeyUnk, &unk}, {kKeySep, &sep}, {kKeyPad, &pad}, {kKeyMask, &mask},
  };
  const size_t n = texts.size();
  for (const auto& [key, id] : keys) {
    // A default that does not fit this vocabulary means "none" (as in llama.cpp).
    if (*id != kNoToken && static_cast<size_t>(*id) >= n) *id = kNoToken;
    const GgufValue* v = gguf.Find(key);
    if (v == nullptr) continue;
    if (const std::optional<uint64_t> u = v->AsUint()) {
      if (*u == kAbsentTokenId) {
        *id = kNoToken;
        continue;
      }
      if (*u >= n) {
        return KeyError(source, key,
                        "token id " + std::to_string(*u) + " is out of range (the vocabulary has " +
                            std::to_string(n) + " tokens)");
      }
      *id = static_cast<Token>(*u);
    } else if (const std::optional<int64_t> s = v->AsInt()) {
      if (*s < 0) {
        *id = kNoToken;
        continue;
      }
      if (static_cast<uint64_t>(*s) >= n) {
        return KeyError(source, key,
                        "token id " + std::to_string(*s) + " is out of range (the vocabulary has " +
                            std::to_string(n) + " tokens)");
      }
      *id = static_cast<Token>(*s);
    } else {
      return KeyError(source, key, "expected an integer token id, found " + TypeName(*v));
    }
  }
  return Status::Ok();
}

Status Tokenizer::Vocab::ReadMerges(const GgufFile& gguf, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(const GgufArray* arr,
                          OptionalArray(gguf, source, kKeyMerges, {GgufValueType::kString}));
  if (arr == nullptr) return KeyError(source, kKeyMerges, "missing (a gpt2 vocabulary needs it)");
  if (arr->items.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return KeyError(source, kKeyMerges, "too many merges");
  }
  merges.Init(arr->items.size(), std::random_device{}());
  for (size_t i = 0; i < arr->items.size(); ++i) {
    const std::string& m = *arr->items[i].AsString();
    const std::string where = std::string(kKeyMerges) + "[" + std::to_string(i) + "]";
    // The first space after the first byte separates the halves (a half may itself start
    // with a space only in the first position, as llama.cpp reads it).
    const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
    if (space == std::string::npos) {
      return KeyError(source, where, Quote(m) + " has no space between two tokens");
    }
    const std::string_view left = std::string_view(m).substr(0, space);
    const std::string_view right = std::string_view(m).substr(space + 1);
    const Token l = Find(left);
    const Token r = Find(right);
    if (l == kNoToken || r == kNoToken) {
      return KeyError(source, where,
                      Quote(m) + " names " + Quote(l == kNoToken ? left : right) +
                          ", which is not in " + std::string(kKeyTokens));
    }
    std::string joined(left);
    joined += right;
    merges.Insert(PairKey(l, r), Merge{static_cast<int32_t>(i), Find(joined)});
  }
  return Status::Ok();
}

void Tokenizer::Vocab::FindEndOfGeneration() {
  if (eot == kNoToken) {
    for (std::string_view t : kEotTexts) {
      if (const Token id = Find(t); id != kNoToken) {
        eot = id;
        break;
      }
    }
  }
  if (eom == kNoToken) eom = Find(kEomText);
  for (std::string_view t : kEogTexts) {
    if (const Token id = Find(t); id != kNoToken) eog.push_back(id);
  }
  // gpt-oss style vocabularies use <|end|> between messages of one turn, not at its end.
  const Token ret = Find("<|return|>");
  const Token call = Find("<|call|>");
  const Token end = Find("<|end|>");
  if (ret != kNoToken && call != kNoToken && end != kNoToken) {
    eog.erase(std::remove(eog.begin(), eog.end(), end), eog.end());
    if (eot == end) eot = kNoToken;
    attrs[end] = kAttrUserDefined;
  }
  for (const Token id : eog) attrs[id] |= kAttrControl;
  for (const Token id : {eos, eot, eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
}

void Tokenizer::Vocab::BuildSpecialCache(const GgufFile& gguf) {
  for (size_t id = 0; id < texts.size(); ++id) {
    if (attrs[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      specials.push_back(static_cast<Token>(id));
    }
  }
  std::stable_sort(specials.begin(), specials.end(),
                   [&](Token a, Token b) { return texts[a].size() > texts[b].size(); });
  for (const Token id : specials) special_matcher.Insert(texts[id], id);
  special_matcher.Finish();

  // Phi-3 vocabularies eat the whitespace after their special tokens (llama.cpp sets this
  // by model name, since GGUF files carry no per-token strip flags).
  const GgufValue* name_value = gguf.Find(kKeyGeneralName);
  const std::string* name = name_value != nullptr ? name_value->AsString() : nullptr;
  if (name != nullptr) {
    std::string lower = *name;
    for (char& ch : lower) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    if (lower.find("phi-3") != std::string::npos || lower.find("phi3") != std::string::npos) {
      for (const Token id : specials) attrs[id] |= kAttrRstrip;
      if (const Token id = Find("</s>"); id != kNoToken) attrs[id] |= kAttrRstrip;
      for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) {
        if (const Token id = Find(t); id != kNoToken) attrs[id] &= ~kAttrRstrip;
      }
    }
  }
}

void Tokenizer::Vocab::BuildPieces() {
  const ByteUnicode& bu = GetByteUnicode();
  pieces.resize(texts.size());
  for (size_t id = 0; id < texts.size(); ++id) {
    const uint16_t a = attrs[id];
    const std::string& text = texts[id];
    std::string& piece = pieces[id];
    if (a & (kAttrUnknown | kAttrControl)) continue;  // rendered only on request
    if (a & kAttrUserDefined) {
      piece = text;
    } else if (a & kAttrNormal) {
      if (kind == TokenizerKind::kBpe) {
        // Byte-level characters back to bytes; anything outside the table passes through.
        for (size_t i = 0; i < text.size();) {
          const size_t start = i;
          bool valid = false;
          const uint32_t cp = DecodeLenient(text, i, valid);
          if (valid && cp < bu.byte_of.size() && bu.byte_of[cp] >= 0) {
            piece.push_back(static_cast<char>(bu.byte_of[cp]));
          } else {
            piece.append(text, start, i - start);
          }
        }
      } else {
        for (size_t i = 0; i < text.size();) {
          if (text.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
            piece.push_back(' ');
            i += kSpmSpace.size();
          } else {
            piece.push_back(text[i++]);
          }
        }
      }
    } else if ((a & kAttrByte) && text.size() == 6 && text.compare(0, 3, "<0x") == 0) {
      // Checked to be <0xHH> when the vocabulary was read.
      piece.push_back(static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
    }
  }
}

namespace {

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

}  // namespace

Status Tokenizer::Vocab::Build(const GgufFile& gguf, std::string_view source) {
  // Kind, and llama.cpp's defaults for it.
  WARDEN_ASSIGN_OR_RETURN(const std::string* model, OptionalString(gguf, source, kKeyModel));
  if (model == nullptr) return KeyError(source, kKeyModel, "missing");
  if (*model == "llama") {
    kind = TokenizerKind::kSpm;
    bos = 1, eos = 2, unk = 0;
    add_bos = true, add_space_prefix = true;
  } else if (*model == "gpt2") {
    kind = TokenizerKind::kBpe;
    bos = 11, eos = 11;  // llama.cpp's defaults (Falcon's <|endoftext|>)
  } else if (*model == "bert") {
    kind = TokenizerKind::kWpm;
    bos = 101, unk = 100, sep = 102, pad = 0, mask = 103;
    add_bos = true;
  } else {
    return InvalidArgumentError(std::string(source) + ": " + std::string(kKeyModel) + ": " +
                                Quote(*model) +
                                " is not a supported tokenizer (supported: llama, gpt2, bert)");
  }

  WARDEN_ASSIGN_OR_RETURN(const std::string* pre, OptionalString(gguf, source, kKeyPre));
  if (pre != nullptr) pre_name = *pre;
  if (kind == TokenizerKind::kBpe) {
    const PreEntry* entry = nullptr;
    for (const PreEntry& e : kPreTokenizers) {
      if (e.name == pre_name) entry = &e;
    }
    if (entry == nullptr) {
      return InvalidArgumentError(std::string(source) + ": " + std::string(kKeyPre) + ": " +
                                  Quote(pre_name) +
                                  " is not a supported pre-tokenizer for gpt2 vocabularies "
                                  "(supported: " +
                                  SupportedPreList() + ")");
    }
    pre_kind = entry->kind;
    ignore_merges = entry->ignore_merges;
    add_bos = entry->add_bos;
  }

  // Tokens.
  WARDEN_ASSIGN_OR_RETURN(const GgufArray* tokens,
                          OptionalArray(gguf, source, kKeyTokens, {GgufValueType::kString}));
  if (tokens == nullptr) return KeyError(source, kKeyTokens, "missing");
  const size_t n = tokens->items.size();
  if (n == 0) return KeyError(source, kKeyTokens, "empty vocabulary");
  if (n > static_cast<size_t>(std::numeric_limits<Token>::max())) {
    return KeyError(source, kKeyTokens, std::to_string(n) + " tokens do not fit 31-bit ids");
  }
  texts.resize(n);
  for (size_t i = 0; i < n; ++i) {
    texts[i] = *tokens->items[i].AsString();
    // An empty string cannot be matched or merged; llama.cpp renames it the same way.
    if (texts[i].empty()) texts[i] = "[EMPTY_" + std::to_string(i) + "]";
    max_token_len = std::max(max_token_len, texts[i].size());
  }
  by_text.Init(n, std::random_device{}());
  for (size_t i = 0; i < n; ++i) {
    if (const Token first = by_text.Insert(texts, static_cast<Token>(i)); first != kNoToken) {
      return KeyError(source, std::string(kKeyTokens) + "[" + std::to_string(i) + "]",
                      Quote(texts[i]) + " repeats " + std::string(kKeyTokens) + "[" +
                          std::to_string(first) + "]");
    }
  }

  // Scores: float32 (or int32, which llama.cpp also accepts), one per token.
  scores.assign(n, 0.0f);
  WARDEN_ASSIGN_OR_RETURN(
      const GgufArray* score_arr,
      OptionalArray(gguf, source, kKeyScores, {GgufValueType::kFloat32, GgufValueType::kInt32}));
  if (score_arr != nullptr) {
    if (score_arr->items.size() != n) {
      return KeyError(source, kKeyScores,
                      std::to_string(score_arr->items.size()) + " entries for " +
                          std::to_string(n) + " tokens");
    }
    for (size_t i = 0; i < n; ++i) {
      const GgufValue& v = score_arr->items[i];
      scores[i] = v.AsFloat().has_value() ? static_cast<float>(*v.AsFloat())
                                          : static_cast<float>(v.AsInt().value_or(0));
    }
  }

  // Token types, int32 in 0..6, one per token; all normal when absent.
  types.assign(n, TokenType::kNormal);
  WARDEN_ASSIGN_OR_RETURN(const GgufArray* type_arr,
                          OptionalArray(gguf, source, kKeyTokenType, {GgufValueType::kInt32}));
  if (type_arr != nullptr) {
    if (type_arr->items.size() != n) {
      return KeyError(
          source, kKeyTokenType,
          std::to_string(type_arr->items.size()) + " entries for " + std::to_string(n) + " tokens");
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = type_arr->items[i].AsInt().value_or(-1);
      if (t < 0 || t > kMaxTokenType) {
        return KeyError(source, std::string(kKeyTokenType) + "[" + std::to_string(i) + "]",
                        std::to_string(t) + " is not a token type (0..6)");
      }
      types[i] = static_cast<TokenType>(t);
    }
  }
  attrs.resize(n);
  for (size_t i = 0; i < n; ++i) attrs[i] = AttrFromType(types[i]);

  // Byte tokens must say which byte they stand for.
  if (kind == TokenizerKind::kSpm) {
    for (size_t i = 0; i < n; ++i) {
      if (types[i] != TokenType::kByte) continue;
      const std::string& t = texts[i];
      if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || !IsHexDigit(t[3]) || !IsHexDigit(t[4]) ||
          t[5] != '>') {
        return KeyError(source, std::string(kKeyTokens) + "[" + std::to_string(i) + "]",
                        "byte token " + Quote(t) + " is not of the form <0xNN>");
      }
    }
  }

  WARDEN_RETURN_IF_ERROR(ReadSpecialIds(gguf, source));
  WARDEN_RETURN_IF_ERROR(OptionalBool(gguf, source, kKeyAddBos, add_bos));
  WARDEN_RETURN_IF_ERROR(OptionalBool(gguf, source, kKeyAddEos, add_eos));
  WARDEN_RETURN_IF_ERROR(OptionalBool(gguf, source, kKeyAddSpacePrefix, add_space_prefix));
  if (add_bos && bos == kNoToken) {
    return KeyError(source, kKeyAddBos, "true, but the vocabulary has no BOS token");
  }
  if (add_eos && eos == kNoToken) {
    return KeyError(source, kKeyAddEos, "true, but the vocabulary has no EOS token");
  }
  if (kind == TokenizerKind::kWpm && unk == kNoToken) {
    return KeyError(source, kKeyUnk, "missing (a bert vocabulary needs an unknown token)");
  }

  if (kind == TokenizerKind::kBpe) WARDEN_RETURN_IF_ERROR(ReadMerges(gguf, source));

  // Byte look-up tables.
  static constexpr char kHex[] = "0123456789ABCDEF";
  const ByteUnicode& bu = GetByteUnicode();
  for (int b = 0; b < 256; ++b) {
    const char raw[1] = {static_cast<char>(b)};
    raw_byte_tokens[b] = Find(std::string_view(raw, 1));
    const char hex[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
    const Token byte_token = Find(std::string_view(hex, 6));
    spm_byte_tokens[b] = byte_token != kNoToken ? byte_token : raw_byte_tokens[b];
    bpe_char_tokens[b] = Find(bu.utf8[b]);
  }

  if (kind == TokenizerKind::kWpm) {
    for (const std::string& t : texts) token_lengths.push_back(t.size());
    std::sort(token_lengths.begin(), token_lengths.end(), std::greater<>());
    token_lengths.erase(std::unique(token_lengths.begin(), token_lengths.end()),
                        token_lengths.end());
  }
  if (kind == TokenizerKind::kSpm) {
    spm_words_independent = true;
    for (const std::string& t : texts) {
      const std::string_view v(t);
      for (size_t p = v.find(kSpmSpace, 1); p != std::string_view::npos;
           p = v.find(kSpmSpace, p + 1)) {
        if (p < kSpmSpace.size() ||
            v.compare(p - kSpmSpace.size(), kSpmSpace.size(), kSpmSpace) != 0) {
          spm_words_independent = false;
        }
      }
    }
  }

  FindEndOfGeneration();
  BuildSpecialCache(gguf);
  BuildPieces();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Encoding.

void Tokenizer::Vocab::Partition(std::string_view text, bool parse_special,
                                 std::vector<Fragment>& frags) const {
  frags.clear();
  if (text.empty()) return;
  frags.push_back({kNoToken, 0, text.size()});
  if (specials.empty()) return;

  // Which special texts occur anywhere at all (most texts contain none).
  std::vector<bool> present(texts.size(), false);
  const bool any = special_matcher.FindPresent(text, present);
  if (!any) return;

  // Cut them out longest first, as llama.cpp does: each token splits every raw fragment at
  // each of its occurrences, left to right.
  std::vector<Fragment> next;
  for (const Token special : specials) {
    if (!present[special]) continue;
    const uint16_t a = attrs[special];
    // Without parse_special only user-defined tokens are cut out.
    if (!parse_special && (a & (kAttrControl | kAttrUnknown))) continue;
    const std::string& needle = texts[special];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t base = f.offset;
      size_t len = f.length;
      while (true) {
        const void* hit = memmem(text.data() + base, len, needle.data(), needle.size());
        if (hit == nullptr) {
          if (len > 0) next.push_back({kNoToken, base, len});
          break;
        }
        const size_t match = static_cast<const char*>(hit) - text.data();
        if (match > base) {
          size_t left_len = match - base;
          if (a & kAttrLstrip) {
            while (left_len > 0 && IsAsciiSpace(text[base + left_len - 1])) --left_len;
          }
          if (left_len > 0) next.push_back({kNoToken, base, left_len});
        }
        next.push_back({special, match, needle.size()});
        size_t right = match + needle.size();
        size_t right_len = base + len - right;
        if (a & kAttrRstrip) {
          while (right_len > 0 && IsAsciiSpace(text[right])) ++right, --right_len;
        }
        base = right;
        len = right_len;
      }
    }
    frags.swap(next);
  }
}

Status Tokenizer::Vocab::EncodeSpm(std::string_view fragment, bool space_prefix,
                                   std::vector<Token>& out) const {
  // Spaces become U+2581 and, at the start of the text or after a special token, one is
  // put in front.
  std::string text;
  text.reserve(fragment.size() + kSpmSpace.size() * 4);
  if (space_prefix) text += kSpmSpace;
  for (const char ch : fragment) {
    if (ch == ' ') {
      text += kSpmSpace;
    } else {
      text.push_back(ch);
    }
  }
  if (!spm_words_independent) return EncodeSpmSegment(text, out);
  // No token joins a character to a following U+2581 (true of real SentencePiece
  // vocabularies), so each word can be merged on its own: the same result as merging the
  // whole text at once, with small queues instead of one as long as the text.
  const std::string_view view(text);
  size_t begin = 0;
  for (size_t p = view.find(kSpmSpace, 1); p != std::string_view::npos;
       p = view.find(kSpmSpace, p + kSpmSpace.size())) {
    const bool after_space = p >= kSpmSpace.size() &&
                             view.compare(p - kSpmSpace.size(), kSpmSpace.size(), kSpmSpace) == 0;
    if (after_space) continue;
    WARDEN_RETURN_IF_ERROR(EncodeSpmSegment(view.substr(begin, p - begin), out));
    begin = p;
  }
  return EncodeSpmSegment(view.substr(begin), out);
}

Status Tokenizer::Vocab::EncodeSpmSegment(std::string_view text, std::vector<Token>& out) const {
  struct Symbol {
    int32_t prev;
    int32_t next;
    uint32_t start;
    uint32_t len;
  };
  struct Bigram {
    int32_t left;
    int32_t right;
    float score;
    uint32_t size;
  };
  // Highest score first; among equals the leftmost.
  auto before = [](const Bigram& l, const Bigram& r) {
    return l.score > r.score || (l.score == r.score && l.left < r.left);
  };

  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(Utf8SeqLen(text[off]), text.size() - off);
    const auto index = static_cast<int32_t>(syms.size());
    syms.push_back({index - 1, off + len == text.size() ? -1 : index + 1,
                    static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }
  if (syms.empty()) return Status::Ok();

  QuadHeap<Bigram, decltype(before)> queue(before);
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = syms[left].len + syms[right].len;
    if (size > max_token_len) return;
    const Token id = Find(text.substr(syms[left].start, size));
    if (id == kNoToken) return;
    queue.push({left, right, scores[id], size});
  };
  for (size_t i = 1; i < syms.size(); ++i) {
    try_add(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  }
  while (!queue.empty()) {
    const Bigram b = queue.pop();
    Symbol& left = syms[b.left];
    Symbol& right = syms[b.right];
    // Stale: one side has been merged into something else since this pair was queued.
    if (left.len == 0 || right.len == 0 || left.len + right.len != b.size) continue;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const std::string_view piece = text.substr(syms[i].start, syms[i].len);
    if (const Token id = Find(piece); id != kNoToken) {
      out.push_back(id);
      continue;
    }
    // Only a single character that is not a token gets here (a merge always makes a
    // token): fall back to its bytes.
    for (const char ch : piece) {
      Token id = spm_byte_tokens[static_cast<uint8_t>(ch)];
      if (id == kNoToken) id = unk;
      if (id == kNoToken) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        const auto b = static_cast<uint8_t>(ch);
        return InvalidArgumentError(std::string("byte 0x") + kHex[b >> 4] + kHex[b & 15] +
                                    " of the text has no token in this vocabulary (no byte "
                                    "token, no unknown token)");
      }
      out.push_back(id);
    }
  }
  return Status::Ok();
}

void Tokenizer::Vocab::BpeWord(std::string_view word, BpeScratch& scratch,
                               std::vector<Token>& out) const {
  const ByteUnicode& bu = GetByteUnicode();
  if (ignore_merges) {
    std::string& mapped = scratch.mapped;
    mapped.clear();
    for (const char ch : word) mapped += bu.utf8[static_cast<uint8_t>(ch)];
    if (const Token id = Find(mapped); id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  if (word.size() == 1) {  // the common one-byte word needs no queue
    const Token id = bpe_char_tokens[static_cast<uint8_t>(word[0])];
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }

  const auto n = static_cast<int32_t>(word.size());
  std::vector<BpeScratch::Symbol>& syms = scratch.syms;
  syms.resize(word.size());
  for (int32_t i = 0; i < n; ++i) {
    syms[i] = {i - 1, i + 1 == n ? -1 : i + 1, static_cast<uint32_t>(i), 1,
               bpe_char_tokens[static_cast<uint8_t>(word[i])]};
  }
  auto& queue = scratch.queue;
  queue.clear();
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    // Only tokens take part in merges (checked when the merges were read).
    if (syms[left].id == kNoToken || syms[right].id == kNoToken) return;
    const Merge* m = merges.Find(PairKey(syms[left].id, syms[right].id));
    if (m == nullptr) return;
    queue.push({left, right, m->rank, syms[left].len + syms[right].len, m->result});
  };
  for (int32_t i = 1; i < n; ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const BpeScratch::Bigram b = queue.pop();
    BpeScratch::Symbol& left = syms[b.left];
    BpeScratch::Symbol& right = syms[b.right];
    // Stale: one side has been merged into something else since this pair was queued.
    if (left.len == 0 || right.len == 0 || left.len + right.len != b.size) continue;
    left.len += right.len;
    left.id = b.result;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

  for (int32_t i = 0; i != -1 && n > 0; i = syms[i].next) {
    const BpeScratch::Symbol& sym = syms[i];
    if (sym.id != kNoToken) {
      out.push_back(sym.id);
      continue;
    }
    // Not a token: llama.cpp then emits whatever single bytes of the byte-level text are
    // tokens themselves (usually none), so do the same.
    for (uint32_t k = sym.start; k < sym.start + sym.len; ++k) {
      for (const char ch : bu.utf8[static_cast<uint8_t>(word[k])]) {
        const Token id = raw_byte_tokens[static_cast<uint8_t>(ch)];
        if (id != kNoToken) out.push_back(id);
      }
    }
  }
}

void Tokenizer::Vocab::EncodeBpe(std::string_view fragment, std::vector<Token>& out) const {
  CpText t;
  t.cps.reserve(fragment.size());
  t.offsets.reserve(fragment.size() + 1);
  for (size_t i = 0; i < fragment.size();) {
    t.offsets.push_back(static_cast<uint32_t>(i));
    t.cps.push_back(DecodeValid(fragment, i));
  }
  t.offsets.push_back(static_cast<uint32_t>(fragment.size()));
  t.flags.resize(t.cps.size());
  for (size_t i = 0; i < t.cps.size(); ++i) t.flags[i] = CpFlags(t.cps[i]);

  BpeScratch scratch;
  std::vector<Span> chunks = {{0, static_cast<uint32_t>(t.cps.size())}};
  std::vector<Span> next;
  for (const Stage stage : StagesFor(pre_kind)) {
    RunStage(stage, t, chunks, next);
    chunks.swap(next);
  }
  for (const Span& s : chunks) {
    const uint32_t begin = t.offsets[s.begin];
    BpeWord(fragment.substr(begin, t.offsets[s.end] - begin), scratch, out);
  }
}

void Tokenizer::Vocab::EncodeWpm(std::string_view fragment, std::vector<Token>& out) const {
  // Normalise (lower-case, strip accents, drop control characters) and split at
  // whitespace; punctuation, ASCII symbols and CJK ideographs become words of their own.
  std::vector<std::string> words(1);
  for (size_t i = 0; i < fragment.size();) {
    const uint32_t cp = NfdFirst(DecodeValid(fragment, i));
    const uint16_t f = CpFlags(cp);
    if (f & kCpWhitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (cp == 0 || cp == 0xFFFD || (f & kCpControl) || (f & kCpMark)) continue;
    std::string s;
    AppendUtf8(ToLower(cp), s);
    if ((f & kCpPunct) || (cp < 0x7F && (f & kCpSymbol)) || IsChineseChar(cp)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = std::move(s);
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }

  // Greedy longest match from the left; a word with any unmatched position becomes UNK.
  for (const std::string& word : words) {
    if (word.empty()) continue;
    const std::string w = std::string(kSpmSpace) + word;
    const size_t before = out.size();
    for (size_t i = 0; i < w.size();) {
      Token found = kNoToken;
      size_t len = 0;
      for (const size_t candidate : token_lengths) {  // longest first
        if (candidate > w.size() - i) continue;
        found = Find(std::string_view(w).substr(i, candidate));
        if (found != kNoToken) {
          len = candidate;
          break;
        }
      }
      if (found == kNoToken) {
        out.resize(before);
        break;
      }
      out.push_back(found);
      i += len;
    }
    if (out.size() == before) out.push_back(unk);
  }
}

// ---------------------------------------------------------------------------------------

std::string_view TokenizerKindName(TokenizerKind kind) {
  switch (kind) {
    case TokenizerKind::kSpm:
      return "spm";
    case TokenizerKind::kBpe:
      return "bpe";
    case TokenizerKind::kWpm:
      return "wpm";
  }
  return "unknown";
}

Result<Tokenizer> Tokenizer::FromGguf(const formats::GgufFile& gguf, std::string_view source) {
  auto vocab = std::make_shared<Vocab>();
  WARDEN_RETURN_IF_ERROR(vocab->Build(gguf, source));
  return Tokenizer(std::move(vocab));
}

Result<std::vector<Token>> Tokenizer::Encode(std::string_view text,
                                             const EncodeOptions& opts) const {
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgumentError("text is not valid UTF-8 at byte offset " + std::to_string(bad));
  }
  if (text.size() > kMaxTextBytes) {
    return InvalidArgumentError("text of " + std::to_string(text.size()) +
                                " bytes is too long to tokenize");
  }
  const Vocab& v = *v_;
  std::vector<Fragment> frags;
  v.Partition(text, opts.parse_special, frags);

  std::vector<Token> out;
  out.reserve(text.size() / 3 + 4);
  if (opts.add_special && v.add_bos) out.push_back(v.bos);
  bool after_special = true;  // SPM: the text starts as if after a special token
  for (const Fragment& f : frags) {
    if (f.token != kNoToken) {
      out.push_back(f.token);
      after_special = true;
      continue;
    }
    const std::string_view piece = text.substr(f.offset, f.length);
    switch (v.kind) {
      case TokenizerKind::kSpm:
        WARDEN_RETURN_IF_ERROR(v.EncodeSpm(piece, v.add_space_prefix && after_special, out));
        break;
      case TokenizerKind::kBpe:
        v.EncodeBpe(piece, out);
        break;
      case TokenizerKind::kWpm:
        v.EncodeWpm(piece, out);
        break;
    }
    after_special = false;
  }
  if (opts.add_special) {
    if (v.add_eos) out.push_back(v.eos);
    if (v.kind == TokenizerKind::kWpm && v.sep != kNoToken) out.push_back(v.sep);
  }
  return out;
}

std::string Tokenizer::TokenToPiece(Token id, bool render_special) const {
  if (id < 0 || static_cast<size_t>(id) >= v_->texts.size()) return "";
  if (render_special && (v_->attrs[id] & (kAttrControl | kAttrUnknown))) return v_->texts[id];
  return v_->pieces[id];
}

std::string Tokenizer::Decode(std::span<const Token> ids, bool render_special,
                              bool strip_leading_space) const {
  std::string out;
  bool strip = strip_leading_space && v_->add_space_prefix;
  for (const Token id : ids) {
    std::string piece = TokenToPiece(id, render_special);
    if (piece.empty()) continue;
    if (strip && piece[0] == ' ' && id >= 0 && (v_->attrs[id] & (kAttrNormal | kAttrByte)) != 0) {
      out.append(piece, 1);
    } else {
      out += piece;
    }
    strip = false;
  }
  return out;
}

size_t Tokenizer::vocab_size() const { return v_->texts.size(); }
TokenizerKind Tokenizer::kind() const { return v_->kind; }
std::string_view Tokenizer::pre() const { return v_->pre_name; }

std::string_view Tokenizer::TokenText(Token id) const {
  if (id < 0 || static_cast<size_t>(id) >= v_->texts.size()) return {};
  return v_->texts[id];
}

TokenType Tokenizer::GetTokenType(Token id) const {
  if (id < 0 || static_cast<size_t>(id) >= v_->types.size()) return TokenType::kUndefined;
  return v_->types[id];
}

float Tokenizer::TokenScore(Token id) const {
  if (id < 0 || static_cast<size_t>(id) >= v_->scores.size()) return 0.0f;
  return v_->scores[id];
}

bool Tokenizer::IsControl(Token id) const {
  if (id < 0 || static_cast<size_t>(id) >= v_->attrs.size()) return false;
  return (v_->attrs[id] & kAttrControl) != 0;
}

Token Tokenizer::bos() const { return v_->bos; }
Token Tokenizer::eos() const { return v_->eos; }
Token Tokenizer::eot() const { return v_->eot; }
Token Tokenizer::unk() const { return v_->unk; }
Token Tokenizer::pad() const { return v_->pad; }
Token Tokenizer::sep() const { return v_->sep; }

bool Tokenizer::IsEndOfGeneration(Token id) const {
  return std::binary_search(v_->eog.begin(), v_->eog.end(), id);
}

std::span<const Token> Tokenizer::end_of_generation_tokens() const { return v_->eog; }

bool Tokenizer::add_bos() const { return v_->add_bos; }
bool Tokenizer::add_eos() const { return v_->add_eos; }
bool Tokenizer::add_space_prefix() const { return v_->add_space_prefix; }

Token Tokenizer::FindToken(std::string_view text) const { return v_->Find(text); }

}  // namespace warden::engine
