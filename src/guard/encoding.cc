// Implementation of the encoded-payload finder (guard/encoding.h).
//
// The detectors make four left-to-right passes over the text (base64, hex, URL, and one for
// rot13 and leetspeak, which both work on words) and propose candidates; one detector's
// candidates never overlap each other. A final step keeps the longest candidate wherever two
// detectors claim the same bytes and then applies the output limits. Every detector decodes
// a region of the input at most twice (once whole and, when that fails, once split into the
// pieces a separator suggests), so the total work is linear in the input.
//
// The detectors are deliberately conservative: the encoding scanner flags every payload, so a
// false one is a false alarm, and prose, identifiers, digests and numbers are far more common in
// prompts than encodings are.
#include "guard/encoding.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"

namespace warden::guard {
namespace {

// ---- Thresholds (see the header for what each one means) ----

constexpr size_t kMinBase64Chars = 16;
constexpr size_t kMinDataUriBase64Chars = 2;  // one byte: the "data:...;base64," prefix says it
constexpr size_t kMaxDataUriHeader = 256;     // bytes scanned back from ";base64," for "data:"
constexpr size_t kMinHexDigits = 16;
constexpr size_t kMinUrlEscapes = 3;
constexpr size_t kMinRot13Words = 3;
constexpr size_t kMinRot13StrongWords = 2;
constexpr size_t kMinLeetWordChars = 3;
constexpr size_t kMinLoneLeetWordChars = 6;
constexpr size_t kMinLeetWords = 2;
// Words that are neither evidence for nor against an encoding that may sit between two
// evidence words before a run is cut.
constexpr size_t kMaxGapWords = 3;
// No list word is longer; longer tokens are never looked up.
constexpr size_t kMaxWordChars = 16;
// A leetspeak token with more '1's than this tries only "all i" and "all l" rather than every
// combination (2^4 = 16 lookups at most per token).
constexpr int kMaxLeetOnesExpanded = 4;
// Decoded text must be at least this share (in tenths) of printable code points.
constexpr size_t kMinPrintableTenths = 9;
// ... and contain a space or at least this many letters.
constexpr size_t kMinLettersWithoutSpace = 8;

// ---- Character classes ----

enum CharClass : uint16_t {
  kAlpha = 1,       // [A-Za-z]
  kDigit = 2,       // [0-9]
  kHex = 4,         // [0-9A-Fa-f]
  kB64Std = 8,      // + /  (standard base64's two non-alphanumeric characters)
  kB64Url = 16,     // - _  (URL-safe base64's)
  kLeetSym = 32,    // 0 1 3 4 5 7 @ $
  kSpace = 64,      // ASCII white space
  kMimeChar = 128,  // what may appear in a data URI's media type and parameters
  kUnderscore = 256,
  kAtDollar = 512,  // @ $

