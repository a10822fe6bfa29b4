// Tool-call control: what tools a tier may be offered and call, and with which arguments.
//
// Applied twice per request (guard/guard.h): to the tools a request offers the model (an
// unlisted tool is dropped from the request, or the request blocked, per the tier's
// `offered`), and to every tool call the model emits (an unlisted tool, arguments that are not
// a JSON object, a constraint violated, or a deny pattern matched in any string value blocks
// the call).
//
// CheckCall, step by step (each step that fails ends the check with that one violation):
//  1. the tool name must be in the allowlist, byte for byte;
//  2. the arguments (JSON text: OpenAI's `function.arguments` is a string) must be at most
//     max_argument_bytes long (checked before parsing); empty or all-whitespace text means {};
//  3. they must parse (json::Parse: strict UTF-8, no lone surrogate escapes, no duplicate key,
//     at most max_argument_depth nested containers, the arguments object being level 1) and be
//     an object.
// Then every violation is reported, in this order: top-level keys that no constraint path
// starts with, in document order (unless allow_unlisted_arguments; nested keys are never
// checked for listing); the constraints in policy order, each one's values in document order;
// deny-pattern matches in document order (a key before its value, patterns by index, each
// pattern once per key or value). Past 64 violations, one final entry counts the rest.
//
// Constraint paths: "a.b" walks objects, "a[3]" an array index, "a[*]" every element (each
// must satisfy the constraint; an empty array satisfies it). A branch does not resolve when a
// key is absent, an index is past the end, or a container is of the wrong kind ("a.b" where a
// is a string): a required path is violated at each such branch, an optional one is skipped.
// A value that resolves is checked: its type first (integer = a JSON integer or a number with
// an integral value, 3.0; number = any number; a mismatch is reported alone); then enum
// (numbers compare by value, exactly: 1 == 1.0, 2^53 + 1 != 2^53; strings byte for byte;
// objects regardless of key order); min_length/max_length (strings: Unicode code points;
// arrays: elements; any other value is a violation); minimum/maximum (inclusive, exact against
// large integers; a non-number is a violation); pattern (strings only; Hyperscan regex,
// case-sensitive, that must match the whole string: compiled as "^(?:p\E)\z" after `p` alone
// compiles, so a trailing newline cannot slip past `$` and "a)|(b" cannot unanchor it).
// Deny patterns are Hyperscan regexes searched (unanchored, caseless) in every string value at
// any depth, and in object keys; numbers and booleans are not searched. Values are checked as
// parsed: JSON escapes are decoded, nothing else is normalised (the unicode scanner does that
// for text, not here).
//
// Messages quote attacker-chosen text (tool names, keys, values) cut to 64 bytes with control
// characters escaped. Cost: linear in the arguments' size (the parse, one walk, one Hyperscan
// scan per string and per distinct key).
//
// Thread-safety: a ToolGuard is immutable after Create; its checks may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "guard/policy.h"

namespace warden::guard {

struct ToolViolation {
  std::string tool;
  std::string path;    // argument path ("options.days"), empty for the call itself
  std::string reason;  // 'not in the allowlist of tier "free"', 'must be <= 14, got 30', ...
};

class ToolGuard {
 public:
  // Compiles the patterns of one tier's tool policy. InvalidArgument naming the tool, the
  // argument path and Hyperscan's message for a pattern it rejects (deny patterns: the
  // pattern's index), and for a malformed path, a tool listed twice, or a constraint no value
  // could meet (a pattern on a non-string type, minimum > maximum, ...).
  static Result<ToolGuard> Create(const ToolPolicy& policy, std::string tier_name);

  // One tool call. Empty = allowed.
  std::vector<ToolViolation> CheckCall(std::string_view name,
                                       std::string_view arguments_json) const;

  // The tools a request offers: the names that the allowlist refuses, in input order
  // (a name offered twice is listed twice).
  std::vector<std::string> RefusedOffers(const std::vector<std::string>& offered_names) const;

  const ToolPolicy& policy() const;

  ToolGuard(ToolGuard&&) noexcept;
  ToolGuard& operator=(ToolGuard&&) noexcept;
  ~ToolGuard();

 private:
  struct Impl;
  explicit ToolGuard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::guard
