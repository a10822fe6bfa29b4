// LogStore: warden's append-only transparency log in one SQLite file.
//
// The file holds the entries (type, body, leaf hash), the hash of every completed perfect
// subtree of level >= 1 (so any inclusion or consistency proof, and the root at any past size,
// is O(log n) point reads), the checkpoints the ledger layer signed, and a small key/value
// meta table. The byte-level layout is docs/formats/ledger-store.md.
//
// Durability: WAL journal with synchronous=FULL. Append() and AppendBatch() return only after
// their transaction's WAL frames are fsync'd, so an acknowledged append survives kill -9 and
// power loss (given honest disks); an append that did not return may or may not be there, and
// is then there completely (entry and nodes) or not at all.
//
// Appends are O(log n): the store keeps the tree's frontier (TreeBuilder) in memory, rebuilt
// from the nodes table on Open(), and writes one entry row plus one node row per subtree the
// append completes (one on average).
//
// The leaf hash is LeafHash(body). The `type` column is an index for lookups and is NOT
// covered by the tree; the ledger layer keeps it honest by deriving it from the body (and can
// check it in Audit() through `check_entry`).
//
// Thread-safety: a LogStore is used by one thread at a time (it owns one SQLite connection and
// its prepared statements). Several processes may open the same file: SQLite's locks serialise
// writers (waiting up to 5 s), and an append that finds the log grown by another process
// reloads the frontier first. Size()/Root() describe the log as of this handle's last append,
// Open() or Refresh().
// Ownership: movable, not copyable; the destructor closes the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ledger/merkle.h"

namespace warden::ledger {

// Written to the SQLite header's application_id (offset 68): "WDLG".
inline constexpr uint32_t kLedgerApplicationId = 0x57444C47;
inline constexpr int kLedgerFormatVersion = 1;
// Limits on what Append() accepts.
inline constexpr size_t kMaxEntryTypeBytes = 64;
inline constexpr size_t kMaxEntryBodyBytes = 16 << 20;

struct StoredCheckpoint {
  int64_t id = 0;  // increases with every SaveCheckpoint()
  uint64_t size = 0;
  Hash root{};
  std::string note;        // the signed note text, as given
  int64_t created_at = 0;  // Unix seconds, UTC
};

class LogStore {
 public:
  // Creates a new, empty ledger file at `path` with `origin` (the log's name in checkpoints:
  // non-empty, printable ASCII or UTF-8 without control characters, at most 256 bytes).
  // FailedPrecondition if `path` exists; InvalidArgument for a bad origin; errors from the
  // file system as they come (PermissionDenied, NotFound for a missing directory, ...).
  static Result<LogStore> Create(const std::string& path, std::string_view origin);

  // Opens an existing ledger. NotFound if `path` does not exist; DataLoss if it is not an
  // SQLite file, not a warden ledger, of an unsupported format version, or its tables are
  // inconsistent (a frontier node missing).
  static Result<LogStore> Open(const std::string& path);

  ~LogStore();
  LogStore(LogStore&&) noexcept;
  LogStore& operator=(LogStore&&) noexcept;
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  struct Appended {
    uint64_t index = 0;
    Hash leaf_hash{};
  };

  // Appends one entry in one transaction, durable on return. InvalidArgument when `type` is
  // empty, longer than kMaxEntryTypeBytes or not [a-z0-9._-], or `body` is larger than
  // kMaxEntryBodyBytes; Unavailable when another writer held the lock for 5 s.
  Result<Appended> Append(std::string_view type, std::string_view body);
  // Appends all `entries` (type, body) in one transaction: all or none.
  Result<std::vector<Appended>> AppendBatch(
      const std::vector<std::pair<std::string, std::string>>& entries);

  // The number of entries (as of this handle's last append, Open() or Refresh()).
  uint64_t Size() const;
  // The tree head at Size() (O(log n) hashing, no I/O).
  Result<Hash> Root() const;
  // The tree head at an earlier size (O(log n) reads). InvalidArgument if size > Size().
  Result<Hash> RootAt(uint64_t size) const;
  // Catches up with entries appended by other processes.
  Status Refresh();

  struct Entry {
    uint64_t index = 0;
    std::string type;
    std::string body;
    Hash leaf_hash{};
    int64_t appended_at = 0;  // Unix seconds, UTC
  };

  // NotFound if index >= Size().
  Result<Entry> Get(uint64_t index) const;
  // Every entry of `type`, in index order.
  Result<std::vector<Entry>> ByType(std::string_view type) const;
  // Calls `fn` for entries [begin, min(end, Size())) in index order; stops at and returns the
  // first error `fn` returns.
  Status Scan(uint64_t begin, uint64_t end, const std::function<Status(const Entry&)>& fn) const;

  // RFC 9162 proofs from stored nodes. InvalidArgument unless index < size <= Size()
  // (resp. 0 < size1 <= size2 <= Size()); DataLoss if a node is missing or malformed.
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2) const;

  // Keeps a checkpoint (the ledger layer signs it; the store only checks that `root` is the
  // tree head at `size`: VerificationFailed otherwise, InvalidArgument if size > Size()).
  Status SaveCheckpoint(uint64_t size, const Hash& root, std::string_view note_text);
  // The most recently saved checkpoint, or nullopt when there is none.
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() const;
  // All checkpoints in the order they were saved.
  Result<std::vector<StoredCheckpoint>> Checkpoints() const;

  // Configuration kept with the log (quorum, stakeholder keys JSON, ...). The keys "format",
  // "format_version" and "origin" are the store's own: SetMeta refuses them (InvalidArgument).
  Status SetMeta(std::string_view key, std::string_view value);
  Result<std::optional<std::string>> GetMeta(std::string_view key) const;

  // Recomputes every leaf hash from its body, every stored node from its children and every
  // checkpoint's root, and checks that indices are contiguous and no node row is missing or
  // extra. Returns OK, or VerificationFailed naming the first bad entry / node / checkpoint
  // with the stored and recomputed values. `check_entry`, when given, is called on every
  // entry (e.g. to check that `type` matches the body) and its first error is returned with
  // the entry's index in front. O(n) time, O(log n) memory.
  Status Audit(const std::function<Status(const Entry&)>& check_entry = nullptr) const;

  std::string_view origin() const;
  const std::string& path() const;

 private:
  struct Impl;
  explicit LogStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::ledger
