#include "guard/heuristics.h"

#include <hs/hs.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "base/encoding.h"
#include "guard/heuristics_rules.h"
#include "guard/hyperscan.h"

namespace warden::guard {

namespace {

// The matcher behind guard/heuristics.h: it compiles the word patterns of heuristics_rules.cc
// (whose top comment documents their syntax and why they are not Hyperscan expressions) into
// tries and runs them over a text's tokens; raw rules go to Hyperscan.
using heuristic_rules::Rule;
using heuristic_rules::RulesOf;
using heuristic_rules::WordClass;

bool IsAsciiAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// ---- The word-rule engine ----

// Bounds that keep a hostile text or a careless rule from costing more than linear time.
constexpr size_t kMaxExpansion = 4096;        // phrases one finite sub-pattern may expand to
constexpr size_t kMaxStepsPerAttempt = 4096;  // matcher steps for one rule at one position
constexpr size_t kMaxWordBytes = 40;          // longer tokens are never in the vocabulary

// Words and phrases are sequences of word ids; id 0 is a word no rule mentions.
using Phrase = std::vector<uint32_t>;

// The words the rules mention, in an open-addressing table keyed by FNV-1a of the lower-cased
// bytes (Find looks up every token of the text, so this is on the hot path).
class Vocabulary {
 public:
  uint32_t Intern(std::string_view word) {
    if (uint32_t id = Find(word); id != 0) return id;
    words_.emplace_back(word);
    const auto id = static_cast<uint32_t>(words_.size());
    if (2 * words_.size() > slots_.size()) {
      size_t n = 1024;
      while (n < 4 * words_.size()) n *= 2;
      Rehash(n);  // inserts every word, the new one too
    } else {
      Insert(id);
    }
    return id;
  }
  // `word` may be mixed-case ASCII.
  uint32_t Find(std::string_view word) const {
    if (slots_.empty() || word.size() > kMaxWordBytes) return 0;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(word) & mask;; i = (i + 1) & mask) {
      const uint32_t id = slots_[i];
      if (id == 0) return 0;
      if (EqualsLower(words_[id - 1], word)) return id;
    }
  }
  size_t size() const { return words_.size(); }

 private:
  static char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
  static uint64_t Hash(std::string_view w) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (char c : w) h = (h ^ static_cast<unsigned char>(Lower(c))) * 0x100000001b3ull;
    return h ^ (h >> 29);
  }
  static bool EqualsLower(std::string_view lower, std::string_view w) {
    if (lower.size() != w.size()) return false;
    for (size_t i = 0; i < w.size(); ++i) {
      if (lower[i] != Lower(w[i])) return false;
    }
    return true;
  }
  void Insert(uint32_t id) {
    const size_t mask = slots_.size() - 1;
    size_t i = Hash(words_[id - 1]) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id;
  }
  void Rehash(size_t n) {
    slots_.assign(n, 0);
    for (uint32_t id = 1; id <= words_.size(); ++id) Insert(id);
  }
  std::vector<std::string> words_;
  std::vector<uint32_t> slots_;  // power-of-two size; 0 = empty
};

// A set of phrases as a trie over word ids.
struct Trie {
  struct Node {
    std::vector<std::pair<uint32_t, uint32_t>> next;  // (word, node), sorted by word
    bool terminal = false;
  };
  std::vector<Node> nodes{Node{}};

  void Add(const Phrase& phrase) {
    uint32_t n = 0;
    for (uint32_t w : phrase) {
      auto& next = nodes[n].next;
      auto it = std::find_if(next.begin(), next.end(), [&](const auto& e) { return e.first == w; });
      if (it == next.end()) {
        next.push_back({w, static_cast<uint32_t>(nodes.size())});
        const uint32_t child = static_cast<uint32_t>(nodes.size());
        nodes.emplace_back();
        n = child;
      } else {
        n = it->second;
      }
    }
    nodes[n].terminal = true;
  }
  void Finish() {
    for (Node& n : nodes) std::sort(n.next.begin(), n.next.end());
  }
  // The child of `n` for word `w`, or 0.
  uint32_t Step(uint32_t n, uint32_t w) const {
    const auto& next = nodes[n].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(w, 0u));
    return it != next.end() && it->first == w ? it->second : 0;
  }
};

// A token of the text: a maximal run of ASCII letters and digits.
// 16 bytes: a megabyte of one-letter words costs 8 MB of tokens at most.
struct Token {
  uint32_t word = 0;            // vocabulary id (0: not a word any rule mentions)
  uint32_t begin = 0, end = 0;  // byte offsets in the text (Find refuses texts of 4 GiB)
  bool number = false;          // all digits
  bool capital = false;         // starts with an upper-case letter
  char sep_before = '.';        // the separator run before it: '.', ':', ',' or ' ' (see above)
};