  kAlnum = kAlpha | kDigit,
  kWordChar = kAlnum | kUnderscore,
  kB64Extra = kB64Std | kB64Url,
  kB64Char = kAlnum | kB64Extra,
  kLeetTokenChar = kAlnum | kAtDollar,
};

constexpr std::array<uint16_t, 256> MakeClassTable() {
  std::array<uint16_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint16_t bits = 0;
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha) bits |= kAlpha | kMimeChar;
    if (digit) bits |= kDigit | kHex | kMimeChar;
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    if (c == '+' || c == '/') bits |= kB64Std;
    if (c == '-' || c == '_') bits |= kB64Url;
    if (c == '_') bits |= kUnderscore;
    if (c == '@' || c == '$') bits |= kAtDollar;
    if (c == '0' || c == '1' || c == '3' || c == '4' || c == '5' || c == '7' || c == '@' ||
        c == '$') {
      bits |= kLeetSym;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') bits |= kSpace;
    if (c == '/' || c == ';' || c == '=' || c == '-' || c == '+' || c == '.' || c == '_') {
      bits |= kMimeChar;
    }
    t[static_cast<size_t>(c)] = bits;
  }
  return t;
}
constexpr std::array<uint16_t, 256> kClass = MakeClassTable();

uint16_t ClassOf(char c) { return kClass[static_cast<unsigned char>(c)]; }
bool Is(char c, uint16_t cls) { return (ClassOf(c) & cls) != 0; }
bool IsAlnum(char c) { return Is(c, kAlnum); }
bool IsWordChar(char c) { return Is(c, kWordChar); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when the byte may sit between two words of a rot13 or leetspeak run: printable ASCII and
// ordinary white space. Anything else (a control character, a non-ASCII byte) ends the run, which
// also keeps those payloads ASCII and therefore valid UTF-8.
bool IsRunFiller(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u < 0x7f) || c == '\t' || c == '\n' || c == '\r';
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// A table rather than comparisons: which half of the alphabet a letter is in is random in
// text, and a mispredicted branch per letter was the largest cost of the rot13 detector.
constexpr std::array<char, 256> MakeRot13Table() {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    int r = c;
    if ((c >= 'a' && c <= 'm') || (c >= 'A' && c <= 'M')) r = c + 13;
    if ((c >= 'n' && c <= 'z') || (c >= 'N' && c <= 'Z')) r = c - 13;
    t[static_cast<size_t>(c)] = static_cast<char>(r);
  }
  return t;
}
constexpr std::array<char, 256> kRot13 = MakeRot13Table();

char Rot13(char c) { return kRot13[static_cast<unsigned char>(c)]; }

// ---- Word list ----

// Common English words plus the vocabulary of prompt attacks and harmful requests. Written for
// this file. Short words whose rot13 is itself a common word ("vs", "bar", "fur", "gel") are
// listed so that meeting them in prose counts for both readings, not as rot13 evidence.
constexpr std::string_view kWordList = R"(
a an the and or but nor if then else so than that this these those there here where when why
how what which who whom whose all any some each every no not none both either neither only
also just very too more most less least much many few other another such same own of to in on
at by for with from as into onto about above below over under between through during before
after since until while because without within against among around across along away back
down off out up upon via per like is are was were be been being am have has had having do does
did doing done can could will would shall should may might must i me my mine myself you your
yours yourself he him his himself she her hers herself it its itself we us our ours ourselves
they them their theirs themselves one two three four five six seven eight nine ten first
second third last next new old good bad best better worse great small large big little long
short high low right left wrong true false real sure yes okay please thanks thank hello dear
now never always again still even ever already soon today maybe really actually absolutely
certainly exactly say said says tell told ask asked give gave given take took taken make made
get got go goes going went gone come came see saw seen know knew known think thought want
wanted need needed use used using find found work call called try trying let put keep kept
help show shown write written wrote read run start stop turn begin change follow answer
explain describe list provide create generate produce send open close print output return
repeat continue act become leave mean look feel seem play move live believe bring happen stand
lose pay meet include set learn understand watch speak talk build stay remain suggest pass
require decide break forget forgot remember enable disable enter execute install download
upload delete remove destroy erase replace share copy paste post sell buy teach hide hidden
translate decode encode decrypt encrypt respond reply obey comply refuse allow allowed permit
forbidden restrict restricted limit limits limited unlimited simulate time year people way day
man woman men women child children world life hand part place case week system program
question questions number night point home water room money story fact month lot book eye job
word words business issue side kind head house friend power hour game line end member law car
city name team minute idea body information person war history reason girl boy school student
family country state problem group thing things something anything everything nothing someone
anyone everyone nobody internet computer phone email address website page link network server
user users assistant model message messages text data file files code key keys secret secrets
password passwords token tokens account accounts admin administrator access rule rules
instruction instructions prompt prompts context content policy policies guideline guidelines
restriction restrictions filter filters safety security mode role character persona response
responses request command commands task order orders developer developers setting settings
config configuration language example examples step steps manual recipe free ignore ignored
ignoring disregard previous prior earlier original initial reveal leak expose dump internal
confidential private public bypass override overwrite jailbreak jailbroken pretend roleplay
unrestricted unfiltered uncensored unlocked evil malicious dangerous harmful opposite hack
hacker hacking exploit attack inject injection payload malware virus ransomware trojan
keylogger backdoor rootkit botnet phishing steal stealing stolen credential credentials bomb
explosive explosives weapon weapons gun guns rifle kill killing murder poison drug drugs meth
cocaine heroin fentanyl suicide harm hurt illegal crime criminal terror terrorist terrorism
assassinate shoot stab launder counterfeit fraud scam smuggle kidnap abuse anthrax sarin toxin
toxic chemical biological nuclear ammunition grenade detonate synthesize dead die death blood
violence violent victim target sudo root shell terminal credit card bank identity dan leet
elite vs bar fur gel
)";

// An open-addressing hash set over the lower-case words of kWordList, built once.
class WordSet {
 public:
  WordSet() {
    size_t i = 0;
    while (i < kWordList.size()) {
      while (i < kWordList.size() && Is(kWordList[i], kSpace)) ++i;
      size_t j = i;
      while (j < kWordList.size() && !Is(kWordList[j], kSpace)) ++j;
      if (j > i) Insert(kWordList.substr(i, j - i));
      i = j;
    }
  }

