// Tests of the Ledger layer (src/ledger/ledger.h): configuration and governance, typed appends,
// signed checkpoints that refuse an inconsistent log, proofs checked with the pure verifiers,
// audits that name the tampered index, lineage walks and the witness.
//
// Every proof a test receives from the ledger is checked the way an outside verifier would:
// parsed from its text form and verified with the storage-free functions of merkle.h / note.h,
// never by asking the ledger again. Tampering goes straight to the SQLite file with the sqlite3
// C API while no Ledger holds it.
#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/json.h"
#include "common/temp_dir.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"
#include "ledger/entries.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/store.h"

namespace warden::ledger {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kEntriesDir = std::string(WARDEN_TESTDATA_DIR) + "/ledger/entries/";
constexpr std::string_view kOrigin = "ledger.test/log";

#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "missing: " << (needle) << "\nin: " << (haystack)

// ---------------------------------------------------------------------------------------
// Helpers.

crypto::PrivateKey NewKey(crypto::KeyType type = crypto::KeyType::kEd25519) {
  auto k = crypto::PrivateKey::Generate(type);
  EXPECT_TRUE(k.ok()) << k.error().ToString();
  return std::move(k).value();
}

Stakeholder StakeholderFor(const std::string& name, const crypto::PrivateKey& key) {
  return {name, key.Public().ToPem(), key.Public().Fingerprint()};
}

// "sha256:" + the hex SHA-256 of `label`: distinct, valid digests with readable names.
std::string Dg(std::string_view label) {
  return "sha256:" + crypto::DigestHex(crypto::Sha256(label));
}

std::string Release(const std::string& model, const std::string& version = "1.0") {
  return R"({"name":"m","version":")" + version + R"(","model_digest":")" + model +
         R"(","bundle_digest":")" + Dg("bundle " + model + version) + R"("})";
}
std::string TrainingRun(const std::string& out, const std::vector<std::string>& roots,
                        const std::string& base = "") {
  std::string r = "[";
  for (size_t i = 0; i < roots.size(); ++i) r += (i ? ",\"" : "\"") + roots[i] + "\"";
  r += "]";
  return R"({"dataset_roots":)" + r + R"(,"config_digest":")" + Dg("config") +
         R"(","output_model_digest":")" + out + R"(","code_revision":"abc123",)" +
         R"("hardware":"1x test","started":"2026-01-01T00:00:00Z",)" +
         R"("finished":"2026-01-02T00:00:00Z")" +
         (base.empty() ? "" : R"(,"base_model_digest":")" + base + "\"") + "}";
}
std::string FineTune(const std::string& parent, const std::string& child,
                     const std::string& root = "") {
  return R"({"parent_digest":")" + parent + R"(","child_digest":")" + child + "\"" +
         (root.empty() ? "" : R"(,"dataset_roots":[")" + root + "\"]") + "}";
}
std::string Dataset(const std::string& root, const std::string& name) {
  return R"({"root":")" + root + R"(","count":10,"license":"CC0-1.0","source":"https://x.test/)" +
         name + R"(","name":")" + name + "\"}";
}
std::string Eval(const std::string& model) {
  return R"({"model_digest":")" + model + R"(","report_digest":")" + Dg("report " + model) +
         R"(","summary":{"score":0.5}})";
}
std::string Policy(const std::string& digest) {
  return R"({"policy_digest":")" + digest + R"(","location":"policies/p.yaml"})";
}

// Runs SQL on the ledger file behind the ledger's back (no Ledger may hold the file).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  EXPECT_EQ(sqlite3_changes(db), 1) << "expected to change exactly one row: " << sql;
  sqlite3_free(err);
  sqlite3_close(db);
}

// A fresh ledger in a temporary directory with its Ed25519 log key.
class LedgerTest : public ::testing::Test {
 protected:
  LedgerTest() : log_key_(NewKey()), path_(dir_ / "test.ledger") {}

  LedgerConfig BaseConfig() const {
    LedgerConfig c;
    c.origin = std::string(kOrigin);
    return c;
  }

  Ledger MustInit(LedgerConfig c) {
    auto l = Ledger::Init(path_, log_key_.Public(), std::move(c));
    EXPECT_TRUE(l.ok()) << l.error().ToString();
    return std::move(l).value();
  }
  Ledger MustInit() { return MustInit(BaseConfig()); }

  Ledger MustOpen() {
    auto l = Ledger::Open(path_);
    EXPECT_TRUE(l.ok()) << l.error().ToString();
    return std::move(l).value();
  }

  static LogStore::Appended MustAppend(Ledger& l, std::string_view type, std::string_view json) {
    auto a = l.Append(type, json, "test entry");
    EXPECT_TRUE(a.ok()) << type << " " << json << ": " << a.error().ToString();
    return a.value_or(LogStore::Appended{});
  }

  std::string MustCheckpoint(Ledger& l) {
    auto n = l.Checkpoint(log_key_);
    EXPECT_TRUE(n.ok()) << n.error().ToString();
    return n.value_or("");
  }

  NoteVerifier LogVerifier(const Ledger& l) const {
    auto v = NoteVerifier::FromVkey(l.config().log_vkey);
    EXPECT_TRUE(v.ok()) << v.error().ToString();
    return std::move(v).value();
  }

  // Verifies the note with the log key, as an outside reader would, and returns its body.
  Checkpoint OpenCheckpoint(const Ledger& l, const std::string& note_text) {
    auto note = ParseNote(note_text, "checkpoint note");
    EXPECT_TRUE(note.ok()) << note.error().ToString();
    if (!note.ok()) return {};
    const NoteVerifier v = LogVerifier(l);
    auto opened = OpenNote(*note, std::span<const NoteVerifier>(&v, 1));
    EXPECT_TRUE(opened.ok()) << opened.error().ToString();
    auto cp = ParseCheckpoint(note->text, "checkpoint");
    EXPECT_TRUE(cp.ok()) << cp.error().ToString();
    return cp.value_or(Checkpoint{});
  }

  TempDir dir_;
  crypto::PrivateKey log_key_;
  std::string path_;
};

// ---------------------------------------------------------------------------------------
// Init and Open.

TEST_F(LedgerTest, InitRefusesANonEd25519LogKey) {
  const crypto::PrivateKey ecdsa = NewKey(crypto::KeyType::kEcdsaP256);
  auto l = Ledger::Init(path_, ecdsa.Public(), BaseConfig());
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kInvalidArgument) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "Ed25519");
  EXPECT_CONTAINS(l.error().message(), "ecdsa-p256");
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(LedgerTest, InitRefusesADuplicateStakeholderName) {
  LedgerConfig c = BaseConfig();
  c.stakeholders = {StakeholderFor("alice", NewKey()), StakeholderFor("alice", NewKey())};
  auto l = Ledger::Init(path_, log_key_.Public(), c);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kInvalidArgument) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "alice");
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(LedgerTest, InitRefusesOneKeyUnderTwoStakeholderNames) {
  const crypto::PrivateKey k = NewKey();
  LedgerConfig c = BaseConfig();
  c.stakeholders = {StakeholderFor("alice", k), StakeholderFor("mallory", k)};
  auto l = Ledger::Init(path_, log_key_.Public(), c);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kInvalidArgument) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "mallory");
}