void Tokenize(std::string_view text, const Vocabulary& vocabulary, std::vector<Token>& tokens) {
  tokens.clear();
  char sep = '.';  // the start of the text ends nothing but starts a sentence
  int newlines = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsAsciiAlnum(static_cast<unsigned char>(text[i]))) {
      switch (text[i]) {
        case '.':
        case '?':
        case '!':
        case ';':
          sep = '.';
          break;
        case '\n':
          // A line break inside a paragraph (hard-wrapped text) ends a clause, not a sentence;
          // a blank line ends a sentence.
          if (++newlines >= 2) {
            sep = '.';
          } else if (sep == ' ') {
            sep = ',';
          }
          break;
        case ':':
          if (sep != '.') sep = ':';
          break;
        case ',':
          if (sep == ' ') sep = ',';
          break;
        default:
          break;
      }
      ++i;
      continue;
    }
    const size_t begin = i;
    bool number = true;
    for (; i < text.size() && IsAsciiAlnum(static_cast<unsigned char>(text[i])); ++i) {
      number = number && text[i] >= '0' && text[i] <= '9';
    }
    const bool capital = text[begin] >= 'A' && text[begin] <= 'Z';
    tokens.push_back({vocabulary.Find(text.substr(begin, i - begin)), static_cast<uint32_t>(begin),
                      static_cast<uint32_t>(i), number, capital, sep});
    sep = ' ';
    newlines = 0;
  }
}

// A compiled word pattern (see "Rule syntax").
struct Node {
  enum Kind { kPhrases, kAny, kNumber, kName, kEnd, kSeq, kAlt } kind = kSeq;
  uint32_t min = 1, max = 1;   // repetition
  std::vector<uint32_t> kids;  // kSeq, kAlt: node indices
  uint32_t trie = 0;           // kPhrases: index into Grammar::tries
};

// Words so frequent that a rule anchored on them would be tried on almost every text.
constexpr std::string_view kCommonWords[] = {
    "a",     "about", "after",   "all",  "also",   "an",     "and",  "any",   "are",   "as",
    "at",    "be",    "because", "been", "best",   "but",    "by",   "can",   "could", "did",
    "do",    "does",  "for",     "from", "get",    "give",   "go",   "good",  "had",   "has",
    "have",  "he",    "help",    "her",  "him",    "his",    "how",  "i",     "if",    "in",
    "into",  "is",    "it",      "just", "know",   "let",    "like", "make",  "me",    "more",
    "most",  "my",    "need",    "new",  "no",     "not",    "now",  "of",    "on",    "one",
    "or",    "other", "our",     "out",  "people", "please", "s",    "see",   "she",   "should",
    "so",    "some",  "take",    "tell", "than",   "that",   "the",  "their", "them",  "then",
    "there", "these", "they",    "this", "those",  "time",   "to",   "up",    "us",    "use",
    "want",  "was",   "way",     "we",   "well",   "were",   "what", "when",  "where", "which",
    "who",   "why",   "will",    "with", "would",  "you",    "your"};

// What can start a match of a node: used to index rules by their first word.
struct FirstSet {
  std::vector<uint32_t> words;
  bool number = false;
  bool any = false;
  bool nullable = false;
};

class Grammar {
 public:
  explicit Grammar(Vocabulary* vocabulary) : vocabulary_(vocabulary) {}

  // Parses `pattern`; returns its root node.
  Result<uint32_t> Parse(std::string_view pattern) {
    text_ = pattern;
    pos_ = 0;
    depth_ = 0;
    WARDEN_ASSIGN_OR_RETURN(uint32_t root, ParseAlt());
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected '" + std::string(1, text_[pos_]) + "'");
    return root;
  }

  FirstSet First(uint32_t n) const {
    const Node& node = nodes_[n];
    FirstSet f;
    switch (node.kind) {
      case Node::kPhrases: {
        const Trie::Node& root = tries_[node.trie].nodes[0];
        for (const auto& [w, child] : root.next) f.words.push_back(w);
        f.nullable = root.terminal;
        break;
      }
      case Node::kAny:
        f.any = true;
        break;
      case Node::kNumber:
        f.number = true;
        break;
      case Node::kName:
        f.any = true;  // a rule may not start with one (see "Rule syntax")
        break;
      case Node::kEnd:
        f.nullable = true;
        break;
      case Node::kAlt:
        for (uint32_t k : node.kids) Merge(f, First(k));
        break;
      case Node::kSeq:
        f.nullable = true;
        for (uint32_t k : node.kids) {
          FirstSet g = First(k);
          const bool nullable = g.nullable;
          g.nullable = false;
          Merge(f, g);
          if (!nullable) {
            f.nullable = false;
            break;
          }
        }
        break;
    }
    if (node.min == 0) f.nullable = true;
    return f;
  }

