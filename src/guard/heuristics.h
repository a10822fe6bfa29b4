// Hand-written rules that back the n-gram classifiers of the `injection`, `jailbreak` and
// `harmful` scanners: phrasings that are attacks whatever surrounds them ("ignore all previous
// instructions", "you are now DAN", "step-by-step instructions to build a pipe bomb"), and
// the structure the classifier cannot see well (a violent verb aimed at a person rather than
// at a process or a game character).
//
// Each rule is a caseless word pattern over the text's tokens (phrase lists compiled into
// tries, matched by a small token matcher; a match never crosses a sentence end, and a rule is
// tried only where one of its rare required words occurs) or, for punctuation-shaped rules
// (role tags, chat-template tokens, shell commands), a Hyperscan expression; the text is one
// the `unicode` scanner has already normalised. Word rules are not Hyperscan patterns because
// with start-of-match reporting most of them were "too large" for it and the set took ~30 s to
// compile. Each rule has a weight in (0, 1]; the rule set's score for a text is 1 - prod(1 - w) over
// the distinct rules that match (one rule counts once however often it matches), so one strong
// rule (w >= 0.9) decides alone and weak rules need company. Rules are data compiled into the
// binary, listed in heuristics.cc with a comment each; their measured effect is in
// data/guard/SOURCE.md.
//
// Thread-safety: immutable after Create; Find/Score may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::guard {

enum class HeuristicSet { kInjection, kJailbreak, kHarmful };
std::string_view HeuristicSetName(HeuristicSet set);  // "injection", "jailbreak", "harmful"

struct HeuristicHit {
  std::string_view rule;  // the rule's short name ("ignore-previous-instructions")
  double weight = 0;
  size_t begin = 0;  // bytes of the text (first match of that rule)
  size_t end = 0;
};

class Heuristics {
 public:
  // Internal if a built-in pattern does not compile (a bug caught by the tests).
  static Result<Heuristics> Create(HeuristicSet set);

  // One hit per matching rule (its first match), ordered by begin. Errors: InvalidArgument for
  // text that is not UTF-8, ResourceExhausted for a text of 4 GiB or more, else Database::Scan's.
  Result<std::vector<HeuristicHit>> Find(std::string_view text) const;
  // 1 - prod(1 - weight) over `hits`.
  static double Score(const std::vector<HeuristicHit>& hits);

  Heuristics(Heuristics&&) noexcept;
  Heuristics& operator=(Heuristics&&) noexcept;
  ~Heuristics();

 private:
  struct Impl;
  explicit Heuristics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::guard
