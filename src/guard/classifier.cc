// Implementation of the hashed n-gram logistic-regression classifier (guard/classifier.h).
// The feature definition, the hash and the model file are fixed byte for byte by
// docs/formats/guard-classifier.md; anything changed here must change there (and bump the
// format version) or shipped models silently score differently.
#include "guard/classifier.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "base/files.h"
#include "crypto/sha256.h"

// Training promises the same bytes on every IEEE platform, so a*b+c must not be fused into
// an FMA on targets that have one (GCC fuses by default even in ISO C++ mode, as soon as
// -mfma or an aarch64 target allows it; checked with objdump for vfmadd under -mfma).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace warden::guard {
namespace {

// ---- Model file layout (docs/formats/guard-classifier.md, section 1) ----

constexpr std::string_view kMagic = "WGCLS001";
constexpr uint32_t kVersion = 1;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHashBits = 12;
constexpr size_t kOffCharMin = 16;
constexpr size_t kOffCharMax = 20;
constexpr size_t kOffFlags = 24;
constexpr size_t kOffEpochs = 28;
constexpr size_t kOffLearningRate = 32;
constexpr size_t kOffL2 = 40;
constexpr size_t kOffSeed = 48;
constexpr size_t kOffBias = 56;
constexpr size_t kHeaderSize = 60;  // the weights start here
constexpr uint32_t kFlagWordBigrams = 1;
constexpr uint32_t kKnownFlags = kFlagWordBigrams;

constexpr uint32_t kMinHashBits = 10;
constexpr uint32_t kMaxHashBits = 24;
constexpr uint32_t kMaxCharN = 8;
constexpr uint32_t kMaxEpochs = 1000;
constexpr double kMaxLearningRate = 10;

size_t ModelSize(uint32_t hash_bits) {
  return kHeaderSize + (size_t{4} << hash_bits) + crypto::kSha256Size;
}

// ---- Feature hashing (section 2) ----

// Domain separators: the first byte hashed for each feature kind, so that the word "the" and
// the character trigram "the" land in unrelated buckets.
constexpr uint8_t kKindWord = 0x01;
constexpr uint8_t kKindBigram = 0x02;
constexpr uint8_t kKindCharGram = 0x03;
constexpr uint8_t kBigramJoin = 0x20;  // never inside a word, so "ab c" and "a bc" differ

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

inline uint64_t FnvByte(uint64_t h, uint8_t b) { return (h ^ b) * kFnvPrime; }

// FNV-1a alone mixes its last bytes poorly into the high bits, which pick the bucket; the
// splitmix64 finalizer spreads every input bit over the whole word.
inline uint64_t Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint8_t Lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}
inline bool IsSpace(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
inline bool IsWordByte(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// ---- Deterministic exp and log (section 3) ----
// libm's exp/log are not correctly rounded and differ between C libraries by an ulp, which
// would make "same examples -> same bytes" false across platforms. These use only +, -, *, /
// and exact scaling, so every IEEE-754 machine computes the same bits.

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 with trailing zero bits: k*hi exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
constexpr double kInvLn2 = 1.44269504088896338700e+00;

double DetExp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.0) return std::numeric_limits<double>::infinity();
  if (x < -745.0) return 0.0;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;  // |r| <= 0.35
  // Taylor series to r^17/17!: the first omitted term is below 2^-60 relative.
  double p = 1.0;
  for (int n = 17; n >= 1; --n) p = 1.0 + p * r / n;
  return std::ldexp(p, static_cast<int>(k));
}

// Natural log for finite x > 0 (all this file needs: log(1 + count)).
double DetLog(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1), exact
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  }
  // log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: 13 odd terms reach below 2^-60.
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double t = 0;
  for (int k = 12; k >= 0; --k) t = 1.0 / (2 * k + 1) + s2 * t;
  const double log_m = 2 * s * t;
  return e * kLn2Hi + (e * kLn2Lo + log_m);
}

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + DetExp(-z));
  const double e = DetExp(z);
  return e / (1.0 + e);
}

// log(1 + c) for the small counts that almost every feature has, so scoring pays no log call.
constexpr uint32_t kLogTableSize = 256;
const std::array<double, kLogTableSize>& LogTable() {
  static const std::array<double, kLogTableSize> table = [] {
    std::array<double, kLogTableSize> t{};
    for (uint32_t c = 0; c < kLogTableSize; ++c) t[c] = DetLog(1.0 + c);
    return t;
  }();
  return table;
}