TEST_F(LedgerTest, InitRefusesQuorumAboveTheNumberOfStakeholders) {
  LedgerConfig c = BaseConfig();
  c.stakeholders = {StakeholderFor("a", NewKey()), StakeholderFor("b", NewKey()),
                    StakeholderFor("c", NewKey())};
  c.quorum = 4;
  auto l = Ledger::Init(path_, log_key_.Public(), c);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kInvalidArgument) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "quorum 4");
  EXPECT_CONTAINS(l.error().message(), "3 stakeholders");
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(LedgerTest, InitRefusesAnOriginThatIsNotAKeyName) {
  LedgerConfig c = BaseConfig();
  c.origin = "has space";
  auto l = Ledger::Init(path_, log_key_.Public(), c);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kInvalidArgument) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "has space");
}

TEST_F(LedgerTest, InitRefusesAMalformedWitnessKey) {
  LedgerConfig c = BaseConfig();
  c.witness_vkeys = {"not-a-vkey"};
  auto l = Ledger::Init(path_, log_key_.Public(), c);
  ASSERT_FALSE(l.ok());
  EXPECT_CONTAINS(l.error().message(), "--witness");
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(LedgerTest, DefaultQuorumIsAMajority) {
  struct Case {
    size_t n;
    uint32_t want;
  };
  for (const Case& c : {Case{0, 0}, Case{1, 1}, Case{2, 2}, Case{3, 2}, Case{4, 3}, Case{5, 3}}) {
    TempDir d;
    LedgerConfig cfg = BaseConfig();
    for (size_t i = 0; i < c.n; ++i) {
      cfg.stakeholders.push_back(StakeholderFor("s" + std::to_string(i), NewKey()));
    }
    auto l = Ledger::Init(d / "l.db", log_key_.Public(), cfg);
    ASSERT_TRUE(l.ok()) << l.error().ToString();
    EXPECT_EQ(l->config().quorum, c.want) << c.n << " stakeholders";
    // And it is what a later Open() reads back.
    auto reopened = Ledger::Open(d / "l.db");
    ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
    EXPECT_EQ(reopened->config().quorum, c.want) << c.n << " stakeholders";
  }
}

TEST_F(LedgerTest, OpenReadsBackTheWholeConfiguration) {
  const crypto::PrivateKey alice = NewKey(), bob = NewKey(crypto::KeyType::kEcdsaP256);
  const crypto::PrivateKey wkey = NewKey();
  auto w = NoteSigner::FromPrivateKey("witness.test/w1", wkey, NoteKeyType::kEd25519Cosignature);
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  LedgerConfig c = BaseConfig();
  c.stakeholders = {StakeholderFor("alice", alice), StakeholderFor("bob", bob)};
  c.quorum = 1;
  c.witness_vkeys = {w->Verifier().Vkey()};
  {
    Ledger l = MustInit(c);
    auto want = NoteVerifier::FromPublicKey(std::string(kOrigin), log_key_.Public());
    ASSERT_TRUE(want.ok());
    EXPECT_EQ(l.config().log_vkey, want->Vkey());
  }
  Ledger l = MustOpen();
  EXPECT_EQ(l.config().origin, kOrigin);
  EXPECT_EQ(l.config().quorum, 1u);
  ASSERT_EQ(l.config().stakeholders.size(), 2u);
  EXPECT_EQ(l.config().stakeholders[1].name, "bob");
  EXPECT_EQ(l.config().stakeholders[1].key_id, bob.Public().Fingerprint());
  EXPECT_EQ(l.config().stakeholders[1].public_key_pem, bob.Public().ToPem());
  EXPECT_EQ(l.config().witness_vkeys, c.witness_vkeys);
  EXPECT_EQ(l.store().origin(), kOrigin);
}

TEST_F(LedgerTest, InitRefusesAnExistingFile) {
  { Ledger l = MustInit(); }
  auto again = Ledger::Init(path_, log_key_.Public(), BaseConfig());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition) << again.error().ToString();
}

TEST_F(LedgerTest, OpenOfANonLedgerFileIsDataLoss) {
  dir_.Write("notes.txt", std::string(8192, 'x'));
  auto l = Ledger::Open(dir_ / "notes.txt");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kDataLoss) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "notes.txt");
}

TEST_F(LedgerTest, OpenOfABareLogStoreWithoutConfigurationIsDataLoss) {
  { ASSERT_TRUE(LogStore::Create(path_, kOrigin).ok()); }
  auto l = Ledger::Open(path_);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kDataLoss) << l.error().ToString();
  EXPECT_CONTAINS(l.error().message(), "configuration");
}

TEST_F(LedgerTest, OpenOfAMissingFileIsNotFound) {
  auto l = Ledger::Open(dir_ / "absent.ledger");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), StatusCode::kNotFound) << l.error().ToString();
}

// ---------------------------------------------------------------------------------------
// Append.

TEST_F(LedgerTest, AppendStoresTheCanonicalFormWhateverTheLayout) {
  Ledger l = MustInit();
  const std::string a = R"({"name":"m","version":"1","model_digest":")" + Dg("m") +
                        R"(","bundle_digest":")" + Dg("b") + R"("})";
  const std::string b = "{\n  \"bundle_digest\" :  \"" + Dg("b") + "\",\n\t\"version\": \"1\"," +
                        "\"model_digest\":\"" + Dg("m") + "\",   \"name\":\"m\"\n}\n";
  const auto first = MustAppend(l, "model-release", a);
  const auto second = MustAppend(l, "model-release", b);
  EXPECT_EQ(first.index, 0u);
  EXPECT_EQ(second.index, 1u);
  EXPECT_EQ(first.leaf_hash, second.leaf_hash);
  auto e = l.store().Get(1);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "model-release");
  const std::string canonical = R"({"bundle_digest":")" + Dg("b") + R"(","model_digest":")" +
                                Dg("m") + R"(","name":"m","type":"model-release","version":"1"})";
  EXPECT_EQ(e->body, canonical);
  EXPECT_EQ(e->leaf_hash, LeafHash(canonical));
}

TEST_F(LedgerTest, AppendOfEveryExampleGivesTheLeafOfItsCanonicalFile) {
  Ledger l = MustInit();
  for (std::string_view type : EntryTypes()) {
    if (type == "approval") continue;  // signed for another ledger; see the approval tests
    const std::string json = testing::ReadAll(kEntriesDir + std::string(type) + ".json");
    const std::string canonical = testing::ReadAll(kEntriesDir + std::string(type) + ".canonical");
    ASSERT_FALSE(json.empty()) << type;
    const auto a = MustAppend(l, type, json);
    EXPECT_EQ(a.leaf_hash, LeafHash(canonical)) << type;
    // The type may also come from the body alone.
    const auto b = MustAppend(l, "", canonical);
    EXPECT_EQ(b.leaf_hash, a.leaf_hash) << type;
  }
  EXPECT_TRUE(l.Audit().ok());
}

