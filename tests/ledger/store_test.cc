#include "ledger/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "base/files.h"
#include "common/temp_dir.h"
#include "ledger/merkle.h"

namespace warden::ledger {
namespace {

using testing::TempDir;

std::string BodyOf(uint64_t i) { return "{\"n\":" + std::to_string(i) + "}"; }

// Runs SQL on the file behind the store's back (the store must be closed or idle).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

LogStore MustCreate(const std::string& path, std::string_view origin = "test.example/log") {
  auto s = LogStore::Create(path, origin);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

LogStore MustOpen(const std::string& path) {
  auto s = LogStore::Open(path);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

// Appends entries [from, to) with BodyOf(i), in batches of `batch`.
void Fill(LogStore& store, uint64_t from, uint64_t to, size_t batch = 100) {
  while (from < to) {
    std::vector<std::pair<std::string, std::string>> b;
    for (; from < to && b.size() < batch; ++from) {
      b.push_back({from % 3 == 0 ? "model-release" : "dataset", BodyOf(from)});
    }
    auto r = store.AppendBatch(b);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
}

std::vector<Hash> Leaves(uint64_t n) {
  std::vector<Hash> out;
  for (uint64_t i = 0; i < n; ++i) out.push_back(LeafHash(BodyOf(i)));
  return out;
}

TEST(StoreLifecycle, CreateOpenAndRefuseToOverwrite) {
  TempDir dir;
  const std::string path = dir / "log.db";
  {
    LogStore store = MustCreate(path, "warden.example/ledger");
    EXPECT_EQ(store.origin(), "warden.example/ledger");
    EXPECT_EQ(store.Size(), 0u);
    EXPECT_EQ(*store.Root(), EmptyRoot());
    EXPECT_EQ(store.path(), path);
  }
  auto again = LogStore::Create(path, "x");
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.error().message().find(path), std::string::npos);

  LogStore store = MustOpen(path);
  EXPECT_EQ(store.origin(), "warden.example/ledger");
  EXPECT_EQ(store.Size(), 0u);

  auto missing = LogStore::Open(dir / "nope.db");
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("nope.db"), std::string::npos);
}

TEST(StoreLifecycle, BadOriginIsRefusedAndLeavesNoFile) {
  TempDir dir;
  EXPECT_EQ(LogStore::Create(dir / "a.db", "").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LogStore::Create(dir / "a.db", "two\nlines").error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LogStore::Create(dir / "a.db", std::string(300, 'o')).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.db"));
  EXPECT_EQ(LogStore::Create(dir / "no/such/dir.db", "o").error().code(), StatusCode::kNotFound);
}

TEST(StoreAppend, EntriesComeBackWithTheirHashes) {
  TempDir dir;
  LogStore store = MustCreate(dir / "log.db");
  auto a = store.Append("model-release", "{\"name\":\"m\"}");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->index, 0u);
  EXPECT_EQ(a->leaf_hash, LeafHash("{\"name\":\"m\"}"));
  auto empty = store.Append("note", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->index, 1u);

  auto e = store.Get(0);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "model-release");
  EXPECT_EQ(e->body, "{\"name\":\"m\"}");
  EXPECT_EQ(e->leaf_hash, a->leaf_hash);
  EXPECT_GT(e->appended_at, 1700000000);
  auto e1 = store.Get(1);
  ASSERT_TRUE(e1.ok());
  EXPECT_EQ(e1->body, "");
  EXPECT_EQ(e1->leaf_hash, LeafHash(""));

  auto none = store.Get(2);
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
  EXPECT_NE(none.error().message().find("no entry 2"), std::string::npos);
  EXPECT_EQ(store.Get(~uint64_t{0}).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store.Root(), NodeHash(a->leaf_hash, LeafHash("")));
  ASSERT_TRUE(store.Audit().ok());
}

TEST(StoreAppend, BinaryBodiesRoundTrip) {
  TempDir dir;
  LogStore store = MustCreate(dir / "log.db");
  std::string body("a\0b\xff\x00z", 6);
  ASSERT_TRUE(store.Append("blob", body).ok());
  EXPECT_EQ(store.Get(0)->body, body);
  ASSERT_TRUE(store.Audit().ok());
}

TEST(StoreAppend, InvalidInputIsRefusedAndBatchesAreAllOrNothing) {
  TempDir dir;
  LogStore store = MustCreate(dir / "log.db");
  EXPECT_EQ(store.Append("", "x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Append("Model", "x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Append(std::string(65, 'a'), "x").error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.Append("big", std::string(kMaxEntryBodyBytes + 1, 'x')).error().code(),
            StatusCode::kInvalidArgument);
  auto bad = store.AppendBatch({{"ok", "1"}, {"ok", "2"}, {"BAD TYPE", "3"}});
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("entry 2 of batch"), std::string::npos)
      << bad.error().message();
  EXPECT_EQ(store.Size(), 0u);
  auto none = store.AppendBatch({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(StoreAppend, FailedTransactionLeavesStateUnchanged) {
  TempDir dir;
  const std::string path = dir / "log.db";
  LogStore store = MustCreate(path);
  Fill(store, 0, 5);
  const Hash root = *store.Root();
  // Make the next node insert fail: a row already sits where the append will write.
  // Appending entry 5 completes node (1, 2).
  RawExec(path, "INSERT INTO nodes(level, idx, hash) VALUES(1, 2, zeroblob(32))");
  auto r = store.Append("x", BodyOf(5));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(store.Size(), 5u);
  EXPECT_EQ(*store.Root(), root);
  EXPECT_EQ(store.Get(5).error().code(), StatusCode::kNotFound);
  RawExec(path, "DELETE FROM nodes WHERE level = 1 AND idx = 2");
  ASSERT_TRUE(store.Append("x", BodyOf(5)).ok());
  ASSERT_TRUE(store.Audit().ok());
}

// Proofs from the store at many sizes, checked with the pure verifiers, and every past root
// against the in-memory reference.
TEST(StoreProofs, VerifyAtManySizes) {
  TempDir dir;
  const std::string path = dir / "log.db";
  LogStore store = MustCreate(path);
  constexpr uint64_t kN = 1100;
  const auto leaves = Leaves(kN);
  std::mt19937_64 rng(7);
  uint64_t size = 0;
  while (size < kN) {
    const uint64_t next = std::min<uint64_t>(kN, size + 1 + rng() % 90);
    Fill(store, size, next, 37);
    size = next;
    ASSERT_EQ(store.Size(), size);
    const Hash root = *store.Root();
    ASSERT_EQ(root, RootOf(std::span(leaves).first(size)));
    for (int k = 0; k < 6; ++k) {
      const uint64_t i = k == 0 ? size - 1 : rng() % size;
      auto proof = store.InclusionProof(i, size);
      ASSERT_TRUE(proof.ok()) << proof.error().ToString();
      ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], *proof, root).ok()) << i << "/" << size;
      const uint64_t m = 1 + rng() % size;
      auto cproof = store.ConsistencyProof(m, size);
      ASSERT_TRUE(cproof.ok()) << cproof.error().ToString();
      auto old_root = store.RootAt(m);
      ASSERT_TRUE(old_root.ok());
      ASSERT_TRUE(VerifyConsistency(m, size, *cproof, *old_root, root).ok()) << m << "->" << size;
      // Proofs against an older tree size too.
      const uint64_t older = 1 + rng() % size;
      const uint64_t j = rng() % older;
      auto old_proof = store.InclusionProof(j, older);
      ASSERT_TRUE(old_proof.ok());
      ASSERT_TRUE(VerifyInclusion(j, older, leaves[j], *old_proof, *store.RootAt(older)).ok());
    }
  }
  // Every past root.
  TreeBuilder ref;
  for (uint64_t n = 0; n <= kN; ++n) {
    auto r = store.RootAt(n);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_EQ(*r, ref.Root()) << n;
    if (n < kN) ref.Append(leaves[n]);
  }
  EXPECT_EQ(store.RootAt(kN + 1).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.InclusionProof(kN, kN).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.InclusionProof(0, kN + 1).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.ConsistencyProof(0, kN).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.ConsistencyProof(5, 4).error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store.ConsistencyProof(kN, kN)->empty());
  ASSERT_TRUE(store.Audit().ok());
}

TEST(StoreProofs, ReopenGivesSameRootAndKeepsAppending) {
  TempDir dir;
  const std::string path = dir / "log.db";
  Hash root;
  {
    LogStore store = MustCreate(path);
    Fill(store, 0, 777);
    root = *store.Root();
  }
  LogStore store = MustOpen(path);
  EXPECT_EQ(store.Size(), 777u);
  EXPECT_EQ(*store.Root(), root);
  Fill(store, 777, 1029);
  const auto leaves = Leaves(1029);
  EXPECT_EQ(*store.Root(), RootOf(leaves));
  EXPECT_EQ(*store.RootAt(777), root);
  ASSERT_TRUE(store.Audit().ok());
}

TEST(StoreProofs, SecondHandleSeesAndExtendsTheLog) {
  TempDir dir;
  const std::string path = dir / "log.db";
  LogStore a = MustCreate(path);
  Fill(a, 0, 10);
  LogStore b = MustOpen(path);
  Fill(b, 10, 20);
  // `a` has not seen b's entries yet; its next append catches up first.
  EXPECT_EQ(a.Size(), 10u);
  auto r = a.Append("dataset", BodyOf(20));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->index, 20u);
  ASSERT_TRUE(b.Refresh().ok());
  EXPECT_EQ(b.Size(), 21u);
  EXPECT_EQ(*a.Root(), *b.Root());
  EXPECT_EQ(*a.Root(), RootOf(Leaves(21)));
  ASSERT_TRUE(a.Audit().ok());
}

TEST(StoreQueries, ByTypeAndScan) {
  TempDir dir;
  LogStore store = MustCreate(dir / "log.db");
  Fill(store, 0, 30);
  auto releases = store.ByType("model-release");
  ASSERT_TRUE(releases.ok());
  ASSERT_EQ(releases->size(), 10u);
  for (size_t k = 0; k < releases->size(); ++k) {
    EXPECT_EQ((*releases)[k].index, 3 * k);
    EXPECT_EQ((*releases)[k].body, BodyOf(3 * k));
  }
  EXPECT_TRUE(store.ByType("nothing")->empty());
  std::vector<uint64_t> seen;
  ASSERT_TRUE(store
                  .Scan(25, 1000,
                        [&](const LogStore::Entry& e) {
                          seen.push_back(e.index);
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{25, 26, 27, 28, 29}));
  Status stop = store.Scan(0, 30, [](const LogStore::Entry& e) {
    return e.index == 4 ? NotFoundError("stop") : Status::Ok();
  });
  EXPECT_EQ(stop.code(), StatusCode::kNotFound);
}

TEST(StoreCheckpoints, SavedOnlyWhenTheRootMatches) {
  TempDir dir;
  const std::string path = dir / "log.db";
  LogStore store = MustCreate(path);
  EXPECT_FALSE(store.LatestCheckpoint()->has_value());
  Fill(store, 0, 40);
  const Hash r20 = *store.RootAt(20);
  ASSERT_TRUE(store.SaveCheckpoint(20, r20, "note at 20\n").ok());
  ASSERT_TRUE(store.SaveCheckpoint(40, *store.Root(), "note at 40\n").ok());
  Status wrong = store.SaveCheckpoint(30, r20, "bad");
  EXPECT_EQ(wrong.code(), StatusCode::kVerificationFailed);
  EXPECT_NE(wrong.message().find(crypto::DigestHex(r20)), std::string::npos);
  EXPECT_EQ(store.SaveCheckpoint(41, r20, "x").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store.SaveCheckpoint(0, EmptyRoot(), "empty").ok());

  auto latest = store.LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->size, 0u);
  EXPECT_EQ((*latest)->note, "empty");
  auto all = store.Checkpoints();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].size, 40u);
  EXPECT_EQ((*all)[1].note, "note at 40\n");
  EXPECT_EQ((*all)[0].root, r20);
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  ASSERT_TRUE(store.Audit().ok());
}

