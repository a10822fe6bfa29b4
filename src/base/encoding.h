// Hex and base64 (RFC 4648, standard alphabet, padded), strict on decode.
//
// Decoders reject anything that is not canonical for the alphabet (wrong characters,
// missing or misplaced padding, whitespace) and say at which character, so that two
// different strings never decode to the same signature bytes silently.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden {

std::string HexEncode(std::span<const uint8_t> bytes);
inline std::string HexEncode(std::string_view bytes) {
  return HexEncode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}
// Accepts upper or lower case; the length must be even.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);

std::string Base64Encode(std::span<const uint8_t> bytes);
inline std::string Base64Encode(std::string_view bytes) {
  return Base64Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}
Result<std::string> Base64Decode(std::string_view text);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// UTF-8, strictly: a well-formed sequence has no overlong form, no surrogate (U+D800..DFFF)
// and nothing above U+10FFFF.

// Decodes the well-formed sequence at s[i] (i < s.size()) into *cp and returns its length
// (1..4), or 0 when s[i] starts no well-formed sequence (a bad lead byte, a bad or missing
// continuation byte, an overlong form, a surrogate, a value above U+10FFFF).
size_t DecodeUtf8At(std::string_view s, size_t i, uint32_t* cp);
// Offset of the first byte that is not part of a well-formed sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s);
// True when `s` is well-formed UTF-8.
inline bool IsValidUtf8(std::string_view s) {
  return FirstInvalidUtf8(s) == std::string_view::npos;
}
// Appends the UTF-8 encoding of code point `cp` (at most U+10FFFF, not a surrogate).
void AppendUtf8(uint32_t cp, std::string& out);
// Unicode's White_Space property (what Go's unicode.IsSpace accepts; Python's str.isspace
// accepts these and U+001C..U+001F too).
bool IsUnicodeWhiteSpace(uint32_t cp);

}  // namespace warden
