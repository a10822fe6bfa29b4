// Implementation of NormalizeForScanning (guard/unicode.h).
//
// Three passes over the text, each linear:
//   1. a filter (steps 1-4) that decodes UTF-8, drops the invisible characters and writes the
//      rest; it also caps runs of combining characters (see kMaxNonStarterRun);
//   2. NFKC (step 5), in chunks cut at normalisation boundaries, recording ICU Edits so that an
//      offset in its output can be traced back;
//   3. the confusable fold (step 6), word by word.
// Only the first confusable needs an input offset, so pass 1 keeps no offset table: when one is
// found, pass 1 is run again in a "locate" mode that notes the input offset of the output byte.
//
// Per-code-point facts (skeleton fold, script, normalisation boundary, word membership) are
// computed once with ICU and cached: planes 0 and 1 in a process-wide table of atomics (benign
// races: every writer stores the same self-contained value), higher planes per call.
//
// Decisions the header leaves open:
// - "ASCII" for a zero-width joiner's neighbours and a variation selector's base means "ASCII
//   after steps 5 and 6" (an ASCII character, one whose NFKC form starts with ASCII, or one
//   with an ASCII confusable fold). Otherwise "ｉ<ZWJ>ｇ" would keep its joiner and become
//   "i<ZWJ>g" after NFKC, splitting a word that a person reads whole.
// - A run of joiners keeps at most one (emoji sequences never need two in a row); the counts
//   say how many were removed, not how many were seen, so a kept emoji joiner or selector is
//   not reported as suspicious.
// - A run of more than 4 selectors after one character is removed whole; a joiner just before
//   such a run is judged by what follows the run.
// - Runs of more than kMaxNonStarterRun combining characters are cut (see there); no count
//   field exists for them, `changed` says the text was altered.
// - ASCII control characters are left alone: no step names them, and pure ASCII input is
//   returned as it is.
// - Step 6 maps a code point when its word (a maximal run of letters, digits, marks, kept
//   joiners and selectors, and symbols that have an ASCII fold) is not in one script. Scripts
//   follow UTS #39: Script_Extensions, Common and Inherited fit any script, and Han, Hiragana,
//   Katakana, Hangul and Bopomofo are augmented so that Japanese and Korean words count as one
//   script. Latin used consistently stays too: Turkish 'ı' in "kırmızı" is not made 'i' (so
//   "ıgnore" is not folded either; the classifiers' character n-grams still see most of it).
//   Look-alikes in Common (symbols such as U+237A, which looks like 'a') belong to no script and
//   are always mapped. Where a skeleton is shared by several ASCII characters ("l" is the
//   skeleton of l, I and 1; "O" of O and 0) the one with the code point's case or digit-ness is
//   chosen, so Cyrillic 'І' becomes 'I' rather than 'l'.
#include "guard/unicode.h"

#include <unicode/bytestream.h>
#include <unicode/edits.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bitset>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/encoding.h"

namespace warden::guard {
namespace {

constexpr char32_t kReplacementCharacter = 0xFFFD;
constexpr char32_t kZeroWidthJoiner = 0x200D;
// More selectors than this after one character are data, not presentation: a base character
// takes at most one standardized or emoji selector.
constexpr size_t kMaxSelectorRun = 4;
// ICU sorts a run of combining characters by insertion (measured: 80 000 alternating marks take
// 1.4 s to normalise), so runs of characters without a normalisation boundary before them are
// cut to UAX #15's stream-safe limit; the excess is dropped. No real text comes near it.
constexpr size_t kMaxNonStarterRun = 30;
// NFKC runs on chunks of about this size, each cut where a normalisation boundary lies, so that
// no ICU call sees more than int32_t can index.
constexpr size_t kNfkcChunkBytes = 64 * 1024;
// How far past kNfkcChunkBytes a cut looks for a boundary before cutting anyway (only text with
// no boundary for this long, which the combining cap makes rare, is cut mid-segment).
constexpr size_t kMaxBoundarySearchBytes = 1024;
// A confusable skeleton longer than this is not treated as an ASCII spelling.
constexpr size_t kMaxFoldLength = 3;

// ---- Character classes of steps 2-4 ----

bool IsTag(char32_t c) { return c >= 0xE0000 && c <= 0xE007F; }
bool IsTagAscii(char32_t c) { return c >= 0xE0020 && c <= 0xE007E; }
bool IsBidiControl(char32_t c) {
  return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}
// The zero-width characters removed wherever they are (the joiner is decided by context).
bool IsZeroWidth(char32_t c) {
  return c == 0x200B || c == 0x200C || c == 0x2060 || c == 0xFEFF || c == 0x180E || c == 0x00AD ||
         (c >= 0x2061 && c <= 0x2064);
}
bool IsVariationSelector(char32_t c) {
  return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

bool IsAsciiLetter(char32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool IsAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char32_t c) { return IsAsciiLetter(c) || IsAsciiDigit(c); }

// Length of the invalid sequence at s[i]: the maximal prefix of a well-formed sequence (at least
// one byte), which is what Unicode recommends replacing with one U+FFFD (and what ICU does).
size_t InvalidSequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  size_t trail_count;
  uint8_t lo = 0x80, hi = 0xBF;  // the range of the first continuation byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    trail_count = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    trail_count = 2;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    trail_count = 3;
    if (lead == 0xF0) lo = 0x90;  // no overlong forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 1;
  }
  size_t k = 1;
  for (; k <= trail_count && i + k < s.size(); ++k) {
    const uint8_t b = byte(i + k);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) break;
  }
  return k;
}

