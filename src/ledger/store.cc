#include "ledger/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>

#include "base/files.h"

namespace warden::ledger {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// SQLite integers are signed 64-bit; no index reaches this.
constexpr uint64_t kMaxIndex = uint64_t{1} << 62;

// The schema, byte for byte as documented in docs/formats/ledger-store.md.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE entries(
  idx INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  body BLOB NOT NULL,
  leaf_hash BLOB NOT NULL,
  appended_at INTEGER NOT NULL
);
CREATE INDEX entries_by_type ON entries(type);
CREATE TABLE nodes(
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints(
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
)sql";

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

std::string Hex(const Hash& h) { return crypto::DigestHex(h); }

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return StatusCode::kDataLoss;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return StatusCode::kNotFound;
    default:
      return StatusCode::kInternal;
  }
}

// ---- RAII over the SQLite C API ----

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  explicit Statement(sqlite3_stmt* s) : stmt_(s) {}
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a cached statement (and its bindings) when a use of it ends, however it ends.
class Use {
 public:
  explicit Use(const Statement& s) : s_(s.get()) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  sqlite3_stmt* operator*() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

bool IsValidType(std::string_view type) {
  if (type.empty() || type.size() > kMaxEntryTypeBytes) return false;
  for (char c : type) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckOrigin(std::string_view origin) {
  if (origin.empty()) return InvalidArgumentError("ledger origin is empty");
  if (origin.size() > 256) {
    return InvalidArgumentError("ledger origin is " + std::to_string(origin.size()) +
                                " bytes, more than the limit of 256");
  }
  for (size_t i = 0; i < origin.size(); ++i) {
    const auto c = static_cast<unsigned char>(origin[i]);
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("ledger origin has a control character at byte " +
                                  std::to_string(i));
    }
  }
  return Status::Ok();
}

bool IsReservedMetaKey(std::string_view key) {
  return key == "format" || key == "format_version" || key == "origin";
}

}  // namespace

// ---- Impl ----

struct LogStore::Impl {
  std::string path;
  std::string origin;
  sqlite3* db = nullptr;
  TreeBuilder builder;

  // Prepared once, reused for the life of the connection.
  Statement begin_immediate, begin_read, commit, rollback;
  Statement max_idx, insert_entry, insert_node, get_entry, get_leaf_hash, get_node;
  Statement by_type, scan, insert_checkpoint, latest_checkpoint, all_checkpoints;
  Statement get_meta, set_meta, count_nodes;

  ~Impl() {
    // Statements must be finalised before the connection closes.
    for (Statement* s :
         {&begin_immediate, &begin_read, &commit, &rollback, &max_idx, &insert_entry, &insert_node,
          &get_entry, &get_leaf_hash, &get_node, &by_type, &scan, &insert_checkpoint,
          &latest_checkpoint, &all_checkpoints, &get_meta, &set_meta, &count_nodes}) {
      *s = Statement();
    }
    if (db != nullptr) sqlite3_close_v2(db);
  }

  Status Error(int rc, std::string_view what) const {
    std::string msg = "ledger " + path + ": " + std::string(what) + ": ";
    msg += (db != nullptr) ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    msg += " (sqlite code " + std::to_string(rc) + ")";
    return Status(CodeFor(rc), std::move(msg));
  }

  Status DataLoss(std::string_view what) const {
    return DataLossError("ledger " + path + ": " + std::string(what));
  }

