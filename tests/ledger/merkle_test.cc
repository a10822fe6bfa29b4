#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"

namespace warden::ledger {
namespace {

const std::string kVectors = std::string(WARDEN_TESTDATA_DIR) + "/transparency-dev-merkle";

Hash FromHex(std::string_view hex) {
  auto h = crypto::ParseDigestHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.value_or(Hash{});
}

Hash LeafOf(uint64_t i) { return LeafHash("leaf-" + std::to_string(i)); }

// ---- The slow reference: RFC 6962 section 2.1, written as recursion over ranges ----
// MTH is memoised per range so that checking every tree size stays fast; the recursion
// itself is the RFC's text, independent of the code under test (except NodeHash).
class Reference {
 public:
  explicit Reference(std::vector<Hash> leaves) : leaves_(std::move(leaves)) {}

  static uint64_t K(uint64_t n) {  // largest power of two < n, by counting
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  Hash Mth(uint64_t begin, uint64_t end) {
    if (end == begin) return crypto::Sha256(std::string_view());
    if (end - begin == 1) return leaves_[begin];
    auto it = memo_.find({begin, end});
    if (it != memo_.end()) return it->second;
    const uint64_t k = K(end - begin);
    Hash h = NodeHash(Mth(begin, begin + k), Mth(begin + k, end));
    memo_[{begin, end}] = h;
    return h;
  }

  // PATH(m, D[begin:end]).
  std::vector<Hash> Path(uint64_t m, uint64_t begin, uint64_t end) {
    const uint64_t n = end - begin;
    if (n == 1) return {};
    const uint64_t k = K(n);
    std::vector<Hash> out;
    if (m < k) {
      out = Path(m, begin, begin + k);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Path(m - k, begin + k, end);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  // SUBPROOF(m, D[begin:end], b).
  std::vector<Hash> Subproof(uint64_t m, uint64_t begin, uint64_t end, bool b) {
    const uint64_t n = end - begin;
    if (m == n) {
      if (b) return {};
      return {Mth(begin, end)};
    }
    const uint64_t k = K(n);
    std::vector<Hash> out;
    if (m <= k) {
      out = Subproof(m, begin, begin + k, b);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Subproof(m - k, begin + k, end, false);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  std::vector<Hash> Proof(uint64_t m, uint64_t n) { return Subproof(m, 0, n, true); }

 private:
  std::vector<Hash> leaves_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

// Builds proofs the way the store does: ranges -> aligned pieces -> stored node hashes.
class NodeTable {
 public:
  explicit NodeTable(const std::vector<Hash>& leaves) {
    TreeBuilder b;
    std::vector<std::pair<Perfect, Hash>> completed;
    for (const Hash& h : leaves) b.Append(h, &completed);
    for (const auto& [p, h] : completed) nodes_[{p.level, p.index}] = h;
  }
  Hash Range(NodeRange r) const {
    std::vector<Hash> pieces;
    for (const Perfect& p : Decompose(r.begin, r.end))
      pieces.push_back(nodes_.at({p.level, p.index}));
    return HashFromPieces(pieces);
  }
  std::vector<Hash> Proof(const std::vector<NodeRange>& ranges) const {
    std::vector<Hash> out;
    for (const NodeRange& r : ranges) out.push_back(Range(r));
    return out;
  }
  const std::map<std::pair<int, uint64_t>, Hash>& nodes() const { return nodes_; }

 private:
  std::map<std::pair<int, uint64_t>, Hash> nodes_;
};

std::vector<Hash> MakeLeaves(uint64_t n) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i) leaves.push_back(LeafOf(i));
  return leaves;
}

// ---- Hasher known answers ----

TEST(MerkleHasher, KnownAnswers) {
  EXPECT_EQ(crypto::DigestHex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(crypto::DigestHex(LeafHash(std::string_view())),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(crypto::DigestHex(LeafHash("L123456")),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
  // The span overload agrees with the string overload.
  const std::string s = "L123456";
  EXPECT_EQ(LeafHash(AsBytes(s)), LeafHash(s));
}

TEST(MerkleHasher, KnownAnswersFromFile) {
  auto text = ReadFileToString(kVectors + "/rfc6962_hasher_kat.json", 1 << 20);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto v = json::Parse(*text, "rfc6962_hasher_kat.json");
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  int checked = 0;
  for (const auto& c : v->as_object().at("cases").as_array()) {
    const auto& o = c.as_object();
    const std::string name(o.at("name").as_string());
    const std::string want(o.at("want_hex").as_string());
    if (name == "empty_tree_root") {
      EXPECT_EQ(crypto::DigestHex(EmptyRoot()), want);
    } else if (name == "node_N123_N456") {
      // NodeHash takes 32-byte children; check the preimage layout it uses instead.
      auto pre = HexDecode(std::string(o.at("preimage_hex").as_string()));
      ASSERT_TRUE(pre.ok());
      EXPECT_EQ((*pre)[0], kNodeHashPrefix);
      EXPECT_EQ(crypto::DigestHex(crypto::Sha256(*pre)), want);
    } else {
      auto in = HexDecode(std::string(o.at("input_hex").as_string()));
      ASSERT_TRUE(in.ok());
      EXPECT_EQ(crypto::DigestHex(LeafHash(*in)), want) << name;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(MerkleHasher, NodeHashLayoutAndDomainSeparation) {
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  std::vector<uint8_t> pre = {kNodeHashPrefix};
  pre.insert(pre.end(), a.begin(), a.end());
  pre.insert(pre.end(), b.begin(), b.end());
  EXPECT_EQ(NodeHash(a, b), crypto::Sha256(pre));
  EXPECT_NE(NodeHash(a, b), NodeHash(b, a));
  std::vector<uint8_t> concat(a.begin(), a.end());
  concat.insert(concat.end(), b.begin(), b.end());
  EXPECT_NE(NodeHash(a, b), LeafHash(concat));
  EXPECT_NE(LeafHash("Hello"), LeafHash("World"));
}

TEST(MerkleReferenceTree, NodesAndRootsMatchKat) {
  auto text = ReadFileToString(kVectors + "/reference_tree_kat.json", 1 << 20);
  ASSERT_TRUE(text.ok());
  auto v = json::Parse(*text, "reference_tree_kat.json");
  ASSERT_TRUE(v.ok());
  const auto& o = v->as_object();
  std::vector<Hash> leaves;
  for (const auto& in : o.at("leaf_inputs_hex").as_array()) {
    auto bytes = HexDecode(std::string(in.as_string()));
    ASSERT_TRUE(bytes.ok());
    leaves.push_back(LeafHash(*bytes));
  }
  ASSERT_EQ(leaves.size(), 8u);
  NodeTable table(leaves);
  int nodes = 0;
  for (const auto& [level, hashes] : o.at("node_hashes_by_level").as_object()) {
    if (level.starts_with("_")) continue;
    const int lv = std::stoi(std::string(level));
    const auto& arr = hashes.as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      EXPECT_EQ(crypto::DigestHex(table.nodes().at({lv, i})), std::string(arr[i].as_string()))
          << "level " << lv << " index " << i;
      ++nodes;
    }
  }
  EXPECT_EQ(nodes, 15);
  TreeBuilder b;
  for (const auto& [size, root] : o.at("root_by_tree_size").as_object()) {
    if (size.starts_with("_")) continue;
    const uint64_t n = std::stoull(std::string(size));
    const Hash want = FromHex(std::string(root.as_string()));
    EXPECT_EQ(RootOf(std::span(leaves).first(n)), want) << "size " << n;
    std::vector<Hash> pieces;
    for (const Perfect& p : Decompose(0, n)) pieces.push_back(table.nodes().at({p.level, p.index}));
    EXPECT_EQ(HashFromPieces(pieces), want) << "size " << n;
  }
  for (const Hash& h : leaves) b.Append(h);
  EXPECT_EQ(crypto::DigestHex(b.Root()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

// ---- transparency-dev/merkle vectors ----

struct Decoded {
  bool all_32 = true;  // every hash decoded to exactly 32 bytes
  std::vector<Hash> hashes;
};

// Decodes base64 hashes; anything not 32 bytes long marks the case as one our typed API
// cannot even express (a verifier must reject it, and the parser in front of it does).
Hash DecodeHash(const json::value& v, bool* all_32) {
  Hash h{};
  if (!v.is_string()) {
    *all_32 = false;
    return h;
  }
  auto raw = Base64Decode(std::string(v.as_string()));
  if (!raw.ok() || raw->size() != h.size()) {
    *all_32 = false;
    return h;
  }
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

std::vector<Hash> DecodeProof(const json::value& v, bool* all_32) {
  std::vector<Hash> out;
  if (v.is_null()) return out;
  for (const auto& e : v.as_array()) out.push_back(DecodeHash(e, all_32));
  return out;
}

std::vector<std::filesystem::path> JsonFiles(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Reads one transparency-dev vector file.
void LoadVector(const std::string& path, json::value* out) {
  auto text = ReadFileToString(path, 1 << 20);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto v = json::Parse(*text, path);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  *out = std::move(*v);
}

TEST(MerkleVectors, Inclusion) {
  const auto files = JsonFiles(kVectors + "/inclusion");
  ASSERT_EQ(files.size(), 98u);
  int happy = 0;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    json::value v;
    ASSERT_NO_FATAL_FAILURE(LoadVector(f.string(), &v));
    const auto& o = v.as_object();
    bool all_32 = true;
    const uint64_t index = o.at("leafIdx").to_number<uint64_t>();
    const uint64_t size = o.at("treeSize").to_number<uint64_t>();
    const Hash root = DecodeHash(o.at("root"), &all_32);
    const Hash leaf = DecodeHash(o.at("leafHash"), &all_32);
    const std::vector<Hash> proof = DecodeProof(o.at("proof"), &all_32);
    const bool want_err = o.at("wantErr").as_bool();
    if (!all_32) {
      EXPECT_TRUE(want_err) << "a vector with a hash that is not 32 bytes should be negative";
      continue;
    }
    Status s = VerifyInclusion(index, size, leaf, proof, root);
    if (want_err) {
      EXPECT_FALSE(s.ok());
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++happy;
      // Our planner produces the same proof from the reference tree.
      if (size <= 8 && f.string().find("single-entry") == std::string::npos) {
        EXPECT_EQ(InclusionProofRanges(index, size).size(), proof.size());
      }
    }
  }
  EXPECT_EQ(happy, 6);
}

TEST(MerkleVectors, Consistency) {
  const auto files = JsonFiles(kVectors + "/consistency");
  ASSERT_EQ(files.size(), 98u);
  int happy = 0;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    json::value v;
    ASSERT_NO_FATAL_FAILURE(LoadVector(f.string(), &v));
    const auto& o = v.as_object();
    bool all_32 = true;
    const uint64_t size1 = o.at("size1").to_number<uint64_t>();
    const uint64_t size2 = o.at("size2").to_number<uint64_t>();
    const Hash root1 = DecodeHash(o.at("root1"), &all_32);
    const Hash root2 = DecodeHash(o.at("root2"), &all_32);
    const std::vector<Hash> proof = DecodeProof(o.at("proof"), &all_32);
    const bool want_err = o.at("wantErr").as_bool();
    if (!all_32) {
      // Our typed API cannot hold a root that is not 32 bytes. The one positive case of this
      // kind (equal sizes, identical opaque roots) passes upstream by a plain byte comparison.
      if (!want_err) {
        EXPECT_EQ(size1, size2);
        EXPECT_EQ(o.at("root1"), o.at("root2"));
        EXPECT_TRUE(proof.empty());
        ++happy;
      }
      continue;
    }
    Status s = VerifyConsistency(size1, size2, proof, root1, root2);
    if (want_err) {
      EXPECT_FALSE(s.ok());
    } else {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++happy;
    }
  }
  EXPECT_EQ(happy, 6);
}

// ---- Error reporting ----

TEST(MerkleVerify, ErrorsNameWhatWasWrong) {
  const auto leaves = MakeLeaves(5);
  const Hash root = RootOf(leaves);
  auto proof = InclusionProof(leaves, 1);
  ASSERT_TRUE(VerifyInclusion(1, 5, leaves[1], proof, root).ok());

  Status s = VerifyInclusion(5, 5, leaves[1], proof, root);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not below tree size 5"), std::string::npos) << s.message();

  auto shorter = proof;
  shorter.pop_back();
  s = VerifyInclusion(1, 5, leaves[1], shorter, root);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(s.message().find("has 2 hashes, expected 3"), std::string::npos) << s.message();

  s = VerifyInclusion(1, 5, leaves[2], proof, root);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(s.message().find("expected root " + crypto::DigestHex(root)), std::string::npos)
      << s.message();

  auto cproof = ConsistencyProof(leaves, 3, 5);
  ASSERT_TRUE(VerifyConsistency(3, 5, cproof, RootOf(std::span(leaves).first(3)), root).ok());
  s = VerifyConsistency(5, 3, cproof, root, root);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = VerifyConsistency(0, 5, {}, EmptyRoot(), root);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = VerifyConsistency(3, 5, cproof, root, root);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(s.message().find("expected old root"), std::string::npos) << s.message();
  s = VerifyConsistency(3, 5, cproof, RootOf(std::span(leaves).first(3)), leaves[0]);
  EXPECT_NE(s.message().find("expected new root"), std::string::npos) << s.message();
}

TEST(MerkleVerify, HugeSizesDoNotCrash) {
  const uint64_t max = ~uint64_t{0};
  std::vector<Hash> proof(64, LeafOf(0));
  EXPECT_FALSE(VerifyInclusion(max - 1, max, LeafOf(0), proof, LeafOf(1)).ok());
  EXPECT_FALSE(VerifyInclusion(0, max, LeafOf(0), proof, LeafOf(1)).ok());
  EXPECT_FALSE(VerifyConsistency(1, max, proof, LeafOf(0), LeafOf(1)).ok());
  EXPECT_FALSE(VerifyConsistency(max - 1, max, proof, LeafOf(0), LeafOf(1)).ok());
  EXPECT_EQ(InclusionProofRanges(max - 1, max).size(), 63u);  // popcount(max - 1)
  EXPECT_EQ(InclusionProofRanges(0, max).size(), 64u);
  EXPECT_FALSE(ConsistencyProofRanges(max / 3, max).empty());
}

// ---- Planning and builder properties ----

TEST(MerkleDecompose, PiecesAreAlignedContiguousAndMinimal) {
  for (uint64_t begin = 0; begin <= 70; ++begin) {
    for (uint64_t end = begin; end <= 140; ++end) {
      const auto pieces = Decompose(begin, end);
      uint64_t at = begin;
      for (const Perfect& p : pieces) {
        ASSERT_EQ(p.begin(), at) << begin << ".." << end;
        at = p.end();
      }
      ASSERT_EQ(at, end);
      // Minimal: no two neighbours at the same level could merge into one aligned block.
      for (size_t i = 1; i < pieces.size(); ++i) {
        const bool mergeable =
            pieces[i - 1].level == pieces[i].level && pieces[i - 1].index % 2 == 0;
        ASSERT_FALSE(mergeable) << begin << ".." << end;
      }
    }
  }
  EXPECT_TRUE(Decompose(5, 5).empty());
  EXPECT_EQ(Decompose(0, 1ull << 40).size(), 1u);
  EXPECT_EQ(Decompose(0, ~uint64_t{0}).size(), 64u);
}

TEST(MerkleTreeBuilder, CompletedNodesAndFrontierRoundTrip) {
  const auto leaves = MakeLeaves(300);
  Reference ref(leaves);
  TreeBuilder b;
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    std::vector<std::pair<Perfect, Hash>> completed;
    b.Append(leaves[n - 1], &completed);
    ASSERT_EQ(b.size(), n);
    ASSERT_FALSE(completed.empty());
    EXPECT_EQ(completed[0].first, (Perfect{0, n - 1}));
    // One node per trailing one bit of the old size, plus the leaf.
    EXPECT_EQ(completed.size(), static_cast<size_t>(std::countr_one(n - 1)) + 1);
    for (const auto& [p, h] : completed) {
      EXPECT_EQ(p.end(), n);
      EXPECT_EQ(h, ref.Mth(p.begin(), p.end())) << int(p.level) << "/" << p.index;
    }
    EXPECT_EQ(b.Root(), ref.Mth(0, n));
    auto restored = TreeBuilder::FromFrontier(n, b.Frontier());
    ASSERT_TRUE(restored.ok());
    EXPECT_EQ(restored->Root(), b.Root());
  }
  auto bad = TreeBuilder::FromFrontier(3, {LeafOf(0)});
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TreeBuilder().Root(), EmptyRoot());
  EXPECT_EQ(RootOf({}), EmptyRoot());
}

// Every tree size 1..2000 against the RFC 6962 reference: roots, inclusion proofs (all indices
// for small trees, sampled for large) and consistency proofs (all pairs for small trees).
TEST(MerkleCrossCheck, AgreesWithSlowReferenceOnEverySize) {
  constexpr uint64_t kMax = 2000;
  const auto leaves = MakeLeaves(kMax);
  Reference ref(leaves);
  const NodeTable table(leaves);
  std::mt19937_64 rng(42);
  for (uint64_t n = 1; n <= kMax; ++n) {
    const Hash root = ref.Mth(0, n);
    std::vector<Hash> pieces;
    for (const Perfect& p : Decompose(0, n)) pieces.push_back(table.nodes().at({p.level, p.index}));
    ASSERT_EQ(HashFromPieces(pieces), root) << n;

    std::vector<uint64_t> indices;
    if (n <= 70) {
      for (uint64_t i = 0; i < n; ++i) indices.push_back(i);
    } else {
      indices = {0, n / 2, n - 2, n - 1, rng() % n, rng() % n};
    }
    for (uint64_t i : indices) {
      const auto proof = table.Proof(InclusionProofRanges(i, n));
      ASSERT_EQ(proof, ref.Path(i, 0, n)) << i << " in " << n;
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], proof, root).ok()) << i << " in " << n;
      if (!proof.empty()) {
        auto bent = proof;
        bent[rng() % bent.size()][0] ^= 1;
        ASSERT_FALSE(VerifyInclusion(i, n, leaves[i], bent, root).ok());
      }
      if (n > 1) {
        ASSERT_FALSE(VerifyInclusion(i, n, leaves[(i + 1) % n], proof, root).ok());
      }
    }

    std::vector<uint64_t> olds;
    if (n <= 70) {
      for (uint64_t m = 1; m <= n; ++m) olds.push_back(m);
    } else {
      olds = {1, n / 2, n - 1, n, 1 + rng() % n, 1 + rng() % n};
    }
    for (uint64_t m : olds) {
      const auto proof = table.Proof(ConsistencyProofRanges(m, n));
      if (m < n) {
        ASSERT_EQ(proof, ref.Proof(m, n)) << m << " -> " << n;
      }
      const Hash old_root = ref.Mth(0, m);
      ASSERT_TRUE(VerifyConsistency(m, n, proof, old_root, root).ok()) << m << " -> " << n;
      if (!proof.empty()) {
        auto bent = proof;
        bent[rng() % bent.size()][31] ^= 0x80;
        ASSERT_FALSE(VerifyConsistency(m, n, bent, old_root, root).ok()) << m << " -> " << n;
        auto shorter = proof;
        shorter.pop_back();
        ASSERT_FALSE(VerifyConsistency(m, n, shorter, old_root, root).ok());
      }
      if (m < n) {
        ASSERT_FALSE(VerifyConsistency(m, n, proof, root, old_root).ok());
      }
    }
  }
}

TEST(MerkleInMemory, ConvenienceFunctionsMatchReference) {
  const auto leaves = MakeLeaves(130);
  Reference ref(leaves);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const auto span = std::span(leaves).first(n);
    ASSERT_EQ(RootOf(span), ref.Mth(0, n));
    for (uint64_t i = 0; i < n; i += 1 + n / 8) {
      ASSERT_EQ(InclusionProof(span, i), ref.Path(i, 0, n)) << i << " in " << n;
    }
    for (uint64_t m = 1; m < n; m += 1 + n / 8) {
      ASSERT_EQ(ConsistencyProof(span, m, n), ref.Proof(m, n)) << m << " -> " << n;
    }
  }
  // Unaligned ranges use the RFC recursion.
  for (uint64_t b = 0; b < 20; ++b) {
    for (uint64_t e = b + 1; e < 40; ++e) ASSERT_EQ(RangeHash(leaves, b, e), ref.Mth(b, e));
  }
  EXPECT_TRUE(InclusionProof(leaves, 130).empty());
  EXPECT_TRUE(ConsistencyProof(leaves, 3, 131).empty());
}

}  // namespace
}  // namespace warden::ledger