  // `word` must be lower case.
  bool Contains(std::string_view word) const {
    if (word.empty() || word.size() > kMaxWordChars || !MayStartWith(word)) return false;
    for (size_t slot = Hash(word) & kMask;; slot = (slot + 1) & kMask) {
      if (slots_[slot].empty()) return false;
      if (slots_[slot] == word) return true;
    }
  }

  // False when no list word starts with the first three characters of `word` (all of it when it
  // is shorter): most lookups are misses, since the rot13 of an English word is rarely a word,
  // and this rejects nearly all of them before the word is even built.
  bool MayStartWith(std::string_view word) const {
    const size_t prefix = PrefixIndex(word);
    return prefix != kNoPrefix && prefixes_[prefix];
  }

 private:
  // A power of two well above twice the list's size, so probes stay short and an empty slot
  // always ends a probe.
  static constexpr size_t kSlots = 2048;
  static constexpr size_t kMask = kSlots - 1;
  static constexpr size_t kPrefixLetters = 3;
  static constexpr size_t kNoPrefix = 27 * 27 * 27;

  // The first three letters in base 27 (26 for "past the end"), or kNoPrefix when one of them
  // is not a lower-case ASCII letter, which no list word has.
  static size_t PrefixIndex(std::string_view word) {
    size_t index = 0;
    for (size_t k = 0; k < kPrefixLetters; ++k) {
      size_t letter = 26;
      if (k < word.size()) {
        letter = static_cast<size_t>(static_cast<unsigned char>(word[k])) - 'a';  // wraps below
        if (letter >= 26) return kNoPrefix;
      }
      index = index * 27 + letter;
    }
    return index;
  }

  static size_t Hash(std::string_view word) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : word) {
      h ^= static_cast<unsigned char>(c);
      h *= 16777619u;
    }
    return h;
  }

  void Insert(std::string_view word) {
    const size_t prefix = PrefixIndex(word);
    WARDEN_CHECK(!word.empty() && prefix != kNoPrefix && word.size() <= kMaxWordChars);
    prefixes_[prefix] = true;
    for (size_t slot = Hash(word) & kMask;; slot = (slot + 1) & kMask) {
      if (slots_[slot] == word) return;
      if (slots_[slot].empty()) {
        slots_[slot] = word;
        return;
      }
    }
  }

  std::array<std::string_view, kSlots> slots_{};
  std::array<bool, kNoPrefix> prefixes_{};
};

const WordSet& Words() {
  static const WordSet* const words = new WordSet();
  return *words;
}

// ---- Decoded text check ----

// True when `s` is well-formed UTF-8 that reads as text: at least 90% of its code points are
// printable (ASCII graphic characters, space, tab, CR, LF, or any code point from U+00A0 up)
// and, when `require_words`, it has a white-space character or at least 8 letters (a non-ASCII
// printable code point counts as a letter, so that non-Latin scripts qualify).
bool LooksLikeText(std::string_view s, bool require_words) {
  size_t total = 0;
  size_t printable = 0;
  size_t letters = 0;
  bool space = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8At(s, i, &cp);
    if (len == 0) return false;
    i += len;
    ++total;
    if (cp >= 0x20 && cp < 0x7f) {
      ++printable;
      if (cp == ' ') {
        space = true;
      } else if (Is(static_cast<char>(cp), kAlpha)) {
        ++letters;
      }
    } else if (cp == '\t' || cp == '\n' || cp == '\r') {
      ++printable;
      space = true;
    } else if (cp >= 0xa0) {
      ++printable;
      ++letters;
    }
  }
  if (total == 0 || printable * 10 < total * kMinPrintableTenths) return false;
  return !require_words || space || letters >= kMinLettersWithoutSpace;
}

using Candidates = std::vector<EncodedPayload>;

void Emit(Candidates& out, EncodingKind kind, size_t begin, size_t end, std::string decoded) {
  out.push_back(EncodedPayload{kind, begin, end, std::move(decoded)});
}