  Status Exec(const char* sql, std::string_view what) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return Error(rc, what);
    return Status::Ok();
  }

  Result<Statement> Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return Error(rc, std::string("preparing \"") + sql + "\"");
    return Statement(s);
  }

  // Runs a statement that returns no rows.
  Status Run(const Statement& s, std::string_view what) {
    Use u(s);
    const int rc = sqlite3_step(*u);
    if (rc != SQLITE_DONE) return Error(rc, what);
    return Status::Ok();
  }

  Status PrepareAll() {
    struct {
      Statement* s;
      const char* sql;
    } all[] = {
        {&begin_immediate, "BEGIN IMMEDIATE"},
        {&begin_read, "BEGIN DEFERRED"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&max_idx, "SELECT max(idx) FROM entries"},
        {&insert_entry,
         "INSERT INTO entries(idx, type, body, leaf_hash, appended_at) VALUES(?1, ?2, ?3, ?4, "
         "?5)"},
        {&insert_node, "INSERT INTO nodes(level, idx, hash) VALUES(?1, ?2, ?3)"},
        {&get_entry, "SELECT type, body, leaf_hash, appended_at FROM entries WHERE idx = ?1"},
        {&get_leaf_hash, "SELECT leaf_hash FROM entries WHERE idx = ?1"},
        {&get_node, "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2"},
        {&by_type,
         "SELECT idx, type, body, leaf_hash, appended_at FROM entries WHERE type = ?1 ORDER BY "
         "idx"},
        {&scan,
         "SELECT idx, type, body, leaf_hash, appended_at FROM entries WHERE idx >= ?1 AND idx "
         "< ?2 ORDER BY idx"},
        {&insert_checkpoint,
         "INSERT INTO checkpoints(size, root, note, created_at) VALUES(?1, ?2, ?3, ?4)"},
        {&latest_checkpoint,
         "SELECT id, size, root, note, created_at FROM checkpoints ORDER BY id DESC LIMIT 1"},
        {&all_checkpoints, "SELECT id, size, root, note, created_at FROM checkpoints ORDER BY id"},
        {&get_meta, "SELECT value FROM meta WHERE key = ?1"},
        {&set_meta, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"},
        {&count_nodes, "SELECT count(*) FROM nodes"},
    };
    for (auto& [s, sql] : all) {
      WARDEN_ASSIGN_OR_RETURN(*s, Prepare(sql));
    }
    return Status::Ok();
  }

  // Per-connection settings. synchronous=FULL makes every commit fsync the WAL: the price of
  // "acknowledged means durable" is one fsync per transaction, which batching amortises.
  Status Configure() {
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    WARDEN_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL", "setting synchronous=FULL"));
    return Status::Ok();
  }

  Result<std::optional<std::string>> Meta(std::string_view key) {
    Use u(get_meta);
    sqlite3_bind_text(*u, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(*u);
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Error(rc, "reading meta key " + std::string(key));
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(*u, 0));
    return std::optional<std::string>(
        std::string(text ? text : "", static_cast<size_t>(sqlite3_column_bytes(*u, 0))));
  }

  Result<uint64_t> DbSize() {
    Use u(max_idx);
    const int rc = sqlite3_step(*u);
    if (rc != SQLITE_ROW) return Error(rc, "reading the log size");
    if (sqlite3_column_type(*u, 0) == SQLITE_NULL) return uint64_t{0};
    const int64_t max = sqlite3_column_int64(*u, 0);
    if (max < 0) return DataLoss("entries table has a negative index " + std::to_string(max));
    return static_cast<uint64_t>(max) + 1;
  }

  // The hash of an aligned perfect subtree: a leaf hash from entries, or a row of nodes.
  Result<Hash> Node(const Perfect& p) {
    const Statement& s = p.level == 0 ? get_leaf_hash : get_node;
    Use u(s);
    if (p.level == 0) {
      sqlite3_bind_int64(*u, 1, static_cast<int64_t>(p.index));
    } else {
      sqlite3_bind_int(*u, 1, p.level);
      sqlite3_bind_int64(*u, 2, static_cast<int64_t>(p.index));
    }
    const int rc = sqlite3_step(*u);
    const std::string name = p.level == 0 ? "leaf hash of entry " + std::to_string(p.index)
                                          : "node level " + std::to_string(p.level) + " index " +
                                                std::to_string(p.index);
    if (rc == SQLITE_DONE) return DataLoss(name + " is missing");
    if (rc != SQLITE_ROW) return Error(rc, "reading " + name);
    if (sqlite3_column_bytes(*u, 0) != static_cast<int>(crypto::kSha256Size)) {
      return DataLoss(name + " is " + std::to_string(sqlite3_column_bytes(*u, 0)) +
                      " bytes, expected 32");
    }
    Hash h;
    std::memcpy(h.data(), sqlite3_column_blob(*u, 0), h.size());
    return h;
  }

  Result<Hash> RangeHash(uint64_t begin, uint64_t end) {
    std::vector<Hash> pieces;
    for (const Perfect& p : Decompose(begin, end)) {
      WARDEN_ASSIGN_OR_RETURN(Hash h, Node(p));
      pieces.push_back(h);
    }
    return HashFromPieces(pieces);
  }

  // Rebuilds the in-memory frontier for the current database size.
  Status LoadFrontier() {
    WARDEN_ASSIGN_OR_RETURN(uint64_t size, DbSize());
    std::vector<Hash> frontier;
    for (const Perfect& p : Decompose(0, size)) {
      WARDEN_ASSIGN_OR_RETURN(Hash h, Node(p));
      frontier.push_back(h);
    }
    WARDEN_ASSIGN_OR_RETURN(builder, TreeBuilder::FromFrontier(size, std::move(frontier)));
    return Status::Ok();
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back (and restoring the frontier)
  // when anything fails.
  Status WriteTransaction(const std::function<Status()>& body) {
    WARDEN_RETURN_IF_ERROR(Run(begin_immediate, "starting a write transaction"));
    const TreeBuilder saved = builder;
    Status s = body();
    if (s.ok()) s = Run(commit, "committing");
    if (!s.ok()) {
      if (!sqlite3_get_autocommit(db)) Run(rollback, "rolling back").IgnoreError();
      builder = saved;
    }
    return s;
  }

  // A consistent snapshot for multi-statement reads.
  Status ReadTransaction(const std::function<Status()>& body) {
    WARDEN_RETURN_IF_ERROR(Run(begin_read, "starting a read transaction"));
    Status s = body();
    Status c = Run(commit, "ending a read transaction");
    if (!c.ok() && !sqlite3_get_autocommit(db)) Run(rollback, "rolling back").IgnoreError();
    return s.ok() ? c : s;
  }

  // Inside a write transaction: catch up if another process appended since we last looked.
  Status SyncWithDb() {
    WARDEN_ASSIGN_OR_RETURN(uint64_t size, DbSize());
    if (size != builder.size()) WARDEN_RETURN_IF_ERROR(LoadFrontier());
    return Status::Ok();
  }

  Result<Appended> AppendOne(std::string_view type, std::string_view body, int64_t now,
                             std::vector<std::pair<Perfect, Hash>>* completed) {
    const uint64_t index = builder.size();
    const Hash leaf = LeafHash(body);
    {
      Use u(insert_entry);
      sqlite3_bind_int64(*u, 1, static_cast<int64_t>(index));
      sqlite3_bind_text(*u, 2, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
      // A zero-length blob must still be a blob, not NULL: bind a non-null pointer.
      static const char kEmpty = 0;
      sqlite3_bind_blob(*u, 3, body.empty() ? &kEmpty : body.data(), static_cast<int>(body.size()),
                        SQLITE_STATIC);
      sqlite3_bind_blob(*u, 4, leaf.data(), static_cast<int>(leaf.size()), SQLITE_STATIC);
      sqlite3_bind_int64(*u, 5, now);
      const int rc = sqlite3_step(*u);
      if (rc != SQLITE_DONE) return Error(rc, "appending entry " + std::to_string(index));
    }
    completed->clear();
    builder.Append(leaf, completed);
    for (const auto& [p, h] : *completed) {
      if (p.level == 0) continue;  // leaf hashes live in entries.leaf_hash
      Use u(insert_node);
      sqlite3_bind_int(*u, 1, p.level);
      sqlite3_bind_int64(*u, 2, static_cast<int64_t>(p.index));
      sqlite3_bind_blob(*u, 3, h.data(), static_cast<int>(h.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(*u);
      if (rc != SQLITE_DONE) {
        return Error(rc, "storing node level " + std::to_string(p.level) + " index " +
                             std::to_string(p.index));
      }
    }
    return Appended{index, leaf};
  }

  // Entries [begin, end) in index order (no clamping to the builder's size).
  Status ScanRows(uint64_t begin, uint64_t end, const std::function<Status(const Entry&)>& fn) {
    if (begin >= end) return Status::Ok();
    Use u(scan);
    sqlite3_bind_int64(*u, 1, static_cast<int64_t>(std::min(begin, kMaxIndex)));
    sqlite3_bind_int64(*u, 2, static_cast<int64_t>(std::min(end, kMaxIndex)));
    while (true) {
      const int rc = sqlite3_step(*u);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Error(rc, "scanning entries");
      const int64_t index = sqlite3_column_int64(*u, 0);
      if (index < 0) return DataLoss("entries table has a negative index");
      WARDEN_ASSIGN_OR_RETURN(Entry e, ReadEntryRow(*u, 1, static_cast<uint64_t>(index), *this));
      WARDEN_RETURN_IF_ERROR(fn(e));
    }
    return Status::Ok();
  }

  static Result<Entry> ReadEntryRow(sqlite3_stmt* s, int first_col, uint64_t index,
                                    const Impl& impl) {
    Entry e;
    e.index = index;
    const auto* type = reinterpret_cast<const char*>(sqlite3_column_text(s, first_col));
    e.type.assign(type ? type : "", static_cast<size_t>(sqlite3_column_bytes(s, first_col)));
    const void* body = sqlite3_column_blob(s, first_col + 1);
    e.body.assign(static_cast<const char*>(body),
                  body ? static_cast<size_t>(sqlite3_column_bytes(s, first_col + 1)) : 0);
    if (sqlite3_column_bytes(s, first_col + 2) != static_cast<int>(crypto::kSha256Size)) {
      return impl.DataLoss("leaf hash of entry " + std::to_string(index) + " is " +
                           std::to_string(sqlite3_column_bytes(s, first_col + 2)) +
                           " bytes, expected 32");
    }
    std::memcpy(e.leaf_hash.data(), sqlite3_column_blob(s, first_col + 2), e.leaf_hash.size());
    e.appended_at = sqlite3_column_int64(s, first_col + 3);
    return e;
  }

  static Result<StoredCheckpoint> ReadCheckpointRow(sqlite3_stmt* s, const Impl& impl) {
    StoredCheckpoint c;
    c.id = sqlite3_column_int64(s, 0);
    const int64_t size = sqlite3_column_int64(s, 1);
    if (size < 0) return impl.DataLoss("checkpoint " + std::to_string(c.id) + " has size < 0");
    c.size = static_cast<uint64_t>(size);
    if (sqlite3_column_bytes(s, 2) != static_cast<int>(crypto::kSha256Size)) {
      return impl.DataLoss("checkpoint " + std::to_string(c.id) + " root is " +
                           std::to_string(sqlite3_column_bytes(s, 2)) + " bytes, expected 32");
    }
    std::memcpy(c.root.data(), sqlite3_column_blob(s, 2), c.root.size());
    const auto* note = reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    c.note.assign(note ? note : "", static_cast<size_t>(sqlite3_column_bytes(s, 3)));
    c.created_at = sqlite3_column_int64(s, 4);
    return c;
  }

  // Opens the connection; `flags` decide whether the file may be created.
  static Result<std::unique_ptr<Impl>> Connect(const std::string& path, int flags) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    const int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return impl->Error(rc, "opening");
    sqlite3_extended_result_codes(impl->db, 1);
    return impl;
  }

  // Checks that the open file is a warden ledger of our version, before writing anything.
  Status Identify() {
    int64_t app_id = 0;
    {
      sqlite3_stmt* s = nullptr;
      int rc = sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &s, nullptr);
      Statement owned(s);
      if (rc == SQLITE_OK) rc = sqlite3_step(s);
      if ((rc & 0xff) == SQLITE_NOTADB) return DataLoss("not an SQLite database file");
      if (rc != SQLITE_ROW) return Error(rc, "reading the application id");
      app_id = sqlite3_column_int64(s, 0);
    }
    if (static_cast<uint32_t>(app_id) != kLedgerApplicationId) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "0x%08x", static_cast<uint32_t>(app_id));
      return DataLoss(std::string("not a warden ledger (SQLite application_id ") + buf +
                      ", expected 0x57444c47)");
    }
    WARDEN_RETURN_IF_ERROR(PrepareAll());
    WARDEN_ASSIGN_OR_RETURN(auto format, Meta("format"));
    if (!format || *format != "warden-ledger") {
      return DataLoss("meta format is " + (format ? "\"" + *format + "\"" : "missing") +
                      ", expected \"warden-ledger\"");
    }
    WARDEN_ASSIGN_OR_RETURN(auto version, Meta("format_version"));
    if (!version || *version != std::to_string(kLedgerFormatVersion)) {
      return DataLoss("unsupported ledger format version " + (version ? *version : "(missing)") +
                      ", this build reads version " + std::to_string(kLedgerFormatVersion));
    }
    WARDEN_ASSIGN_OR_RETURN(auto origin_value, Meta("origin"));
    if (!origin_value) return DataLoss("meta origin is missing");
    origin = *origin_value;
    return Status::Ok();
  }
};