  // Words of which at least one must occur in a text for node `n` to match there, or nothing
  // when there is no such set (`*`, `$`, something optional). Among the items of a sequence
  // the cheapest set is chosen, where a common word (`common`) costs much more than a rare
  // one: "kill" anchors "{FRAME} {ADV} {KILL} ..." better than "how" or "I".
  std::optional<std::vector<uint32_t>> Anchor(uint32_t n, const std::vector<bool>& common,
                                              size_t* cost) const {
    const Node& node = nodes_[n];
    if (node.min == 0) return std::nullopt;
    std::optional<std::vector<uint32_t>> best;
    size_t best_cost = SIZE_MAX;
    switch (node.kind) {
      case Node::kPhrases: {
        const Trie::Node& root = tries_[node.trie].nodes[0];
        if (root.terminal) return std::nullopt;
        best.emplace();
        best_cost = 0;
        for (const auto& [w, child] : root.next) {
          best->push_back(w);
          best_cost += w < common.size() && common[w] ? 64 : 1;
        }
        break;
      }
      case Node::kAny:
      case Node::kNumber:
      case Node::kName:
      case Node::kEnd:
        return std::nullopt;
      case Node::kSeq:
        for (uint32_t k : node.kids) {
          size_t c = 0;
          auto a = Anchor(k, common, &c);
          if (a && c < best_cost) {
            best = std::move(a);
            best_cost = c;
          }
        }
        break;
      case Node::kAlt:
        best.emplace();
        best_cost = 0;
        for (uint32_t k : node.kids) {
          size_t c = 0;
          auto a = Anchor(k, common, &c);
          if (!a) return std::nullopt;
          best->insert(best->end(), a->begin(), a->end());
          best_cost += c;
        }
        break;
    }
    *cost = best_cost;
    return best;
  }

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Trie>& tries() const { return tries_; }

  // Named sub-patterns ({NAME}); parsed once, shared by every rule that names them.
  std::vector<std::pair<std::string_view, uint32_t>> classes;

 private:
  static void Merge(FirstSet& into, const FirstSet& from) {
    into.words.insert(into.words.end(), from.words.begin(), from.words.end());
    into.number = into.number || from.number;
    into.any = into.any || from.any;
    into.nullable = into.nullable || from.nullable;
  }
  Status Error(const std::string& what) const {
    return InternalError(what + " at offset " + std::to_string(pos_) + " of \"" +
                         std::string(text_) + "\"");
  }
  void SkipSpace() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  uint32_t Add(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<uint32_t>(nodes_.size() - 1);
  }
  uint32_t AddPhrases(const std::vector<Phrase>& phrases) {
    Trie trie;
    for (const Phrase& p : phrases) trie.Add(p);
    trie.Finish();
    tries_.push_back(std::move(trie));
    Node node;
    node.kind = Node::kPhrases;
    node.trie = static_cast<uint32_t>(tries_.size() - 1);
    return Add(std::move(node));
  }