TEST_F(LedgerTest, AppendRefusesAnUnknownTypeMemberAsDataLoss) {
  Ledger l = MustInit();
  auto a = l.Append("", R"({"type":"frobnicate","x":1})", "weird.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), StatusCode::kDataLoss) << a.error().ToString();
  EXPECT_CONTAINS(a.error().message(), "weird.json");
  EXPECT_CONTAINS(a.error().message(), "frobnicate");
  EXPECT_EQ(l.store().Size(), 0u);
}

TEST_F(LedgerTest, AppendRefusesAnUnknownTypeArgumentAsUsage) {
  // entries.h: an unknown TYPE argument came from the caller (InvalidArgument, exit 2).
  Ledger l = MustInit();
  auto a = l.Append("frobnicate", Release(Dg("m")), "r.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), StatusCode::kInvalidArgument) << a.error().ToString();
  EXPECT_CONTAINS(a.error().message(), "frobnicate");
  EXPECT_EQ(l.store().Size(), 0u);
}

TEST_F(LedgerTest, AppendRefusesMalformedEntriesNamingTheField) {
  Ledger l = MustInit();
  struct Case {
    const char* name;
    std::string type;
    std::string json;
    std::string names;
  };
  const Case cases[] = {
      {"not_json", "model-release", "{\"name\":", "line 1"},
      {"missing_field", "model-release",
       R"({"name":"m","version":"1","model_digest":")" + Dg("m") + "\"}", "bundle_digest"},
      {"unknown_field", "dataset",
       R"({"root":")" + Dg("r") + R"(","count":1,"license":"x","source":"s","colour":"red"})",
       "colour"},
      {"bad_digest", "eval-report",
       R"({"model_digest":"sha256:XYZ","report_digest":")" + Dg("r") + R"(","summary":{"a":1}})",
       "model_digest"},
      {"duplicate_key", "policy",
       R"({"policy_digest":")" + Dg("p") + R"(","location":"a","location":"b"})", "location"},
      {"type_mismatch", "policy",
       R"({"type":"dataset","policy_digest":")" + Dg("p") + R"(","location":"a"})", "type"},
      {"own_parent", "fine-tune", FineTune(Dg("a"), Dg("a")), "child_digest"},
      {"not_an_object", "policy", "[1,2]", "object"},
  };
  for (const Case& c : cases) {
    auto a = l.Append(c.type, c.json, "bad.json");
    ASSERT_FALSE(a.ok()) << c.name;
    EXPECT_EQ(a.error().code(), StatusCode::kDataLoss) << c.name << ": " << a.error().ToString();
    EXPECT_CONTAINS(a.error().message(), "bad.json");
    EXPECT_CONTAINS(a.error().message(), c.names);
  }
  EXPECT_EQ(l.store().Size(), 0u);
}

// ---------------------------------------------------------------------------------------
// Governance: approvals and policy status.

class LedgerGovernanceTest : public LedgerTest {
 protected:
  LedgerGovernanceTest()
      : alice_(NewKey()), bob_(NewKey(crypto::KeyType::kEcdsaP256)), carol_(NewKey()) {}

  Ledger MustInitWithStakeholders(uint32_t quorum = 2) {
    LedgerConfig c = BaseConfig();
    c.stakeholders = {StakeholderFor("alice", alice_), StakeholderFor("bob", bob_),
                      StakeholderFor("carol", carol_)};
    c.quorum = quorum;
    return MustInit(c);
  }

  // An approval entry as JSON, signed by `signer` over `signed_digest`, claiming `digest`.
  static std::string ApprovalJson(const crypto::PrivateKey& signer, std::string_view digest,
                                  std::string_view signed_digest, bool revoke_claimed,
                                  bool revoke_signed, std::string_view origin = kOrigin) {
    auto sig = signer.Sign(AsBytes(ApprovalMessage(origin, signed_digest, revoke_signed)));
    EXPECT_TRUE(sig.ok());
    json::object o;
    o["policy_digest"] = digest;
    o["approver"] = signer.Public().Fingerprint();
    o["signature"] = Base64Encode(sig.value_or(""));
    if (revoke_claimed) o["revokes"] = true;
    return json::Canonical(o);
  }

  static void MustApprove(Ledger& l, std::string_view digest, const crypto::PrivateKey& k,
                          bool revoke = false) {
    auto a = l.Approve(digest, k, revoke);
    ASSERT_TRUE(a.ok()) << a.error().ToString();
  }

  static PolicyStatus MustStatus(Ledger& l, std::string_view digest) {
    auto s = l.StatusOfPolicy(digest);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.value_or(PolicyStatus{});
  }

  const std::string policy_ = Dg("policy v1");
  crypto::PrivateKey alice_, bob_, carol_;
};

TEST(LedgerApprovalMessageTest, SaysWhatIsSignedAndForWhichLog) {
  EXPECT_EQ(ApprovalMessage("o", "sha256:ab", false), "warden-policy-approval/v1\no\nsha256:ab\n");
  EXPECT_EQ(ApprovalMessage("o", "sha256:ab", true), "warden-policy-revocation/v1\no\nsha256:ab\n");
}

TEST_F(LedgerGovernanceTest, ApprovalByANonStakeholderIsRefused) {
  Ledger l = MustInitWithStakeholders();
  const crypto::PrivateKey mallory = NewKey();
  auto a = l.Approve(policy_, mallory, false);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), StatusCode::kVerificationFailed) << a.error().ToString();
  EXPECT_CONTAINS(a.error().message(), mallory.Public().Fingerprint());
  EXPECT_CONTAINS(a.error().message(), "not a stakeholder");
  EXPECT_EQ(l.store().Size(), 0u);
}

TEST_F(LedgerGovernanceTest, ApprovalSignedOverAnotherDigestIsRefused) {
  Ledger l = MustInitWithStakeholders();
  auto a = l.Append("approval", ApprovalJson(alice_, policy_, Dg("other"), false, false),
                    "approval.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), StatusCode::kVerificationFailed) << a.error().ToString();
  EXPECT_CONTAINS(a.error().message(), "approval.json");
  EXPECT_CONTAINS(a.error().message(), "alice");
  EXPECT_EQ(l.store().Size(), 0u);
}

TEST_F(LedgerGovernanceTest, ApprovalWithAForgedSignatureIsRefused) {
  Ledger l = MustInitWithStakeholders();
  // Carol's signature presented as Alice's (the approver field names Alice's key).
  json::value v = *json::Parse(ApprovalJson(carol_, policy_, policy_, false, false), "x");
  v.as_object()["approver"] = alice_.Public().Fingerprint();
  auto a = l.Append("approval", json::Canonical(v), "approval.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), StatusCode::kVerificationFailed) << a.error().ToString();
  EXPECT_CONTAINS(a.error().message(), "alice");
}

TEST_F(LedgerGovernanceTest, ApprovalSignedForAnotherLogOrTheOppositeVerdictIsRefused) {
  Ledger l = MustInitWithStakeholders();
  struct Case {
    const char* name;
    std::string json;
  };
  const Case cases[] = {
      {"other_origin", ApprovalJson(alice_, policy_, policy_, false, false, "other.test/log")},
      {"approval_signed_presented_as_revocation",
       ApprovalJson(alice_, policy_, policy_, true, false)},
      {"revocation_signed_presented_as_approval",
       ApprovalJson(alice_, policy_, policy_, false, true)},
  };
  for (const Case& c : cases) {
    auto a = l.Append("approval", c.json, c.name);
    ASSERT_FALSE(a.ok()) << c.name;
    EXPECT_EQ(a.error().code(), StatusCode::kVerificationFailed) << c.name;
    EXPECT_CONTAINS(a.error().message(), c.name);
  }
  EXPECT_EQ(l.store().Size(), 0u);
}

TEST_F(LedgerGovernanceTest, ValidApprovalIsAcceptedFromJsonAndFromApprove) {
  Ledger l = MustInitWithStakeholders();
  auto a = l.Append("approval", ApprovalJson(bob_, policy_, policy_, false, false), "bob.json");
  ASSERT_TRUE(a.ok()) << a.error().ToString();  // ECDSA stakeholder
  auto b = l.Approve(policy_, alice_, false);   // Ed25519 stakeholder
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->index, 1u);
  auto e = l.store().Get(1);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->type, "approval");
  EXPECT_CONTAINS(e->body, alice_.Public().Fingerprint());
  EXPECT_TRUE(l.Audit().ok());
}

