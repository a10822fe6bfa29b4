// RFC 9162 (Certificate Transparency 2.0, section 2.1) Merkle tree hashing: leaf and node
// hashes, proof verification, proof planning and a streaming tree builder.
//
// The tree over n leaves d[0..n) is MTH(D[n]) as in RFC 9162 2.1.1: SHA-256("") for n = 0,
// LeafHash(d[0]) for n = 1, otherwise NodeHash(MTH(D[0:k]), MTH(D[k:n])) with k the largest
// power of two smaller than n.
//
// Everything here is a pure function of its arguments except TreeBuilder, which is a value.
// Verifiers never trust their input: a proof of the wrong length, an index outside the tree
// or sizes out of order are reported as errors, never as a crash.
//
// Thread-safety: all functions are reentrant; TreeBuilder is a value owned by one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"

namespace warden::ledger {

using Hash = crypto::Sha256Digest;

inline constexpr uint8_t kLeafHashPrefix = 0x00;
inline constexpr uint8_t kNodeHashPrefix = 0x01;

// SHA-256(0x00 || entry).
Hash LeafHash(std::span<const uint8_t> entry);
Hash LeafHash(std::string_view entry);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256(""): the root of the empty tree.
Hash EmptyRoot();

// ---- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) ----
//
// RootFromInclusionProof: the root implied by `leaf_hash` at `index` in a tree of `size`
// leaves and the audit path `proof`.
//   index >= size                      -> InvalidArgument naming both.
//   proof.size() != expected length    -> VerificationFailed naming both lengths.
Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof);

// OK when `proof` proves `leaf_hash` at `index` in the tree of `size` leaves whose root is
// `root`. Errors as RootFromInclusionProof; a mismatching root is VerificationFailed giving
// the expected and computed roots in hex.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);

// OK when `proof` proves that the tree of `size1` leaves with root `root1` is a prefix of the
// tree of `size2` leaves with root `root2`.
//   size1 > size2                      -> InvalidArgument.
//   size1 == size2                     -> proof must be empty and root1 == root2.
//   size1 == 0                         -> proof must be empty (anything is consistent with the
//                                         empty tree; root1 must equal EmptyRoot()).
//   wrong proof length                 -> VerificationFailed naming both lengths.
//   root mismatch                      -> VerificationFailed naming which root, expected and
//                                         computed.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2);

// ---- Proof planning ----

// The Merkle tree hash of leaves [begin, end).
struct NodeRange {
  uint64_t begin = 0;
  uint64_t end = 0;
  friend bool operator==(const NodeRange&, const NodeRange&) = default;
};

// The ranges whose hashes form the inclusion proof of `index` in a tree of `size` leaves, in
// proof order (bottom-up, as in RFC 9162 2.1.3.1). Empty when index >= size or size <= 1.
std::vector<NodeRange> InclusionProofRanges(uint64_t index, uint64_t size);

// The ranges whose hashes form the consistency proof between sizes size1 <= size2, in proof
// order (RFC 9162 2.1.4.1). Empty when size1 == 0, size1 >= size2.
std::vector<NodeRange> ConsistencyProofRanges(uint64_t size1, uint64_t size2);

// An aligned perfect subtree: leaves [index << level, (index + 1) << level).
struct Perfect {
  uint8_t level = 0;
  uint64_t index = 0;
  uint64_t begin() const { return index << level; }
  uint64_t end() const { return (index + 1) << level; }
  friend bool operator==(const Perfect&, const Perfect&) = default;
};

// Splits [begin, end) into the minimal list of aligned perfect subtrees, left to right.
// Every range of a proof (and the whole tree [0, n)) decomposes into O(log n) pieces.
std::vector<Perfect> Decompose(uint64_t begin, uint64_t end);

// Folds the hashes of a Decompose(begin, end) list (same order) into MTH(D[begin:end]):
// right to left, h = NodeHash(piece[i], h). Empty input gives EmptyRoot().
// Precondition for the result to be MTH(D[begin:end]): `begin` is a multiple of
// bit_ceil(end - begin). Every NodeRange of InclusionProofRanges / ConsistencyProofRanges and
// every [0, n) satisfies it (the pieces then shrink left to right and the RFC split point of
// each remaining suffix is a piece boundary).
Hash HashFromPieces(std::span<const Hash> pieces);

// ---- Streaming tree state (the "compact range" or frontier) ----
//
// Keeps the hashes of the perfect subtrees of Decompose(0, size): at most 64 hashes.
class TreeBuilder {
 public:
  TreeBuilder() = default;

  // Appends a leaf hash. When `completed` is given, pushes every perfect subtree completed by
  // this append, bottom-up, starting with the leaf itself at level 0.
  void Append(const Hash& leaf_hash, std::vector<std::pair<Perfect, Hash>>* completed = nullptr);

  uint64_t size() const { return size_; }
  // MTH of all leaves appended so far (EmptyRoot() when none).
  Hash Root() const;
  // Hashes of the perfect subtrees of Decompose(0, size()), left to right (largest first).
  std::vector<Hash> Frontier() const;

  // Restores a builder from a size and its Frontier(). InvalidArgument when the number of
  // hashes is not popcount(size).
  static Result<TreeBuilder> FromFrontier(uint64_t size, std::vector<Hash> frontier);

 private:
  uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // left to right; frontier_.size() == popcount(size_)
};

// ---- Convenience over an in-memory array of leaf hashes ----
// O(n) time per call; for datasets and tests, not for the log (which stores nodes).

// MTH of `leaves`.
Hash RootOf(std::span<const Hash> leaves);
// Inclusion proof of `index` in the tree of all `leaves`. Empty when index >= leaves.size().
std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index);
// Consistency proof between the trees of the first size1 and size2 leaves
// (size2 <= leaves.size()). Empty when the request is degenerate (see ConsistencyProofRanges).
std::vector<Hash> ConsistencyProof(std::span<const Hash> leaves, uint64_t size1, uint64_t size2);

// MTH of leaves [begin, end) of `leaves` (O(end - begin)).
Hash RangeHash(std::span<const Hash> leaves, uint64_t begin, uint64_t end);

}  // namespace warden::ledger