// ---- ICU state (immutable after construction; ICU documents const use as thread-safe) ----

struct Icu {
  const icu::Normalizer2* nfkc = nullptr;
  USpoofChecker* spoof = nullptr;  // never closed: it lives as long as the process
  // (skeleton, ASCII letter or digit with that skeleton), to choose among ASCII characters
  // that share a skeleton.
  std::vector<std::pair<std::u16string, char>> ascii_by_skeleton;
  Status status;
};

// Writes the confusable skeleton of `c`; returns its length (0 on an ICU error).
int32_t Skeleton(const USpoofChecker* spoof, char32_t c, UChar* out, int32_t capacity) {
  UChar in[2];
  int32_t n = 0;
  U16_APPEND_UNSAFE(in, n, static_cast<UChar32>(c));
  UErrorCode ec = U_ZERO_ERROR;
  const int32_t len = uspoof_getSkeleton(spoof, 0, in, n, out, capacity, &ec);
  return U_FAILURE(ec) ? 0 : len;
}

const Icu& GetIcu() {
  static const Icu* const icu = [] {
    auto* s = new Icu();
    UErrorCode ec = U_ZERO_ERROR;
    s->nfkc = icu::Normalizer2::getNFKCInstance(ec);
    if (U_FAILURE(ec) || s->nfkc == nullptr) {
      s->status = InternalError(std::string("ICU NFKC normalizer unavailable: ") + u_errorName(ec));
      return s;
    }
    s->spoof = uspoof_open(&ec);
    if (U_FAILURE(ec) || s->spoof == nullptr) {
      s->status = InternalError(std::string("ICU spoof checker unavailable: ") + u_errorName(ec));
      return s;
    }
    for (char32_t c = 0; c < 0x80; ++c) {
      if (!IsAsciiAlnum(c)) continue;
      UChar buf[8];
      const int32_t len = Skeleton(s->spoof, c, buf, 8);
      if (len <= 0 || len > 8) continue;
      s->ascii_by_skeleton.emplace_back(std::u16string(buf, buf + len), static_cast<char>(c));
    }
    return s;
  }();
  return *icu;
}

// ---- Per-code-point properties, cached ----
//
// What the passes need to know about a non-ASCII code point, packed in 32 bits:
//   bits 0..20   its confusable fold: up to three 7-bit ASCII characters, the first in the low
//                bits (0 ends the string; none means "no ASCII fold");
//   bit 21       it has no NFKC boundary before it (a combining mark or a backward-composing
//                character: part of a run that ICU reorders);
//   bit 22       it belongs to a word (step 6);
//   bits 23..30  its script: a UScriptCode when Script_Extensions is one script that needs no
//                augmentation, kAnyScript for Common / Inherited, kComplexScript otherwise;
//   bit 31       computed (0 means "not yet").
constexpr uint32_t kFoldMask = (1u << 21) - 1;
constexpr uint32_t kNonStarter = 1u << 21;
constexpr uint32_t kWordChar = 1u << 22;
constexpr int kScriptShift = 23;
constexpr uint32_t kAnyScript = 0xFE;
constexpr uint32_t kComplexScript = 0xFF;
constexpr uint32_t kKnown = 1u << 31;

uint32_t ScriptByte(uint32_t props) { return (props >> kScriptShift) & 0xFF; }
bool HasFold(uint32_t props) { return (props & kFoldMask) != 0; }

void AppendFold(uint32_t props, std::string& out) {
  for (uint32_t chars = props & kFoldMask; chars != 0; chars >>= 7) {
    out.push_back(static_cast<char>(chars & 0x7F));
  }
}

