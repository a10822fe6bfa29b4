// Encoded payloads in text: base64 (standard and URL-safe, padded or not), hex, URL
// percent-encoding, rot13 and leetspeak. The `encoding` scanner decodes what this finds and
// hands the decoded text to the rest of the chain, so that "aWdub3JlIGFsbCBwcmV2aW91cw==" is
// scanned as "ignore all previous".
//
// What counts as a payload (to keep prose, code, hashes, identifiers and numbers out). "Reads as
// text" below means: well-formed UTF-8 of which >= 90% of code points are printable (ASCII
// graphic characters, space, tab, CR, LF, or anything from U+00A0 up) and that contains a
// white-space character or >= 8 letters (a non-ASCII printable code point counts as a letter).
//   - base64: a maximal run of [A-Za-z0-9+/_-] of >= 16 characters (length % 4 != 1) using one
//     alphabet (standard "+/" or URL-safe "-_"), plus up to two '=' after it, that reads as text
//     once decoded (the unused bits of a final partial group are ignored); a run that is all hex
//     digits is left to hex. A run that mixes the alphabets or does not read as text is split
//     at its non-alphanumeric characters and each piece is tried ("/api/v1/<base64>").
//     "data:<media type>;base64,<run>" is reported from "data:", needs only 2 characters and
//     need not contain a space or letters (it still has to read as printable text);
//   - hex: >= 16 hex digits in tokens of an even number of digits, each not glued to a letter,
//     digit or '_', with an optional "0x"/"\x" prefix, joined by one space, ",", ", " or
//     nothing (when the next token has a prefix: "\x69\x67"), that reads as text once decoded.
//     Digits without a single a-f and without a prefix are a number (phone, card, a table of
//     numbers), not hex. A sequence that fails as a whole is tried token by token;
//   - URL: a maximal run of non-white-space characters with >= 3 "%XX" escapes of a letter,
//     digit, white space or the first byte of a non-ASCII character (escaped delimiters such as
//     "%3A%2F%2F" nest URLs and hide no words, so they do not count), that reads as text once
//     all its escapes are decoded. The whole run is the payload;
//   - rot13: words are maximal ASCII alphanumeric runs (one with a digit is no evidence). A
//     word is evidence when its rot13 is in a built-in list (~660 common and instruction/attack
//     words) and it is not; strong evidence when it also has >= 3 letters. A run goes from the
//     first to the last evidence word with at most 3 other words between two evidence words, and
//     ends at any byte that is not printable ASCII, tab, CR or LF. It is a payload when it has
//     >= 3 words, >= 2 strong evidence words, at least 2 more list words after rot13 than as
//     written, and list words after rot13 make at least half of its words;
//   - leetspeak: tokens are maximal runs of [A-Za-z0-9@$] of 3..16 characters with a letter,
//     no 2 6 8 9, and a leet character (0 1 3 4 5 7, or '@' '$' other than at either end, where
//     they are sigils: "$HOME", "@param", "COMMAND$") whose de-leeted form (0=o 1=i|l 3=e 4=a
//     5=s 7=t @=a $=s) is a list word. A run goes from the first to the last such word with at
//     most 3 other tokens between two of them (ending like rot13's) and is a payload with >= 2
//     leet words or one of >= 6 characters; it is decoded by replacing each leet word with its
//     lower-case word ("1gn0r3 all pr3v10u5" -> "ignore all previous").
// Payloads do not overlap; the longest wins at a position (ties: the earlier start). Decoding is
// one level: the scanner calls this again on decoded text, bounded by ScanLimits (depth and total
// bytes). Limits apply in order of position: past `max_payloads` the rest is dropped; the payload
// that crosses `max_decoded_bytes` is cut on a code point boundary (and dropped if nothing is
// left); either sets `truncated`.
//
// Cost: linear in the text: four passes (rot13 and leetspeak share one), each decoding a region
// at most twice (whole, then split). Memory: every candidate is held until the limits apply,
// about 16 bytes per input byte at worst (a text made only of minimal payloads).
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace warden::guard {

enum class EncodingKind { kBase64, kHex, kUrl, kRot13, kLeet };
std::string_view EncodingKindName(EncodingKind kind);  // "base64", "hex", "url", "rot13", "leet"

struct EncodedPayload {
  EncodingKind kind;
  size_t begin = 0;  // bytes of the input
  size_t end = 0;
  std::string decoded;  // valid UTF-8
};

struct DecodeOptions {
  size_t max_decoded_bytes = 1 << 20;  // all payloads together; stop (truncated = true) beyond
  size_t max_payloads = 256;
};

struct DecodeResult {
  std::vector<EncodedPayload> payloads;  // ordered by begin
  bool truncated = false;                // a limit stopped the search
};

DecodeResult FindEncodedPayloads(std::string_view text, const DecodeOptions& options = {});

}  // namespace warden::guard