// ---- LogStore ----

LogStore::LogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LogStore::~LogStore() = default;
LogStore::LogStore(LogStore&&) noexcept = default;
LogStore& LogStore::operator=(LogStore&&) noexcept = default;

Result<LogStore> LogStore::Create(const std::string& path, std::string_view origin) {
  WARDEN_RETURN_IF_ERROR(CheckOrigin(origin));
  // O_EXCL: of two concurrent creators exactly one wins; SQLite treats the empty file as an
  // empty database.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return FailedPreconditionError("ledger " + path + ": already exists; not overwriting it");
    }
    return ErrnoStatus(err, "creating ledger", path);
  }
  ::close(fd);
  auto cleanup = [&path] {
    ::unlink(path.c_str());
    ::unlink((path + "-wal").c_str());
    ::unlink((path + "-shm").c_str());
  };
  auto impl_or = Impl::Connect(path, SQLITE_OPEN_READWRITE);
  if (!impl_or.ok()) {
    cleanup();
    return impl_or.error();
  }
  std::unique_ptr<Impl> impl = std::move(impl_or).value();
  auto init = [&]() -> Status {
    Impl& d = *impl;
    // journal_mode=WAL is persistent (recorded in the file header); the rest is per connection.
    WARDEN_RETURN_IF_ERROR(d.Exec("PRAGMA journal_mode=WAL", "enabling WAL"));
    WARDEN_RETURN_IF_ERROR(d.Configure());
    WARDEN_RETURN_IF_ERROR(d.Exec("BEGIN IMMEDIATE", "starting schema transaction"));
    WARDEN_RETURN_IF_ERROR(
        d.Exec(("PRAGMA application_id=" + std::to_string(kLedgerApplicationId)).c_str(),
               "setting application_id"));
    WARDEN_RETURN_IF_ERROR(
        d.Exec(("PRAGMA user_version=" + std::to_string(kLedgerFormatVersion)).c_str(),
               "setting user_version"));
    WARDEN_RETURN_IF_ERROR(d.Exec(kSchema, "creating tables"));
    WARDEN_RETURN_IF_ERROR(d.PrepareAll());
    const std::pair<std::string, std::string> meta[] = {
        {"format", "warden-ledger"},
        {"format_version", std::to_string(kLedgerFormatVersion)},
        {"origin", std::string(origin)},
        {"created_at", std::to_string(NowUnix())},
    };
    for (const auto& [k, v] : meta) {
      Use u(d.set_meta);
      sqlite3_bind_text(*u, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      sqlite3_bind_text(*u, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(*u);
      if (rc != SQLITE_DONE) return d.Error(rc, "writing meta " + k);
    }
    WARDEN_RETURN_IF_ERROR(d.Exec("COMMIT", "committing schema"));
    d.origin = std::string(origin);
    return Status::Ok();
  };
  Status s = init();
  if (!s.ok()) {
    impl.reset();
    cleanup();
    return s;
  }
  return LogStore(std::move(impl));
}

Result<LogStore> LogStore::Open(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "opening ledger", path);
  if (!S_ISREG(st.st_mode)) {
    return DataLossError("ledger " + path + ": not a regular file");
  }
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, Impl::Connect(path, SQLITE_OPEN_READWRITE));
  WARDEN_RETURN_IF_ERROR(impl->Identify());
  WARDEN_RETURN_IF_ERROR(impl->Configure());
  Impl& d = *impl;
  WARDEN_RETURN_IF_ERROR(d.ReadTransaction([&] { return d.LoadFrontier(); }));
  return LogStore(std::move(impl));
}