  Result<uint32_t> ParseAlt() {
    if (++depth_ > 32) return Error("groups nest too deeply");
    std::vector<uint32_t> alternatives;
    while (true) {
      WARDEN_ASSIGN_OR_RETURN(uint32_t seq, ParseSeq());
      alternatives.push_back(seq);
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    --depth_;
    if (alternatives.size() == 1) return alternatives[0];
    Node alt;
    alt.kind = Node::kAlt;
    alt.kids = std::move(alternatives);
    return Simplify(Add(std::move(alt)));
  }

  Result<uint32_t> ParseSeq() {
    std::vector<uint32_t> items;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] == '|' || text_[pos_] == ')') break;
      WARDEN_ASSIGN_OR_RETURN(uint32_t item, ParseItem());
      items.push_back(item);
    }
    if (items.empty()) return Error("empty alternative");
    if (items.size() == 1) return items[0];
    Node seq;
    seq.kind = Node::kSeq;
    seq.kids = std::move(items);
    return Simplify(Add(std::move(seq)));
  }

  Result<uint32_t> ParseItem() {
    uint32_t n = 0;
    bool quantifiable = true;
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      WARDEN_ASSIGN_OR_RETURN(n, ParseAlt());
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ')') return Error("missing ')'");
      ++pos_;
      // A group gets its own node so that a quantifier on it does not change a shared one.
      Node wrap;
      wrap.kind = Node::kSeq;
      wrap.kids = {n};
      n = Add(std::move(wrap));
    } else if (c == '*' || c == '#' || c == '@' || c == '$') {
      ++pos_;
      Node node;
      node.kind = c == '*'   ? Node::kAny
                  : c == '#' ? Node::kNumber
                  : c == '@' ? Node::kName
                             : Node::kEnd;
      n = Add(std::move(node));
      quantifiable = c != '$';
    } else if (c == '{' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= 'A' &&
               text_[pos_ + 1] <= 'Z') {
      const size_t close = text_.find('}', pos_);
      if (close == std::string_view::npos) return Error("unterminated {NAME}");
      const std::string_view name = text_.substr(pos_ + 1, close - pos_ - 1);
      auto it = std::find_if(classes.begin(), classes.end(),
                             [&](const auto& e) { return e.first == name; });
      if (it == classes.end()) return Error("unknown class {" + std::string(name) + "}");
      pos_ = close + 1;
      Node wrap;
      wrap.kind = Node::kSeq;
      wrap.kids = {it->second};
      n = Add(std::move(wrap));
    } else {
      WARDEN_ASSIGN_OR_RETURN(std::vector<Phrase> phrases, ParseWord());
      n = AddPhrases(phrases);
      quantifiable = false;  // '?' inside a word belongs to the word
    }
    if (pos_ < text_.size() && quantifiable) {
      if (text_[pos_] == '?') {
        ++pos_;
        nodes_[n].min = 0;
      } else if (text_[pos_] == '{' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
                 text_[pos_ + 1] <= '9') {
        unsigned lo = 0, hi = 0;
        const size_t close = text_.find('}', pos_);
        if (close == std::string_view::npos ||
            std::sscanf(std::string(text_.substr(pos_ + 1, close - pos_ - 1)).c_str(), "%u,%u", &lo,
                        &hi) != 2 ||
            lo > hi || hi == 0 || hi > 16) {
          return Error("bad repetition");
        }
        pos_ = close + 1;
        nodes_[n].min = lo;
        nodes_[n].max = hi;
      }
    }
    return n;
  }

  // A word pattern: letters and digits, `[..]` classes, `?` after a letter or class (that
  // character is optional) and `~` (here the words may be split or joined: "ex~wife" is "ex
  // wife" or "exwife"). Expanded to the phrases it stands for.
  Result<std::vector<Phrase>> ParseWord() {
    std::vector<std::vector<std::string>> variants{{std::string()}};
    auto extend = [&](const std::vector<std::string>& options) -> Status {
      std::vector<std::vector<std::string>> out;
      for (const auto& v : variants) {
        for (const std::string& o : options) {
          auto w = v;
          if (o == "~") {
            w.emplace_back();
          } else {
            w.back() += o;
          }
          out.push_back(std::move(w));
        }
      }
      if (out.size() > kMaxExpansion) return Error("word pattern expands too far");
      variants = std::move(out);
      return Status::Ok();
    };
    const size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      std::vector<std::string> options;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        options = {std::string(1, c)};
        ++pos_;
      } else if (c == '[') {
        const size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) return Error("unterminated [");
        for (size_t i = pos_ + 1; i < close; ++i) options.emplace_back(1, text_[i]);
        pos_ = close + 1;
      } else if (c == '~') {
        ++pos_;
        WARDEN_RETURN_IF_ERROR(extend({"", "~"}));
        continue;
      } else {
        break;
      }
      if (pos_ < text_.size() && text_[pos_] == '?') {
        ++pos_;
        options.emplace_back();
      }
      WARDEN_RETURN_IF_ERROR(extend(options));
    }
    if (pos_ == start) return Error("expected a word");
    std::vector<Phrase> phrases;
    for (const auto& v : variants) {
      Phrase p;
      for (const std::string& w : v) {
        if (!w.empty()) p.push_back(vocabulary_->Intern(w));  // "developer~s?": no empty word
      }
      if (p.empty()) return Error("a word pattern that can be empty");
      if (std::find(phrases.begin(), phrases.end(), p) == phrases.end()) {
        phrases.push_back(std::move(p));
      }
    }
    return phrases;
  }

  // The phrases node `n` stands for when it is a finite set of phrases (no `*`, `#`, `$`),
  // or nothing when it is not or has more than kMaxExpansion.
  std::optional<std::vector<Phrase>> Language(uint32_t n) const {
    const Node& node = nodes_[n];
    std::vector<Phrase> once;
    switch (node.kind) {
      case Node::kPhrases: {
        // Walk the trie.
        std::vector<std::pair<uint32_t, Phrase>> stack{{0, {}}};
        while (!stack.empty()) {
          auto [t, p] = std::move(stack.back());
          stack.pop_back();
          const Trie::Node& tn = tries_[node.trie].nodes[t];
          if (tn.terminal) once.push_back(p);
          for (const auto& [w, child] : tn.next) {
            Phrase q = p;
            q.push_back(w);
            stack.push_back({child, std::move(q)});
          }
          if (once.size() + stack.size() > kMaxExpansion) return std::nullopt;
        }
        break;
      }
      case Node::kAny:
      case Node::kNumber:
      case Node::kName:
      case Node::kEnd:
        return std::nullopt;
      case Node::kAlt:
        for (uint32_t k : node.kids) {
          auto l = Language(k);
          if (!l || once.size() + l->size() > kMaxExpansion) return std::nullopt;
          once.insert(once.end(), l->begin(), l->end());
        }
        break;
      case Node::kSeq:
        once = {Phrase{}};
        for (uint32_t k : node.kids) {
          auto l = Language(k);
          if (!l || once.size() * l->size() > kMaxExpansion) return std::nullopt;
          std::vector<Phrase> next;
          for (const Phrase& a : once) {
            for (const Phrase& b : *l) {
              Phrase c = a;
              c.insert(c.end(), b.begin(), b.end());
              next.push_back(std::move(c));
            }
          }
          once = std::move(next);
        }
        break;
    }
    // Repetition min..max.
    std::vector<Phrase> all;
    std::vector<Phrase> power{Phrase{}};
    for (uint32_t r = 0; r <= node.max; ++r) {
      if (r >= node.min) {
        if (all.size() + power.size() > kMaxExpansion) return std::nullopt;
        all.insert(all.end(), power.begin(), power.end());
      }
      if (r == node.max) break;
      if (power.size() * once.size() > kMaxExpansion) return std::nullopt;
      std::vector<Phrase> next;
      for (const Phrase& a : power) {
        for (const Phrase& b : once) {
          Phrase c = a;
          c.insert(c.end(), b.begin(), b.end());
          next.push_back(std::move(c));
        }
      }
      power = std::move(next);
    }
    return all;
  }

  // A finite group becomes one trie, which the matcher walks in one pass.
  uint32_t Simplify(uint32_t n) {
    if (Count(n) > kMaxExpansion) return n;  // cheap test first: most rules are not finite
    auto l = Language(n);
    if (!l) return n;
    return AddPhrases(*l);
  }

  // How many phrases Language(n) would list (with repeats), saturating above kMaxExpansion;
  // memoised, since a class is counted once for every rule that names it.
  size_t Count(uint32_t n) const {
    constexpr size_t kMany = kMaxExpansion + 1;
    if (count_memo_.size() < nodes_.size()) count_memo_.resize(nodes_.size(), 0);
    if (count_memo_[n] != 0) return count_memo_[n] - 1;
    const Node& node = nodes_[n];
    size_t once = 0;
    switch (node.kind) {
      case Node::kPhrases:
        for (const Trie::Node& t : tries_[node.trie].nodes) once += t.terminal ? 1 : 0;
        break;
      case Node::kAny:
      case Node::kNumber:
      case Node::kName:
      case Node::kEnd:
        once = kMany;
        break;
      case Node::kAlt:
        for (uint32_t k : node.kids) once = std::min(kMany, once + Count(k));
        break;
      case Node::kSeq:
        once = 1;
        for (uint32_t k : node.kids) once = std::min(kMany, once * std::min(kMany, Count(k)));
        break;
    }
    size_t all = 0, power = 1;
    for (uint32_t r = 0; r <= node.max && all < kMany; ++r) {
      if (r >= node.min) all = std::min(kMany, all + power);
      power = std::min(kMany, power * once);
    }
    count_memo_[n] = all + 1;
    return all;
  }

  Vocabulary* vocabulary_;
  std::vector<Node> nodes_;
  std::vector<Trie> tries_;
  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  mutable std::vector<size_t> count_memo_;  // Count(n) + 1, 0 when not yet known
};