// ---- Featurizer ----

// Calls emit(h) with the 64-bit hash of every feature occurrence of the normalized text
// s[0, n): words, bigrams of consecutive words, then character n-grams.
template <typename Emit>
inline void GenerateFeatures(const uint8_t* s, size_t n, const ClassifierOptions& options,
                             Emit& emit) {
  size_t prev_start = 0, prev_len = 0;
  bool have_prev = false;
  for (size_t i = 0; i < n;) {
    if (!IsWordByte(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    uint64_t h = FnvByte(kFnvOffset, kKindWord);
    while (j < n && IsWordByte(s[j])) h = FnvByte(h, s[j++]);
    emit(Finalize(h));
    if (options.word_bigrams && have_prev) {
      uint64_t b = FnvByte(kFnvOffset, kKindBigram);
      for (size_t k = prev_start; k < prev_start + prev_len; ++k) b = FnvByte(b, s[k]);
      b = FnvByte(b, kBigramJoin);
      for (size_t k = i; k < j; ++k) b = FnvByte(b, s[k]);
      emit(Finalize(b));
    }
    prev_start = i;
    prev_len = j - i;
    have_prev = true;
    i = j;
  }
  // One FNV state per start position, extended byte by byte, emitted at every length in
  // [char_min, char_max].
  const uint64_t seed = FnvByte(kFnvOffset, kKindCharGram);
  const size_t lo = options.char_min, hi = options.char_max;
  for (size_t i = 0; i + lo <= n; ++i) {
    const size_t end = std::min(n, i + hi);
    uint64_t h = seed;
    size_t k = i;
    for (; k < i + lo - 1; ++k) h = FnvByte(h, s[k]);
    for (; k < end; ++k) {
      h = FnvByte(h, s[k]);
      emit(Finalize(h));
    }
  }
}

// Per-thread scratch reused across calls, so that scoring does not allocate once warm.
//
// Counting occurrences per id (bucket << 1 | sign bit) has two back ends, chosen by hash_bits
// alone, so one model always takes the same one:
//  - dense (hash_bits <= kMaxDenseBits): a zeroed array of 2^(hash_bits+1) counters and a
//    list of first touches, appended to without a branch. Buckets come out in order of first
//    occurrence and the counters are re-zeroed as they are read.
//  - sorted (larger tables, where a dense array per thread would cost up to 128 MiB): ids go
//    to a buffer; a full buffer is radix-sorted and run-length counted into a sorted (id,
//    count) list. The buffer holds at least the list's size, so every merge is paid for by as
//    many new ids, and memory stays within a few times min(occurrences, 2^(hash_bits+1)) ids
//    whatever the text length. Buckets come out in increasing order.
// A hash table would be the obvious third choice; its "new or seen" branch mispredicts on
// about half the features and made scoring twice as slow.
class Featurizer {
 public:
  static constexpr uint32_t kMaxDenseBits = 17;  // 2^18 uint64 counters: 2 MiB per thread

  // Fills idx()/val() with the unit-norm sparse vector of `text` under `options`, in the
  // order the dot products are summed in (see above).
  void Run(std::string_view text, const ClassifierOptions& options) {
    Normalize(text);
    idx_.clear();
    val_.clear();
    const auto* s = reinterpret_cast<const uint8_t*>(norm_.data());
    const size_t n = norm_.size();
    const uint32_t shift = 64 - options.hash_bits;
    auto id_of = [shift](uint64_t h) {
      return static_cast<uint32_t>(h >> shift) << 1 | static_cast<uint32_t>(h & 1);
    };
    if (options.hash_bits <= kMaxDenseBits) {
      const size_t ids = size_t{2} << options.hash_bits;
      if (dense_.size() < ids) {
        dense_.assign(ids, 0);
        touched_.resize(ids + 1);  // emit writes one slot past the last distinct id
      }
      // Locals, not members, in the hot loop: members would be reloaded around every store.
      uint64_t* dense = dense_.data();
      uint32_t* touched = touched_.data();
      size_t n_touched = 0;
      auto emit = [&](uint64_t h) {
        const uint32_t id = id_of(h);
        touched[n_touched] = id;
        n_touched += dense[id]++ == 0 ? 1 : 0;
      };
      GenerateFeatures(s, n, options, emit);
      for (size_t k = 0; k < n_touched; ++k) {
        const uint32_t even = touched[k] & ~1u;
        const uint64_t pos = dense[even], neg = dense[even | 1];
        if (pos == 0 && neg == 0) continue;  // the bucket's other sign came first
        dense[even] = dense[even | 1] = 0;
        Append(even >> 1, pos, neg);
      }
    } else {
      key_bits_ = options.hash_bits + 1;
      counts_.clear();
      if (ids_.size() < kMinChunk) ids_.resize(kMinChunk);
      uint32_t* buf = ids_.data();
      size_t fill = 0, cap = ids_.size();
      auto emit = [&](uint64_t h) {
        buf[fill++] = id_of(h);
        if (fill == cap) {
          Flush(fill);
          buf = ids_.data();
          cap = ids_.size();
          fill = 0;
        }
      };
      GenerateFeatures(s, n, options, emit);
      Flush(fill);
      for (size_t k = 0; k < counts_.size(); ++k) {
        const uint32_t id = counts_[k].id;
        uint64_t pos = 0, neg = 0;
        ((id & 1) ? neg : pos) = counts_[k].count;
        if ((id & 1) == 0 && k + 1 < counts_.size() && counts_[k + 1].id == (id | 1)) {
          neg = counts_[++k].count;
        }
        Append(id >> 1, pos, neg);
      }
    }
    if (idx_.empty()) return;
    double sum_sq = 0;
    for (double v : val_) sum_sq += v * v;
    const double inv_norm = 1.0 / std::sqrt(sum_sq);
    for (double& v : val_) v *= inv_norm;
  }

  const std::vector<uint32_t>& idx() const { return idx_; }
  const std::vector<double>& val() const { return val_; }

 private:
  struct Count {
    uint32_t id;     // bucket << 1 | sign bit
    uint64_t count;  // occurrences
  };
  static constexpr size_t kMinChunk = size_t{1} << 15;
  static constexpr unsigned kDigitBits = 9;

  // Lower-cases ASCII letters, collapses each run of ASCII whitespace to one space and drops
  // leading and trailing whitespace.
  void Normalize(std::string_view text) {
    norm_.clear();
    norm_.reserve(text.size());
    bool pending_space = false;
    for (char ch : text) {
      const auto c = static_cast<uint8_t>(ch);
      if (IsSpace(c)) {
        pending_space = !norm_.empty();
        continue;
      }
      if (pending_space) {
        norm_.push_back(' ');
        pending_space = false;
      }
      norm_.push_back(static_cast<char>(Lower(c)));
    }
  }

  // Records bucket's value log(1 + pos) - log(1 + neg), unless it is zero.
  void Append(uint32_t bucket, uint64_t pos, uint64_t neg) {
    const double v = LogOnePlus(pos) - LogOnePlus(neg);
    if (v == 0) return;
    idx_.push_back(bucket);
    val_.push_back(v);
  }

  static double LogOnePlus(uint64_t c) {
    static const std::array<double, kLogTableSize>& table = LogTable();
    return c < kLogTableSize ? table[c] : DetLog(1.0 + static_cast<double>(c));
  }

  // Sorts the buffered ids, counts their runs and merges the runs into counts_.
  void Flush(size_t n) {
    if (n == 0) return;
    RadixSort(n);
    runs_.clear();
    for (size_t i = 0; i < n;) {
      size_t j = i + 1;
      while (j < n && ids_[j] == ids_[i]) ++j;
      runs_.push_back({ids_[i], j - i});
      i = j;
    }
    if (counts_.empty()) {
      counts_.swap(runs_);
    } else {
      merged_.clear();
      size_t a = 0, b = 0;
      while (a < counts_.size() || b < runs_.size()) {
        if (b == runs_.size() || (a < counts_.size() && counts_[a].id < runs_[b].id)) {
          merged_.push_back(counts_[a++]);
        } else if (a == counts_.size() || runs_[b].id < counts_[a].id) {
          merged_.push_back(runs_[b++]);
        } else {
          merged_.push_back({counts_[a].id, counts_[a].count + runs_[b].count});
          ++a;
          ++b;
        }
      }
      counts_.swap(merged_);
    }
    if (ids_.size() < counts_.size()) ids_.resize(counts_.size());
  }

  // LSD radix sort of ids_[0, n) on key_bits_ bits, 9 bits per pass.
  void RadixSort(size_t n) {
    constexpr size_t kRadix = size_t{1} << kDigitBits;
    const unsigned passes = (key_bits_ + kDigitBits - 1) / kDigitBits;  // 3 for 19..25 bits
    if (tmp_.size() < n) tmp_.resize(ids_.size());
    std::array<std::array<uint32_t, kRadix>, 3> hist{};
    for (size_t i = 0; i < n; ++i) {
      for (unsigned p = 0; p < passes; ++p) ++hist[p][(ids_[i] >> (p * kDigitBits)) & (kRadix - 1)];
    }
    uint32_t* src = ids_.data();
    uint32_t* dst = tmp_.data();
    for (unsigned p = 0; p < passes; ++p) {
      uint32_t sum = 0;
      for (uint32_t& h : hist[p]) {
        const uint32_t c = h;
        h = sum;
        sum += c;
      }
      for (size_t i = 0; i < n; ++i) {
        dst[hist[p][(src[i] >> (p * kDigitBits)) & (kRadix - 1)]++] = src[i];
      }
      std::swap(src, dst);
    }
    if (src != ids_.data()) std::copy(src, src + n, ids_.data());
  }

  std::string norm_;
  std::vector<uint64_t> dense_;    // dense back end: counters, all zero between calls
  std::vector<uint32_t> touched_;  // dense back end: ids in order of first occurrence
  std::vector<uint32_t> ids_;      // sorted back end: the buffer; its size is the chunk length
  std::vector<uint32_t> tmp_;
  std::vector<Count> counts_, runs_, merged_;  // sorted by id
  uint32_t key_bits_ = 17;
  std::vector<uint32_t> idx_;
  std::vector<double> val_;
};

Featurizer& ThreadFeaturizer() {
  thread_local Featurizer featurizer;
  return featurizer;
}

// ---- Options ----

// Empty when the options are usable; otherwise what is wrong.
std::string OptionsProblem(const ClassifierOptions& o) {
  auto num = [](auto v) { return std::to_string(v); };
  if (o.hash_bits < kMinHashBits || o.hash_bits > kMaxHashBits) {
    return "hash_bits " + num(o.hash_bits) + " is outside [10, 24]";
  }
  if (o.char_min < 1 || o.char_min > kMaxCharN) {
    return "char_min " + num(o.char_min) + " is outside [1, 8]";
  }
  if (o.char_max < 1 || o.char_max > kMaxCharN) {
    return "char_max " + num(o.char_max) + " is outside [1, 8]";
  }
  if (o.char_min > o.char_max) {
    return "char_min " + num(o.char_min) + " is greater than char_max " + num(o.char_max);
  }
  if (o.epochs < 1 || o.epochs > kMaxEpochs) {
    return "epochs " + num(o.epochs) + " is outside [1, 1000]";
  }
  if (!(o.learning_rate > 0 && o.learning_rate <= kMaxLearningRate)) {
    return "learning_rate " + num(o.learning_rate) + " is outside (0, 10]";
  }
  if (!(o.l2 >= 0 && o.l2 < 1)) return "l2 " + num(o.l2) + " is outside [0, 1)";
  if (!(o.learning_rate * o.l2 < 1)) {
    return "learning_rate * l2 must be below 1 (the decay factor 1 - lr * l2 must stay positive)";
  }
  return "";
}

// Which field a problem from OptionsProblem is about, for the offset in Parse's message.
size_t OffsetOfProblem(std::string_view problem) {
  if (problem.starts_with("hash_bits")) return kOffHashBits;
  if (problem.starts_with("char_min")) return kOffCharMin;
  if (problem.starts_with("char_max")) return kOffCharMax;
  if (problem.starts_with("epochs")) return kOffEpochs;
  if (problem.starts_with("learning_rate")) return kOffLearningRate;
  return kOffL2;
}

// ---- Shuffling ----

// Uniform in [0, bound) from mt19937_64 output by Lemire's multiply-and-reject, written out
// because std::uniform_int_distribution and std::shuffle differ between standard libraries.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  unsigned __int128 m = static_cast<unsigned __int128>(rng()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(rng()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

void Shuffle(std::vector<uint32_t>& order, std::mt19937_64& rng) {
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[UniformBelow(rng, i)]);
  }
}