TEST_F(LedgerGovernanceTest, StatusOfAnUnknownPolicy) {
  Ledger l = MustInitWithStakeholders();
  PolicyStatus s = MustStatus(l, policy_);
  EXPECT_FALSE(s.exists);
  EXPECT_FALSE(s.in_force);
  EXPECT_EQ(s.quorum, 2u);
  // Approvals alone do not make a policy that was never recorded.
  MustApprove(l, policy_, alice_);
  MustApprove(l, policy_, bob_);
  s = MustStatus(l, policy_);
  EXPECT_FALSE(s.exists);
  EXPECT_FALSE(s.in_force);
  EXPECT_EQ(s.approvers.size(), 2u);
}

TEST_F(LedgerGovernanceTest, QuorumOfDistinctApproversPutsAPolicyInForceAndRevocationDropsIt) {
  Ledger l = MustInitWithStakeholders(2);
  MustAppend(l, "policy", Policy(policy_));
  MustAppend(l, "policy", Policy(Dg("another policy")));

  PolicyStatus s = MustStatus(l, policy_);
  EXPECT_TRUE(s.exists);
  EXPECT_FALSE(s.in_force);
  EXPECT_TRUE(s.approvers.empty());

  MustApprove(l, policy_, alice_);
  s = MustStatus(l, policy_);
  EXPECT_FALSE(s.in_force) << "below quorum";
  EXPECT_EQ(s.approvers, std::vector<std::string>{"alice"});

  MustApprove(l, policy_, alice_);             // the same stakeholder again counts once
  MustApprove(l, Dg("another policy"), bob_);  // and approvals of other policies not at all
  s = MustStatus(l, policy_);
  EXPECT_FALSE(s.in_force) << "one stakeholder approving twice is not a quorum of two";
  EXPECT_EQ(s.approvers, std::vector<std::string>{"alice"});

  MustApprove(l, policy_, bob_);
  s = MustStatus(l, policy_);
  EXPECT_TRUE(s.in_force) << "quorum reached";
  EXPECT_EQ(s.approvers, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_TRUE(s.revoked.empty());

  MustApprove(l, policy_, bob_, /*revoke=*/true);
  s = MustStatus(l, policy_);
  EXPECT_FALSE(s.in_force) << "revocation drops it below quorum";
  EXPECT_EQ(s.approvers, std::vector<std::string>{"alice"});
  EXPECT_EQ(s.revoked, std::vector<std::string>{"bob"});

  MustApprove(l, policy_, carol_);
  s = MustStatus(l, policy_);
  EXPECT_TRUE(s.in_force) << "another stakeholder restores the quorum";

  // It survives a reopen (nothing is kept in memory).
  Ledger reopened = MustOpen();
  EXPECT_TRUE(MustStatus(reopened, policy_).in_force);
  EXPECT_FALSE(MustStatus(reopened, Dg("another policy")).in_force);
}

TEST_F(LedgerGovernanceTest, ALedgerWithoutStakeholdersHasNoPolicyInForce) {
  Ledger l = MustInit();
  MustAppend(l, "policy", Policy(policy_));
  PolicyStatus s = MustStatus(l, policy_);
  EXPECT_TRUE(s.exists);
  EXPECT_FALSE(s.in_force);
  EXPECT_EQ(s.quorum, 0u);
}

// An approval row written to the file by anything but Ledger::Append (here: the store's own
// Append, which keeps every hash valid) must not count, and Audit must name it.
TEST_F(LedgerGovernanceTest, AuditRechecksApprovalSignatures) {
  Ledger l = MustInitWithStakeholders(1);
  MustAppend(l, "policy", Policy(policy_));
  // Mallory signs, claiming to be Alice; canonical, schema-valid, hashed correctly.
  json::value v = *json::Parse(ApprovalJson(NewKey(), policy_, policy_, false, false), "x");
  v.as_object()["approver"] = alice_.Public().Fingerprint();
  auto canon = CanonicalizeEntry("approval", json::Canonical(v), "forged");
  ASSERT_TRUE(canon.ok()) << canon.error().ToString();
  ASSERT_TRUE(l.store().Append("approval", canon->canonical_json).ok());
  Status st = l.Audit();
  EXPECT_FALSE(st.ok()) << "a forged approval passes the audit";
  EXPECT_CONTAINS(st.message(), "entry 1");
  EXPECT_FALSE(MustStatus(l, policy_).in_force) << "a forged approval counts toward the quorum";
}

// ---------------------------------------------------------------------------------------
// Checkpoints.

TEST_F(LedgerTest, CheckpointWithAnotherKeyIsRefused) {
  Ledger l = MustInit();
  MustAppend(l, "policy", Policy(Dg("p")));
  auto n = l.Checkpoint(NewKey());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code(), StatusCode::kPermissionDenied) << n.error().ToString();
  EXPECT_CONTAINS(n.error().message(), l.config().log_vkey);
  auto latest = l.store().LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value()) << "nothing may be stored";
}

TEST_F(LedgerTest, CheckpointWithAnEcdsaKeyIsRefused) {
  Ledger l = MustInit();
  auto n = l.Checkpoint(NewKey(crypto::KeyType::kEcdsaP256));
  ASSERT_FALSE(n.ok());
  EXPECT_FALSE(l.store().LatestCheckpoint()->has_value());
}

TEST_F(LedgerTest, CheckpointSignsTheCurrentTreeAndStoresTheNote) {
  Ledger l = MustInit();
  std::vector<Hash> leaves;
  for (int i = 0; i < 7; ++i)
    leaves.push_back(MustAppend(l, "policy", Policy(Dg(std::to_string(i)))).leaf_hash);
  const std::string note = MustCheckpoint(l);
  const Checkpoint cp = OpenCheckpoint(l, note);
  EXPECT_EQ(cp.origin, kOrigin);
  EXPECT_EQ(cp.size, 7u);
  EXPECT_EQ(cp.root, RootOf(leaves)) << "root computed independently from the leaf hashes";
  auto latest = l.store().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->note, note);
  EXPECT_EQ((*latest)->size, 7u);
  EXPECT_EQ((*latest)->root, cp.root);
  EXPECT_TRUE(l.Audit().ok());
}

TEST_F(LedgerTest, SuccessiveCheckpointsAreConsistentByThePureVerifier) {
  Ledger l = MustInit();
  for (int i = 0; i < 5; ++i) MustAppend(l, "policy", Policy(Dg("a" + std::to_string(i))));
  const Checkpoint first = OpenCheckpoint(l, MustCheckpoint(l));
  for (int i = 0; i < 13; ++i) MustAppend(l, "policy", Policy(Dg("b" + std::to_string(i))));
  const Checkpoint second = OpenCheckpoint(l, MustCheckpoint(l));
  ASSERT_EQ(first.size, 5u);
  ASSERT_EQ(second.size, 18u);

  auto text = l.ProveConsistency(first.size, second.size);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto proof = ParseProofLines(*text, "consistency");
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_FALSE(proof->empty());
  EXPECT_TRUE(VerifyConsistency(first.size, second.size, *proof, first.root, second.root).ok());
  // And the proof is not accepted for other roots.
  EXPECT_FALSE(VerifyConsistency(first.size, second.size, *proof, second.root, first.root).ok());
  EXPECT_TRUE(l.Audit().ok());
}

TEST_F(LedgerTest, CheckpointOfAnUnchangedLogIsAcceptedAgain) {
  Ledger l = MustInit();
  MustAppend(l, "policy", Policy(Dg("p")));
  const std::string a = MustCheckpoint(l);
  const std::string b = MustCheckpoint(l);
  EXPECT_EQ(OpenCheckpoint(l, a), OpenCheckpoint(l, b));
  EXPECT_EQ(l.store().Checkpoints()->size(), 2u);
}