// ---- base64 ----

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decodes either alphabet without padding. Lenient where base/encoding.h is strict on purpose:
// the unused low bits of a final partial group are ignored, as most decoders an attacker
// targets ignore them. Precondition: every character is in an alphabet and size % 4 != 1.
std::string DecodeBase64Lenient(std::string_view run) {
  std::string out;
  out.reserve(run.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : run) {
    acc = (acc << 6) | static_cast<uint32_t>(Base64Value(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// When the run at `run_begin` follows "data:<media type>;base64,", sets *uri_begin to the 'd'.
// The backward scan crosses only media-type characters (no ',' or white space), so two scans
// never cover the same bytes.
bool FindDataUriStart(std::string_view text, size_t run_begin, size_t* uri_begin) {
  constexpr std::string_view kMarker = ";base64,";
  constexpr std::string_view kScheme = "data:";
  if (run_begin < kMarker.size() ||
      !IEquals(text.substr(run_begin - kMarker.size(), kMarker.size()), kMarker)) {
    return false;
  }
  size_t p = run_begin - kMarker.size();
  for (size_t steps = 0; steps <= kMaxDataUriHeader; ++steps) {
    if (p >= kScheme.size() && IEquals(text.substr(p - kScheme.size(), kScheme.size()), kScheme)) {
      *uri_begin = p - kScheme.size();
      return true;
    }
    if (p == 0 || !Is(text[p - 1], kMimeChar)) return false;
    --p;
  }
  return false;
}

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!Is(c, kHex)) return false;
  }
  return true;
}

// Tries `text[begin, end)` as one base64 payload; `span_begin`/`span_end` are what it is
// reported as (they add a data URI prefix or padding).
bool TryBase64(std::string_view text, size_t begin, size_t end, size_t span_begin, size_t span_end,
               size_t min_chars, bool data_uri, Candidates& out) {
  const std::string_view run = text.substr(begin, end - begin);
  if (run.size() < min_chars || run.size() % 4 == 1) return false;
  // Hex digits are also base64 characters; a digest or a hex payload is the hex detector's.
  if (!data_uri && AllHex(run)) return false;
  std::string decoded = DecodeBase64Lenient(run);
  if (!LooksLikeText(decoded, /*require_words=*/!data_uri)) return false;
  Emit(out, EncodingKind::kBase64, span_begin, span_end, std::move(decoded));
  return true;
}

void FindBase64(std::string_view text, Candidates& out) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!Is(text[i], kB64Char)) {
      ++i;
      continue;
    }
    size_t j = i;
    uint16_t seen = 0;
    for (uint16_t cls; j < n && ((cls = ClassOf(text[j])) & kB64Char) != 0; ++j) seen |= cls;
    size_t pad_end = j;
    while (pad_end < n && pad_end - j < 2 && text[pad_end] == '=') ++pad_end;
    const bool has_std = (seen & kB64Std) != 0;
    const bool has_url = (seen & kB64Url) != 0;

    size_t uri_begin = 0;
    const bool data_uri = i > 0 && text[i - 1] == ',' && FindDataUriStart(text, i, &uri_begin);
    const size_t min_chars = data_uri ? kMinDataUriBase64Chars : kMinBase64Chars;
    if (j - i >= min_chars) {
      bool found = false;
      if (!(has_std && has_url)) {
        found = TryBase64(text, i, j, data_uri ? uri_begin : i, pad_end, min_chars, data_uri, out);
      }
      // A run that mixes the alphabets, or that does not decode as a whole, may be a payload
      // glued to a path or an identifier ("/api/v1/<base64>", "name_<base64>"): try the
      // alphanumeric pieces between the separators, each once.
      if (!found && (has_std || has_url)) {
        size_t a = i;
        while (a < j) {
          size_t b = a;
          while (b < j && !Is(text[b], kB64Extra)) ++b;
          TryBase64(text, a, b, a, b == j ? pad_end : b, kMinBase64Chars, false, out);
          a = b + 1;
        }
      }
    }
    i = pad_end;
  }
}

// ---- hex ----

struct HexToken {
  size_t begin = 0;  // including any prefix
  size_t digits_begin = 0;
  size_t end = 0;
  bool prefixed = false;
};

bool HasHexPrefixAt(std::string_view text, size_t p) {
  return p + 2 < text.size() &&
         ((text[p] == '0' && (text[p + 1] == 'x' || text[p + 1] == 'X')) ||
          (text[p] == '\\' && text[p + 1] == 'x')) &&
         Is(text[p + 2], kHex);
}

// One token: an optional "0x"/"\x" prefix and an even number of hex digits that ends the word.
bool ParseHexToken(std::string_view text, size_t p, HexToken* token) {
  token->begin = p;
  token->prefixed = HasHexPrefixAt(text, p);
  if (token->prefixed) p += 2;
  token->digits_begin = p;
  while (p < text.size() && Is(text[p], kHex)) ++p;
  token->end = p;
  const size_t digits = p - token->digits_begin;
  if (digits == 0 || digits % 2 != 0) return false;
  return p == text.size() || !IsWordChar(text[p]);
}

