// Scanners: the plugins a guard chain runs over a conversation (input) or a model's answer
// (output). One shape for all of them (DESIGN.md, "Plugins"): a factory with name(),
// metadata() and Create(config) that validates the config once, and a plain registry filled by
// RegisterBuiltinScanners (guard/builtin_scanners.h).
//
// What a scanner sees. The chain (guard/guard.h) turns the conversation into segments: one per
// scanned message (the roles the policy names), in order. A scanner may
//   - read every segment, and the joined view: the top-level segments (depth 0) joined by
//     "\n\n", so that an attack split across turns is one text to a pattern or a classifier;
//   - rewrite a top-level segment's text (the `unicode` scanner normalises it) with
//     ReplaceText, before any later scanner sees it;
//   - add derived segments (the `encoding` scanner adds what a base64 payload decodes to, the
//     `unicode` scanner what invisible tag characters spell) with AddDerived; the later
//     scanners in the chain scan them too, and a finding in a derived segment is reported
//     against, and redacts, the span of its top-level ancestor that it was decoded from;
//   - report findings: a span, a score and a reason. What happens then (block, redact, flag)
//     is the policy's choice, applied by the chain, not the scanner's.
//
// Errors. A scanner returns a non-OK Status only when it could not decide (an upstream judge
// timed out, an internal limit was hit); the chain then blocks unless the policy says
// `on_error: allow` for that scanner (fail closed). Hostile text is never an error: it is a
// finding or nothing.
//
// Thread-safety: a Scanner is immutable after Create; Scan may run concurrently on many
// threads with different ScanContexts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace warden::guard {

enum class Phase { kInput, kOutput };

struct Span {
  size_t begin = 0;  // bytes
  size_t end = 0;
};

struct Segment {
  std::string text;
  std::string role;       // "system", "user", "assistant", "tool"; "output" for the answer
  int32_t message = -1;   // index of the conversation message it comes from
  int32_t parent = -1;    // derived segments: the segment it was decoded from; -1 top-level
  Span parent_span;       // derived: the bytes of the parent it was decoded from
  uint32_t depth = 0;     // 0 top-level; a derived segment is one deeper than its parent
  std::string via;        // derived: "base64", "hex", "url", "rot13", "leet", "tags", ...
};

struct Finding {
  // Index into ScanContext::segments(), or kJoined / kJoinedUser for a span of a joined view.
  static constexpr int32_t kJoined = -1;
  static constexpr int32_t kJoinedUser = -2;
  int32_t segment = kJoined;
  Span span;
  double score = 1.0;      // [0, 1]; 1 for a deterministic match
  std::string reason;      // short, for people and logs: "credit card number", "base64 payload"
  std::string category;    // optional machine-readable kind: "credit_card", "aws_access_key_id"
  // What a redaction puts in place of the span; empty means "[REDACTED]".
  std::string replacement;
};

// Per-request state shared by the input and output chains of one request (the canary the
// input chain planted is what the output chain looks for).
struct RequestState {
  std::string canary;           // set by the input chain's `canary` scanner
  // The scanned input after the input chain, (role, text) per message, for scanners of the
  // output chain that judge the answer in context (llm_judge).
  std::vector<std::pair<std::string, std::string>> transcript;
};

// Limits on what scanners may add, so that a decompression-bomb style input costs bounded
// work. The chain sets them from the policy's `limits`.
struct ScanLimits {
  uint32_t max_decode_depth = 3;
  uint64_t max_derived_bytes = 1 << 20;  // all derived segments of one scan together
  uint32_t max_segments = 4096;
};

class ScanContext {
 public:
  ScanContext(Phase phase, std::vector<Segment> segments, RequestState* state,
              const ScanLimits& limits);

  Phase phase() const { return phase_; }
  const std::vector<Segment>& segments() const { return segments_; }
  RequestState& state() { return *state_; }
  const ScanLimits& limits() const { return limits_; }

