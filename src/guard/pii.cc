#include "guard/pii.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace warden::guard {
namespace {

// One Hyperscan pattern per candidate shape; the validators below decide. Digit classes are
// spelled [0-9] because under HS_FLAG_UCP `\d` means every Unicode digit, which makes the
// SOM-tracking automata too large to compile. Repeats are loose on purpose: Hyperscan reports
// only the leftmost start and the longest end per start, so validators trim within a candidate.
enum Pattern : uint32_t {
  kEmailDomain,
  kEmailIpLiteral,
  kPhoneInternational,
  kPhoneNanp,
  kPhoneTrunk,
  kCardPlain,
  kCardGrouped,
  kIbanCompact,
  kIbanSpaced,
  kSsnDashed,
  kSsnSpaced,
  kIpv4,
  kIpv6,
  kPatternCount,
};

// Each pattern should start with something rare (a literal such as '@', or a tight class
// sequence): with HS_FLAG_SOM_LEFTMOST a pattern that can start at every letter of a word
// (an e-mail local part, a letter class) costs several microseconds per 4 KB on its own.
const std::array<const char*, kPatternCount> kExpressions = {
    // From the '@' (the local part is found in code, walking back): a dotted domain whose labels
    // may be internationalised (any non-ASCII code point; label rules are checked in code) and a
    // TLD of two or more letters.
    R"(@[a-zA-Z0-9\x{80}-\x{10FFFF}][a-zA-Z0-9\x{80}-\x{10FFFF}.\-]*)"
    R"(\.[a-zA-Z\x{80}-\x{10FFFF}]{2,})",
    R"(@\[?[0-9]{1,3}(?:\.[0-9]{1,3}){3}\]?)",
    R"(\+[0-9][0-9 ().\-]{5,24}[0-9])",
    R"((?:1[ .\-]?)?\(?[0-9]{3}\)?[ .\-]?[0-9]{3}[ .\-]?[0-9]{4})",
    R"(\(?0[0-9]{1,4}\)?(?:[ .\-][0-9]{2,8}){1,4})",
    R"([0-9]{13,19})",
    // 4-4-4-(1..4)[-(1..3)] and the Amex / Diners 4-6-(4..5) layouts.
    R"([0-9]{4}[ .\-][0-9]{4}[ .\-][0-9]{4}[ .\-][0-9]{1,4}(?:[ .\-][0-9]{1,3})?|)"
    R"([0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5})",
    // IBANs as printed: country letters in capitals (lower-case IBANs are not looked for; the
    // check digits keep false positives rare either way), compact or in groups of four.
    R"([A-Z]{2}[0-9]{2}[A-Za-z0-9]{11,30})",
    R"([A-Z]{2}[0-9]{2} [A-Za-z0-9]{4} [A-Za-z0-9]{4}(?: [A-Za-z0-9]{1,4})*)",
    R"([0-9]{3}-[0-9]{2}-[0-9]{4})",
    R"([0-9]{3} [0-9]{2} [0-9]{4})",
    R"([0-9]{1,3}(?:\.[0-9]{1,3}){3})",
    R"([0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]{0,37})",
};

constexpr size_t kCardMinDigits = 13;
constexpr size_t kCardMaxDigits = 19;
constexpr size_t kPhoneMinDigits = 7;  // E.164 bounds
constexpr size_t kPhoneMaxDigits = 15;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(char c) { return IsDigit(c) || IsAsciiAlpha(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The code point that ends just before `pos` (the text is valid UTF-8: Scan checked it).
char32_t CodePointBefore(std::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  auto lead = static_cast<unsigned char>(text[start]);
  size_t len = pos - start;
  char32_t cp = len == 1   ? lead
                : len == 2 ? (lead & 0x1F)
                : len == 3 ? (lead & 0x0F)
                           : (lead & 0x07);
  for (size_t i = start + 1; i < pos; ++i) cp = (cp << 6) | (text[i] & 0x3F);
  return cp;
}

char32_t CodePointAt(std::string_view text, size_t pos) {
  auto lead = static_cast<unsigned char>(text[pos]);
  size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  char32_t cp = len == 1   ? lead
                : len == 2 ? (lead & 0x1F)
                : len == 3 ? (lead & 0x0F)
                           : (lead & 0x07);
  for (size_t i = pos + 1; i < pos + len && i < text.size(); ++i) cp = (cp << 6) | (text[i] & 0x3F);
  return cp;
}

// Letters and digits of the alphabetic scripts that separate words with spaces (Latin, Greek,
// Cyrillic, full-width forms). CJK and other scripts written without spaces are deliberately
// not glue: there a number or address legitimately sits right next to a word.
bool IsGlue(char32_t cp) {
  if (cp < 0x80) return IsAsciiAlnum(static_cast<char>(cp));
  if (cp >= 0xC0 && cp <= 0x24F) return cp != 0xD7 && cp != 0xF7;
  if (cp >= 0x370 && cp <= 0x52F) return true;
  return (cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
         (cp >= 0xFF41 && cp <= 0xFF5A);
}

bool GluedBefore(std::string_view text, size_t begin) {
  return begin > 0 && IsGlue(CodePointBefore(text, begin));
}
bool GluedAfter(std::string_view text, size_t end) {
  return end < text.size() && IsGlue(CodePointAt(text, end));
}

// A run of digits and the separator byte in front of it (0 for the first group).
struct Group {
  size_t begin;
  size_t end;
  char sep;
};

// Splits [begin, end) into digit groups separated by single bytes from `seps`; stops at the
// first byte that does not fit. The caller holds a small fixed-size buffer: candidates are short.
size_t SplitGroups(std::string_view text, size_t begin, size_t end, std::string_view seps,
                   Group* out, size_t cap) {
  size_t n = 0;
  size_t i = begin;
  char sep = 0;
  while (i < end && n < cap) {
    size_t j = i;
    while (j < end && IsDigit(text[j])) ++j;
    if (j == i) break;
    out[n++] = {i, j, sep};
    if (j + 1 < end && seps.find(text[j]) != std::string_view::npos && IsDigit(text[j + 1])) {
      sep = text[j];
      i = j + 1;
    } else {
      break;
    }
  }
  return n;
}

// Emits every card in a candidate, left to right: Hyperscan reports only the leftmost start
// per end, so a card preceded by another digit group ("2024 4111 1111 1111 1111") arrives
// inside a longer candidate.
void ValidateCard(std::string_view text, size_t begin, size_t end, std::vector<PiiMatch>& out) {
  std::array<Group, 8> groups;
  size_t n = SplitGroups(text, begin, end, " -.", groups.data(), groups.size());
  auto len = [&](size_t k) { return groups[k].end - groups[k].begin; };
  size_t i = 0;
  while (i < n) {
    bool found = false;
    for (size_t j = n; !GluedBefore(text, groups[i].begin) && j-- > i;) {
      size_t digits = 0;
      bool consistent = true;
      for (size_t k = i; k <= j; ++k) {
        digits += len(k);
        if (k > i + 1 && groups[k].sep != groups[i + 1].sep) consistent = false;
      }
      if (digits < kCardMinDigits || digits > kCardMaxDigits || !consistent) continue;
      if (j > i) {
        // Printed card layouts: 4-4-4-4(-3) with a shorter last group, or 4-6-4/4-6-5 (Diners,
        // Amex). Anything else is more likely an id or a list of numbers.
        bool fours = len(i) == 4 && len(j) <= 4;
        for (size_t k = i + 1; k < j; ++k) fours = fours && len(k) == 4;
        bool amex = j == i + 2 && len(i) == 4 && len(i + 1) == 6 && (len(j) == 4 || len(j) == 5);
        if (!fours && !amex) continue;
      }
      if (GluedAfter(text, groups[j].end)) continue;
      std::array<char, kCardMaxDigits> buf;
      size_t w = 0;
      for (size_t k = i; k <= j; ++k) {
        for (size_t t = groups[k].begin; t < groups[k].end; ++t) buf[w++] = text[t];
      }
      if (!LuhnValid(std::string_view(buf.data(), w))) continue;
      out.push_back({PiiKind::kCreditCard, groups[i].begin, groups[j].end});
      i = j + 1;
      found = true;
      break;
    }
    if (!found) ++i;
  }
}

// A phone group: digits, possibly in parentheses ("(425)", "(0)20").
struct PhoneGroup {
  size_t begin;  // the '(' when parenthesised
  size_t end;    // past the ')' when parenthesised
  size_t digits;
  char first_digit;
  char fourth_digit;  // '0' when the group is shorter
  char before;        // the byte in front of the group (0 at the candidate's start)
};

using PhoneGroups = std::array<PhoneGroup, 12>;

// Whether groups [s, m) form a phone number; `plus` when a '+' precedes group s.
bool PhoneShapeValid(const PhoneGroups& g, size_t s, size_t m, bool plus) {
  size_t digits = 0;
  for (size_t k = s; k < m; ++k) digits += g[k].digits;
  if (digits < kPhoneMinDigits || digits > kPhoneMaxDigits) return false;
  if (plus) return true;  // country code given: any grouping within the E.164 bounds
  // North American numbering plan: [1] NXX NXX XXXX, area and exchange not starting 0 or 1.
  size_t k = s;
  if (g[s].digits == 1 && g[s].first_digit == '1' && m - s > 1) ++k;
  if (digits - (k - s) == 10) {
    size_t parts = m - k;
    bool shape = parts == 1 || (parts == 2 && g[k].digits == 3) ||
                 (parts == 3 && g[k].digits == 3 && g[k + 1].digits == 3);
    // The exchange's first digit: the 4th national digit.
    char exchange = parts == 1 ? g[k].fourth_digit : g[k + 1].first_digit;
    if (shape && g[k].first_digit >= '2' && exchange >= '2') return true;
  }
  // National numbers with a trunk prefix 0 ("020 7946 0958", "052 5552606"): at least one
  // separator, and groups after the first of 3+ digits (so "01-15-2024" is not a phone), or the
  // French 2-2-2-2-2 layout.
  if (g[s].first_digit == '0' && m - s >= 2 && digits >= 9 && digits <= 11) {
    bool long_groups = true;
    bool pairs = m - s == 5;
    for (size_t t = s; t < m; ++t) {
      if (t > s && g[t].digits < 3) long_groups = false;
      if (g[t].digits != 2) pairs = false;
    }
    return long_groups || pairs;
  }
  return false;
}

// Emits every phone number in a candidate, left to right (see ValidateCard for why a
// candidate can hold more than one). A new number may start only after a space.
void ValidatePhone(std::string_view text, size_t begin, size_t end, std::vector<PiiMatch>& out) {
  size_t i = begin;
  bool plus = text[i] == '+';
  if (plus) ++i;
  PhoneGroups g;
  size_t n = 0;
  while (i < end && n < g.size()) {
    size_t gb = i;
    bool paren = text[i] == '(';
    if (paren) ++i;
    size_t db = i;
    while (i < end && IsDigit(text[i])) ++i;
    if (i == db) break;
    if (paren) {
      if (i >= end || text[i] != ')') break;
      ++i;
    }
    size_t count = i - db - (paren ? 1 : 0);
    g[n++] = {
        gb, i, count, text[db], count >= 4 ? text[db + 3] : '0', gb > begin ? text[gb - 1] : '\0'};
    if (i >= end) break;
    // One separator between groups; after ')' a space or nothing.
    if (text[i] == ' ' || text[i] == '-' || text[i] == '.') {
      if (i + 1 < end && (IsDigit(text[i + 1]) || text[i + 1] == '(')) {
        ++i;
        continue;
      }
      break;
    }
    if (paren && IsDigit(text[i])) continue;
    break;
  }
  size_t s = 0;
  while (s < n) {
    bool found = false;
    bool may_start = s == 0 ? !GluedBefore(text, begin) : g[s].before == ' ';
    for (size_t m = n; may_start && m > s; --m) {
      if (!PhoneShapeValid(g, s, m, plus && s == 0)) continue;
      if (GluedAfter(text, g[m - 1].end)) continue;
      out.push_back({PiiKind::kPhone, s == 0 ? begin : g[s].begin, g[m - 1].end});
      s = m;
      found = true;
      break;
    }
    if (!found) ++s;
  }
}

struct IbanCountry {
  char code[3];
  uint8_t length;
};

// IBAN lengths by country (SWIFT IBAN registry).
constexpr IbanCountry kIbanCountries[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
    {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
    {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

size_t IbanLength(char a, char b) {
  a = Upper(a);
  b = Upper(b);
  for (const auto& c : kIbanCountries) {
    if (c.code[0] == a && c.code[1] == b) return c.length;
  }
  return 0;
}

std::optional<PiiMatch> ValidateIban(std::string_view text, size_t begin, size_t end) {
  if (GluedBefore(text, begin)) return std::nullopt;
  size_t want = IbanLength(text[begin], text[begin + 1]);
  if (want == 0) return std::nullopt;
  std::string compact;
  compact.reserve(want);
  size_t i = begin;
  for (; i < end && compact.size() < want; ++i) {
    if (text[i] != ' ') compact.push_back(text[i]);
  }
  if (compact.size() != want) return std::nullopt;
  // The IBAN must end where a printed group (or the compact run) ends.
  if (i < end && text[i] != ' ') return std::nullopt;
  if (GluedAfter(text, i)) return std::nullopt;
  if (!IbanValid(compact)) return std::nullopt;
  return PiiMatch{PiiKind::kIban, begin, i};
}

int Number(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<PiiMatch> ValidateSsn(std::string_view text, size_t begin, size_t end) {
  if (end - begin != 11 || GluedBefore(text, begin) || GluedAfter(text, end)) return std::nullopt;
  int area = Number(text.substr(begin, 3));
  int group = Number(text.substr(begin + 4, 2));
  int serial = Number(text.substr(begin + 7, 4));
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return std::nullopt;
  return PiiMatch{PiiKind::kUsSsn, begin, end};
}

bool Ipv4Valid(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == i || j - i > 3 || Number(s.substr(i, j - i)) > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

// A dotted quad must not be part of a longer dotted sequence ("1.2.3.4.5" is a version).
std::optional<PiiMatch> ValidateIpv4(std::string_view text, size_t begin, size_t end) {
  if (GluedBefore(text, begin) || GluedAfter(text, end)) return std::nullopt;
  if (begin >= 2 && text[begin - 1] == '.' && IsAsciiAlnum(text[begin - 2])) return std::nullopt;
  if (end + 1 < text.size() && text[end] == '.' && IsDigit(text[end + 1])) return std::nullopt;
  if (!Ipv4Valid(text.substr(begin, end - begin))) return std::nullopt;
  return PiiMatch{PiiKind::kIpAddress, begin, end};
}

bool Ipv6Valid(std::string_view s) {
  size_t compress = s.find("::");
  if (compress != std::string_view::npos && s.find("::", compress + 1) != std::string_view::npos) {
    return false;
  }
  int groups = 0;
  bool has_digit = false;
  size_t i = 0;
  if (compress == 0) i = 2;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    std::string_view part = s.substr(i, j - i);
    if (part.find('.') != std::string_view::npos) {
      if (j != s.size() || !Ipv4Valid(part)) return false;  // embedded IPv4 only at the end
      groups += 2;
      has_digit = true;
    } else {
      if (part.empty() || part.size() > 4) return false;
      for (char c : part) {
        if (!IsHex(c)) return false;
        has_digit = has_digit || IsDigit(c);
      }
      ++groups;
    }
    if (j == s.size()) break;
    if (j == compress) {
      i = j + 2;
      if (i == s.size()) break;  // trailing "::"
    } else {
      i = j + 1;
      if (i == s.size()) return false;  // trailing single ':'
    }
  }
  bool compressed = compress != std::string_view::npos;
  if (compressed ? groups > 7 : groups != 8) return false;
  // Hex-only words around "::" ("a::b", "dead::beef") are more often code than addresses.
  return has_digit || groups == 8;
}

std::optional<PiiMatch> ValidateIpv6(std::string_view text, size_t begin, size_t end) {
  while (end > begin && text[end - 1] == '.') --end;  // sentence full stop
  if (end - begin >= 2 && text[end - 1] == ':' && text[end - 2] != ':') --end;
  if (begin > 0 && (text[begin - 1] == ':' || text[begin - 1] == '.')) return std::nullopt;
  if (GluedBefore(text, begin) || GluedAfter(text, end)) return std::nullopt;
  if (end < text.size() && text[end] == ':') return std::nullopt;
  if (!Ipv6Valid(text.substr(begin, end - begin))) return std::nullopt;
  return PiiMatch{PiiKind::kIpAddress, begin, end};
}

bool IsLocalPartChar(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

constexpr size_t kMaxLocalPart = 64;  // RFC 5321

// `begin` is the '@': the pattern starts there so that Hyperscan does not track a possible
// start at every letter of the text; the local part is found here.
std::optional<PiiMatch> ValidateEmail(std::string_view text, size_t begin, size_t end,
                                      bool ip_literal) {
  const size_t at = begin;
  while (begin > 0 && IsLocalPartChar(text[begin - 1])) {
    if (at - begin >= kMaxLocalPart) return std::nullopt;
    --begin;
  }
  while (begin < at && text[begin] == '.') ++begin;  // a dot cannot open the local part
  std::string_view local = text.substr(begin, at - begin);
  if (local.empty() || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  if (GluedBefore(text, begin)) return std::nullopt;
  std::string_view domain = text.substr(at + 1, end - at - 1);
  if (ip_literal) {
    bool bracket = domain.front() == '[';
    if (bracket != (domain.back() == ']')) return std::nullopt;
    std::string_view quad = bracket ? domain.substr(1, domain.size() - 2) : domain;
    if (!Ipv4Valid(quad)) return std::nullopt;
    if (GluedAfter(text, end) || (end < text.size() && text[end] == '.' && end + 1 < text.size() &&
                                  IsDigit(text[end + 1]))) {
      return std::nullopt;
    }
    return PiiMatch{PiiKind::kEmail, begin, end};
  }
  // An ASCII TLD runs into following non-ASCII text in scripts written without spaces
  // ("user@example.comです"): the TLD stops where the script changes.
  size_t last_dot = domain.rfind('.');
  if (last_dot == std::string_view::npos) return std::nullopt;
  size_t tld_begin = last_dot + 1;
  if (IsAsciiAlpha(domain[tld_begin])) {
    size_t k = tld_begin;
    while (k < domain.size() && IsAsciiAlpha(domain[k])) ++k;
    domain = domain.substr(0, k);
  } else {
    for (size_t k = tld_begin; k < domain.size(); ++k) {
      if (static_cast<unsigned char>(domain[k]) < 0x80) return std::nullopt;
    }
  }
  if (domain.size() - tld_begin < 2 || domain.size() > 253) return std::nullopt;
  // Labels: non-empty, at most 63 bytes, no hyphen at either end.
  size_t i = 0;
  while (i <= domain.size()) {
    size_t j = domain.find('.', i);
    if (j == std::string_view::npos) j = domain.size();
    std::string_view label = domain.substr(i, j - i);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return std::nullopt;
    }
    if (j == domain.size()) break;
    i = j + 1;
  }
  end = at + 1 + domain.size();
  if (end < text.size() && IsAsciiAlnum(text[end])) return std::nullopt;
  return PiiMatch{PiiKind::kEmail, begin, end};
}

void Validate(std::string_view text, const Match& m, std::vector<PiiMatch>& out) {
  std::optional<PiiMatch> one;
  switch (static_cast<Pattern>(m.pattern)) {
    case kEmailDomain:
    case kEmailIpLiteral:
      one = ValidateEmail(text, m.begin, m.end, m.pattern == kEmailIpLiteral);
      break;
    case kPhoneInternational:
    case kPhoneNanp:
    case kPhoneTrunk:
      ValidatePhone(text, m.begin, m.end, out);
      break;
    case kCardPlain:
    case kCardGrouped:
      ValidateCard(text, m.begin, m.end, out);
      break;
    case kIbanCompact:
    case kIbanSpaced:
      one = ValidateIban(text, m.begin, m.end);
      break;
    case kSsnDashed:
    case kSsnSpaced:
      one = ValidateSsn(text, m.begin, m.end);
      break;
    case kIpv4:
      one = ValidateIpv4(text, m.begin, m.end);
      break;
    case kIpv6:
      one = ValidateIpv6(text, m.begin, m.end);
      break;
    case kPatternCount:
      break;
  }
  if (one) out.push_back(*one);
}

}  // namespace

std::string_view PiiKindName(PiiKind kind) {
  switch (kind) {
    case PiiKind::kEmail:
      return "email";
    case PiiKind::kPhone:
      return "phone";
    case PiiKind::kCreditCard:
      return "credit_card";
    case PiiKind::kIban:
      return "iban";
    case PiiKind::kUsSsn:
      return "us_ssn";
    case PiiKind::kIpAddress:
      return "ip_address";
  }
  return "unknown";
}

std::string_view PiiPlaceholder(PiiKind kind) {
  switch (kind) {
    case PiiKind::kEmail:
      return "[EMAIL]";
    case PiiKind::kPhone:
      return "[PHONE]";
    case PiiKind::kCreditCard:
      return "[CREDIT_CARD]";
    case PiiKind::kIban:
      return "[IBAN]";
    case PiiKind::kUsSsn:
      return "[US_SSN]";
    case PiiKind::kIpAddress:
      return "[IP_ADDRESS]";
  }
  return "[PII]";
}

Result<PiiDetector> PiiDetector::Create() {
  std::vector<PatternSpec> specs;
  specs.reserve(kExpressions.size());
  for (const char* e : kExpressions) specs.push_back({e, false});
  auto db = Database::Compile(specs);
  if (!db.has_value()) return InternalError("pii patterns: " + db.error().message());
  return PiiDetector(std::move(*db));
}

Result<std::vector<PiiMatch>> PiiDetector::Find(std::string_view text) const {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Match> candidates, db_.Scan(text));
  std::vector<PiiMatch> valid;
  for (const Match& m : candidates) {
    Validate(text, m, valid);
  }
  // Longest first, then the earlier kind; a match is kept when it overlaps none kept before.
  std::sort(valid.begin(), valid.end(), [](const PiiMatch& a, const PiiMatch& b) {
    size_t la = a.end - a.begin;
    size_t lb = b.end - b.begin;
    if (la != lb) return la > lb;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.begin < b.begin;
  });
  std::map<size_t, PiiMatch> kept;  // by begin; non-overlapping
  for (const PiiMatch& m : valid) {
    auto next = kept.lower_bound(m.begin);
    if (next != kept.end() && next->second.begin < m.end) continue;
    if (next != kept.begin() && std::prev(next)->second.end > m.begin) continue;
    kept.emplace(m.begin, m);
  }
  std::vector<PiiMatch> out;
  out.reserve(kept.size());
  for (const auto& [begin, m] : kept) out.push_back(m);
  return out;
}

std::string PiiDetector::Redact(std::string_view text, const std::vector<PiiMatch>& matches) {
  std::string out;
  out.reserve(text.size());
  size_t cursor = 0;
  for (const PiiMatch& m : matches) {
    // Matches from Find are ordered and disjoint; anything else is skipped rather than
    // corrupting the output.
    if (m.begin < cursor || m.end > text.size() || m.begin >= m.end) continue;
    out.append(text.substr(cursor, m.begin - cursor));
    out.append(PiiPlaceholder(m.kind));
    cursor = m.end;
  }
  out.append(text.substr(cursor));
  return out;
}

bool LuhnValid(std::string_view digits) {
  if (digits.size() < 2) return false;
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    char c = digits[i];
    if (!IsDigit(c)) return false;
    int d = c - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IbanValid(std::string_view iban) {
  if (iban.size() < 5) return false;
  if (!IsAsciiAlpha(iban[0]) || !IsAsciiAlpha(iban[1]) || !IsDigit(iban[2]) || !IsDigit(iban[3])) {
    return false;
  }
  if (IbanLength(iban[0], iban[1]) != iban.size()) return false;
  // ISO 7064 mod 97-10 over the rearranged string (country and check digits moved to the end,
  // letters as 10..35), computed digit by digit so that no big integer is needed.
  int rem = 0;
  for (size_t n = 0; n < iban.size(); ++n) {
    char c = Upper(iban[(n + 4) % iban.size()]);
    if (IsDigit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

}  // namespace warden::guard