// A callable reference without allocation (the matcher passes continuations down).
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  FunctionRef(F& f)  // NOLINT(runtime/explicit): used as a parameter type
      : object_(&f), call_([](void* o, Args... a) { return (*static_cast<F*>(o))(a...); }) {}
  R operator()(Args... a) const { return call_(object_, a...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Backtracking over a rule's nodes at one start token. Each pattern is small and every
// repetition bounded; kMaxStepsPerAttempt caps the work anyway (the attempt then fails).
class Matcher {
 public:
  Matcher(const Grammar& grammar, const std::vector<Token>& tokens, size_t start)
      : nodes_(grammar.nodes()), tries_(grammar.tries()), tokens_(tokens), start_(start) {}

  // The end (exclusive token index) of a match of `root` that starts at the start token.
  std::optional<size_t> Run(uint32_t root) {
    std::optional<size_t> end;
    auto done = [&](size_t e) {
      end = e;
      return true;
    };
    FunctionRef<bool(size_t)> k(done);
    Match(root, start_, 0, k);
    return end;
  }

 private:
  // May token `i` join the match? A match does not run across the end of a sentence.
  bool Joinable(size_t i) const {
    return i < tokens_.size() && (i == start_ || tokens_[i].sep_before != '.');
  }

  // Matches node `n` repeated (count done so far) from token `i`; calls k with each end.
  bool Match(uint32_t n, size_t i, uint32_t count, FunctionRef<bool(size_t)> k) {
    if (++steps_ > kMaxStepsPerAttempt) return true;  // give up (Run sees no end)
    const Node& node = nodes_[n];
    if (count < node.max) {
      auto more = [&](size_t j) {
        // An empty iteration (an optional item, `$`) can be repeated to reach any count; more
        // of them add nothing.
        if (j == i) return k(j);
        return Match(n, j, count + 1, k);
      };
      FunctionRef<bool(size_t)> next(more);
      if (Once(node, i, next)) return true;
    }
    return count >= node.min && k(i);
  }

  bool Once(const Node& node, size_t i, FunctionRef<bool(size_t)> k) {
    switch (node.kind) {
      case Node::kPhrases: {
        const Trie& trie = tries_[node.trie];
        // Ends of the phrases that start at i, longest first.
        size_t ends[16];
        size_t count = 0;
        uint32_t t = 0;
        if (trie.nodes[0].terminal) ends[count++] = i;
        for (size_t j = i; Joinable(j); ++j) {
          t = trie.Step(t, tokens_[j].word);
          if (t == 0 || tokens_[j].word == 0) break;
          if (trie.nodes[t].terminal && count < std::size(ends)) ends[count++] = j + 1;
        }
        for (size_t c = count; c-- > 0;) {
          if (k(ends[c])) return true;
        }
        return false;
      }
      case Node::kAny:
        return Joinable(i) && k(i + 1);
      case Node::kNumber:
        return Joinable(i) && tokens_[i].number && k(i + 1);
      case Node::kName:
        return Joinable(i) && tokens_[i].capital && tokens_[i].sep_before != '.' && k(i + 1);
      case Node::kEnd:
        return (i == tokens_.size() || tokens_[i].sep_before != ' ') && k(i);
      case Node::kSeq:
        return Seq(node, 0, i, k);
      case Node::kAlt:
        for (uint32_t kid : node.kids) {
          if (Match(kid, i, 0, k)) return true;
        }
        return false;
    }
    return false;
  }

  bool Seq(const Node& node, size_t index, size_t i, FunctionRef<bool(size_t)> k) {
    if (index == node.kids.size()) return k(i);
    auto rest = [&](size_t j) { return Seq(node, index + 1, j, k); };
    FunctionRef<bool(size_t)> next(rest);
    return Match(node.kids[index], i, 0, next);
  }

  const std::vector<Node>& nodes_;
  const std::vector<Trie>& tries_;
  const std::vector<Token>& tokens_;
  size_t start_;
  size_t steps_ = 0;
};

// Long texts are scanned in windows of at most kWindowBytes, so that Hyperscan's match list
// stays bounded per call (Database::Scan refuses more than 65,536 raw matches) while a text of
// any length is scanned in linear time. Every rule's match is at most kMaxRuleWidth bytes wide
// (checked at Create with hs_expression_info). Window k+1 starts at least kMaxRuleWidth bytes
// before window k ends, at the start of a word; from window k only the matches that begin
// before window k+1 starts are kept. Such a match ends before window k does, so it never sees
// the artificial end of the window (no false `$`, nothing cut short), and every later match is
// found, whole, by a later window: windowed results equal a scan of the whole text.
constexpr size_t kWindowBytes = 16 * 1024;
constexpr size_t kMaxRuleWidth = 512;
// Where the next window may start: between kMaxRuleWidth + kWordSearchBytes and kMaxRuleWidth
// bytes before the current window ends.
constexpr size_t kWordSearchBytes = 256;
static_assert(kWindowBytes > 2 * (kMaxRuleWidth + kWordSearchBytes));

bool IsWordByte(unsigned char c) { return IsAsciiAlnum(c) || c == '_' || c >= 0x80; }
bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Calls on_match(pattern, begin, end) for every match of `db` in `text` (valid UTF-8) that
// Database::Scan would report for the whole text (the longest per pattern and start), in order
// of start.
template <typename OnMatch>
Status ScanWindows(const Database& db, std::string_view text, OnMatch on_match) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + kWindowBytes);
    size_t next = text.size();  // where the following window starts
    if (end < text.size()) {
      while (IsContinuationByte(text[end])) --end;
      // The start of a word (a word byte after a non-word byte) in the search range, so that
      // `\b` at the start of the next window means what it means in the whole text; failing
      // that (a run of 256 word bytes), the nearest character boundary.
      const size_t hi = end - kMaxRuleWidth;
      size_t p = hi - kWordSearchBytes;
      while (p < hi && !(IsWordByte(static_cast<unsigned char>(text[p])) &&
                         !IsWordByte(static_cast<unsigned char>(text[p - 1])))) {
        ++p;
      }
      next = p < hi ? p : hi;
      while (IsContinuationByte(text[next])) --next;
    }
    WARDEN_ASSIGN_OR_RETURN(std::vector<Match> matches, db.Scan(text.substr(start, end - start)));
    for (const Match& m : matches) {
      if (start + m.begin >= next) break;  // the next window reports it, with its full context
      on_match(m.pattern, start + m.begin, start + m.end);
    }
    start = next;
  }
  return Status::Ok();
}