Result<LogStore::Appended> LogStore::Append(std::string_view type, std::string_view body) {
  WARDEN_ASSIGN_OR_RETURN(auto all, AppendBatch({{std::string(type), std::string(body)}}));
  return all.front();
}

Result<std::vector<LogStore::Appended>> LogStore::AppendBatch(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [type, body] = entries[i];
    const std::string where =
        entries.size() > 1 ? "entry " + std::to_string(i) + " of batch: " : std::string();
    if (!IsValidType(type)) {
      return InvalidArgumentError(where + "entry type \"" + type +
                                  "\" is not 1-64 characters of [a-z0-9._-]");
    }
    if (body.size() > kMaxEntryBodyBytes) {
      return InvalidArgumentError(where + "entry body is " + std::to_string(body.size()) +
                                  " bytes, more than the limit of " +
                                  std::to_string(kMaxEntryBodyBytes));
    }
  }
  std::vector<Appended> out;
  if (entries.empty()) return out;
  out.reserve(entries.size());
  Impl& d = *impl_;
  WARDEN_RETURN_IF_ERROR(d.WriteTransaction([&]() -> Status {
    WARDEN_RETURN_IF_ERROR(d.SyncWithDb());
    const int64_t now = NowUnix();
    std::vector<std::pair<Perfect, Hash>> completed;
    for (const auto& [type, body] : entries) {
      WARDEN_ASSIGN_OR_RETURN(Appended a, d.AppendOne(type, body, now, &completed));
      out.push_back(a);
    }
    return Status::Ok();
  }));
  return out;
}

