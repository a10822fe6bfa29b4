// Personal data in text: e-mail addresses, phone numbers, payment card numbers (Luhn), IBANs
// (ISO 13616 mod-97), US social security numbers and IP addresses (v4 and v6). The `pii`
// scanner (to come) wraps this: redact with typed placeholders, or block.
//
// Candidates come from one Hyperscan database (guard/hyperscan.h); each candidate is then
// validated in code: the Luhn checksum and a 13-19 digit length for cards (separators ' ' and
// '-' allowed between digit groups, and '.' when used throughout in the 4-4-4-4 or 4-6-5
// layouts), the country length table and mod-97 == 1 for IBANs, area
// / group / serial rules for SSNs (no 000, 666 or 9xx area, no 00 group, no 0000 serial),
// octets <= 255 for IPv4, and for phones 7-15 digits (E.164) with a plausible shape. A match
// must not be glued to a letter or digit on either side (so that "a1234567890b" or a card
// number inside a longer digit run is not a hit).
//
// Thread-safety: a PiiDetector is immutable after Create; Find may run on many threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "guard/hyperscan.h"

namespace warden::guard {

enum class PiiKind { kEmail, kPhone, kCreditCard, kIban, kUsSsn, kIpAddress };
std::string_view PiiKindName(PiiKind kind);  // "email", "phone", "credit_card", "iban",
                                             // "us_ssn", "ip_address"
// The typed redaction placeholder: "[EMAIL]", "[PHONE]", "[CREDIT_CARD]", ...
std::string_view PiiPlaceholder(PiiKind kind);

struct PiiMatch {
  PiiKind kind;
  size_t begin = 0;  // bytes of the text
  size_t end = 0;
};

class PiiDetector {
 public:
  // Internal if the built-in patterns do not compile (a programmer error caught by the tests).
  static Result<PiiDetector> Create();

  // Validated matches, ordered by begin; overlapping candidates are resolved in favour of the
  // longer one (then the earlier kind in the enum). Errors: those of Database::Scan.
  Result<std::vector<PiiMatch>> Find(std::string_view text) const;

  // `text` with every match replaced by its placeholder.
  static std::string Redact(std::string_view text, const std::vector<PiiMatch>& matches);

 private:
  explicit PiiDetector(Database db) : db_(std::move(db)) {}
  Database db_;
};

// Exposed for tests: the checksums.
bool LuhnValid(std::string_view digits);  // digits only, any length >= 2
bool IbanValid(std::string_view iban);    // letters and digits only, no spaces

}  // namespace warden::guard