// Which ASCII spelling `c` looks like (0 for none), per the rules in the file comment.
uint32_t ComputeFold(const Icu& icu, char32_t c) {
  UChar skeleton[8];
  const int32_t len = Skeleton(icu.spoof, c, skeleton, 8);
  if (len <= 0 || static_cast<size_t>(len) > kMaxFoldLength) return 0;
  for (int32_t i = 0; i < len; ++i) {
    if (skeleton[i] >= 0x80) return 0;
  }
  const std::u16string key(skeleton, skeleton + len);
  const uint32_t gc_mask = U_GET_GC_MASK(static_cast<UChar32>(c));
  const bool is_number = (gc_mask & U_GC_N_MASK) != 0;
  const bool is_upper = u_isUUppercase(static_cast<UChar32>(c)) || (gc_mask & U_GC_LT_MASK) != 0;
  const bool is_lower = u_isULowercase(static_cast<UChar32>(c));
  // Preference: the code point's own kind first, then lower-case letters, upper-case letters,
  // digits (a letter-like shape read as a letter).
  const auto rank = [&](char a) {
    const bool digit = IsAsciiDigit(a), upper = a >= 'A' && a <= 'Z';
    if (is_number) return digit ? 0 : (upper ? 2 : 1);
    if (is_upper) return upper ? 0 : (digit ? 3 : 1);
    if (is_lower) return (!digit && !upper) ? 0 : (upper ? 2 : 3);
    return (!digit && !upper) ? 0 : (upper ? 1 : 2);
  };
  char best = 0;
  for (const auto& [skel, a] : icu.ascii_by_skeleton) {
    if (skel == key && (best == 0 || rank(a) < rank(best))) best = a;
  }
  if (best != 0) return static_cast<uint32_t>(best);
  // No single ASCII character looks like this: accept a short letter string ('Ꜳ' -> "AA").
  if (len < 2) return 0;
  uint32_t packed = 0;
  for (int32_t i = 0; i < len; ++i) {
    if (!IsAsciiLetter(skeleton[i])) return 0;
    packed |= static_cast<uint32_t>(skeleton[i]) << (7 * i);
  }
  return packed;
}

bool NeedsAugmentation(UScriptCode code) {
  return code == USCRIPT_HAN || code == USCRIPT_HIRAGANA || code == USCRIPT_KATAKANA ||
         code == USCRIPT_HANGUL || code == USCRIPT_BOPOMOFO;
}

uint32_t ComputeProps(const Icu& icu, char32_t c) {
  const auto u = static_cast<UChar32>(c);
  const uint32_t gc_mask = U_GET_GC_MASK(u);
  // Outside the BMP only letters and digits get a skeleton (emoji and symbols there have no
  // ASCII look-alike; mathematical letters are plain after NFKC).
  const bool want_fold = c < 0x10000 || (gc_mask & (U_GC_L_MASK | U_GC_N_MASK)) != 0;
  uint32_t props = kKnown | (want_fold ? ComputeFold(icu, c) : 0);
  if (!icu.nfkc->hasBoundaryBefore(u)) props |= kNonStarter;
  if ((gc_mask & (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK)) != 0 || HasFold(props) ||
      c == kZeroWidthJoiner || IsVariationSelector(c)) {
    props |= kWordChar;
  }
  UScriptCode codes[8];
  UErrorCode ec = U_ZERO_ERROR;
  const int32_t n = uscript_getScriptExtensions(u, codes, 8, &ec);
  uint32_t script = kComplexScript;
  if (U_SUCCESS(ec) && n == 1) {
    if (codes[0] == USCRIPT_COMMON || codes[0] == USCRIPT_INHERITED) {
      script = kAnyScript;
    } else if (!NeedsAugmentation(codes[0]) && codes[0] >= 0 && codes[0] < 0xFE) {
      script = static_cast<uint32_t>(codes[0]);
    }
  }
  return props | script << kScriptShift;
}

// Properties of planes 0 and 1 (where emoji, symbols and all but rare letters are), shared by
// all calls. Races are benign: every writer stores the same value, and a value is self-contained
// (no pointer is published). 512 KB of zero-initialised memory, touched a page at a time.
constexpr char32_t kSharedPropsLimit = 0x20000;
constinit std::array<std::atomic<uint32_t>, kSharedPropsLimit> g_props{};

// Properties of non-ASCII code points; those above plane 1 are cached per call.
class PropsCache {
 public:
  explicit PropsCache(const Icu& icu) : icu_(icu) {}

  uint32_t Get(char32_t c) {
    if (c < kSharedPropsLimit) {
      const uint32_t v = g_props[c].load(std::memory_order_relaxed);
      if (v != 0) [[likely]]
        return v;
    }
    return GetSlow(c);
  }