// The empty tree is consistent with every tree: a checkpoint of the empty log must not block
// later checkpoints.
TEST_F(LedgerTest, CheckpointAfterACheckpointOfTheEmptyLog) {
  Ledger l = MustInit();
  const Checkpoint empty = OpenCheckpoint(l, MustCheckpoint(l));
  EXPECT_EQ(empty.size, 0u);
  EXPECT_EQ(empty.root, EmptyRoot());
  MustAppend(l, "policy", Policy(Dg("p")));
  auto n = l.Checkpoint(log_key_);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(OpenCheckpoint(l, *n).size, 1u);
}

// Tampering with what a consistency proof or the tree head is built from: the ledger must refuse
// to sign, and Audit must name what was changed.
struct InconsistencyCase {
  const char* name;
  uint64_t checkpoint_at;  // entries when the first checkpoint is signed
  uint64_t size;           // entries when the second is attempted
  std::string sql;
  std::string audit_names;
};

class LedgerCheckpointRefusalTest : public LedgerTest,
                                    public ::testing::WithParamInterface<InconsistencyCase> {};

TEST_P(LedgerCheckpointRefusalTest, RefusesToSignAndAuditNamesTheIndex) {
  const InconsistencyCase& c = GetParam();
  {
    Ledger l = MustInit();
    for (uint64_t i = 0; i < c.checkpoint_at; ++i) {
      MustAppend(l, "policy", Policy(Dg("p" + std::to_string(i))));
    }
    MustCheckpoint(l);
    for (uint64_t i = c.checkpoint_at; i < c.size; ++i) {
      MustAppend(l, "policy", Policy(Dg("p" + std::to_string(i))));
    }
    ASSERT_TRUE(l.Audit().ok());
  }
  RawExec(path_, c.sql);
  Ledger l = MustOpen();
  auto n = l.Checkpoint(log_key_);
  ASSERT_FALSE(n.ok()) << "signed a checkpoint of a tampered log:\n" << n.value_or("");
  EXPECT_EQ(n.error().code(), StatusCode::kVerificationFailed) << n.error().ToString();
  EXPECT_CONTAINS(n.error().message(), "not consistent");
  EXPECT_CONTAINS(n.error().message(), "size " + std::to_string(c.checkpoint_at));
  EXPECT_EQ(l.store().Checkpoints()->size(), 1u) << "nothing may be stored";

  Status st = l.Audit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kVerificationFailed) << st.ToString();
  EXPECT_CONTAINS(st.message(), c.audit_names);
}

INSTANTIATE_TEST_SUITE_P(
    Ledger, LedgerCheckpointRefusalTest,
    ::testing::Values(
        // [0, 4) is on the consistency path from 5 to 8.
        InconsistencyCase{"node_on_proof_path", 5, 8,
                          "UPDATE nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0",
                          "node level 2 index 0"},
        // Leaf 4 is on the consistency path from 5 to 8.
        InconsistencyCase{"leaf_hash_on_proof_path", 5, 8,
                          "UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = 4", "entry 4"},
        // [0, 8) is the frontier the reopened store computes its tree head from.
        InconsistencyCase{"frontier_node", 8, 9,
                          "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0",
                          "node level 3 index 0"},
        // The same size as the checkpoint: the tree head itself changed.
        InconsistencyCase{"tree_head_at_checkpoint_size", 8, 8,
                          "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0",
                          "node level 3 index 0"}),
    [](const ::testing::TestParamInfo<InconsistencyCase>& i) { return i.param.name; });

// ---------------------------------------------------------------------------------------
// Audit.

struct AuditTamperCase {
  const char* name;
  std::string sql;
  std::string names;
};

class LedgerAuditTamperTest : public LedgerTest,
                              public ::testing::WithParamInterface<AuditTamperCase> {};

TEST_P(LedgerAuditTamperTest, NamesWhatWasChanged) {
  {
    Ledger l = MustInit();
    for (int i = 0; i < 6; ++i)
      MustAppend(l, "model-release", Release(Dg("m" + std::to_string(i))));
    MustCheckpoint(l);
    ASSERT_TRUE(l.Audit().ok());
  }
  RawExec(path_, GetParam().sql);
  auto l = Ledger::Open(path_);
  ASSERT_TRUE(l.ok()) << l.error().ToString();
  Status st = l->Audit();
  ASSERT_FALSE(st.ok()) << GetParam().name << " went unnoticed";
  EXPECT_EQ(st.code(), StatusCode::kVerificationFailed) << st.ToString();
  EXPECT_CONTAINS(st.message(), GetParam().names);
}

INSTANTIATE_TEST_SUITE_P(
    Ledger, LedgerAuditTamperTest,
    ::testing::Values(
        AuditTamperCase{"entry_body",
                        "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), '\"1.0\"', "
                        "'\"6.6\"') AS BLOB) WHERE idx = 3",
                        "entry 3"},
        // The body and its leaf hash changed together: the node above it no longer matches.
        AuditTamperCase{"entry_body_and_leaf",
                        "UPDATE entries SET body = (SELECT body FROM entries WHERE idx = 0), "
                        "leaf_hash = (SELECT leaf_hash FROM entries WHERE idx = 0) WHERE idx = 1",
                        "node level 1 index 0"},
        // The type column is not covered by the tree; the ledger checks it against the body.
        AuditTamperCase{"entry_type_column", "UPDATE entries SET type = 'dataset' WHERE idx = 2",
                        "entry 2"},
        AuditTamperCase{"leaf_hash", "UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = 5",
                        "entry 5"},
        AuditTamperCase{"node_hash",
                        "UPDATE nodes SET hash = zeroblob(32) WHERE level = 1 AND "
                        "idx = 2",
                        "node level 1 index 2"},
        AuditTamperCase{"checkpoint_note_signature",
                        "UPDATE checkpoints SET note = replace(note, 'ledger.test/log\n6\n', "
                        "'ledger.test/log\n5\n')",
                        "checkpoint at size 6"},
        AuditTamperCase{"missing_entry", "DELETE FROM entries WHERE idx = 4", "entry 4"}),
    [](const ::testing::TestParamInfo<AuditTamperCase>& i) { return i.param.name; });