// The raw rules of a set, compiled into one Hyperscan database (with start of match).
struct RawPart {
  std::optional<Database> db;
  std::vector<size_t> rule_of;  // pattern index -> rule index
};

Result<RawPart> CompileRaw(std::span<const Rule> rules) {
  RawPart part;
  std::vector<PatternSpec> specs;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].raw) continue;
    const std::string name(rules[i].name);
    // The width bound that makes windowed scanning exact (see kMaxRuleWidth).
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* error = nullptr;
    const std::string expression(rules[i].pattern);
    if (hs_expression_info(expression.c_str(), HS_FLAG_UTF8 | HS_FLAG_CASELESS, &info, &error) !=
        HS_SUCCESS) {
      std::string message =
          error != nullptr && error->message != nullptr ? error->message : "unknown error";
      hs_free_compile_error(error);
      return InternalError("rule " + name + " does not compile: " + message);
    }
    const unsigned max_width = info->max_width;
    std::free(info);  // allocated by Hyperscan's default allocator, malloc
    if (max_width > kMaxRuleWidth) {
      return InternalError(
          "rule " + name + " may match " +
          (max_width == UINT_MAX ? std::string("unboundedly many") : std::to_string(max_width)) +
          " bytes, more than the scanning windows overlap");
    }
    PatternSpec spec;
    spec.expression = expression;
    spec.caseless = true;
    specs.push_back(std::move(spec));
    part.rule_of.push_back(i);
  }
  if (specs.empty()) return part;
  auto db = Database::Compile(specs);
  if (!db.has_value()) return InternalError("raw rules: " + db.error().message());
  part.db = std::move(*db);
  return part;
}

}  // namespace