  enum class Side { kStart, kEnd };
  // Whether the `side` of `c` reads as ASCII once steps 5 and 6 have run (the end for a left
  // neighbour: 'ŉ' is "ʼn" after NFKC).
  bool ReadsAsAscii(char32_t c, Side side) {
    if (c < 0x80 || HasFold(Get(c))) return true;
    // Not getDecomposition(): that gives "e" + U+0301 for 'é', which NFKC composes back.
    if (icu_.nfkc->isInert(static_cast<UChar32>(c))) return false;
    UErrorCode ec = U_ZERO_ERROR;
    const icu::UnicodeString folded =
        icu_.nfkc->normalize(icu::UnicodeString(static_cast<UChar32>(c)), ec);
    if (U_FAILURE(ec) || folded.isEmpty()) return false;
    // The edge after NFKC may itself fold in step 6 ('ˠ' is 'ɣ' after NFKC, which looks like 'y').
    const UChar32 edge = folded.char32At(side == Side::kStart ? 0 : folded.length() - 1);
    return edge < 0x80 || (edge != static_cast<UChar32>(c) && HasFold(Get(edge)));
  }

 private:
  [[gnu::noinline]] uint32_t GetSlow(char32_t c) {
    if (c < kSharedPropsLimit) {
      const uint32_t v = ComputeProps(icu_, c);
      g_props[c].store(v, std::memory_order_relaxed);
      return v;
    }
    auto [it, inserted] = high_planes_.try_emplace(c, 0);
    if (inserted) it->second = ComputeProps(icu_, c);
    return it->second;
  }

  const Icu& icu_;
  std::unordered_map<char32_t, uint32_t> high_planes_;
};

// Decodes the code point at s[i] (i < s.size()) into *cp; returns its length, or 0 when s[i]
// starts no well-formed sequence. Inline for the common two- and three-byte forms.
inline size_t Decode(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && i + 1 < s.size()) {
    const auto b1 = static_cast<uint8_t>(s[i + 1]);
    if ((b1 & 0xC0) == 0x80) {
      *cp = (b0 & 0x1Fu) << 6 | (b1 & 0x3Fu);
      return 2;
    }
    return 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && i + 2 < s.size()) {
    const auto b1 = static_cast<uint8_t>(s[i + 1]), b2 = static_cast<uint8_t>(s[i + 2]);
    const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    if (b1 >= lo && b1 <= hi && (b2 & 0xC0) == 0x80) {
      *cp = (b0 & 0x0Fu) << 12 | (b1 & 0x3Fu) << 6 | (b2 & 0x3Fu);
      return 3;
    }
    return 0;
  }
  return DecodeUtf8At(s, i, cp);
}

// ---- Pass 1: steps 1-4 ----

void NoteFirst(std::optional<size_t>& first, size_t offset) {
  if (!first.has_value() || offset < *first) first = offset;
}

// Whether `c` is one of the characters steps 2-4 look at (a quick test first: most text is
// below U+2000 and has none).
bool IsInvisibleCandidate(char32_t c) {
  if (c < 0x2000) return c == 0x00AD || c == 0x061C || c == 0x180E;
  return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2069) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
         (c >= 0xE0000 && c <= 0xE01EF);
}

class Filter {
 public:
  // In locate mode (`locate` set) the filter records which input offset produced output byte
  // `*locate` in located().
  Filter(PropsCache& props, UnicodeNormalization& result, std::optional<size_t> locate)
      : props_(props), r_(result), locate_(locate) {}

  void Run(std::string_view in) {
    in_ = in;
    out_.reserve(in.size() + in.size() / 8);
    size_t i = 0;
    while (i < in.size()) {
      const auto lead = static_cast<uint8_t>(in[i]);
      if (lead < 0x80 && !joiner_pending_.has_value() && selector_count_ == 0) {
        // A run of ASCII with nothing pending: copy it whole.
        size_t j = i + 1;
        while (j < in.size() && static_cast<uint8_t>(in[j]) < 0x80) ++j;
        Copy(i, j - i);
        prev_ = static_cast<uint8_t>(in[j - 1]);
        non_starter_run_ = 0;
        i = j;
        continue;
      }
      uint32_t cp;
      const size_t len = Decode(in, i, &cp);
      if (len == 0) {
        ++r_.invalid_sequences;
        Handle(kReplacementCharacter, i, 0);
        i += InvalidSequenceLength(in, i);
      } else {
        Handle(cp, i, len);
        i += len;
      }
    }
    FlushSelectors();
    if (joiner_pending_.has_value()) RemoveJoiner(*joiner_pending_);
    FlushCopy();
  }

  // Valid after Run().
  std::string& out() { return out_; }
  std::optional<size_t> located() const { return located_; }

 private:
  // `c` was read from the `len` input bytes at `offset` (len 0: a replacement character).
  void Handle(char32_t c, size_t offset, size_t len) {
    if (IsInvisibleCandidate(c) && HandleInvisible(c, offset)) return;
    // A code point that stays.
    const bool non_starter = c >= 0x300 && (props_.Get(c) & kNonStarter) != 0;
    if (non_starter && non_starter_run_ >= kMaxNonStarterRun) return;  // dropped (see above)
    FlushSelectors();
    if (joiner_pending_.has_value()) {
      ResolveJoiner(props_.ReadsAsAscii(c, PropsCache::Side::kStart));
    }
    non_starter_run_ = non_starter ? non_starter_run_ + 1 : 0;
    Emit(c, offset, len);
  }