TEST_F(LedgerTest, AuditPassesOnAnUntouchedLedgerWithEveryKindOfEntry) {
  Ledger l = MustInit();
  for (std::string_view type : EntryTypes()) {
    if (type == "approval") continue;
    MustAppend(l, type, testing::ReadAll(kEntriesDir + std::string(type) + ".json"));
    MustCheckpoint(l);
  }
  Status st = l.Audit();
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// ---------------------------------------------------------------------------------------
// Proofs.

TEST_F(LedgerTest, InclusionProofOfEveryIndexVerifiesOffline) {
  constexpr uint64_t kSize = 50;
  Ledger l = MustInit();
  for (uint64_t i = 0; i < kSize; ++i) {
    MustAppend(l, i % 2 ? "policy" : "model-release",
               i % 2 ? Policy(Dg(std::to_string(i))) : Release(Dg(std::to_string(i))));
  }
  const std::string note = MustCheckpoint(l);
  const Checkpoint cp = OpenCheckpoint(l, note);
  ASSERT_EQ(cp.size, kSize);
  for (uint64_t i = 0; i < kSize; ++i) {
    auto text = l.ProveInclusion(i);
    ASSERT_TRUE(text.ok()) << i << ": " << text.error().ToString();
    auto proof = ParseTlogProof(*text, "proof");
    ASSERT_TRUE(proof.ok()) << i << ": " << proof.error().ToString() << "\n" << *text;
    EXPECT_EQ(proof->index, i);
    EXPECT_EQ(proof->checkpoint_note, note);
    // The checkpoint inside the proof is what the verifier trusts: check its signature.
    const Checkpoint in_proof = OpenCheckpoint(l, proof->checkpoint_note);
    auto e = l.store().Get(i);
    ASSERT_TRUE(e.ok());
    const Hash leaf = LeafHash(e->body);
    Status st = VerifyInclusion(i, in_proof.size, leaf, proof->hashes, in_proof.root);
    EXPECT_TRUE(st.ok()) << "index " << i << ": " << st.ToString();
    // A proof for one index does not prove another leaf.
    if (i > 0) {
      auto other = l.store().Get(i - 1);
      ASSERT_TRUE(other.ok());
      EXPECT_FALSE(
          VerifyInclusion(i, in_proof.size, LeafHash(other->body), proof->hashes, in_proof.root)
              .ok());
    }
  }
}

TEST_F(LedgerTest, InclusionProofNeedsACheckpointCoveringTheEntry) {
  Ledger l = MustInit();
  MustAppend(l, "policy", Policy(Dg("a")));
  auto before = l.ProveInclusion(0);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_CONTAINS(before.error().message(), "entry 0");
  MustCheckpoint(l);
  MustAppend(l, "policy", Policy(Dg("b")));
  auto after = l.ProveInclusion(1);  // appended after the checkpoint
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_CONTAINS(after.error().message(), "entry 1");
  EXPECT_TRUE(l.ProveInclusion(0).ok());
}

TEST_F(LedgerTest, ConsistencyProofsBetweenAllSizesVerifyOffline) {
  constexpr uint64_t kSize = 21;
  Ledger l = MustInit();
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < kSize; ++i) {
    leaves.push_back(MustAppend(l, "policy", Policy(Dg(std::to_string(i)))).leaf_hash);
  }
  for (uint64_t m = 1; m <= kSize; ++m) {
    for (uint64_t n = m; n <= kSize; ++n) {
      auto text = l.ProveConsistency(m, n);
      ASSERT_TRUE(text.ok()) << m << ".." << n << ": " << text.error().ToString();
      auto proof = ParseProofLines(*text, "consistency");
      ASSERT_TRUE(proof.ok()) << proof.error().ToString();
      const Hash r1 = RootOf(std::span<const Hash>(leaves).first(m));
      const Hash r2 = RootOf(std::span<const Hash>(leaves).first(n));
      Status st = VerifyConsistency(m, n, *proof, r1, r2);
      EXPECT_TRUE(st.ok()) << m << ".." << n << ": " << st.ToString();
    }
  }
}

TEST_F(LedgerTest, ConsistencyProofRefusesSizesOutOfOrderOrBeyondTheLog) {
  Ledger l = MustInit();
  for (int i = 0; i < 4; ++i) MustAppend(l, "policy", Policy(Dg(std::to_string(i))));
  for (auto [m, n] : {std::pair<uint64_t, uint64_t>{3, 2}, {2, 5}}) {
    auto p = l.ProveConsistency(m, n);
    ASSERT_FALSE(p.ok()) << m << " " << n;
    EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument);
    EXPECT_CONTAINS(p.error().message(), std::to_string(m));
    EXPECT_CONTAINS(p.error().message(), std::to_string(n));
  }
}

TEST(LedgerParseProofLinesTest, ParsesLinesAndRefusesGarbage) {
  const Hash a = LeafHash("a"), b = LeafHash("b");
  const std::string la = Base64Encode(std::span<const uint8_t>(a.data(), a.size()));
  const std::string lb = Base64Encode(std::span<const uint8_t>(b.data(), b.size()));
  auto ok = ParseProofLines(la + "\n" + lb + "\n", "p");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(*ok, (std::vector<Hash>{a, b}));
  auto empty = ParseProofLines("", "p");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  struct Case {
    const char* name;
    std::string text;
    std::string names;
  };
  std::string too_many;
  for (size_t i = 0; i <= kMaxProofHashes; ++i) too_many += la + "\n";
  const Case cases[] = {
      {"no_final_newline", la + "\n" + lb, "line 2"},
      {"not_base64", la + "\n!!!!\n", "line 2"},
      {"short_hash", Base64Encode(std::string(31, 'x')) + "\n", "line 1"},
      {"long_hash", Base64Encode(std::string(33, 'x')) + "\n", "line 1"},
      {"blank_line", la + "\n\n", "line 2"},
      {"too_many", too_many, "64"},
  };
  for (const Case& c : cases) {
    auto r = ParseProofLines(c.text, "proof.txt");
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << c.name;
    EXPECT_CONTAINS(r.error().message(), "proof.txt");
    EXPECT_CONTAINS(r.error().message(), c.names);
  }
}

// ---------------------------------------------------------------------------------------
// Lineage.