// ---- Little-endian I/O ----

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetU32(std::string_view b, size_t off) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(b[off + i])} << (8 * i);
  return v;
}
uint64_t GetU64(std::string_view b, size_t off) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(b[off + i])} << (8 * i);
  return v;
}

}  // namespace

Result<Classifier> Classifier::Train(std::span<const Example> examples,
                                     const ClassifierOptions& options) {
  if (std::string problem = OptionsProblem(options); !problem.empty()) {
    return InvalidArgumentError("classifier options: " + problem);
  }
  if (examples.empty()) return InvalidArgumentError("no training examples");
  if (examples.size() > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError("more than 2^32-1 training examples");
  }
  size_t positives = 0;
  for (const Example& e : examples) positives += e.positive ? 1 : 0;
  if (positives == 0 || positives == examples.size()) {
    return InvalidArgumentError(std::string("training examples are all ") +
                                (positives == 0 ? "negative" : "positive") +
                                ": logistic regression needs both classes");
  }

  // Every example's sparse vector, computed once: the epochs only re-read them.
  std::vector<size_t> begin(examples.size() + 1, 0);
  std::vector<uint32_t> idx;
  std::vector<double> val;
  Featurizer& f = ThreadFeaturizer();
  for (size_t e = 0; e < examples.size(); ++e) {
    f.Run(examples[e].text, options);
    idx.insert(idx.end(), f.idx().begin(), f.idx().end());
    val.insert(val.end(), f.val().begin(), f.val().end());
    begin[e + 1] = idx.size();
  }

  // w = scale * v: the L2 decay of every weight each step becomes one multiplication of
  // `scale`, so a step costs the example's nonzeros, not 2^hash_bits.
  std::vector<double> v(size_t{1} << options.hash_bits, 0.0);
  double scale = 1.0;
  double bias = 0.0;
  std::vector<uint32_t> order(examples.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(options.seed);
  for (uint32_t epoch = 0; epoch < options.epochs; ++epoch) {
    const double eta = options.learning_rate / (1.0 + epoch);
    Shuffle(order, rng);
    for (uint32_t e : order) {
      double dot = 0;
      for (size_t k = begin[e]; k < begin[e + 1]; ++k) dot += v[idx[k]] * val[k];
      const double p = Sigmoid(bias + scale * dot);
      const double g = p - (examples[e].positive ? 1.0 : 0.0);
      scale *= 1.0 - eta * options.l2;
      bias -= eta * g;
      const double step = eta * g / scale;
      for (size_t k = begin[e]; k < begin[e + 1]; ++k) v[idx[k]] -= step * val[k];
      if (scale < 1e-9) {  // fold the scale back in before v grows towards overflow
        for (double& w : v) w *= scale;
        scale = 1.0;
      }
    }
  }

  Classifier c;
  c.options_ = options;
  c.bias_ = static_cast<float>(bias);
  c.weights_.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) c.weights_[i] = static_cast<float>(scale * v[i]);
  bool finite = std::isfinite(c.bias_);
  for (float w : c.weights_) finite = finite && std::isfinite(w);
  if (!finite) {
    return InvalidArgumentError("training diverged to a non-finite weight; lower learning_rate");
  }
  return c;
}

