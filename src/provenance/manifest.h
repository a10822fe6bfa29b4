// The OMS v1.0 statement: what a model signature says about the model, and how a model on
// disk compares with it.
//
// An in-toto Statement v1 with predicateType https://model_signing/signature/v1.0:
//   subject[0] = {name: model name, digest: {sha256: SHA-256 over the resources' raw digests}}
//   predicate.serialization = {method, hash_type, allow_symlinks, [shard_size], [ignore_paths]}
//   predicate.resources = [{name, algorithm, digest}, ...] in the reference order: files by
//     path; shards by (path, start) with start compared as a number.
// warden adds, inside a GGUF or safetensors file's resource descriptor (the only place the
// OMS schema allows extra fields), "tensors": [{name, offset, size, digest}], which OMS
// verifiers ignore. See docs/formats/oms-signature.md.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/sha256.h"
#include "provenance/hashing.h"
#include "provenance/model_tree.h"

namespace warden::provenance {

inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kOmsPredicateType = "https://model_signing/signature/v1.0";

struct TensorEntry {
  std::string name;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string digest;  // lowercase hex
};

struct Resource {
  std::string name;       // path, or "path:start:end" for a shard
  std::string algorithm;  // "sha256" or "sha256-sharded-N"
  std::string digest;     // lowercase hex
  std::vector<TensorEntry> tensors;
  // Shards only (parsed from the name):
  std::string path;
  uint64_t start = 0;
  uint64_t end = 0;
};

struct Serialization {
  Method method = Method::kFiles;
  std::string hash_type = "sha256";
  bool allow_symlinks = false;
  uint64_t shard_size = 0;  // shards only
  std::vector<std::string> ignore_paths;
};

struct Statement {
  std::string subject_name;
  std::string subject_digest;  // lowercase hex
  Serialization serialization;
  std::vector<Resource> resources;
};

// Builds the statement for hashed files. Files that failed to hash (FileDigest::status not
// OK) are left out; verification reports them separately.
Statement BuildStatement(const ModelTree& tree, const std::vector<FileDigest>& digests,
                         const HashOptions& hash, bool allow_symlinks);

// SHA-256 over the concatenated raw digests of `resources`, in order.
Result<crypto::Sha256Digest> SubjectDigest(const std::vector<Resource>& resources);

// Indented JSON, keys in the reference implementation's order.
std::string StatementToJson(const Statement& s);

// Parses and validates a statement (the DSSE payload). DataLoss naming the field for anything
// malformed: wrong _type or predicateType, unsupported hash_type, bad digests, resource names
// that are absolute or contain "..", duplicate resources, shard names that do not parse.
// Accepts the reference implementation's quirks: shard_size as a float, and algorithm
// "sha256-sharded-N" for shards.
Result<Statement> ParseStatement(std::string_view payload, std::string_view source);

// How the model on disk differs from a statement.
struct TensorChange {
  enum class Kind { kModified, kAdded, kRemoved };
  Kind kind;
  std::string name;
};

struct FileChange {
  enum class Kind { kModified, kAdded, kRemoved, kRenamed, kUnreadable };
  Kind kind;
  std::string name;                   // the signed name (for kAdded: the new file's name)
  std::string new_name;               // kRenamed only
  std::string detail;                 // e.g. which shards differ, or why a file could not be read
  std::vector<TensorChange> tensors;  // kModified with per-tensor digests on both sides
  std::string tensor_note;            // e.g. "tensor data unchanged: header or metadata edited"
};

struct VerifyReport {
  std::string subject_name;
  size_t files_signed = 0;
  size_t files_checked = 0;
  size_t tensors_checked = 0;
  std::vector<FileChange> changes;
  bool ok() const { return changes.empty(); }
};

std::string_view FileChangeKindName(FileChange::Kind k);
std::string_view TensorChangeKindName(TensorChange::Kind k);

// Compares `expected` (from a signature) with `actual` (built from the model on disk with
// the same serialization). `digests` are the on-disk results, for unreadable files and
// tensor detail. With `tensors`, modified GGUF/safetensors files get per-tensor changes.
VerifyReport CompareStatements(const Statement& expected, const Statement& actual,
                               const std::vector<FileDigest>& digests, bool tensors);

}  // namespace warden::provenance