std::string_view HeuristicSetName(HeuristicSet set) {
  switch (set) {
    case HeuristicSet::kInjection:
      return "injection";
    case HeuristicSet::kJailbreak:
      return "jailbreak";
    case HeuristicSet::kHarmful:
      return "harmful";
  }
  return "unknown";
}

struct Heuristics::Impl {
  std::span<const Rule> rules;
  Vocabulary vocabulary;
  Grammar grammar{&vocabulary};
  std::vector<uint32_t> root;                    // per rule: its node (word rules)
  std::vector<std::vector<uint32_t>> by_word;    // word id -> word rules that may start with it
  std::vector<uint32_t> by_number;               // word rules that may start with a number
  std::vector<std::vector<uint32_t>> anchoring;  // word id -> word rules it anchors
  std::vector<uint32_t> unanchored;              // word rules without an anchor
  RawPart raw;
};

Heuristics::Heuristics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Heuristics::Heuristics(Heuristics&&) noexcept = default;
Heuristics& Heuristics::operator=(Heuristics&&) noexcept = default;
Heuristics::~Heuristics() = default;

Result<Heuristics> Heuristics::Create(HeuristicSet set) {
  auto impl = std::make_unique<Impl>();
  impl->rules = RulesOf(set);
  const std::string context = "heuristics " + std::string(HeuristicSetName(set)) + ": ";
  Grammar& grammar = impl->grammar;
  for (const WordClass& c : heuristic_rules::WordClasses()) {
    auto root = grammar.Parse(c.body);
    if (!root.has_value()) {
      return InternalError(context + "class " + std::string(c.name) + ": " +
                           root.error().message());
    }
    grammar.classes.push_back({c.name, *root});
  }
  impl->root.assign(impl->rules.size(), 0);
  std::vector<std::vector<uint32_t>> starts(impl->rules.size());
  for (size_t i = 0; i < impl->rules.size(); ++i) {
    const Rule& rule = impl->rules[i];
    const std::string name(rule.name);
    if (!(rule.weight > 0 && rule.weight <= 1)) {
      return InternalError(context + "rule " + name + " has a weight outside (0, 1]");
    }
    if (rule.raw) continue;
    auto root = grammar.Parse(rule.pattern);
    if (!root.has_value()) {
      return InternalError(context + "rule " + name + ": " + root.error().message());
    }
    const FirstSet first = grammar.First(*root);
    if (first.any || first.nullable) {
      return InternalError(context + "rule " + name +
                           " must start with a word or class that is not optional");
    }
    impl->root[i] = *root;
    starts[i] = first.words;
    if (first.number) impl->by_number.push_back(static_cast<uint32_t>(i));
  }
  std::vector<bool> common(impl->vocabulary.size() + 1, false);
  for (std::string_view w : kCommonWords) {
    if (uint32_t id = impl->vocabulary.Find(w); id != 0) common[id] = true;
  }
  impl->anchoring.assign(impl->vocabulary.size() + 1, {});
  for (size_t i = 0; i < impl->rules.size(); ++i) {
    if (impl->rules[i].raw) continue;
    size_t cost = 0;
    auto anchor = grammar.Anchor(impl->root[i], common, &cost);
    if (!anchor) {
      impl->unanchored.push_back(static_cast<uint32_t>(i));
      continue;
    }
    std::sort(anchor->begin(), anchor->end());
    anchor->erase(std::unique(anchor->begin(), anchor->end()), anchor->end());
    for (uint32_t w : *anchor) impl->anchoring[w].push_back(static_cast<uint32_t>(i));
  }
  impl->by_word.assign(impl->vocabulary.size() + 1, {});
  for (size_t i = 0; i < starts.size(); ++i) {
    std::sort(starts[i].begin(), starts[i].end());
    starts[i].erase(std::unique(starts[i].begin(), starts[i].end()), starts[i].end());
    for (uint32_t w : starts[i]) impl->by_word[w].push_back(static_cast<uint32_t>(i));
  }
  auto raw = CompileRaw(impl->rules);
  if (!raw.has_value()) return InternalError(context + raw.error().message());
  impl->raw = std::move(*raw);
  return Heuristics(std::move(impl));
}