TEST(StoreMeta, SetGetAndReservedKeys) {
  TempDir dir;
  const std::string path = dir / "log.db";
  {
    LogStore store = MustCreate(path, "o");
    ASSERT_TRUE(store.SetMeta("quorum", "2").ok());
    ASSERT_TRUE(store.SetMeta("quorum", "3").ok());
    ASSERT_TRUE(store.SetMeta("stakeholders", "{\"keys\":[]}").ok());
    EXPECT_EQ(store.SetMeta("origin", "evil").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.SetMeta("format_version", "9").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store.SetMeta("", "x").code(), StatusCode::kInvalidArgument);
  }
  LogStore store = MustOpen(path);
  EXPECT_EQ(store.GetMeta("quorum")->value_or(""), "3");
  EXPECT_EQ(store.GetMeta("stakeholders")->value_or(""), "{\"keys\":[]}");
  EXPECT_EQ(store.GetMeta("origin")->value_or(""), "o");
  EXPECT_EQ(store.GetMeta("format")->value_or(""), "warden-ledger");
  EXPECT_FALSE(store.GetMeta("missing")->has_value());
}

// ---- Files that are not ledgers ----

struct NotALedgerCase {
  const char* name;
  std::function<void(const std::string& path)> make;
  const char* want;  // part of the message
};

