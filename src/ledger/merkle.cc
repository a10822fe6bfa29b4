#include "ledger/merkle.h"

#include <algorithm>
#include <bit>
#include <string>

namespace warden::ledger {
namespace {

// The largest power of two strictly smaller than n (n >= 2): RFC 9162's split point k.
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (std::bit_width(n - 1) - 1); }

std::string Hex(const Hash& h) { return crypto::DigestHex(h); }

}  // namespace

Hash LeafHash(std::span<const uint8_t> entry) {
  thread_local crypto::Sha256Hasher hasher;  // Finish() leaves it ready for the next leaf
  const uint8_t prefix = kLeafHashPrefix;
  hasher.Update(std::span<const uint8_t>(&prefix, 1));
  hasher.Update(entry);
  return hasher.Finish();
}

Hash LeafHash(std::string_view entry) {
  return LeafHash(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(entry.data()), entry.size()));
}

Hash NodeHash(const Hash& left, const Hash& right) {
  // One buffer, one SHA-256 call: this is on the append and verify hot paths.
  uint8_t buf[1 + 2 * crypto::kSha256Size];
  buf[0] = kNodeHashPrefix;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 1 + crypto::kSha256Size);
  return crypto::Sha256(std::span<const uint8_t>(buf, sizeof(buf)));
}

Hash EmptyRoot() { return crypto::Sha256(std::string_view()); }

// ---- Planning ----

std::vector<NodeRange> InclusionProofRanges(uint64_t index, uint64_t size) {
  std::vector<NodeRange> top_down;
  if (index >= size) return top_down;
  uint64_t begin = 0;
  uint64_t end = size;
  while (end - begin > 1) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (index < mid) {
      top_down.push_back({mid, end});
      end = mid;
    } else {
      top_down.push_back({begin, mid});
      begin = mid;
    }
  }
  std::reverse(top_down.begin(), top_down.end());
  return top_down;
}

std::vector<NodeRange> ConsistencyProofRanges(uint64_t size1, uint64_t size2) {
  std::vector<NodeRange> result;
  if (size1 == 0 || size1 >= size2) return result;
  // SUBPROOF(m, D[begin:end], b) of RFC 9162 2.1.4.1, unrolled. The siblings are collected
  // top-down; the proof lists the terminal node (if any) first, then siblings bottom-up.
  std::vector<NodeRange> siblings;
  uint64_t begin = 0;
  uint64_t end = size2;
  bool whole_old_tree = true;  // "b": the subtree is the whole old tree, whose root is known
  while (size1 != end) {
    const uint64_t mid = begin + SplitPoint(end - begin);
    if (size1 <= mid) {
      siblings.push_back({mid, end});
      end = mid;
    } else {
      siblings.push_back({begin, mid});
      begin = mid;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) result.push_back({begin, end});
  result.insert(result.end(), siblings.rbegin(), siblings.rend());
  return result;
}

std::vector<Perfect> Decompose(uint64_t begin, uint64_t end) {
  std::vector<Perfect> pieces;
  while (begin < end) {
    // The largest aligned block starting at `begin` that fits in [begin, end).
    int level = std::bit_width(end - begin) - 1;
    if (begin != 0) level = std::min(level, std::countr_zero(begin));
    pieces.push_back({static_cast<uint8_t>(level), begin >> level});
    begin += uint64_t{1} << level;
  }
  return pieces;
}

Hash HashFromPieces(std::span<const Hash> pieces) {
  if (pieces.empty()) return EmptyRoot();
  Hash h = pieces.back();
  for (size_t i = pieces.size() - 1; i-- > 0;) h = NodeHash(pieces[i], h);
  return h;
}

// ---- Verification ----

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof) {
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: leaf index " + std::to_string(index) +
                                " is not below tree size " + std::to_string(size));
  }
  // Expected length: the bits below the highest bit where index and the last index differ
  // (the inner part), plus one for each set bit above it (the right border).
  const uint64_t last = size - 1;
  const int inner = std::bit_width(index ^ last);
  const size_t want = static_cast<size_t>(inner) +
                      static_cast<size_t>(std::popcount(inner >= 64 ? 0 : index >> inner));
  if (proof.size() != want) {
    return VerificationFailedError("inclusion proof for leaf " + std::to_string(index) +
                                   " in tree of size " + std::to_string(size) + " has " +
                                   std::to_string(proof.size()) + " hashes, expected " +
                                   std::to_string(want));
  }
  // RFC 9162 2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = last;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {  // unreachable given the length check; kept as the RFC's guard
      return VerificationFailedError("inclusion proof: too many hashes");
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return VerificationFailedError("inclusion proof: too few hashes");
  return r;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  WARDEN_ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return VerificationFailedError("inclusion proof for leaf " + std::to_string(index) +
                                   " in tree of size " + std::to_string(size) + ": expected root " +
                                   Hex(root) + ", computed " + Hex(computed));
  }
  return Status::Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  const std::string what =
      "consistency proof " + std::to_string(size1) + " -> " + std::to_string(size2);
  if (size1 > size2) {
    return InvalidArgumentError(what + ": old size is larger than new size");
  }
  if (size1 == 0) {
    // Matches transparency-dev/merkle: a proof from the empty tree proves nothing, and a
    // caller asking for one has a bug or is being fed a meaningless checkpoint.
    return InvalidArgumentError(what + ": old size is 0; nothing to prove");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return VerificationFailedError(what + ": has " + std::to_string(proof.size()) +
                                     " hashes, expected 0");
    }
    if (root1 != root2) {
      return VerificationFailedError(what + ": equal sizes but roots differ: " + Hex(root1) +
                                     " vs " + Hex(root2));
    }
    return Status::Ok();
  }
  // Expected length: the inclusion path of leaf size1-1 in tree size2, minus the levels below
  // the old tree's lowest perfect subtree, plus the seed hash unless size1 is a power of 2.
  const int shift = std::countr_zero(size1);
  const uint64_t fn0 = (size1 - 1) >> shift;
  const uint64_t sn0 = (size2 - 1) >> shift;
  const int inner = std::bit_width(fn0 ^ sn0);
  const bool power_of_two = (size1 & (size1 - 1)) == 0;
  const size_t want = (power_of_two ? 0 : 1) + static_cast<size_t>(inner) +
                      static_cast<size_t>(std::popcount(inner >= 64 ? 0 : fn0 >> inner));
  if (proof.size() != want) {
    return VerificationFailedError(what + ": has " + std::to_string(proof.size()) +
                                   " hashes, expected " + std::to_string(want));
  }
  // RFC 9162 2.1.4.2. When size1 is a power of two the "seed" is root1 itself.
  size_t next = 0;
  const Hash seed = power_of_two ? root1 : proof[next++];
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = seed;
  Hash sr = seed;
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return VerificationFailedError(what + ": too many hashes");
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return VerificationFailedError(what + ": too few hashes");
  if (fr != root1) {
    return VerificationFailedError(what + ": expected old root " + Hex(root1) + ", computed " +
                                   Hex(fr));
  }
  if (sr != root2) {
    return VerificationFailedError(what + ": expected new root " + Hex(root2) + ", computed " +
                                   Hex(sr));
  }
  return Status::Ok();
}

