// Dataset commitments: a Merkle root over a dataset's records, and proofs that one record is in
// a committed dataset. This is verifiable training-data provenance: a training-run entry names
// dataset roots; anyone holding the data can recompute a root, and anyone holding one record
// and its proof can check that the record was part of the committed data without the rest.
//
// A dataset is one file of records. The records are, by format (docs/formats/dataset-proof.md):
//   kLines  one record per line: the line's bytes without its "\n" or "\r\n" terminator.
//   kJsonl  one JSON value per line; the record is its canonical form (base/json Canonical:
//           sorted keys, no whitespace), so reformatting a file does not change its root.
//   kCsv    RFC 4180 with a header row; each later row is the canonical JSON object
//           {header[i]: cell[i]} (cells are strings; quoted cells may hold commas, quotes ("")
//           and newlines).
// In every format an empty last line (a file ending in a newline) is not a record.
//
// The tree is RFC 9162's (ledger/merkle.h): leaf = SHA-256(0x00 || record bytes), node =
// SHA-256(0x01 || left || right), root of zero records = SHA-256("").
//
// Files are memory-mapped. CommitDataset hashes kLines and kJsonl files on every core, in
// chunks, keeping O(chunks * log n) hashes; ProveRecord reads front to back and keeps one
// 32-byte hash per record.
//
// Thread-safety: pure functions of their arguments and the file's bytes (CommitDataset runs
// threads of its own, joined before it returns).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ledger/merkle.h"

namespace warden::ledger {

enum class RecordFormat { kLines, kJsonl, kCsv };

// "lines", "jsonl", "csv": the names used by --format, in proofs and in dataset entries.
std::string_view RecordFormatName(RecordFormat format);
// The inverse of RecordFormatName; "ndjson" is accepted for kJsonl. InvalidArgument otherwise.
Result<RecordFormat> ParseRecordFormat(std::string_view name);

// The format for `path`: `override_name` when it is not empty (ParseRecordFormat), otherwise by
// extension, case-insensitively: .jsonl and .ndjson -> kJsonl, .csv -> kCsv, anything else ->
// kLines. Errors: InvalidArgument for an unknown override.
Result<RecordFormat> FormatFor(std::string_view path, std::string_view override_name);

// Calls `fn(index, record)` for each record of the file in order; `record` is the record's
// bytes (canonical for kJsonl and kCsv), valid only during the call. Stops at and returns the
// first non-OK status `fn` returns.
// Errors: those of ReadOnlyFile::Open (NotFound, PermissionDenied, DataLoss for a non-regular
// file); DataLoss "<path>: line N: ..." for a JSONL line that is blank or not JSON, a CSV row
// with the wrong number of fields, a stray or unclosed quote, a duplicate header name, or a CSV
// cell that is not UTF-8.
Status ForEachRecord(const std::string& path, RecordFormat format,
                     const std::function<Status(uint64_t index, std::string_view record)>& fn);

struct DatasetCommitment {
  Hash root{};         // RFC 9162 root over the records
  uint64_t count = 0;  // number of records
  uint64_t bytes = 0;  // size of the file
  RecordFormat format = RecordFormat::kLines;
};

// How CommitDataset spreads its work; the commitment never depends on it.
struct CommitOptions {
  // Threads hashing records (the caller's included); 0 means ThreadPool::HardwareThreads().
  size_t threads = 0;
  // kLines and kJsonl files are cut at line starts into this many byte ranges of about equal
  // size, hashed in parallel. 0 chooses (8 per thread, at most 64), and hashes files under 1 MiB
  // or with one thread on the caller alone; any other value always cuts the file (even with
  // threads = 1), so tests can cover the cuts on small files. A kCsv file is always read by one
  // thread: a quoted cell may hold a newline, so rows cannot be found without parsing.
  size_t chunks = 0;
};

// Commits to the records of `path`. Errors: as ForEachRecord; a file with several errors reports
// the first in file order, however it was cut.
//
// kLines and kJsonl files are hashed on all threads: each chunk's records, once a first pass has
// counted the records of the chunks before it, hash into aligned perfect subtrees of the tree,
// which are then folded into the root. Memory: O(chunks * log n) hashes.
Result<DatasetCommitment> CommitDataset(const std::string& path, RecordFormat format,
                                        const CommitOptions& options);
Result<DatasetCommitment> CommitDataset(const std::string& path, RecordFormat format);

// A proof that `record` is record `index` of a dataset of `size` records with root `root`.
struct DatasetProof {
  std::string record;                          // the record's bytes (canonical for kJsonl and kCsv)
  RecordFormat format = RecordFormat::kLines;  // how to read `record`; not hashed
  uint64_t index = 0;
  uint64_t size = 0;
  Hash root{};
  std::vector<Hash> path;  // RFC 9162 audit path, bottom-up
};

// Builds the proof for record `index` of `path`. Errors: as ForEachRecord, and InvalidArgument
// "record N is past the end of <path> (M records)" when index >= the number of records.
Result<DatasetProof> ProveRecord(const std::string& path, RecordFormat format, uint64_t index);

// The proof as a self-contained JSON document (docs/formats/dataset-proof.md), indented, with
// a final newline:
//   {"format": "warden-dataset-proof/v1", "record_format": "jsonl", "record": "...",
//    "index": N, "tree_size": N, "root": "sha256:<hex>", "audit_path": ["<hex>", ...]}
// A record that is not valid UTF-8 (possible with kLines) is written as "record_base64".
std::string DatasetProofToJson(const DatasetProof& proof);

// Parses a proof document. Strict: unknown fields, a missing field, a wrong format tag, a
// digest not in lower-case hex, index >= tree_size, or an audit path longer than 64 are
// DataLoss "<source>: ..." naming the field.
Result<DatasetProof> ParseDatasetProof(std::string_view json, std::string_view source);

// Checks that the proof's record is at its index in the tree of its size with its root, and,
// when `expected_root` is given, that this root is the expected one (the root recorded in a
// ledger dataset entry, say). Errors: VerificationFailed saying expected vs computed root (or
// the expected and actual audit path length); InvalidArgument when index >= size.
Status CheckDatasetProof(const DatasetProof& proof, const std::optional<Hash>& expected_root);

}  // namespace warden::ledger