  // The top-level segments joined by "\n\n" (rebuilt lazily after a change): all of them
  // (kJoined), or only the user's turns (kJoinedUser), since in a real chat the assistant
  // answers between the parts of an attack split across the user's turns.
  std::string_view joined(int32_t view = Finding::kJoined);
  // Maps a span of a joined view to (segment, span in that segment). A span that crosses a
  // separator is cut at the end of the segment it starts in; a span that starts on a
  // separator moves to the next segment.
  std::pair<int32_t, Span> Locate(Span joined_span, int32_t view = Finding::kJoined);

  // Replaces a segment's text (normalisation). InvalidArgument for an unknown segment.
  Status ReplaceText(int32_t segment, std::string text);
  // Adds a segment decoded from `parent_span` of `parent`. Returns false, adding nothing, when
  // the limits (depth, bytes, count) would be exceeded; the caller should then report a
  // finding ("nested encoding beyond the limit") rather than silently stop.
  bool AddDerived(int32_t parent, Span parent_span, std::string via, std::string text);

  void Report(Finding finding) { findings_.push_back(std::move(finding)); }
  std::vector<Finding> TakeFindings() { return std::move(findings_); }

  // The chain's own access.
  std::vector<Segment>& mutable_segments() { return segments_; }

 private:
  Phase phase_;
  std::vector<Segment> segments_;
  RequestState* state_;
  ScanLimits limits_;
  std::vector<Finding> findings_;
  struct JoinedView {
    std::string text;
    std::vector<size_t> starts;  // joined offset of each part
    std::vector<int32_t> index;  // segment index of each part
    bool valid = false;
  };
  JoinedView& View(int32_t view);
  JoinedView joined_all_, joined_user_;
  uint64_t derived_bytes_ = 0;
};

class Scanner {
 public:
  virtual ~Scanner() = default;
  virtual Status Scan(ScanContext& ctx) const = 0;
};

struct ScannerMetadata {
  std::string_view maturity;  // "stable" or "alpha"
  bool hardened = false;      // safe on hostile input (bounded time and memory)
  bool deterministic = true;  // false for scanners that ask a model over the network
  bool can_redact = false;    // its findings have spans worth replacing (pii, secrets, patterns)
  std::string_view summary;   // one line for --help and docs
};

// A scanner's options: the keys of its policy entry other than the chain's own (type, name,
// action, on_error, threshold for classifiers is the scanner's). `path` names the entry in
// errors ("input.scanners[3]"); `base_dir` is the policy file's directory, against which
// relative file names in the config (a model file, a word list) are resolved.
struct ScannerConfig {
  json::object options;
  std::string path;
  std::string base_dir;
  std::string data_dir;  // the bundled data/ directory (shipped models)
};

class ScannerFactory {
 public:
  virtual ~ScannerFactory() = default;
  virtual std::string_view name() const = 0;
  virtual ScannerMetadata metadata() const = 0;
  // Validates `config` once. Errors: InvalidArgument naming the key:
  // 'key "threshold": must be in [0, 1], got 1.5'; unknown keys are refused the same way.
  virtual Result<std::unique_ptr<Scanner>> Create(const ScannerConfig& config) const = 0;
};

class ScannerRegistry {
 public:
  // InvalidArgument for a null factory, an empty name, or a name already registered.
  Status Register(std::unique_ptr<ScannerFactory> factory);
  const ScannerFactory* Find(std::string_view name) const;
  // NotFound (listing the registered names) for an unknown name; the factory's errors
  // otherwise.
  Result<std::unique_ptr<Scanner>> Create(std::string_view name, const ScannerConfig& config) const;
  std::vector<std::string_view> Names() const;

 private:
  std::vector<std::unique_ptr<ScannerFactory>> factories_;
};

// Config helpers for factories: typed reads of optional keys with messages that name the key,
// and a check that no key outside `known` is present.
Status CheckKnownKeys(const json::object& options, std::initializer_list<std::string_view> known);
Result<std::optional<double>> OptionalNumber(const json::object& options, std::string_view key);
Result<std::optional<bool>> OptionalBool(const json::object& options, std::string_view key);
Result<std::optional<std::string>> OptionalString(const json::object& options,
                                                  std::string_view key);
Result<std::optional<std::vector<std::string>>> OptionalStringList(const json::object& options,
                                                                   std::string_view key);

}  // namespace warden::guard
