#include "guard/hyperscan.h"

#include <hs/hs.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "base/encoding.h"

namespace warden::guard {

struct Database::Impl {
  hs_database_t* db = nullptr;
  hs_scratch_t* prototype = nullptr;  // cloned for each concurrent scan
  mutable std::mutex mutex;
  mutable std::vector<hs_scratch_t*> free_scratch;

  ~Impl() {
    for (hs_scratch_t* s : free_scratch) hs_free_scratch(s);
    if (prototype != nullptr) hs_free_scratch(prototype);
    if (db != nullptr) hs_free_database(db);
  }

  // A scratch for one scan: from the pool, or a new clone of the prototype.
  hs_scratch_t* Take() const {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!free_scratch.empty()) {
        hs_scratch_t* s = free_scratch.back();
        free_scratch.pop_back();
        return s;
      }
    }
    hs_scratch_t* s = nullptr;
    return hs_clone_scratch(prototype, &s) == HS_SUCCESS ? s : nullptr;
  }
  void Give(hs_scratch_t* s) const {
    std::lock_guard<std::mutex> lock(mutex);
    free_scratch.push_back(s);
  }
};

namespace {

// Zero bytes after the copy of the text that Hyperscan scans (see Scan): two AVX-512 vectors.
constexpr size_t kOverReadPadding = 128;

struct ScanState {
  std::vector<Match>* matches;
  size_t max_matches;
  bool overflow = false;
};

int OnMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
            void* context) {
  auto* state = static_cast<ScanState*>(context);
  if (state->matches->size() >= state->max_matches) {
    state->overflow = true;
    return 1;  // stop scanning
  }
  state->matches->push_back({id, static_cast<size_t>(from), static_cast<size_t>(to)});
  return 0;
}

}  // namespace

Database::Database(std::unique_ptr<Impl> impl, size_t count)
    : impl_(std::move(impl)), count_(count) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Result<Database> Database::Compile(const std::vector<PatternSpec>& patterns) {
  if (patterns.empty()) return InvalidArgumentError("no patterns to compile");
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (size_t i = 0; i < patterns.size(); ++i) {
    expressions.push_back(patterns[i].expression.c_str());
    flags.push_back(HS_FLAG_UTF8 |
                    (patterns[i].report_start ? HS_FLAG_SOM_LEFTMOST : HS_FLAG_SINGLEMATCH) |
                    (patterns[i].caseless ? HS_FLAG_CASELESS : 0u) |
                    (patterns[i].allow_empty ? HS_FLAG_ALLOWEMPTY : 0u));
    ids.push_back(static_cast<unsigned>(i));
  }
  auto impl = std::make_unique<Impl>();
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()),
                       HS_MODE_BLOCK, nullptr, &impl->db,
                       &error) != HS_SUCCESS) {
    std::string message = error != nullptr && error->message != nullptr ? error->message
                                                                        : "unknown error";
    const int at = error != nullptr ? error->expression : -1;
    hs_free_compile_error(error);
    if (at >= 0 && static_cast<size_t>(at) < patterns.size()) {
      return InvalidArgumentError("pattern " + std::to_string(at) + " (\"" +
                                  patterns[static_cast<size_t>(at)].expression +
                                  "\"): " + message);
    }
    return InvalidArgumentError("the patterns do not compile: " + message);
  }
  if (hs_alloc_scratch(impl->db, &impl->prototype) != HS_SUCCESS) {
    return InternalError("Hyperscan could not allocate scratch space");
  }
  return Database(std::move(impl), patterns.size());
}

Result<std::vector<Match>> Database::Scan(std::string_view text, size_t max_matches) const {
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgumentError("text is not UTF-8 (invalid byte at offset " +
                                std::to_string(bad) + ")");
  }
  if (text.size() > 0xffffffffu) {
    return ResourceExhaustedError("text of " + std::to_string(text.size()) +
                                  " bytes is too long to scan in one piece");
  }
  hs_scratch_t* scratch = impl_->Take();
  if (scratch == nullptr) return InternalError("Hyperscan could not allocate scratch space");
  // Hyperscan 5.4.0's AVX-512 VBMI code (chosen at run time on Ice Lake and later) can read
  // past the end of the text: guard_detectors_fuzz found a 50-byte text that crashes when it
  // ends at a page boundary (tests/guard/hyperscan_test.cc, PaddingProtectsAgainstOverRead). The
  // text is therefore scanned from a copy followed by kOverReadPadding zero bytes.
  thread_local std::string padded;
  padded.assign(text);
  padded.append(kOverReadPadding, '\0');
  std::vector<Match> raw;
  ScanState state{&raw, max_matches};
  const hs_error_t rc = hs_scan(impl_->db, padded.data(), static_cast<unsigned>(text.size()), 0,
                                scratch, OnMatch, &state);
  impl_->Give(scratch);
  if (state.overflow) {
    return ResourceExhaustedError("more than " + std::to_string(max_matches) +
                                  " pattern matches in a text of " + std::to_string(text.size()) +
                                  " bytes");
  }
  if (rc != HS_SUCCESS) return InternalError("Hyperscan scan failed (error " +
                                             std::to_string(rc) + ")");
  // Hyperscan reports every end of a match; keep the longest per (pattern, start).
  std::sort(raw.begin(), raw.end(), [](const Match& a, const Match& b) {
    if (a.pattern != b.pattern) return a.pattern < b.pattern;
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.end > b.end;
  });
  raw.erase(std::unique(raw.begin(), raw.end(),
                        [](const Match& a, const Match& b) {
                          return a.pattern == b.pattern && a.begin == b.begin;
                        }),
            raw.end());
  std::sort(raw.begin(), raw.end(), [](const Match& a, const Match& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.pattern < b.pattern;
  });
  return raw;
}

}  // namespace warden::guard