// The token after `token` in a sequence: separated by one space, ",", ", ", or glued when it has
// a prefix ("\x69\x67"). False at the end of the sequence.
bool NextHexToken(std::string_view text, const HexToken& token, HexToken* next) {
  size_t q = token.end;
  if (!HasHexPrefixAt(text, q)) {
    if (q < text.size() && text[q] == ' ') {
      ++q;
    } else if (q < text.size() && text[q] == ',') {
      ++q;
      if (q < text.size() && text[q] == ' ') ++q;
    } else {
      return false;
    }
  }
  return ParseHexToken(text, q, next);
}

// Hex tokens gathered into one candidate payload.
class HexRun {
 public:
  void Add(std::string_view text, const HexToken& token) {
    if (tokens_ == 0) begin_ = token.begin;
    end_ = token.end;
    ++tokens_;
    prefixed_ |= token.prefixed;
    for (size_t k = token.digits_begin; k < token.end; ++k) {
      digits_.push_back(text[k]);
      has_letter_ |= Is(text[k], kAlpha);
    }
  }

  size_t tokens() const { return tokens_; }

  // Decodes the digits and emits the payload when it reads as text.
  bool TryEmit(Candidates& out) const {
    // Phone, card and account numbers are runs of decimal digits; without an explicit prefix
    // such a run is a number, not hex.
    if (digits_.size() < kMinHexDigits || (!prefixed_ && !has_letter_)) return false;
    Result<std::vector<uint8_t>> bytes = HexDecode(digits_);
    if (!bytes.has_value()) return false;
    std::string decoded(AsChars(*bytes));
    if (!LooksLikeText(decoded, /*require_words=*/true)) return false;
    Emit(out, EncodingKind::kHex, begin_, end_, std::move(decoded));
    return true;
  }

 private:
  std::string digits_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t tokens_ = 0;
  bool prefixed_ = false;
  bool has_letter_ = false;
};

void FindHex(std::string_view text, Candidates& out) {
  const size_t n = text.size();
  size_t i = 0;
  // `i` is always at the start of a word or on a non-word byte: every branch below either
  // consumes a whole word or one non-word byte.
  while (i < n) {
    const char c = text[i];
    HexToken first;
    if (Is(c, kWordChar)) {
      // One scan decides most words: a token is all hex digits, or "0x" and hex digits.
      size_t j = i;
      uint16_t common = kHex;
      for (uint16_t cls; j < n && ((cls = ClassOf(text[j])) & kWordChar) != 0; ++j) common &= cls;
      if ((common == 0 && !HasHexPrefixAt(text, i)) || !ParseHexToken(text, i, &first)) {
        i = j;
        continue;
      }
    } else if (c != '\\' || !HasHexPrefixAt(text, i) || !ParseHexToken(text, i, &first)) {
      ++i;
      continue;
    }
    HexRun run;
    HexToken token = first;
    run.Add(text, token);
    for (HexToken next; NextHexToken(text, token, &next); token = next) run.Add(text, next);
    if (!run.TryEmit(out) && run.tokens() > 1) {
      // A sequence that fails as a whole (a digest next to a payload) is tried token by token:
      // a second walk over the same bytes rather than a list of every token.
      for (HexToken t = first, next;; t = next) {
        HexRun single;
        single.Add(text, t);
        single.TryEmit(out);
        if (!NextHexToken(text, t, &next)) break;
      }
    }
    i = token.end;
  }
}

// ---- URL percent-encoding ----

// Precondition: `c` is a hex digit.
int HexValue(char c) {
  if (c <= '9') return c - '0';
  return Lower(c) - 'a' + 10;
}

// The byte that the escape at text[k] stands for, or -1 when there is no "%XX" at k.
int EscapedByteAt(std::string_view text, size_t k) {
  if (text[k] != '%' || k + 2 >= text.size() || !Is(text[k + 1], kHex) || !Is(text[k + 2], kHex)) {
    return -1;
  }
  return HexValue(text[k + 1]) << 4 | HexValue(text[k + 2]);
}

// Whether an escaped byte hides part of a word: a letter, a digit, white space, or the first
// byte of a multi-byte UTF-8 character. Escaped delimiters and punctuation ("%3A%2F%2F") are
// how one URL is nested in another and hide no words.
bool IsWordyEscape(int byte) {
  return byte >= 0xc0 || (byte < 0x80 && Is(static_cast<char>(byte), kAlnum | kSpace));
}