uint64_t LogStore::Size() const { return impl_->builder.size(); }

Result<Hash> LogStore::Root() const { return impl_->builder.Root(); }

Result<Hash> LogStore::RootAt(uint64_t size) const {
  Impl& d = *impl_;
  if (size > d.builder.size()) {
    return InvalidArgumentError("ledger " + d.path + ": no tree head at size " +
                                std::to_string(size) + "; the log has " +
                                std::to_string(d.builder.size()) + " entries");
  }
  if (size == d.builder.size()) return d.builder.Root();
  Result<Hash> root = Hash{};
  WARDEN_RETURN_IF_ERROR(d.ReadTransaction([&]() -> Status {
    root = d.RangeHash(0, size);
    return root.error();
  }));
  return root;
}

Status LogStore::Refresh() {
  Impl& d = *impl_;
  return d.ReadTransaction([&] { return d.SyncWithDb(); });
}

Result<LogStore::Entry> LogStore::Get(uint64_t index) const {
  Impl& d = *impl_;
  Use u(d.get_entry);
  sqlite3_bind_int64(*u, 1, static_cast<int64_t>(std::min(index, kMaxIndex)));
  const int rc = sqlite3_step(*u);
  if (rc == SQLITE_DONE || index >= kMaxIndex) {
    return NotFoundError("ledger " + d.path + ": no entry " + std::to_string(index) +
                         "; the log has " + std::to_string(d.builder.size()) + " entries");
  }
  if (rc != SQLITE_ROW) return d.Error(rc, "reading entry " + std::to_string(index));
  return Impl::ReadEntryRow(*u, 0, index, d);
}