  // Steps 2-4 for a candidate; false when `c` is none of their characters after all.
  bool HandleInvisible(char32_t c, size_t offset) {
    if (IsTag(c)) {
      ++r_.tag_characters;
      NoteFirst(r_.first_tag, offset);
      if (IsTagAscii(c)) r_.tag_payload.push_back(static_cast<char>(c - 0xE0000));
      return true;
    }
    if (IsBidiControl(c)) {
      ++r_.bidi_controls;
      NoteFirst(r_.first_bidi, offset);
      return true;
    }
    if (IsZeroWidth(c)) {
      ++r_.zero_width;
      NoteFirst(r_.first_zero_width, offset);
      return true;
    }
    if (c == kZeroWidthJoiner) {
      FlushSelectors();
      if (joiner_pending_.has_value() || !prev_.has_value() ||
          props_.ReadsAsAscii(*prev_, PropsCache::Side::kEnd)) {
        RemoveJoiner(offset);
      } else {
        joiner_pending_ = offset;
      }
      return true;
    }
    if (IsVariationSelector(c)) {
      // A pending joiner waits for the run's fate: it is the selectors' base if they stay, and
      // is next to whatever follows them if they go.
      if (selector_count_ == 0 &&
          (!prev_.has_value() || props_.ReadsAsAscii(*prev_, PropsCache::Side::kEnd))) {
        ++r_.variation_selectors;
        NoteFirst(r_.first_variation_selector, offset);
        return true;
      }
      if (selector_count_ < kMaxSelectorRun) selectors_[selector_count_] = {c, offset};
      ++selector_count_;
      return true;
    }
    return false;
  }

  // Writes `c`, read from the `len` input bytes at `offset`, or U+FFFD when len is 0.
  void Emit(char32_t c, size_t offset, size_t len) {
    prev_ = c;
    if (len > 0) {
      Copy(offset, len);
      return;
    }
    FlushCopy();
    if (locate_.has_value() && out_.size() == *locate_) located_ = offset;
    out_.append("\xEF\xBF\xBD");
  }

  // Input bytes are copied in runs: [copy_begin_, copy_end_) is waiting to be written.
  void Copy(size_t offset, size_t len) {
    if (offset != copy_end_) {
      FlushCopy();
      copy_begin_ = offset;
    }
    copy_end_ = offset + len;
  }

  void FlushCopy() {
    const size_t n = copy_end_ - copy_begin_;
    if (n == 0) return;
    if (locate_.has_value() && *locate_ >= out_.size() && *locate_ < out_.size() + n) {
      located_ = copy_begin_ + (*locate_ - out_.size());
    }
    out_.append(in_.data() + copy_begin_, n);
    copy_begin_ = copy_end_;
  }

  void RemoveJoiner(size_t offset) {
    ++r_.zero_width;
    NoteFirst(r_.first_zero_width, offset);
    if (joiner_pending_ == offset) joiner_pending_.reset();
  }

  void ResolveJoiner(bool next_reads_as_ascii) {
    const size_t offset = *joiner_pending_;
    joiner_pending_.reset();
    if (next_reads_as_ascii) {
      RemoveJoiner(offset);
    } else {
      Emit(kZeroWidthJoiner, offset, 3);
      non_starter_run_ = 0;
    }
  }

  // Ends a run of selectors that follows a non-ASCII base: short runs stay, long ones go.
  void FlushSelectors() {
    if (selector_count_ == 0) return;
    if (selector_count_ <= kMaxSelectorRun) {
      if (joiner_pending_.has_value()) ResolveJoiner(/*next_reads_as_ascii=*/false);
      for (size_t k = 0; k < selector_count_; ++k) {
        const char32_t selector = selectors_[k].first;
        Emit(selector, selectors_[k].second, selector < 0x10000 ? 3 : 4);
      }
      non_starter_run_ = 0;
    } else {
      r_.variation_selectors += selector_count_;
      NoteFirst(r_.first_variation_selector, selectors_[0].second);
    }
    selector_count_ = 0;
  }

  PropsCache& props_;
  UnicodeNormalization& r_;
  const std::optional<size_t> locate_;
  std::optional<size_t> located_;
  std::string_view in_;
  size_t copy_begin_ = 0, copy_end_ = 0;
  std::string out_;
  std::optional<char32_t> prev_;          // the last code point written
  std::optional<size_t> joiner_pending_;  // input offset of a joiner awaiting its right side
  std::array<std::pair<char32_t, size_t>, kMaxSelectorRun> selectors_{};  // (code point, offset)
  size_t selector_count_ = 0;  // selectors in the current run (may exceed kMaxSelectorRun)
  size_t non_starter_run_ = 0;
};