void FindUrl(std::string_view text, Candidates& out) {
  // Most text has no escapes at all; counting '%' is much cheaper than splitting into runs.
  if (static_cast<size_t>(std::count(text.begin(), text.end(), '%')) < kMinUrlEscapes) return;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (Is(text[i], kSpace)) {
      ++i;
      continue;
    }
    size_t j = i;
    size_t wordy = 0;
    for (; j < n && !Is(text[j], kSpace); ++j) {
      const int byte = EscapedByteAt(text, j);
      if (byte >= 0 && IsWordyEscape(byte)) ++wordy;
    }
    if (wordy >= kMinUrlEscapes) {
      std::string decoded;
      decoded.reserve(j - i);
      for (size_t k = i; k < j; ++k) {
        const int byte = EscapedByteAt(text, k);
        if (byte >= 0) {
          decoded.push_back(static_cast<char>(byte));
          k += 2;
        } else {
          decoded.push_back(text[k]);
        }
      }
      if (LooksLikeText(decoded, /*require_words=*/true)) {
        Emit(out, EncodingKind::kUrl, i, j, std::move(decoded));
      }
    }
    i = j;
  }
}

// ---- rot13 ----

// What a word says about rot13: kPlain only reads as English as it is, kStrong/kWeak only after
// rot13 (kWeak when the result has fewer than 3 letters: "vf" -> "is" is evidence, but two-letter
// coincidences are too common to start a payload on), kBoth either way, kNeutral neither.
enum class Rot13Class { kNeutral, kPlain, kBoth, kStrong, kWeak };

// `need_plain` says whether the caller needs kPlain told apart from kNeutral, which it does only
// inside a run; outside one, most words are settled by the first three letters of their rot13.
Rot13Class ClassifyRot13(std::string_view word, const WordSet& words, bool need_plain) {
  if (word.size() > kMaxWordChars) return Rot13Class::kNeutral;
  if (!need_plain) {
    std::array<char, 3> head;
    const size_t head_size = std::min(word.size(), head.size());
    for (size_t k = 0; k < head_size; ++k) head[k] = Lower(Rot13(word[k]));
    if (!words.MayStartWith(std::string_view(head.data(), head_size))) {
      return Rot13Class::kNeutral;
    }
  }
  std::array<char, kMaxWordChars> plain;
  std::array<char, kMaxWordChars> rotated;
  for (size_t k = 0; k < word.size(); ++k) {
    if (!Is(word[k], kAlpha)) return Rot13Class::kNeutral;
    plain[k] = Lower(word[k]);
    rotated[k] = Rot13(plain[k]);
  }
  const bool is_rot = words.Contains(std::string_view(rotated.data(), word.size()));
  if (!is_rot && !need_plain) return Rot13Class::kNeutral;
  const bool is_plain = words.Contains(std::string_view(plain.data(), word.size()));
  if (is_plain) return is_rot ? Rot13Class::kBoth : Rot13Class::kPlain;
  if (!is_rot) return Rot13Class::kNeutral;
  return word.size() >= 3 ? Rot13Class::kStrong : Rot13Class::kWeak;
}

// The words from the first to the last rot13 evidence word of a stretch of text.
class Rot13Run {
 public:
  void Add(Rot13Class cls, size_t begin, size_t end, std::string_view text, Candidates& out) {
    const bool evidence = cls == Rot13Class::kStrong || cls == Rot13Class::kWeak;
    if (!evidence) {
      if (!active_) return;
      ++gap_words_;
      if (cls == Rot13Class::kPlain) ++gap_plain_;
      if (cls == Rot13Class::kBoth) ++gap_both_;
      if (gap_words_ > kMaxGapWords) Finish(text, out);
      return;
    }
    if (!active_) {
      active_ = true;
      begin_ = begin;
    } else {
      words_ += gap_words_;
      plain_ += gap_plain_;
      both_ += gap_both_;
    }
    gap_words_ = gap_plain_ = gap_both_ = 0;
    ++words_;
    if (cls == Rot13Class::kStrong) ++strong_;
    if (cls == Rot13Class::kWeak) ++weak_;
    end_ = end;
  }

  bool active() const { return active_; }

  void Finish(std::string_view text, Candidates& out) {
    if (active_) {
      // List words after rot13 (strong + weak + both) against list words as written
      // (plain + both): at least 2 more, at least half of all words, and 2 of 3+ letters.
      const size_t rot_words = strong_ + weak_ + both_;
      if (words_ >= kMinRot13Words && strong_ >= kMinRot13StrongWords &&
          strong_ + weak_ >= plain_ + 2 && 2 * rot_words >= words_) {
        std::string decoded(text.substr(begin_, end_ - begin_));
        for (char& c : decoded) c = Rot13(c);
        Emit(out, EncodingKind::kRot13, begin_, end_, std::move(decoded));
      }
    }
    *this = Rot13Run();
  }

