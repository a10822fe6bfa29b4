// A compiled Hyperscan database with the scratch space to scan it: many regular expressions
// matched in one pass over a text, each match with its start and end offsets. The pii and
// secrets detectors find their candidates with it (and validate them in code); the patterns
// scanner will compile users' lists with it.
//
// Patterns use Hyperscan's PCRE subset (no back-references, no look-around); every pattern is
// compiled with HS_FLAG_UTF8 (`.` is one character; the text must be valid UTF-8: Scan checks)
// and, by default, HS_FLAG_SOM_LEFTMOST (so a match reports where it starts), plus
// HS_FLAG_CASELESS when asked. A caller that only asks which patterns occur can turn start
// tracking off (PatternSpec::report_start); SOM refuses patterns that can match the empty
// string, so allow_empty needs it off. Not HS_FLAG_UCP: with start-of-match tracking, Unicode
// classes make even `\w+` "too large" for Hyperscan, so \w, \d and \s are ASCII; write
// non-ASCII ranges explicitly.
// Hyperscan reports every end position of a pattern (for `a+` on "aaa": 3 matches);
// Scan keeps, per pattern and start, only the longest match, and returns matches ordered by
// start, then pattern index. Scan works on a copy of the text with 128 zero bytes after it:
// Hyperscan 5.4.0 can read past the end of its input on CPUs with AVX-512 VBMI (found by
// fuzzing; a text ending at an unreadable page crashed).
//
// Thread-safety: a Database is immutable after Compile; Scan may run on many threads at once
// (each call takes a scratch from an internal pool, allocating one when none is free).
// Ownership: Database owns the hs_database_t and the scratch pool; movable, not copyable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::guard {

struct PatternSpec {
  std::string expression;
  bool caseless = false;
  // false: no HS_FLAG_SOM_LEFTMOST but HS_FLAG_SINGLEMATCH: the pattern reports at most one
  // match, with begin 0 and the end of the first match Hyperscan finds.
  bool report_start = true;
  // HS_FLAG_ALLOWEMPTY (a pattern that can match the empty string compiles); needs
  // report_start = false.
  bool allow_empty = false;
};

struct Match {
  uint32_t pattern = 0;  // index into the specs given to Compile
  size_t begin = 0;      // byte offsets in the scanned text
  size_t end = 0;
};

class Database {
 public:
  // InvalidArgument naming the pattern's index and Hyperscan's message ("pattern 3 (\"a(?=b)\"):
  // Unsupported component...") for a pattern Hyperscan rejects; InvalidArgument for no
  // patterns; Internal if Hyperscan cannot allocate.
  static Result<Database> Compile(const std::vector<PatternSpec>& patterns);

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  // All matches in `text` (see the header comment). InvalidArgument for text that is not UTF-8
  // (naming the byte offset); ResourceExhausted when Hyperscan reports more than `max_matches`
  // matches, counted before only the longest per start is kept (a hostile text cannot make us
  // collect without bound); Internal for a Hyperscan error.
  Result<std::vector<Match>> Scan(std::string_view text, size_t max_matches = 1 << 16) const;

  size_t size() const { return count_; }

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl, size_t count);
  std::unique_ptr<Impl> impl_;
  size_t count_ = 0;
};

}  // namespace warden::guard