// ---- Pass 2: NFKC ----

struct NfkcChunk {
  size_t src_begin = 0;  // offset in the filtered text
  size_t dst_begin = 0;  // offset in the NFKC output
  icu::Edits edits;
};

// Where the chunk that starts at `begin` ends: about kNfkcChunkBytes later, at a code point with
// a normalisation boundary before it.
size_t ChunkEnd(const icu::Normalizer2& nfkc, std::string_view s, size_t begin) {
  if (s.size() - begin <= kNfkcChunkBytes) return s.size();
  size_t end = begin + kNfkcChunkBytes;
  while (end < s.size() && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) ++end;
  const size_t limit = std::min(s.size(), end + kMaxBoundarySearchBytes);
  while (end < limit) {
    uint32_t cp;
    const size_t len = DecodeUtf8At(s, end, &cp);  // the filtered text is valid UTF-8
    if (len == 0 || nfkc.hasBoundaryBefore(static_cast<UChar32>(cp))) break;
    end += len;
  }
  return end;
}

// NFKC of `s` into `out`; with `chunks`, records the edits of each chunk.
Status Nfkc(const icu::Normalizer2& nfkc, std::string_view s, std::string& out,
            std::vector<NfkcChunk>* chunks) {
  out.clear();
  out.reserve(s.size());
  icu::StringByteSink<std::string> sink(&out);
  for (size_t begin = 0; begin < s.size();) {
    const size_t end = ChunkEnd(nfkc, s, begin);
    UErrorCode ec = U_ZERO_ERROR;
    const icu::StringPiece piece(s.data() + begin, static_cast<int32_t>(end - begin));
    if (chunks != nullptr) {
      NfkcChunk& chunk = chunks->emplace_back();
      chunk.src_begin = begin;
      chunk.dst_begin = out.size();
      nfkc.normalizeUTF8(0, piece, sink, &chunk.edits, ec);
    } else {
      nfkc.normalizeUTF8(0, piece, sink, nullptr, ec);
    }
    if (U_FAILURE(ec)) return InternalError(std::string("ICU NFKC failed: ") + u_errorName(ec));
    begin = end;
  }
  return Status::Ok();
}

// The filtered-text offset of NFKC output offset `dst` (the start of the edit it falls in).
size_t NfkcSourceOffset(const std::vector<NfkcChunk>& chunks, size_t dst) {
  auto it = std::upper_bound(chunks.begin(), chunks.end(), dst,
                             [](size_t d, const NfkcChunk& c) { return d < c.dst_begin; });
  if (it == chunks.begin()) return dst;
  --it;
  const size_t local = dst - it->dst_begin;
  if (!it->edits.hasChanges()) return it->src_begin + local;
  icu::Edits::Iterator edit = it->edits.getFineIterator();
  UErrorCode ec = U_ZERO_ERROR;
  if (!edit.findDestinationIndex(static_cast<int32_t>(local), ec) || U_FAILURE(ec)) {
    return it->src_begin;
  }
  const auto edit_src = static_cast<size_t>(edit.sourceIndex());
  const auto edit_dst = static_cast<size_t>(edit.destinationIndex());
  return it->src_begin + edit_src + (edit.hasChange() ? 0 : local - edit_dst);
}

// ---- Pass 3: step 6 ----

constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Whether every byte is below 0x80, eight at a time.
bool IsAscii(std::string_view s) {
  size_t i = 0;
  uint64_t any = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    any |= word;
  }
  for (; i < s.size(); ++i) any |= static_cast<uint8_t>(s[i]);
  return (any & kHighBits) == 0;
}

// The offset of the first byte at or after `i` that is 0x80 or above, or s.size().
size_t NextNonAscii(std::string_view s, size_t i) {
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if ((word & kHighBits) != 0) break;
  }
  while (i < s.size() && static_cast<uint8_t>(s[i]) < 0x80) ++i;
  return i;
}

constexpr size_t kScriptBits = 256;  // UScriptCode values are below 200 in current ICU
using ScriptSet = std::bitset<kScriptBits>;

void AddScript(ScriptSet& set, int code) {
  if (code >= 0 && static_cast<size_t>(code) < kScriptBits) set.set(static_cast<size_t>(code));
}