// ---- TreeBuilder ----

void TreeBuilder::Append(const Hash& leaf_hash, std::vector<std::pair<Perfect, Hash>>* completed) {
  const uint64_t old_size = size_;
  Hash h = leaf_hash;
  if (completed != nullptr) completed->push_back({Perfect{0, old_size}, h});
  // Each trailing 1 bit of the old size is a perfect subtree that now has a right sibling.
  uint8_t level = 0;
  while (((old_size >> level) & 1) == 1) {
    h = NodeHash(frontier_.back(), h);
    frontier_.pop_back();
    ++level;
    if (completed != nullptr) completed->push_back({Perfect{level, old_size >> level}, h});
  }
  frontier_.push_back(h);
  size_ = old_size + 1;
}

Hash TreeBuilder::Root() const { return HashFromPieces(frontier_); }

std::vector<Hash> TreeBuilder::Frontier() const { return frontier_; }

Result<TreeBuilder> TreeBuilder::FromFrontier(uint64_t size, std::vector<Hash> frontier) {
  if (frontier.size() != static_cast<size_t>(std::popcount(size))) {
    return InvalidArgumentError("tree frontier for size " + std::to_string(size) + " has " +
                                std::to_string(frontier.size()) + " hashes, expected " +
                                std::to_string(std::popcount(size)));
  }
  TreeBuilder b;
  b.size_ = size;
  b.frontier_ = std::move(frontier);
  return b;
}

// ---- In-memory convenience ----

Hash RangeHash(std::span<const Hash> leaves, uint64_t begin, uint64_t end) {
  if (begin >= end) return EmptyRoot();
  const uint64_t n = end - begin;
  if (n == 1) return leaves[begin];
  // Folding the perfect pieces right to left equals MTH(D[begin:end]) only when `begin` is
  // aligned to the range's bit_ceil (true for every proof range); otherwise use the RFC
  // recursion directly.
  if (begin % std::bit_ceil(n) != 0) {
    const uint64_t mid = begin + SplitPoint(n);
    return NodeHash(RangeHash(leaves, begin, mid), RangeHash(leaves, mid, end));
  }
  std::vector<Hash> pieces;
  for (const Perfect& p : Decompose(begin, end)) {
    TreeBuilder b;
    for (uint64_t i = p.begin(); i < p.end(); ++i) b.Append(leaves[i]);
    pieces.push_back(b.Root());
  }
  return HashFromPieces(pieces);
}

Hash RootOf(std::span<const Hash> leaves) {
  TreeBuilder b;
  for (const Hash& h : leaves) b.Append(h);
  return b.Root();
}

std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index) {
  std::vector<Hash> proof;
  for (const NodeRange& r : InclusionProofRanges(index, leaves.size())) {
    proof.push_back(RangeHash(leaves, r.begin, r.end));
  }
  return proof;
}

std::vector<Hash> ConsistencyProof(std::span<const Hash> leaves, uint64_t size1, uint64_t size2) {
  std::vector<Hash> proof;
  if (size2 > leaves.size()) return proof;
  for (const NodeRange& r : ConsistencyProofRanges(size1, size2)) {
    proof.push_back(RangeHash(leaves, r.begin, r.end));
  }
  return proof;
}

}  // namespace warden::ledger