std::vector<uint64_t> Sorted(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(LedgerTest, LineageWalksFineTuneChainsWithDatasetsReleasesAndEvaluations) {
  Ledger l = MustInit();
  const std::string A = Dg("model A"), B = Dg("model B"), C = Dg("model C");
  const std::string X = Dg("unrelated model");
  const std::string R1 = Dg("dataset 1"), R2 = Dg("dataset 2"), R3 = Dg("dataset 3");
  const uint64_t d1 = MustAppend(l, "dataset", Dataset(R1, "d1")).index;  // 0
  const uint64_t d2 = MustAppend(l, "dataset", Dataset(R2, "d2")).index;  // 1
  MustAppend(l, "dataset", Dataset(R3, "d3"));                            // 2
  const uint64_t train_a = MustAppend(l, "training-run", TrainingRun(A, {R1})).index;
  const uint64_t rel_a = MustAppend(l, "model-release", Release(A)).index;
  const uint64_t eval_a = MustAppend(l, "eval-report", Eval(A)).index;
  const uint64_t ft_ab = MustAppend(l, "fine-tune", FineTune(A, B, R2)).index;
  const uint64_t rel_b = MustAppend(l, "model-release", Release(B)).index;
  const uint64_t rel_b2 = MustAppend(l, "model-release", Release(B, "1.1")).index;
  const uint64_t ft_bc = MustAppend(l, "fine-tune", FineTune(B, C)).index;
  const uint64_t rel_c = MustAppend(l, "model-release", Release(C)).index;
  const uint64_t eval_c = MustAppend(l, "eval-report", Eval(C)).index;
  // Noise: another model, trained on dataset 3, and derived from C (a child, not a parent).
  MustAppend(l, "training-run", TrainingRun(X, {R3}));
  MustAppend(l, "model-release", Release(X));
  MustAppend(l, "fine-tune", FineTune(C, Dg("grandchild")));
  MustAppend(l, "policy", Policy(Dg("p")));

  auto lineage = l.Lineage(C);
  ASSERT_TRUE(lineage.ok()) << lineage.error().ToString();
  const LineageNode& c = *lineage;
  EXPECT_EQ(c.model_digest, C);
  EXPECT_EQ(c.releases, std::vector<uint64_t>{rel_c});
  EXPECT_EQ(c.evaluations, std::vector<uint64_t>{eval_c});
  EXPECT_EQ(c.produced_by, std::vector<uint64_t>{ft_bc});
  EXPECT_TRUE(c.datasets.empty());
  EXPECT_TRUE(c.dataset_entries.empty());
  ASSERT_EQ(c.parents.size(), 1u);

  const LineageNode& b = c.parents[0];
  EXPECT_EQ(b.model_digest, B);
  EXPECT_EQ(Sorted(b.releases), (std::vector<uint64_t>{rel_b, rel_b2}));
  EXPECT_TRUE(b.evaluations.empty());
  EXPECT_EQ(b.produced_by, std::vector<uint64_t>{ft_ab});
  EXPECT_EQ(b.datasets, std::vector<std::string>{R2});
  EXPECT_EQ(b.dataset_entries, std::vector<uint64_t>{d2});
  ASSERT_EQ(b.parents.size(), 1u);

  const LineageNode& a = b.parents[0];
  EXPECT_EQ(a.model_digest, A);
  EXPECT_EQ(a.releases, std::vector<uint64_t>{rel_a});
  EXPECT_EQ(a.evaluations, std::vector<uint64_t>{eval_a});
  EXPECT_EQ(a.produced_by, std::vector<uint64_t>{train_a});
  EXPECT_EQ(a.datasets, std::vector<std::string>{R1});
  EXPECT_EQ(a.dataset_entries, std::vector<uint64_t>{d1});
  EXPECT_TRUE(a.parents.empty()) << "a training run without a base model has no parent";
}

TEST_F(LedgerTest, LineageFollowsATrainingRunsBaseModel) {
  Ledger l = MustInit();
  const std::string base = Dg("base"), out = Dg("out"), root = Dg("data");
  const uint64_t rel_base = MustAppend(l, "model-release", Release(base)).index;
  const uint64_t run = MustAppend(l, "training-run", TrainingRun(out, {root}, base)).index;
  auto n = l.Lineage(out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->produced_by, std::vector<uint64_t>{run});
  EXPECT_EQ(n->datasets, std::vector<std::string>{root});
  EXPECT_TRUE(n->dataset_entries.empty()) << "no dataset entry was appended for this root";
  ASSERT_EQ(n->parents.size(), 1u);
  EXPECT_EQ(n->parents[0].model_digest, base);
  EXPECT_EQ(n->parents[0].releases, std::vector<uint64_t>{rel_base});
}

TEST_F(LedgerTest, LineageOfAnUnknownModelIsAnEmptyNode) {
  Ledger l = MustInit();
  MustAppend(l, "model-release", Release(Dg("known")));
  auto n = l.Lineage(Dg("unknown"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->model_digest, Dg("unknown"));
  EXPECT_TRUE(n->releases.empty());
  EXPECT_TRUE(n->produced_by.empty());
  EXPECT_TRUE(n->parents.empty());
}

TEST_F(LedgerTest, LineageOfACycleTerminates) {
  Ledger l = MustInit();
  const std::string A = Dg("cycle A"), B = Dg("cycle B");
  const uint64_t ab = MustAppend(l, "fine-tune", FineTune(A, B)).index;
  const uint64_t ba = MustAppend(l, "fine-tune", FineTune(B, A)).index;
  auto n = l.Lineage(A);
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->produced_by, std::vector<uint64_t>{ba});
  ASSERT_EQ(n->parents.size(), 1u);
  const LineageNode& b = n->parents[0];
  EXPECT_EQ(b.model_digest, B);
  EXPECT_EQ(b.produced_by, std::vector<uint64_t>{ab});
  // B's parent is A again: the walk stops there instead of going round forever.
  ASSERT_LE(b.parents.size(), 1u);
  if (!b.parents.empty()) {
    EXPECT_TRUE(b.parents[0].parents.empty());
  }
}

TEST_F(LedgerTest, LineageOfADiamondVisitsBothParents) {
  // D merges B and C, both fine-tuned from A: A appears under both, which is not a cycle.
  Ledger l = MustInit();
  const std::string A = Dg("A"), B = Dg("B"), C = Dg("C"), D = Dg("D");
  MustAppend(l, "fine-tune", FineTune(A, B));
  MustAppend(l, "fine-tune", FineTune(A, C));
  MustAppend(l, "fine-tune", FineTune(B, D));
  MustAppend(l, "fine-tune", FineTune(C, D));
  const uint64_t rel_a = MustAppend(l, "model-release", Release(A)).index;
  auto n = l.Lineage(D);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->parents.size(), 2u);
  for (const LineageNode& p : n->parents) {
    ASSERT_EQ(p.parents.size(), 1u) << p.model_digest;
    EXPECT_EQ(p.parents[0].model_digest, A);
    EXPECT_EQ(p.parents[0].releases, std::vector<uint64_t>{rel_a});
  }
}

// ---------------------------------------------------------------------------------------
// Witness and cosignatures.

class LedgerWitnessTest : public LedgerTest {
 protected:
  LedgerWitnessTest()
      : witness_key_(NewKey()),
        witness_(MustSigner("witness.test/w1", witness_key_)),
        state_(dir_ / "witness-state") {}

  static NoteSigner MustSigner(const std::string& name, const crypto::PrivateKey& k) {
    auto s = NoteSigner::FromPrivateKey(name, k, NoteKeyType::kEd25519Cosignature);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return std::move(s).value();
  }

  Ledger MustInitWithWitness() {
    LedgerConfig c = BaseConfig();
    c.witness_vkeys = {witness_.Verifier().Vkey()};
    return MustInit(c);
  }

  static void Grow(Ledger& l, int n, const std::string& tag) {
    for (int i = 0; i < n; ++i) MustAppend(l, "policy", Policy(Dg(tag + std::to_string(i))));
  }

  Result<NoteSignature> Witness(const Ledger& l, const std::string& note,
                                const std::vector<Hash>& proof, bool* first,
                                uint64_t time = 1'700'000'000) {
    return WitnessCheckpoint(state_, witness_, LogVerifier(l), note, proof, time, first);
  }

  std::vector<Hash> Proof(Ledger& l, uint64_t m, uint64_t n) {
    auto text = l.ProveConsistency(m, n);
    EXPECT_TRUE(text.ok()) << text.error().ToString();
    auto p = ParseProofLines(text.value_or(""), "proof");
    EXPECT_TRUE(p.ok()) << p.error().ToString();
    return p.value_or(std::vector<Hash>{});
  }

  // The signature line as `ledger witness` prints it.
  static std::string Line(const NoteSignature& sig) {
    auto t = FormatNote(Note{"x\n", {sig}});
    EXPECT_TRUE(t.ok()) << t.error().ToString();
    return t.value_or("xxx").substr(3);
  }

  crypto::PrivateKey witness_key_;
  NoteSigner witness_;
  std::string state_;
};

TEST_F(LedgerWitnessTest, FirstCheckpointIsAcceptedOnFirstUseAndCosigned) {
  Ledger l = MustInitWithWitness();
  Grow(l, 3, "a");
  const std::string note = MustCheckpoint(l);
  bool first = false;
  auto sig = Witness(l, note, {}, &first, 1'234'567);
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  EXPECT_TRUE(first);
  EXPECT_EQ(sig->name, "witness.test/w1");
  uint64_t t = 0;
  auto parsed = ParseNote(note, "cp");
  ASSERT_TRUE(parsed.ok());
  Status st = VerifyCosignature(witness_.Verifier(), parsed->text, *sig, &t);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(t, 1'234'567u);

  // The same checkpoint again: not first any more, still fine.
  first = true;
  ASSERT_TRUE(Witness(l, note, {}, &first).ok());
  EXPECT_FALSE(first);
}