std::string Classifier::Serialize() const {
  std::string out;
  out.reserve(ModelSize(options_.hash_bits));
  out.append(kMagic);
  PutU32(out, kVersion);
  PutU32(out, options_.hash_bits);
  PutU32(out, options_.char_min);
  PutU32(out, options_.char_max);
  PutU32(out, options_.word_bigrams ? kFlagWordBigrams : 0);
  PutU32(out, options_.epochs);
  PutU64(out, std::bit_cast<uint64_t>(options_.learning_rate));
  PutU64(out, std::bit_cast<uint64_t>(options_.l2));
  PutU64(out, options_.seed);
  PutU32(out, std::bit_cast<uint32_t>(bias_));
  // A default-constructed Classifier has no weights: it is the all-zero model.
  if (weights_.empty()) out.resize(out.size() + (size_t{4} << options_.hash_bits), '\0');
  for (float w : weights_) PutU32(out, std::bit_cast<uint32_t>(w));
  const crypto::Sha256Digest digest = crypto::Sha256(out);
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return out;
}

Result<Classifier> Classifier::Parse(std::string_view bytes, std::string_view source) {
  auto fail = [&](size_t offset, const std::string& what) {
    return DataLossError(std::string(source) + ": offset " + std::to_string(offset) + ": " + what);
  };
  const size_t magic_len = std::min(bytes.size(), kMagic.size());
  if (bytes.substr(0, magic_len) != kMagic.substr(0, magic_len)) {
    return fail(0, "bad magic: not a warden guard classifier model (expected \"WGCLS001\")");
  }
  if (bytes.size() < kHeaderSize) {
    return fail(bytes.size(), "truncated header: " + std::to_string(bytes.size()) +
                                  " bytes, the header alone is " + std::to_string(kHeaderSize));
  }
  if (uint32_t version = GetU32(bytes, kOffVersion); version != kVersion) {
    return fail(kOffVersion, "unsupported version " + std::to_string(version) +
                                 " (this warden reads version 1)");
  }
  const uint32_t flags = GetU32(bytes, kOffFlags);
  if ((flags & ~kKnownFlags) != 0) {
    return fail(kOffFlags, "unknown flag bits " + std::to_string(flags & ~kKnownFlags));
  }
  ClassifierOptions o;
  o.hash_bits = GetU32(bytes, kOffHashBits);
  o.char_min = GetU32(bytes, kOffCharMin);
  o.char_max = GetU32(bytes, kOffCharMax);
  o.word_bigrams = (flags & kFlagWordBigrams) != 0;
  o.epochs = GetU32(bytes, kOffEpochs);
  o.learning_rate = std::bit_cast<double>(GetU64(bytes, kOffLearningRate));
  o.l2 = std::bit_cast<double>(GetU64(bytes, kOffL2));
  o.seed = GetU64(bytes, kOffSeed);
  if (std::string problem = OptionsProblem(o); !problem.empty()) {
    return fail(OffsetOfProblem(problem), problem);
  }
  const size_t expected = ModelSize(o.hash_bits);
  if (bytes.size() < expected) {
    return fail(bytes.size(), "truncated: " + std::to_string(bytes.size()) +
                                  " bytes, a model with hash_bits " + std::to_string(o.hash_bits) +
                                  " is " + std::to_string(expected));
  }
  if (bytes.size() > expected) {
    return fail(expected,
                std::to_string(bytes.size() - expected) + " trailing bytes after the checksum");
  }
  const size_t sum_at = expected - crypto::kSha256Size;
  const crypto::Sha256Digest digest = crypto::Sha256(bytes.substr(0, sum_at));
  if (std::memcmp(digest.data(), bytes.data() + sum_at, digest.size()) != 0) {
    return fail(sum_at, "checksum mismatch: the SHA-256 of bytes [0, " + std::to_string(sum_at) +
                            ") is " + crypto::DigestHex(digest) + " (the file is corrupt)");
  }
  Classifier c;
  c.options_ = o;
  c.bias_ = std::bit_cast<float>(GetU32(bytes, kOffBias));
  if (!std::isfinite(c.bias_)) return fail(kOffBias, "bias is not a finite number");
  c.weights_.resize(size_t{1} << o.hash_bits);
  for (size_t i = 0; i < c.weights_.size(); ++i) {
    const size_t off = kHeaderSize + 4 * i;
    c.weights_[i] = std::bit_cast<float>(GetU32(bytes, off));
    if (!std::isfinite(c.weights_[i])) {
      return fail(off, "weight " + std::to_string(i) + " is not a finite number");
    }
  }
  return c;
}

Result<Classifier> Classifier::Load(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, ModelSize(kMaxHashBits)));
  return Parse(bytes, path);
}

double Classifier::Score(std::string_view text) const {
  if (weights_.empty()) return Sigmoid(bias_);  // default-constructed: the all-zero model
  Featurizer& f = ThreadFeaturizer();
  f.Run(text, options_);
  double dot = 0;
  const std::vector<uint32_t>& idx = f.idx();
  const std::vector<double>& val = f.val();
  for (size_t k = 0; k < idx.size(); ++k) dot += static_cast<double>(weights_[idx[k]]) * val[k];
  const double p = Sigmoid(static_cast<double>(bias_) + dot);
  // Only a hand-made model with weights near FLT_MAX of both signs can make the sum NaN; a
  // guard fails closed, so such text counts as positive.
  return std::isnan(p) ? 1.0 : p;
}

}  // namespace warden::guard
