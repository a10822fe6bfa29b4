// Hashing a model: per-file, per-shard and per-tensor SHA-256, in parallel, over mmap.
//
// Work is cut into jobs (a whole file in the `files` method, one shard in the `shards`
// method, a run of neighbouring tensors for per-tensor digests), biggest first, and run on a
// thread pool. A job maps its file in windows of `window_bytes`, pre-faulted and unmapped as
// soon as they are hashed, so resident memory stays near threads x window whatever the model
// size.
//
// One SHA-256 stream cannot be split across cores, so a single file in the `files` method is
// hashed by one core (at the SHA-NI limit); the `shards` method and per-tensor digests are
// what scale with cores. See docs/provenance.md.
//
// Thread-safety: HashModel is reentrant; it owns its threads for the duration of the call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"
#include "formats/tensor_index.h"
#include "provenance/model_tree.h"

namespace warden::provenance {

enum class Method { kFiles, kShards };
std::string_view MethodName(Method m);

// The reference implementation's default shard size.
inline constexpr uint64_t kDefaultShardSize = 1'000'000'000;

struct HashOptions {
  Method method = Method::kFiles;
  uint64_t shard_size = kDefaultShardSize;  // shards method only; > 0
  bool tensors = false;                     // also per-tensor digests of GGUF/safetensors files
  // With tensors: false skips the whole-file (or shard) digests of files whose tensors were
  // indexed, hashing each byte once; FileDigest::digest and shards are then left empty for
  // those files (has_file_digest false). For diffing models tensor by tensor.
  bool file_digests = true;
  size_t threads = 0;                // 0: one per hardware thread
  uint64_t window_bytes = 8u << 20;  // bytes mapped at once per job
};

struct ShardDigest {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  crypto::Sha256Digest digest{};
};

struct TensorDigest {
  std::string name;
  uint64_t offset = 0;  // absolute file offset of the tensor's data
  uint64_t size = 0;
  crypto::Sha256Digest digest{};
};

struct FileDigest {
  std::string name;  // as in ModelTree
  uint64_t size = 0;
  bool has_file_digest = true;      // false only with HashOptions::file_digests == false
  crypto::Sha256Digest digest{};    // files method: SHA-256 of the whole file
  std::vector<ShardDigest> shards;  // shards method: in offset order; none for an empty file
  formats::ModelFormat format = formats::ModelFormat::kUnknown;
  std::vector<TensorDigest> tensors;  // with HashOptions::tensors, in file order
  // Not OK when the file could not be read or changed while being hashed; the digests are
  // then meaningless. Verification reports such a file instead of failing outright.
  Status status;
  // Not OK when the file looks like GGUF/safetensors but its header is malformed; the file
  // digests are still valid, the tensor list is empty.
  Status tensor_status;
};

// Hashes every file of `tree`. Fails only for invalid options; per-file problems are in
// FileDigest::status and FileDigest::tensor_status.
Result<std::vector<FileDigest>> HashModel(const ModelTree& tree, const HashOptions& options);

}  // namespace warden::provenance