Result<std::vector<HeuristicHit>> Heuristics::Find(std::string_view text) const {
  const std::span<const Rule> rules = impl_->rules;
  if (text.size() > UINT32_MAX) {
    return ResourceExhaustedError("text of " + std::to_string(text.size()) +
                                  " bytes is too long to scan in one piece");
  }
  // Validated once, so that an error names the offset in the whole text.
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return InvalidArgumentError("text is not UTF-8 (invalid byte at offset " + std::to_string(bad) +
                                ")");
  }
  std::vector<HeuristicHit> hits;
  std::vector<bool> found(rules.size(), false);
  std::vector<Token> tokens;
  Tokenize(text, impl_->vocabulary, tokens);
  // A rule is tried only where one of its anchor words occurs later in the same sentence (a
  // match cannot do without one, nor run across a sentence end); `found` doubles as "not worth
  // trying" for the rules with no anchor word in the text at all.
  std::vector<uint32_t> sentence(tokens.size());
  std::vector<std::vector<uint32_t>> anchors_at(rules.size());  // token indices, ascending
  for (uint32_t j = 0, id = 0; j < tokens.size(); ++j) {
    if (tokens[j].sep_before == '.') ++id;
    sentence[j] = id;
    for (uint32_t r : impl_->anchoring[tokens[j].word]) anchors_at[r].push_back(j);
  }
  std::vector<bool> anchored(rules.size(), true);
  for (uint32_t r : impl_->unanchored) anchored[r] = false;
  size_t word_rules_left = 0;
  for (size_t r = 0; r < rules.size(); ++r) {
    if (rules[r].raw) continue;
    if (!anchored[r] || !anchors_at[r].empty()) {
      ++word_rules_left;
    } else {
      found[r] = true;
    }
  }
  auto worth_trying = [&](uint32_t r, size_t i) {
    if (!anchored[r]) return true;
    const std::vector<uint32_t>& at = anchors_at[r];
    auto it = std::lower_bound(at.begin(), at.end(), static_cast<uint32_t>(i));
    return it != at.end() && sentence[*it] == sentence[i];
  };
  // Rules are tried at the tokens they can start with, left to right: the first match of a
  // rule is its leftmost.
  for (size_t i = 0; i < tokens.size() && word_rules_left > 0; ++i) {
    auto attempt = [&](uint32_t r) {
      if (found[r] || !worth_trying(r, i)) return;
      Matcher matcher(impl_->grammar, tokens, i);
      if (std::optional<size_t> end = matcher.Run(impl_->root[r])) {
        found[r] = true;
        --word_rules_left;
        hits.push_back({rules[r].name, rules[r].weight, tokens[i].begin, tokens[*end - 1].end});
      }
    };
    if (tokens[i].word != 0) {
      for (uint32_t r : impl_->by_word[tokens[i].word]) attempt(r);
    }
    if (tokens[i].number) {
      for (uint32_t r : impl_->by_number) attempt(r);
    }
  }
  if (impl_->raw.db.has_value()) {
    const RawPart& part = impl_->raw;
    WARDEN_RETURN_IF_ERROR(ScanWindows(*part.db, text, [&](uint32_t p, size_t b, size_t e) {
      const size_t rule = part.rule_of[p];
      if (found[rule]) return;  // matches arrive ordered by start: the first one is kept
      found[rule] = true;
      hits.push_back({rules[rule].name, rules[rule].weight, b, e});
    }));
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const HeuristicHit& a, const HeuristicHit& b) { return a.begin < b.begin; });
  return hits;
}

double Heuristics::Score(const std::vector<HeuristicHit>& hits) {
  double keep = 1.0;
  for (const HeuristicHit& h : hits) keep *= 1.0 - std::clamp(h.weight, 0.0, 1.0);
  return 1.0 - keep;
}

}  // namespace warden::guard
