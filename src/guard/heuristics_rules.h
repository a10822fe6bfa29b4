// The rule tables of the heuristics (guard/heuristics.h), kept apart from the matcher that
// compiles and runs them (heuristics.cc): word classes and the injection, jailbreak and harmful
// rules, written in the word-pattern syntax documented at the top of heuristics_rules.cc.
//
// Thread-safety: constant data.
#pragma once

#include <span>
#include <string_view>

#include "guard/heuristics.h"

namespace warden::guard::heuristic_rules {

struct WordClass {
  std::string_view name;
  std::string_view body;  // a word pattern (see "Rule syntax")
};

struct Rule {
  std::string_view name;
  std::string_view pattern;  // a word pattern, or a Hyperscan expression when raw
  double weight;             // (0, 1]
  bool raw = false;          // a Hyperscan expression over the text itself
};

// Shared vocabulary ({NAME} in a rule), and the rules of one set.
std::span<const WordClass> WordClasses();
std::span<const Rule> RulesOf(HeuristicSet set);

}  // namespace warden::guard::heuristic_rules