// The augmented Script_Extensions of `c` (UTS #39 section 5.1), for the code points whose
// script byte is kComplexScript.
ScriptSet ScriptsOf(char32_t c) {
  ScriptSet set;
  UScriptCode codes[32];
  UErrorCode ec = U_ZERO_ERROR;
  const int32_t n = uscript_getScriptExtensions(static_cast<UChar32>(c), codes, 32, &ec);
  if (U_FAILURE(ec) || n <= 0) return set.set();
  for (int32_t k = 0; k < n; ++k) {
    const UScriptCode code = codes[k];
    if (code == USCRIPT_COMMON || code == USCRIPT_INHERITED) return set.set();
    AddScript(set, code);
    if (code == USCRIPT_HAN) {
      AddScript(set, USCRIPT_HAN_WITH_BOPOMOFO);
      AddScript(set, USCRIPT_JAPANESE);
      AddScript(set, USCRIPT_KOREAN);
    } else if (code == USCRIPT_HIRAGANA || code == USCRIPT_KATAKANA) {
      AddScript(set, USCRIPT_JAPANESE);
    } else if (code == USCRIPT_HANGUL) {
      AddScript(set, USCRIPT_KOREAN);
    } else if (code == USCRIPT_BOPOMOFO) {
      AddScript(set, USCRIPT_HAN_WITH_BOPOMOFO);
    }
  }
  return set;
}

// The intersection of the script sets of a word's code points (UTS #39's resolved script set),
// kept as "any", one script, or a bit set, so that the common cases need no bit-set work.
class ResolvedScripts {
 public:
  void AddOne(uint32_t code) {
    switch (kind_) {
      case Kind::kAny:
        kind_ = Kind::kOne, one_ = code;
        break;
      case Kind::kOne:
        if (one_ != code) kind_ = Kind::kNone;
        break;
      case Kind::kSet:
        if (code < kScriptBits && set_.test(code)) {
          kind_ = Kind::kOne, one_ = code;
        } else {
          kind_ = Kind::kNone;
        }
        break;
      case Kind::kNone:
        break;
    }
  }
  void AddSet(const ScriptSet& set) {
    switch (kind_) {
      case Kind::kAny:
        kind_ = Kind::kSet, set_ = set;
        break;
      case Kind::kOne:
        if (one_ >= kScriptBits || !set.test(one_)) kind_ = Kind::kNone;
        break;
      case Kind::kSet:
        set_ &= set;
        if (set_.none()) kind_ = Kind::kNone;
        break;
      case Kind::kNone:
        break;
    }
  }
  // True when no script fits every code point: the word mixes scripts.
  bool none() const { return kind_ == Kind::kNone; }

 private:
  enum class Kind { kAny, kOne, kSet, kNone };
  Kind kind_ = Kind::kAny;
  uint32_t one_ = 0;
  ScriptSet set_;
};

class ConfusableFold {
 public:
  ConfusableFold(PropsCache& props, UnicodeNormalization& result) : props_(props), r_(result) {}

  // Folds `s` into `out`; returns the offset in `s` of the first code point mapped.
  std::optional<size_t> Run(std::string_view s, std::string& out) {
    out.clear();
    out.reserve(s.size());
    std::optional<size_t> first;
    size_t copied = 0;  // s[0, copied) has been written to `out`
    size_t i = 0;
    size_t done = 0;  // s[0, done) has been looked at
    // Only words with a non-ASCII code point matter: jump from one to the next.
    while ((i = NextNonAscii(s, i)) < s.size()) {
      // The word around s[i] starts at the ASCII letters and digits just before it.
      size_t begin = i;
      while (begin > done && IsAsciiAlnum(static_cast<uint8_t>(s[begin - 1]))) --begin;
      bool has_fold = false;           // a code point with an ASCII fold
      bool has_scripted_fold = false;  // one that belongs to a script (not Common / Inherited)
      size_t end = begin;
      size_t len = 1;
      while (end < s.size()) {
        const auto b = static_cast<uint8_t>(s[end]);
        if (b < 0x80) {
          if (!IsAsciiAlnum(b)) break;
          ++end;
          continue;
        }
        uint32_t c;
        len = std::max<size_t>(1, Decode(s, end, &c));  // NFKC output is valid UTF-8
        const uint32_t p = props_.Get(c);
        if ((p & kWordChar) == 0) break;
        if (HasFold(p)) {
          has_fold = true;
          has_scripted_fold |= ScriptByte(p) != kAnyScript;
        }
        end += len;
      }
      if (end <= i) {  // s[i] is not part of a word
        i += len;
        done = i;
        continue;
      }
      if (has_fold) {
        // Look-alikes from a script are folded only in a word that mixes scripts; Common ones
        // (symbols such as U+237A, which looks like 'a') belong to no script and always are.
        const bool mixed = has_scripted_fold && MixesScripts(s.substr(begin, end - begin));
        for (size_t k = begin; k < end;) {
          uint32_t c;
          const size_t n = std::max<size_t>(1, Decode(s, k, &c));
          if (c >= 0x80) {
            const uint32_t p = props_.Get(c);
            if (HasFold(p) && (mixed || ScriptByte(p) == kAnyScript)) {
              out.append(s.data() + copied, k - copied);
              AppendFold(p, out);
              copied = k + n;
              ++r_.confusables;
              if (!first.has_value()) first = k;
            }
          }
          k += n;
        }
      }
      i = done = end;
    }
    out.append(s.data() + copied, s.size() - copied);
    return first;
  }