TEST(StoreOpen, NotALedgerIsDataLoss) {
  const NotALedgerCase cases[] = {
      {"random_bytes",
       [](const std::string& p) {
         std::mt19937 rng(1);
         std::string bytes(8192, '\0');
         for (char& c : bytes) c = static_cast<char>(rng());
         ASSERT_TRUE(WriteFileAtomic(p, bytes).ok());
       },
       "not an SQLite database"},
      {"text_file", [](const std::string& p) { ASSERT_TRUE(WriteFileAtomic(p, "hello\n").ok()); },
       "not an SQLite database"},
      {"empty_file", [](const std::string& p) { ASSERT_TRUE(WriteFileAtomic(p, "").ok()); },
       "not a warden ledger"},
      {"unrelated_sqlite_db",
       [](const std::string& p) { RawExec(p, "CREATE TABLE t(x); INSERT INTO t VALUES(1);"); },
       "not a warden ledger (SQLite application_id 0x00000000"},
      {"wrong_format_version",
       [](const std::string& p) {
         { MustCreate(p); }
         RawExec(p, "UPDATE meta SET value = '2' WHERE key = 'format_version'");
       },
       "unsupported ledger format version 2"},
      {"wrong_format_name",
       [](const std::string& p) {
         { MustCreate(p); }
         RawExec(p, "UPDATE meta SET value = 'other' WHERE key = 'format'");
       },
       "meta format is \"other\""},
      {"app_id_but_no_tables",
       [](const std::string& p) { RawExec(p, "PRAGMA application_id = 1464093767;"); },
       "no such table"},
      {"missing_frontier_node",
       [](const std::string& p) {
         {
           LogStore s = MustCreate(p);
           Fill(s, 0, 6);
         }
         RawExec(p, "DELETE FROM nodes WHERE level = 2");
       },
       "node level 2 index 0 is missing"},
      {"truncated_ledger",
       [](const std::string& p) {
         {
           LogStore s = MustCreate(p);
           Fill(s, 0, 500);
         }
         std::filesystem::resize_file(p, 4096 * 3);
       },
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir / "ledger.db";
    c.make(path);
    auto s = LogStore::Open(path);
    ASSERT_FALSE(s.ok());
    // "app_id_but_no_tables" fails while preparing statements: Internal from SQLite, which
    // is acceptable there; everything else must be DataLoss.
    if (std::string(c.name) != "app_id_but_no_tables") {
      EXPECT_EQ(s.error().code(), StatusCode::kDataLoss) << s.error().ToString();
    }
    EXPECT_NE(s.error().message().find(c.want), std::string::npos) << s.error().ToString();
    EXPECT_NE(s.error().message().find(path), std::string::npos) << s.error().ToString();
  }
  TempDir dir;
  auto d = LogStore::Open(dir.path());
  EXPECT_EQ(d.error().code(), StatusCode::kDataLoss);
}

// ---- Tampering: Audit names what was changed ----

struct TamperCase {
  const char* name;
  std::string sql;
  const char* want;  // part of Audit()'s message
};

TEST(StoreAudit, NamesTheTamperedRow) {
  const TamperCase cases[] = {
      {"body_edited", "UPDATE entries SET body = CAST('{\"n\":666}' AS BLOB) WHERE idx = 17",
       "entry 17: stored leaf hash"},
      {"leaf_hash_edited",
       "UPDATE entries SET leaf_hash = (SELECT leaf_hash FROM entries WHERE idx = 3) WHERE idx "
       "= 40",
       "entry 40: stored leaf hash"},
      {"body_and_leaf_hash_edited_consistently",
       "UPDATE entries SET body = CAST('x' AS BLOB), leaf_hash = X'" +
           crypto::DigestHex(LeafHash("x")) + "' WHERE idx = 9",
       "node level 1 index 4 (entries [8, 10)): stored"},
      {"node_hash_edited", "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 5",
       "node level 3 index 5 (entries [40, 48)): stored 0000"},
      {"node_deleted", "DELETE FROM nodes WHERE level = 1 AND idx = 30",
       "node level 1 index 30 (entries [60, 62)): ledger"},
      {"node_added", "INSERT INTO nodes(level, idx, hash) VALUES(7, 99, zeroblob(32))",
       "nodes table has 98 rows, a log of 100 entries has 97"},
      {"entry_deleted", "DELETE FROM entries WHERE idx = 50", "entry 50 is missing"},
      {"checkpoint_root_edited", "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 64",
       "at size 64: stored root 0000"},
      {"checkpoint_beyond_log", "UPDATE checkpoints SET size = 101 WHERE size = 64",
       "is at size 101 but the log has only 100 entries"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir / "ledger.db";
    {
      LogStore s = MustCreate(path);
      Fill(s, 0, 100);
      ASSERT_TRUE(s.SaveCheckpoint(64, *s.RootAt(64), "cp").ok());
      ASSERT_TRUE(s.SaveCheckpoint(100, *s.Root(), "cp").ok());
      ASSERT_TRUE(s.Audit().ok());
    }
    RawExec(path, c.sql);
    auto s = LogStore::Open(path);
    ASSERT_TRUE(s.ok()) << s.error().ToString();  // none of these touch the frontier
    Status audit = s->Audit();
    EXPECT_EQ(audit.code(), StatusCode::kVerificationFailed) << audit.ToString();
    EXPECT_NE(audit.message().find(c.want), std::string::npos) << audit.ToString();
  }
}

TEST(StoreAudit, CheckEntryCallbackErrorsCarryTheIndex) {
  TempDir dir;
  LogStore store = MustCreate(dir / "ledger.db");
  Fill(store, 0, 10);
  Status s = store.Audit([](const LogStore::Entry& e) {
    return e.index == 7 ? DataLossError("type does not match body") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 7: type does not match body"), std::string::npos)
      << s.message();
}

TEST(StoreAudit, EmptyLogPasses) {
  TempDir dir;
  LogStore store = MustCreate(dir / "ledger.db");
  ASSERT_TRUE(store.Audit().ok());
}

}  // namespace
}  // namespace warden::ledger