 private:
  bool active_ = false;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t words_ = 0;
  size_t strong_ = 0;
  size_t weak_ = 0;
  size_t plain_ = 0;
  size_t both_ = 0;
  // Words after the last evidence word; they join the run only if more evidence follows.
  size_t gap_words_ = 0;
  size_t gap_plain_ = 0;
  size_t gap_both_ = 0;
};

// ---- leetspeak ----

char DeLeetChar(char c, bool one_as_l) {
  switch (c) {
    case '0':
      return 'o';
    case '1':
      return one_as_l ? 'l' : 'i';
    case '3':
      return 'e';
    case '4':
    case '@':
      return 'a';
    case '5':
    case '$':
      return 's';
    case '7':
      return 't';
    default:
      return Lower(c);
  }
}

// When `token` mixes letters with leet characters and reads as a list word once they are
// replaced, writes that word (lower case, same length) to *word. A '$' or '@' at either end of
// the token does not make it leetspeak on its own: it is a sigil or an anchor ("$HOME",
// "@param", "COMMAND$", "^word$"); the digits 2 6 8 9 never occur in a leet word here,
// which keeps "h264", "x86", "2nd" and "B2B" out.
bool DeLeet(std::string_view token, const WordSet& words, std::string* word) {
  if (token.size() < kMinLeetWordChars || token.size() > kMaxWordChars) return false;
  size_t letters = 0;
  size_t leet = 0;
  int ones = 0;
  for (size_t k = 0; k < token.size(); ++k) {
    const char c = token[k];
    if (Is(c, kAlpha)) {
      ++letters;
    } else if (Is(c, kLeetSym)) {
      const bool edge = k == 0 || k + 1 == token.size();
      if (!edge || (c != '$' && c != '@')) ++leet;
      if (c == '1') ++ones;
    } else {
      return false;
    }
  }
  if (letters == 0 || leet == 0) return false;
  std::array<char, kMaxWordChars> buf{};
  const auto fill = [&](uint32_t one_mask_bits, bool all_l) {
    int one_index = 0;
    for (size_t k = 0; k < token.size(); ++k) {
      bool as_l = all_l;
      if (token[k] == '1' && ones <= kMaxLeetOnesExpanded) {
        as_l = ((one_mask_bits >> one_index) & 1u) != 0;
        ++one_index;
      }
      buf[k] = DeLeetChar(token[k], as_l);
    }
    return std::string_view(buf.data(), token.size());
  };
  if (ones <= kMaxLeetOnesExpanded) {
    for (uint32_t mask = 0; mask < (1u << ones); ++mask) {
      const std::string_view candidate = fill(mask, false);
      if (words.Contains(candidate)) {
        word->assign(candidate);
        return true;
      }
    }
    return false;
  }
  for (bool all_l : {false, true}) {
    const std::string_view candidate = fill(0, all_l);
    if (words.Contains(candidate)) {
      word->assign(candidate);
      return true;
    }
  }
  return false;
}

// The tokens from the first to the last leet word of a stretch of text.
class LeetRun {
 public:
  void AddLeet(size_t begin, std::string word) {
    if (words_.empty()) begin_ = begin;
    end_ = begin + word.size();
    longest_ = std::max(longest_, word.size());
    words_.emplace_back(begin, std::move(word));
    gap_words_ = 0;
  }

  void AddOther(std::string_view text, Candidates& out) {
    if (words_.empty()) return;
    if (++gap_words_ > kMaxGapWords) Finish(text, out);
  }

  void Finish(std::string_view text, Candidates& out) {
    if (words_.size() >= kMinLeetWords || longest_ >= kMinLoneLeetWordChars) {
      std::string decoded(text.substr(begin_, end_ - begin_));
      for (const auto& [at, word] : words_) decoded.replace(at - begin_, word.size(), word);
      Emit(out, EncodingKind::kLeet, begin_, end_, std::move(decoded));
    }
    words_.clear();
    longest_ = 0;
    gap_words_ = 0;
  }

 private:
  std::vector<std::pair<size_t, std::string>> words_;  // offset in the text, de-leeted word
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t longest_ = 0;
  size_t gap_words_ = 0;
};

