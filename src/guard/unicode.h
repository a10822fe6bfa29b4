// Unicode normalisation for scanning: make later scanners see what a person sees.
//
// NormalizeForScanning, in order:
//   1. invalid UTF-8 sequences become U+FFFD (counted; the chain refuses invalid UTF-8 before
//      this, so this is defence in depth);
//   2. invisible "tag" characters U+E0000..U+E007F are removed; U+E0020..U+E007E spell ASCII
//      (code point - 0xE0000), collected into `tag_payload` so that a smuggled instruction
//      can be scanned as text;
//   3. bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) are
//      removed;
//   4. zero-width characters (U+200B, U+200C, U+2060, U+FEFF, U+180E, U+00AD soft hyphen,
//      U+2061..U+2064) are removed; U+200D (zero-width joiner) is removed unless both of its
//      neighbours are outside ASCII (emoji sequences keep it); variation selectors
//      (U+FE00..U+FE0F, U+E0100..U+E01EF) are removed when attached to ASCII or when more than
//      4 follow one character (data smuggled in selectors);
//   5. NFKC (ICU Normalizer2): full-width letters, ligatures, mathematical alphanumerics,
//      circled letters become plain ones;
//   6. confusables: each remaining non-ASCII code point whose ICU confusable skeleton
//      (uspoof_getSkeleton, UTS #39) is a single ASCII letter or digit, or a short ASCII
//      letter string, is replaced by it (Cyrillic 'а' -> 'a', Greek 'Ο' -> 'O'). ASCII is never
//      changed (the skeleton would turn "m" into "rn"), and neither is text in a script used
//      consistently (a word entirely in Cyrillic letters with no Latin letter stays as it is,
//      so Russian text is not garbled; a word mixing scripts is mapped);
//   7. combining marks (general category Mn or Me) that are still attached to an ASCII letter or
//      digit after NFKC are removed: NFKC has already composed every accent that has a
//      precomposed letter ('e' + U+0301 is 'é' and stays), so what is left is decoration that
//      hides words from matching: strike-through ("i̶g̶n̶o̶r̶e̶", U+0336), underlines, "zalgo"
//      stacks. A zero-width joiner or variation selector among such marks goes with them (it
//      would touch the ASCII letter once they are gone, and steps 2-4 remove it there).
// The counts say what was found; the first byte offset (in the input) of each kind is kept
// for the finding's span.
//
// Cost: linear in the input; ASCII-only input returns after one pass without calling ICU.
//
// Thread-safety: pure function (ICU objects are per call or immutable singletons).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::guard {

struct UnicodeNormalization {
  std::string text;         // the normalised text (valid UTF-8)
  bool changed = false;     // text != input
  size_t invalid_sequences = 0;
  size_t tag_characters = 0;
  std::string tag_payload;  // ASCII spelled by tag characters, in order
  size_t bidi_controls = 0;
  size_t zero_width = 0;
  size_t variation_selectors = 0;
  size_t confusables = 0;   // code points mapped in step 6
  size_t combining_marks = 0;  // marks (and joiners, selectors among them) removed in step 7
  // Input byte offset of the first occurrence of each kind (nullopt when none).
  std::optional<size_t> first_tag, first_bidi, first_zero_width, first_variation_selector,
      first_confusable;
};

// Internal only if ICU fails to initialise (a broken installation).
Result<UnicodeNormalization> NormalizeForScanning(std::string_view text);

}  // namespace warden::guard