Result<std::vector<LogStore::Entry>> LogStore::ByType(std::string_view type) const {
  Impl& d = *impl_;
  std::vector<Entry> out;
  Use u(d.by_type);
  sqlite3_bind_text(*u, 1, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
  while (true) {
    const int rc = sqlite3_step(*u);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return d.Error(rc, "listing entries of type " + std::string(type));
    const uint64_t index = static_cast<uint64_t>(sqlite3_column_int64(*u, 0));
    WARDEN_ASSIGN_OR_RETURN(Entry e, Impl::ReadEntryRow(*u, 1, index, d));
    out.push_back(std::move(e));
  }
  return out;
}

Status LogStore::Scan(uint64_t begin, uint64_t end,
                      const std::function<Status(const Entry&)>& fn) const {
  return impl_->ScanRows(begin, std::min(end, impl_->builder.size()), fn);
}

Result<std::vector<Hash>> LogStore::InclusionProof(uint64_t index, uint64_t size) const {
  Impl& d = *impl_;
  if (index >= size || size > d.builder.size()) {
    return InvalidArgumentError("ledger " + d.path + ": no inclusion proof of entry " +
                                std::to_string(index) + " in tree size " + std::to_string(size) +
                                " (need index < size <= " + std::to_string(d.builder.size()) + ")");
  }
  std::vector<Hash> proof;
  WARDEN_RETURN_IF_ERROR(d.ReadTransaction([&]() -> Status {
    for (const NodeRange& r : InclusionProofRanges(index, size)) {
      WARDEN_ASSIGN_OR_RETURN(Hash h, d.RangeHash(r.begin, r.end));
      proof.push_back(h);
    }
    return Status::Ok();
  }));
  return proof;
}

Result<std::vector<Hash>> LogStore::ConsistencyProof(uint64_t size1, uint64_t size2) const {
  Impl& d = *impl_;
  if (size1 == 0 || size1 > size2 || size2 > d.builder.size()) {
    return InvalidArgumentError("ledger " + d.path + ": no consistency proof from size " +
                                std::to_string(size1) + " to " + std::to_string(size2) +
                                " (need 0 < size1 <= size2 <= " + std::to_string(d.builder.size()) +
                                ")");
  }
  std::vector<Hash> proof;
  WARDEN_RETURN_IF_ERROR(d.ReadTransaction([&]() -> Status {
    for (const NodeRange& r : ConsistencyProofRanges(size1, size2)) {
      WARDEN_ASSIGN_OR_RETURN(Hash h, d.RangeHash(r.begin, r.end));
      proof.push_back(h);
    }
    return Status::Ok();
  }));
  return proof;
}

Status LogStore::SaveCheckpoint(uint64_t size, const Hash& root, std::string_view note_text) {
  Impl& d = *impl_;
  WARDEN_ASSIGN_OR_RETURN(Hash want, RootAt(size));
  if (want != root) {
    return VerificationFailedError("ledger " + d.path + ": checkpoint at size " +
                                   std::to_string(size) + " has root " + Hex(root) +
                                   ", but the log's root at that size is " + Hex(want));
  }
  return d.WriteTransaction([&]() -> Status {
    Use u(d.insert_checkpoint);
    sqlite3_bind_int64(*u, 1, static_cast<int64_t>(size));
    sqlite3_bind_blob(*u, 2, root.data(), static_cast<int>(root.size()), SQLITE_STATIC);
    sqlite3_bind_text(*u, 3, note_text.data(), static_cast<int>(note_text.size()), SQLITE_STATIC);
    sqlite3_bind_int64(*u, 4, NowUnix());
    const int rc = sqlite3_step(*u);
    if (rc != SQLITE_DONE) return d.Error(rc, "saving checkpoint");
    return Status::Ok();
  });
}

Result<std::optional<StoredCheckpoint>> LogStore::LatestCheckpoint() const {
  Impl& d = *impl_;
  Use u(d.latest_checkpoint);
  const int rc = sqlite3_step(*u);
  if (rc == SQLITE_DONE) return std::optional<StoredCheckpoint>();
  if (rc != SQLITE_ROW) return d.Error(rc, "reading the latest checkpoint");
  WARDEN_ASSIGN_OR_RETURN(StoredCheckpoint c, Impl::ReadCheckpointRow(*u, d));
  return std::optional<StoredCheckpoint>(std::move(c));
}

Result<std::vector<StoredCheckpoint>> LogStore::Checkpoints() const {
  Impl& d = *impl_;
  std::vector<StoredCheckpoint> out;
  Use u(d.all_checkpoints);
  while (true) {
    const int rc = sqlite3_step(*u);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return d.Error(rc, "listing checkpoints");
    WARDEN_ASSIGN_OR_RETURN(StoredCheckpoint c, Impl::ReadCheckpointRow(*u, d));
    out.push_back(std::move(c));
  }
  return out;
}

Status LogStore::SetMeta(std::string_view key, std::string_view value) {
  Impl& d = *impl_;
  if (key.empty()) return InvalidArgumentError("ledger meta key is empty");
  if (IsReservedMetaKey(key)) {
    return InvalidArgumentError("ledger meta key \"" + std::string(key) +
                                "\" belongs to the store and cannot be set");
  }
  return d.WriteTransaction([&]() -> Status {
    Use u(d.set_meta);
    sqlite3_bind_text(*u, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(*u, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(*u);
    if (rc != SQLITE_DONE) return d.Error(rc, "writing meta key " + std::string(key));
    return Status::Ok();
  });
}

Result<std::optional<std::string>> LogStore::GetMeta(std::string_view key) const {
  return impl_->Meta(key);
}

Status LogStore::Audit(const std::function<Status(const Entry&)>& check_entry) const {
  Impl& d = *impl_;
  const std::string where = "ledger " + d.path + ": audit: ";
  return d.ReadTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(uint64_t size, d.DbSize());
    WARDEN_ASSIGN_OR_RETURN(std::vector<StoredCheckpoint> checkpoints, Checkpoints());
    // Sizes at which a checkpoint needs the recomputed root.
    std::map<uint64_t, Hash> roots_at;
    for (const auto& c : checkpoints) {
      if (c.size > size) {
        return VerificationFailedError(
            where + "checkpoint " + std::to_string(c.id) + " is at size " + std::to_string(c.size) +
            " but the log has only " + std::to_string(size) + " entries");
      }
      roots_at[c.size] = Hash{};
    }
    if (roots_at.count(0)) roots_at[0] = EmptyRoot();

    TreeBuilder rebuilt;
    std::vector<std::pair<Perfect, Hash>> completed;
    uint64_t expected_index = 0;
    Status s = d.ScanRows(0, size, [&](const Entry& e) -> Status {
      if (e.index != expected_index) {
        return VerificationFailedError(where + "entry " + std::to_string(expected_index) +
                                       " is missing (next stored index is " +
                                       std::to_string(e.index) + ")");
      }
      ++expected_index;
      const Hash leaf = LeafHash(e.body);
      if (leaf != e.leaf_hash) {
        return VerificationFailedError(where + "entry " + std::to_string(e.index) +
                                       ": stored leaf hash " + Hex(e.leaf_hash) +
                                       ", its body hashes to " + Hex(leaf));
      }
      if (check_entry) {
        Status c = check_entry(e);
        if (!c.ok()) return c.WithContext(where + "entry " + std::to_string(e.index));
      }
      completed.clear();
      rebuilt.Append(leaf, &completed);
      for (const auto& [p, h] : completed) {
        if (p.level == 0) continue;
        auto stored = d.Node(p);
        const std::string name = "node level " + std::to_string(p.level) + " index " +
                                 std::to_string(p.index) + " (entries [" +
                                 std::to_string(p.begin()) + ", " + std::to_string(p.end()) + "))";
        if (!stored.ok()) {
          return VerificationFailedError(where + name + ": " + stored.error().message());
        }
        if (*stored != h) {
          return VerificationFailedError(where + name + ": stored " + Hex(*stored) +
                                         ", recomputed from its children " + Hex(h));
        }
      }
      auto it = roots_at.find(rebuilt.size());
      if (it != roots_at.end()) it->second = rebuilt.Root();
      return Status::Ok();
    });
    if (s.ok() && expected_index != size) {  // only when the last rows are missing
      s = VerificationFailedError(where + "entry " + std::to_string(expected_index) +
                                  " is missing (the highest index is " + std::to_string(size - 1) +
                                  ")");
    }
    WARDEN_RETURN_IF_ERROR(s);
    {
      Use u(d.count_nodes);
      const int rc = sqlite3_step(*u);
      if (rc != SQLITE_ROW) return d.Error(rc, "counting nodes");
      const uint64_t stored = static_cast<uint64_t>(sqlite3_column_int64(*u, 0));
      const uint64_t want = size - static_cast<uint64_t>(std::popcount(size));
      if (stored != want) {
        return VerificationFailedError(where + "nodes table has " + std::to_string(stored) +
                                       " rows, a log of " + std::to_string(size) + " entries has " +
                                       std::to_string(want));
      }
    }
    for (const auto& c : checkpoints) {
      const Hash& want = roots_at.at(c.size);
      if (c.root != want) {
        return VerificationFailedError(where + "checkpoint " + std::to_string(c.id) + " at size " +
                                       std::to_string(c.size) + ": stored root " + Hex(c.root) +
                                       ", recomputed " + Hex(want));
      }
    }
    if (size < d.builder.size()) {
      return VerificationFailedError(where + "the log has " + std::to_string(size) +
                                     " entries but this handle has seen " +
                                     std::to_string(d.builder.size()));
    }
    if (rebuilt.size() == d.builder.size() && rebuilt.Root() != d.builder.Root()) {
      return VerificationFailedError(where + "in-memory tree head " + Hex(d.builder.Root()) +
                                     " differs from the recomputed " + Hex(rebuilt.Root()));
    }
    return Status::Ok();
  });
}

std::string_view LogStore::origin() const { return impl_->origin; }
const std::string& LogStore::path() const { return impl_->path; }

}  // namespace warden::ledger