// rot13 and leetspeak in one pass, as both look at words: a leet token is a maximal run of
// [A-Za-z0-9@$], and the rot13 words are its alphanumeric runs.
void FindRot13AndLeet(std::string_view text, Candidates& out) {
  const WordSet& words = Words();
  const size_t n = text.size();
  Rot13Run rot13;
  LeetRun leet;
  std::string word;
  size_t i = 0;
  while (i < n) {
    if (!Is(text[i], kLeetTokenChar)) {
      if (!IsRunFiller(text[i])) {
        rot13.Finish(text, out);
        leet.Finish(text, out);
      }
      ++i;
      continue;
    }
    size_t j = i;
    uint16_t seen = 0;
    for (uint16_t cls; j < n && ((cls = ClassOf(text[j])) & kLeetTokenChar) != 0; ++j) {
      seen |= cls;
    }
    if ((seen & kLeetSym) != 0 && (seen & kAlpha) != 0 &&
        DeLeet(text.substr(i, j - i), words, &word)) {
      leet.AddLeet(i, word);
    } else {
      leet.AddOther(text, out);
    }
    if ((seen & kAtDollar) == 0) {
      rot13.Add(ClassifyRot13(text.substr(i, j - i), words, rot13.active()), i, j, text, out);
    } else {
      for (size_t a = i; a < j;) {
        if (!IsAlnum(text[a])) {
          ++a;
          continue;
        }
        size_t b = a;
        while (b < j && IsAlnum(text[b])) ++b;
        rot13.Add(ClassifyRot13(text.substr(a, b - a), words, rot13.active()), a, b, text, out);
        a = b;
      }
    }
    i = j;
  }
  rot13.Finish(text, out);
  leet.Finish(text, out);
}

// Longest prefix of valid UTF-8 `s` of at most `limit` bytes that ends on a code point boundary.
size_t Utf8PrefixLength(std::string_view s, size_t limit) {
  if (limit >= s.size()) return s.size();
  size_t len = limit;
  while (len > 0 && (static_cast<unsigned char>(s[len]) & 0xc0) == 0x80) --len;
  return len;
}

}  // namespace

std::string_view EncodingKindName(EncodingKind kind) {
  switch (kind) {
    case EncodingKind::kBase64:
      return "base64";
    case EncodingKind::kHex:
      return "hex";
    case EncodingKind::kUrl:
      return "url";
    case EncodingKind::kRot13:
      return "rot13";
    case EncodingKind::kLeet:
      return "leet";
  }
  return "unknown";
}

DecodeResult FindEncodedPayloads(std::string_view text, const DecodeOptions& options) {
  Candidates candidates;
  FindBase64(text, candidates);
  FindHex(text, candidates);
  FindUrl(text, candidates);
  FindRot13AndLeet(text, candidates);

  // Each detector's candidates are disjoint; across detectors the longest claim wins (ties go
  // to the earlier start, then to the detector order above).
  std::vector<size_t> order(candidates.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const size_t len_a = candidates[a].end - candidates[a].begin;
    const size_t len_b = candidates[b].end - candidates[b].begin;
    if (len_a != len_b) return len_a > len_b;
    return candidates[a].begin < candidates[b].begin;
  });
  // A byte map of claimed input: checking and marking a candidate's bytes costs its length, and
  // one detector's candidates are disjoint, so all the checks together are linear in the text.
  std::vector<bool> claimed(candidates.empty() ? 0 : text.size());
  std::vector<size_t> kept;
  for (size_t k : order) {
    const EncodedPayload& c = candidates[k];
    bool free = true;
    for (size_t b = c.begin; b < c.end && free; ++b) free = !claimed[b];
    if (!free) continue;
    for (size_t b = c.begin; b < c.end; ++b) claimed[b] = true;
    kept.push_back(k);
  }
  std::sort(kept.begin(), kept.end(),
            [&](size_t a, size_t b) { return candidates[a].begin < candidates[b].begin; });

  DecodeResult result;
  size_t budget = options.max_decoded_bytes;
  for (size_t k : kept) {
    EncodedPayload& c = candidates[k];
    if (result.payloads.size() >= options.max_payloads) {
      result.truncated = true;
      break;
    }
    if (c.decoded.size() > budget) {
      // Keep what fits, cut on a code point boundary so the text stays valid UTF-8.
      result.truncated = true;
      c.decoded.resize(Utf8PrefixLength(c.decoded, budget));
      if (!c.decoded.empty()) result.payloads.push_back(std::move(c));
      break;
    }
    budget -= c.decoded.size();
    result.payloads.push_back(std::move(c));
  }
  return result;
}

}  // namespace warden::guard