 private:
  // Whether no script fits every code point of `word` (UTS #39: its resolved script set is
  // empty).
  bool MixesScripts(std::string_view word) {
    ResolvedScripts scripts;
    for (size_t k = 0; k < word.size() && !scripts.none();) {
      uint32_t c;
      const size_t n = std::max<size_t>(1, Decode(word, k, &c));
      k += n;
      if (c < 0x80) {
        if (IsAsciiLetter(c)) scripts.AddOne(USCRIPT_LATIN);
        continue;
      }
      const uint32_t p = props_.Get(c);
      const uint32_t script = ScriptByte(p);
      if (script == kAnyScript && IsAsciiLetter(p & 0x7F)) {
        // A Common look-alike is always folded, so it counts as the Latin letter it becomes
        // (otherwise "∣∣і" would fold to "llі", which mixes scripts, and a second pass would
        // change it again).
        scripts.AddOne(USCRIPT_LATIN);
      } else if (script == kComplexScript) {
        scripts.AddSet(ScriptsOf(c));
      } else if (script != kAnyScript) {
        scripts.AddOne(script);
      }
    }
    return scripts.none();
  }

  PropsCache& props_;
  UnicodeNormalization& r_;
};

}  // namespace

// Step 7: drops combining marks (Mn, Me) that follow an ASCII letter or digit, directly or
// after other such marks. Runs on NFKC output, where every composable accent is composed
// already, so removing the rest cannot create a new composition (the result stays NFKC and a
// second pass changes nothing).
static void StripMarksOnAscii(UnicodeNormalization& r) {
  const std::string& in = r.text;
  std::string out;
  out.reserve(in.size());
  bool on_ascii = false;  // the last kept code point is an ASCII letter or digit
  size_t removed = 0;
  for (size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      on_ascii = IsAsciiAlnum(c);
      out.push_back(in[i++]);
      continue;
    }
    uint32_t cp = 0;
    size_t n = DecodeUtf8At(in, i, &cp);
    if (n == 0) {  // cannot happen (the text is valid UTF-8 here); keep the byte
      out.push_back(in[i++]);
      on_ascii = false;
      continue;
    }
    const int8_t type = u_charType(static_cast<UChar32>(cp));
    // A joiner or a variation selector between the marks goes too: once the marks are gone it
    // touches the ASCII letter, and steps 2-4 remove it there (a second pass must change
    // nothing).
    if (on_ascii && (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || cp == 0x200D ||
                     IsVariationSelector(static_cast<char32_t>(cp)))) {
      ++removed;
      i += n;
      continue;
    }
    on_ascii = false;
    out.append(in, i, n);
    i += n;
  }
  if (removed > 0) {
    r.combining_marks += removed;
    r.text = std::move(out);
  }
}

Result<UnicodeNormalization> NormalizeForScanning(std::string_view text) {
  UnicodeNormalization r;
  if (IsAscii(text)) {  // nothing below changes ASCII
    r.text = std::string(text);
    return r;
  }
  const Icu& icu = GetIcu();
  if (!icu.status.ok()) return icu.status;
  PropsCache props(icu);

  Filter filter(props, r, std::nullopt);
  filter.Run(text);
  std::string filtered = std::move(filter.out());
  if (IsAscii(filtered)) {
    r.text = std::move(filtered);
    r.changed = r.text != text;
    return r;
  }

  std::string nfkc;
  std::vector<NfkcChunk> chunks;
  WARDEN_RETURN_IF_ERROR(Nfkc(*icu.nfkc, filtered, nfkc, &chunks));

  ConfusableFold fold(props, r);
  const std::optional<size_t> first_in_nfkc = fold.Run(nfkc, r.text);
  if (first_in_nfkc.has_value()) {
    // Where the first mapped code point came from: NFKC output -> filtered text -> input.
    const size_t in_filtered = NfkcSourceOffset(chunks, *first_in_nfkc);
    UnicodeNormalization scratch;
    Filter locator(props, scratch, in_filtered);
    locator.Run(text);
    r.first_confusable = locator.located().value_or(0);
    // A fold can leave a letter before a mark that NFKC composes with it ('а' + U+0301
    // becomes 'a' + U+0301, which is 'á').
    std::string renormalized;
    WARDEN_RETURN_IF_ERROR(Nfkc(*icu.nfkc, r.text, renormalized, nullptr));
    r.text = std::move(renormalized);
  }
  StripMarksOnAscii(r);
  r.changed = r.text != text;
  return r;
}

}  // namespace warden::guard