TEST_F(LedgerWitnessTest, GrowthNeedsAValidConsistencyProof) {
  Ledger l = MustInitWithWitness();
  Grow(l, 3, "a");
  bool first = false;
  ASSERT_TRUE(Witness(l, MustCheckpoint(l), {}, &first).ok());
  Grow(l, 6, "b");
  const std::string grown = MustCheckpoint(l);

  auto none = Witness(l, grown, {}, &first);
  ASSERT_FALSE(none.ok()) << "growth accepted without a proof";
  EXPECT_EQ(none.error().code(), StatusCode::kVerificationFailed) << none.error().ToString();
  EXPECT_CONTAINS(none.error().message(), "size 3");

  std::vector<Hash> wrong = Proof(l, 3, 9);
  ASSERT_FALSE(wrong.empty());
  wrong[0][0] ^= 1;
  auto bad = Witness(l, grown, wrong, &first);
  ASSERT_FALSE(bad.ok()) << "growth accepted with a corrupted proof";
  EXPECT_EQ(bad.error().code(), StatusCode::kVerificationFailed);

  auto good = Witness(l, grown, Proof(l, 3, 9), &first);
  ASSERT_TRUE(good.ok()) << good.error().ToString();
  EXPECT_FALSE(first);
}

TEST_F(LedgerWitnessTest, ShrinkIsRefused) {
  Ledger l = MustInitWithWitness();
  Grow(l, 3, "a");
  const std::string small = MustCheckpoint(l);
  Grow(l, 2, "b");
  const std::string big = MustCheckpoint(l);
  bool first = false;
  ASSERT_TRUE(Witness(l, big, {}, &first).ok());
  auto r = Witness(l, small, {}, &first);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed) << r.error().ToString();
  EXPECT_CONTAINS(r.error().message(), "shrank");
  EXPECT_CONTAINS(r.error().message(), "3");
  EXPECT_CONTAINS(r.error().message(), "5");
  // The refusal did not replace what the witness remembers: the big one is still accepted.
  EXPECT_TRUE(Witness(l, big, {}, &first).ok());
}

TEST_F(LedgerWitnessTest, TwoRootsAtOneSizeIsAForkAndRefused) {
  Ledger l = MustInitWithWitness();
  Grow(l, 4, "a");
  const std::string honest = MustCheckpoint(l);
  // The same origin and log key, other entries: a split view.
  auto fork = Ledger::Init(dir_ / "fork.ledger", log_key_.Public(), l.config());
  ASSERT_TRUE(fork.ok()) << fork.error().ToString();
  Grow(*fork, 4, "evil");
  auto forked = fork->Checkpoint(log_key_);
  ASSERT_TRUE(forked.ok());
  bool first = false;
  ASSERT_TRUE(Witness(l, honest, {}, &first).ok());
  auto r = Witness(l, *forked, {}, &first);
  ASSERT_FALSE(r.ok()) << "a fork was cosigned";
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed) << r.error().ToString();
  EXPECT_CONTAINS(r.error().message(), "fork");
  EXPECT_CONTAINS(r.error().message(), "size 4");
}

TEST_F(LedgerWitnessTest, CheckpointSignedByAnotherKeyIsRefused) {
  Ledger l = MustInitWithWitness();
  Grow(l, 2, "a");
  const std::string note = MustCheckpoint(l);
  // A verifier under the same origin but another key.
  auto other = NoteVerifier::FromPublicKey(std::string(kOrigin), NewKey().Public());
  ASSERT_TRUE(other.ok());
  bool first = false;
  auto r = WitnessCheckpoint(state_, witness_, *other, note, {}, 1, &first);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed) << r.error().ToString();
  EXPECT_CONTAINS(r.error().message(), other->Vkey());
  EXPECT_FALSE(fs::exists(state_) && !fs::is_empty(state_)) << "nothing may be remembered";
}

TEST_F(LedgerWitnessTest, GarbageCheckpointIsDataLoss) {
  Ledger l = MustInitWithWitness();
  bool first = false;
  auto r = Witness(l, "this is not a note", {}, &first);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << r.error().ToString();
}

TEST_F(LedgerWitnessTest, ListedWitnessCosignatureIsAddedToTheLatestCheckpoint) {
  Ledger l = MustInitWithWitness();
  Grow(l, 5, "a");
  const std::string note = MustCheckpoint(l);
  bool first = false;
  auto sig = Witness(l, note, {}, &first);
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();

  auto added = l.AddCosignatures(Line(*sig));
  ASSERT_TRUE(added.ok()) << added.error().ToString();
  auto parsed = ParseNote(*added, "cosigned");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->text, ParseNote(note, "cp")->text);
  const std::vector<NoteVerifier> known = {LogVerifier(l), witness_.Verifier()};
  auto opened = OpenNote(*parsed, known);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->size(), 2u) << "both the log and the witness signature verify";
  auto latest = l.store().LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->note, *added);

  // Adding the same line again does not duplicate it; the audit still passes.
  auto again = l.AddCosignatures(Line(*sig));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(ParseNote(*again, "again")->signatures.size(), 2u);
  Status st = l.Audit();
  EXPECT_TRUE(st.ok()) << st.ToString();
  // Inclusion proofs now carry the cosigned checkpoint.
  auto proof = l.ProveInclusion(0);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(ParseTlogProof(*proof, "p")->checkpoint_note, *added);
}

TEST_F(LedgerWitnessTest, UnlistedWitnessCosignatureIsRefused) {
  Ledger l = MustInitWithWitness();
  Grow(l, 2, "a");
  const std::string note = MustCheckpoint(l);
  const crypto::PrivateKey stranger_key = NewKey();
  struct Case {
    const char* name;
    NoteSigner signer;
  };
  const Case cases[] = {
      {"other_name", MustSigner("witness.test/stranger", stranger_key)},
      {"listed_name_other_key", MustSigner("witness.test/w1", stranger_key)},
  };
  for (const Case& c : cases) {
    auto sig = Cosign(c.signer, ParseNote(note, "cp")->text, 5);
    ASSERT_TRUE(sig.ok());
    auto r = l.AddCosignatures(Line(*sig));
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed)
        << c.name << ": " << r.error().ToString();
    EXPECT_CONTAINS(r.error().message(), c.signer.name());
  }
  EXPECT_EQ((*l.store().LatestCheckpoint())->note, note) << "the stored note is unchanged";
}

TEST_F(LedgerWitnessTest, CosignatureOfAnOlderCheckpointIsRefused) {
  Ledger l = MustInitWithWitness();
  Grow(l, 2, "a");
  const std::string old_note = MustCheckpoint(l);
  auto sig = Cosign(witness_, ParseNote(old_note, "cp")->text, 5);
  ASSERT_TRUE(sig.ok());
  Grow(l, 2, "b");
  const std::string new_note = MustCheckpoint(l);
  auto r = l.AddCosignatures(Line(*sig));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed) << r.error().ToString();
  EXPECT_CONTAINS(r.error().message(), "witness.test/w1");
  EXPECT_EQ((*l.store().LatestCheckpoint())->note, new_note);
}

TEST_F(LedgerWitnessTest, GarbageCosignatureLinesAreDataLoss) {
  Ledger l = MustInitWithWitness();
  Grow(l, 2, "a");
  MustCheckpoint(l);
  for (const std::string bad :
       {"garbage\n", "\xE2\x80\x94 witness.test/w1 !!!notbase64\n", "\xE2\x80\x94 \n"}) {
    auto r = l.AddCosignatures(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << bad << ": " << r.error().ToString();
    EXPECT_CONTAINS(r.error().message(), "cosignatures");
  }
}

TEST_F(LedgerWitnessTest, CosignaturesNeedACheckpoint) {
  Ledger l = MustInitWithWitness();
  auto r = l.AddCosignatures("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition) << r.error().ToString();
  EXPECT_CONTAINS(r.error().message(), "no checkpoint");
}

}  // namespace
}  // namespace warden::ledger
