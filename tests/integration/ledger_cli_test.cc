// End-to-end tests of `warden ledger ...`, `warden dataset ...` and `warden sign --ledger`:
// the real binary (WARDEN_BINARY) on real files, checking the documented exit codes (0 ok,
// 1 check failed, 2 usage, 3 malformed, 4 I/O or environment), that messages name the index,
// field or key at fault, and that what the commands print (notes, proofs, roots) verifies with
// the storage-free functions of the library, as an outside verifier would check it.
// Library behaviour is tested in tests/ledger; crash safety in tests/ledger/crash_test.cc.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/json.h"
#include "common/run_binary.h"
#include "common/temp_dir.h"
#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace warden {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using testing::ReadAll;
using testing::RunResult;
using testing::TempDir;

const std::string kEntriesDir = std::string(WARDEN_TESTDATA_DIR) + "/ledger/entries/";
const std::string kModel = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";
constexpr std::string_view kOrigin = "cli.test/log";

#define EXPECT_EXIT_CODE(result, code) EXPECT_EQ((result).exit_code, (code)) << Describe(result)
#define ASSERT_EXIT_CODE(result, code) ASSERT_EQ((result).exit_code, (code)) << Describe(result)
#define EXPECT_CONTAINS(haystack, needle)                          \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
      << "missing: " << (needle) << "\nin:\n"                      \
      << (haystack)

RunResult Warden(const std::vector<std::string>& args) {
  return testing::RunBinary(WARDEN_BINARY, args);
}

// SHA-256 straight from OpenSSL, not through warden's crypto module.
std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}
// RFC 9162 leaf hash, independently: SHA-256(0x00 || entry).
std::string LeafHex(std::string_view entry) {
  return Sha256Hex(std::string(1, '\0') + std::string(entry));
}

std::string Dg(std::string_view label) { return "sha256:" + Sha256Hex(label); }

json::value ParseJson(const std::string& text) {
  auto v = json::Parse(text, "output");
  EXPECT_TRUE(v.has_value()) << v.error().ToString() << "\n" << text;
  return v.has_value() ? *v : json::value();
}
// Path access that fails the test instead of throwing: "a.b.0.c".
const json::value* At(const json::value& root, std::string_view path) {
  const json::value* v = &root;
  while (!path.empty() && v != nullptr) {
    const size_t dot = path.find('.');
    const std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? "" : path.substr(dot + 1);
    if (const json::object* o = v->if_object()) {
      v = o->if_contains(key);
    } else if (const json::array* a = v->if_array()) {
      const size_t i = std::stoul(key);
      v = i < a->size() ? &(*a)[i] : nullptr;
    } else {
      v = nullptr;
    }
  }
  return v;
}
std::string Str(const json::value& root, std::string_view path) {
  const json::value* v = At(root, path);
  if (v == nullptr) return "<missing " + std::string(path) + ">";
  return v->is_string() ? std::string(v->get_string()) : json::Canonical(*v);
}
size_t Len(const json::value& root, std::string_view path) {
  const json::value* v = At(root, path);
  return v != nullptr && v->is_array() ? v->get_array().size() : 0;
}

void RawExec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  EXPECT_EQ(sqlite3_changes(db), 1) << sql;
  sqlite3_free(err);
  sqlite3_close(db);
}

// The text after `prefix` up to the end of its line.
std::string After(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "<no " + prefix + ">";
  const size_t start = at + prefix.size();
  return text.substr(start, text.find('\n', start) - start);
}

ledger::Checkpoint OpenCheckpoint(const std::string& note_text, const std::string& vkey) {
  auto note = ledger::ParseNote(note_text, "checkpoint");
  EXPECT_TRUE(note.ok()) << note.error().ToString() << "\n" << note_text;
  if (!note.ok()) return {};
  auto v = ledger::NoteVerifier::FromVkey(vkey);
  EXPECT_TRUE(v.ok()) << vkey;
  if (!v.ok()) return {};
  auto opened = ledger::OpenNote(*note, std::span<const ledger::NoteVerifier>(&*v, 1));
  EXPECT_TRUE(opened.ok()) << opened.error().ToString();
  auto cp = ledger::ParseCheckpoint(note->text, "checkpoint");
  EXPECT_TRUE(cp.ok()) << cp.error().ToString();
  return cp.value_or(ledger::Checkpoint{});
}

std::string Release(const std::string& model, const std::string& name, const std::string& version) {
  return R"({"name":")" + name + R"(","version":")" + version + R"(","model_digest":")" + model +
         R"(","bundle_digest":")" + Dg("bundle " + name + version) + R"("})";
}
std::string Policy(const std::string& digest) {
  return R"({"policy_digest":")" + digest + R"(","location":"policies/p.yaml"})";
}

class LedgerCliTest : public ::testing::Test {
 protected:
  LedgerCliTest() : db_(dir_ / "models.ledger"), log_key_(dir_ / "log.key") {
    WriteKey(log_key_, crypto::KeyType::kEd25519);
  }

  static void WriteKey(const std::string& path, crypto::KeyType type) {
    auto k = crypto::PrivateKey::Generate(type);
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE(crypto::WriteKeyPair(*k, path, false).ok());
  }

  // `ledger init` with the log key and origin, plus `extra`; returns the log vkey it printed.
  std::string Init(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"ledger", "init",   "--db",     db_,
                                     "--key",  log_key_, "--origin", std::string(kOrigin)};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Warden(args);
    EXPECT_EXIT_CODE(r, 0);
    return After(r.out, "log key ");
  }

  RunResult Ledger(const std::string& sub, std::vector<std::string> args) {
    args.insert(args.begin(), {"ledger", sub});
    args.insert(args.end(), {"--db", db_});
    return Warden(args);
  }

  // Appends `json` (written to a file) and returns the index it printed.
  uint64_t Append(const std::string& type, const std::string& json) {
    const std::string file = dir_.Write("entry-" + std::to_string(++files_) + ".json", json);
    RunResult r = Ledger("append", {type, file});
    EXPECT_EXIT_CODE(r, 0);
    return std::stoull("0" + After(r.out, "at index "));
  }

  std::string Checkpoint(const std::string& key = "") {
    RunResult r = Ledger("checkpoint", {"--key", key.empty() ? log_key_ : key});
    EXPECT_EXIT_CODE(r, 0);
    return r.out;
  }

  TempDir dir_;
  std::string db_;
  std::string log_key_;
  int files_ = 0;
};

// ---------------------------------------------------------------------------------------
// init, append, show.

TEST_F(LedgerCliTest, InitPrintsTheLogVerifierKey) {
  RunResult r =
      Warden({"ledger", "init", "--db", db_, "--key", log_key_, "--origin", std::string(kOrigin)});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, db_);
  EXPECT_CONTAINS(r.out, kOrigin);
  const std::string vkey = After(r.out, "log key ");
  auto pub = crypto::LoadPublicKey(log_key_ + ".pub");
  ASSERT_TRUE(pub.ok());
  auto want = ledger::NoteVerifier::FromPublicKey(std::string(kOrigin), *pub);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(vkey, want->Vkey());
  ASSERT_TRUE(fs::exists(db_));

  // A second init of the same file is refused and leaves it alone.
  RunResult again = Ledger("init", {"--key", log_key_});
  EXPECT_EXIT_CODE(again, 4);  // FailedPrecondition: the file exists
  EXPECT_CONTAINS(again.err, db_);
}

TEST_F(LedgerCliTest, InitFromThePublicKeyAloneAndWithADefaultOrigin) {
  RunResult r = Ledger("init", {"--key", log_key_ + ".pub"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, "origin warden.local/models.ledger");
}

TEST_F(LedgerCliTest, InitRefusesBadConfigurations) {
  const std::string alice = dir_ / "alice.key";
  WriteKey(alice, crypto::KeyType::kEd25519);
  const std::string ecdsa = dir_ / "ecdsa.key";
  WriteKey(ecdsa, crypto::KeyType::kEcdsaP256);
  struct Case {
    const char* name;
    std::vector<std::string> args;
    int code;
    std::string names;
  };
  const Case cases[] = {
      {"ecdsa_log_key", {"--key", ecdsa}, 2, "Ed25519"},
      {"quorum_too_high",
       {"--key", log_key_, "--stakeholder", "alice=" + alice + ".pub", "--quorum", "2"},
       2,
       "quorum 2"},
      {"duplicate_stakeholder",
       {"--key", log_key_, "--stakeholder", "alice=" + alice + ".pub", "--stakeholder",
        "alice=" + ecdsa + ".pub"},
       2,
       "alice"},
      {"stakeholder_without_name",
       {"--key", log_key_, "--stakeholder", alice + ".pub"},
       2,
       "NAME=KEY.pem"},
      {"missing_stakeholder_key",
       {"--key", log_key_, "--stakeholder", "bob=" + dir_ / "no.pub"},
       4,
       "no.pub"},
      {"missing_log_key", {"--key", dir_ / "absent.key"}, 4, "absent.key"},
      {"bad_witness", {"--key", log_key_, "--witness", "nonsense"}, 3, "--witness"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RunResult r = Ledger("init", c.args);
    EXPECT_EXIT_CODE(r, c.code);
    EXPECT_CONTAINS(r.err, c.names);
    EXPECT_FALSE(fs::exists(db_)) << "a refused init must not leave a ledger behind";
  }
}

TEST_F(LedgerCliTest, AppendPrintsIndexAndLeafHashOfTheCanonicalEntry) {
  Init();
  uint64_t index = 0;
  for (const char* type : {"model-release", "training-run", "fine-tune", "dataset", "eval-report",
                           "policy", "audit-checkpoint", "key-rotation"}) {
    SCOPED_TRACE(type);
    RunResult r = Ledger("append", {type, kEntriesDir + type + ".json"});
    ASSERT_EXIT_CODE(r, 0);
    const std::string canonical = ReadAll(kEntriesDir + type + ".canonical");
    EXPECT_CONTAINS(r.out, "at index " + std::to_string(index));
    EXPECT_CONTAINS(r.out, "leaf hash " + LeafHex(canonical));

    RunResult show = Ledger("show", {std::to_string(index), "--json"});
    ASSERT_EXIT_CODE(show, 0);
    const json::value v = ParseJson(show.out);
    EXPECT_EQ(Str(v, "index"), std::to_string(index));
    EXPECT_EQ(Str(v, "type"), type);
    EXPECT_EQ(Str(v, "leaf_hash"), LeafHex(canonical));
    EXPECT_EQ(Str(v, "entry"), canonical);
    ++index;
  }
}

TEST_F(LedgerCliTest, AppendOfAnEmptyStandardInputIsMalformed) {
  // stdin is /dev/null here: "-" reads an empty entry, which is malformed (exit 3, not a hang).
  Init();
  RunResult r = Ledger("append", {"policy", "-"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, "-: line 1");
}

TEST_F(LedgerCliTest, AppendOfAMalformedEntryIsExit3NamingTheLineOrField) {
  Init();
  struct Case {
    const char* name;
    std::string type;
    std::string json;
    std::vector<std::string> names;
  };
  const Case cases[] = {
      {"truncated_json",
       "policy",
       "{\n  \"policy_digest\": \"" + Dg("p") + "\",\n  \"location\"",
       {"line 3"}},
      {"missing_field",
       "model-release",
       R"({"name":"m","version":"1","model_digest":")" + Dg("m") + "\"}",
       {"bundle_digest"}},
      {"unknown_field",
       "policy",
       R"({"policy_digest":")" + Dg("p") + R"(","location":"x","owner":"me"})",
       {"owner"}},
      {"bad_digest", "policy", R"({"policy_digest":"md5:abc","location":"x"})", {"policy_digest"}},
      {"duplicate_key",
       "policy",
       R"({"policy_digest":")" + Dg("p") + R"(","location":"x","location":"y"})",
       {"location"}},
      {"finished_before_started",
       "training-run",
       R"({"dataset_roots":[")" + Dg("d") + R"("],"config_digest":")" + Dg("c") +
           R"(","output_model_digest":")" + Dg("o") +
           R"(","code_revision":"r","hardware":"h","started":"2026-02-01T00:00:00Z",)" +
           R"("finished":"2026-01-01T00:00:00Z"})",
       {"finished"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = dir_.Write(std::string(c.name) + ".json", c.json);
    RunResult r = Ledger("append", {c.type, file});
    EXPECT_EXIT_CODE(r, 3);
    EXPECT_CONTAINS(r.err, std::string(c.name) + ".json");
    for (const auto& n : c.names) EXPECT_CONTAINS(r.err, n);
  }
  RunResult audit = Ledger("audit", {});
  EXPECT_EXIT_CODE(audit, 0);
  EXPECT_CONTAINS(audit.out, "0 entries");
}

TEST_F(LedgerCliTest, AppendOfAnUnknownTypeIsAUsageError) {
  Init();
  RunResult r = Ledger("append", {"frobnicate", kEntriesDir + "policy.json"});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_CONTAINS(r.err, "frobnicate");
}

TEST_F(LedgerCliTest, AppendToAMissingLedgerIsExit4AndCreatesNothing) {
  RunResult r = Ledger("append", {"policy", kEntriesDir + "policy.json"});
  EXPECT_EXIT_CODE(r, 4);
  EXPECT_CONTAINS(r.err, db_);
  EXPECT_FALSE(fs::exists(db_));
  // A missing entry file is exit 4 too, naming it.
  Init();
  RunResult missing = Ledger("append", {"policy", dir_ / "nope.json"});
  EXPECT_EXIT_CODE(missing, 4);
  EXPECT_CONTAINS(missing.err, "nope.json");
}

TEST_F(LedgerCliTest, AppendToAFileThatIsNotALedgerIsExit3) {
  const std::string junk = dir_.Write("junk.ledger", std::string(4096, 'j'));
  RunResult r = Warden({"ledger", "append", "policy", kEntriesDir + "policy.json", "--db", junk});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, "junk.ledger");
}

TEST_F(LedgerCliTest, ShowByIndexAndByType) {
  Init();
  Append("policy", Policy(Dg("p0")));
  Append("model-release", Release(Dg("m"), "tiny", "2.0"));
  Append("policy", Policy(Dg("p2")));

  RunResult one = Ledger("show", {"1"});
  ASSERT_EXIT_CODE(one, 0);
  EXPECT_CONTAINS(one.out, "#1 model-release");
  EXPECT_CONTAINS(one.out, "\"version\": \"2.0\"");

  RunResult by_type = Ledger("show", {"--type", "policy", "--json"});
  ASSERT_EXIT_CODE(by_type, 0);
  EXPECT_CONTAINS(by_type.out, Dg("p0"));
  EXPECT_CONTAINS(by_type.out, Dg("p2"));
  EXPECT_EQ(by_type.out.find("model-release"), std::string::npos) << by_type.out;
  auto parsed = json::Parse(by_type.out, "show --json");
  ASSERT_TRUE(parsed.has_value()) << "one JSON document: " << parsed.error().ToString();
  ASSERT_TRUE(parsed->is_array());
  EXPECT_EQ(parsed->as_array().size(), 2u);

  RunResult text = Ledger("show", {"--type", "policy"});
  ASSERT_EXIT_CODE(text, 0);
  EXPECT_CONTAINS(text.out, "#0 policy");
  EXPECT_CONTAINS(text.out, "#2 policy");

  RunResult none = Ledger("show", {"--type", "dataset"});
  EXPECT_EXIT_CODE(none, 0);
  EXPECT_EQ(none.out, "");

  RunResult both = Ledger("show", {"1", "--type", "policy"});
  EXPECT_EXIT_CODE(both, 2);
  RunResult neither = Ledger("show", {});
  EXPECT_EXIT_CODE(neither, 2);

  RunResult past = Ledger("show", {"7"});
  EXPECT_NE(past.exit_code, 0) << Describe(past);
  EXPECT_CONTAINS(past.err, "7");
}

// ---------------------------------------------------------------------------------------
// checkpoint, prove, consistency, audit.

TEST_F(LedgerCliTest, CheckpointProveAndConsistencyVerifyOffline) {
  const std::string vkey = Init();
  std::vector<std::string> bodies;
  for (int i = 0; i < 5; ++i) {
    Append("policy", Policy(Dg("p" + std::to_string(i))));
    bodies.push_back(R"({"location":"policies/p.yaml","policy_digest":")" +
                     Dg("p" + std::to_string(i)) + R"(","type":"policy"})");
  }
  const ledger::Checkpoint first = OpenCheckpoint(Checkpoint(), vkey);
  EXPECT_EQ(first.origin, kOrigin);
  ASSERT_EQ(first.size, 5u);

  for (uint64_t i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    RunResult p = Ledger("prove", {std::to_string(i)});
    ASSERT_EXIT_CODE(p, 0);
    auto proof = ledger::ParseTlogProof(p.out, "stdout");
    ASSERT_TRUE(proof.ok()) << proof.error().ToString() << "\n" << p.out;
    EXPECT_EQ(proof->index, i);
    const ledger::Checkpoint cp = OpenCheckpoint(proof->checkpoint_note, vkey);
    Status st =
        ledger::VerifyInclusion(i, cp.size, ledger::LeafHash(bodies[i]), proof->hashes, cp.root);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  for (int i = 5; i < 12; ++i) Append("policy", Policy(Dg("p" + std::to_string(i))));
  const ledger::Checkpoint second = OpenCheckpoint(Checkpoint(), vkey);
  ASSERT_EQ(second.size, 12u);
  RunResult c = Ledger("consistency", {"5", "12"});
  ASSERT_EXIT_CODE(c, 0);
  auto proof = ledger::ParseProofLines(c.out, "stdout");
  ASSERT_TRUE(proof.ok()) << proof.error().ToString() << "\n" << c.out;
  Status st = ledger::VerifyConsistency(5, 12, *proof, first.root, second.root);
  EXPECT_TRUE(st.ok()) << st.ToString();

  RunResult audit = Ledger("audit", {});
  EXPECT_EXIT_CODE(audit, 0);
  EXPECT_CONTAINS(audit.out, "12 entries");
  EXPECT_CONTAINS(audit.out, crypto::DigestHex(second.root));
}

TEST_F(LedgerCliTest, ProveConsistencyAndCheckpointUsageAndStateErrors) {
  Init();
  Append("policy", Policy(Dg("a")));
  RunResult before = Ledger("prove", {"0"});
  EXPECT_EXIT_CODE(before, 4);  // FailedPrecondition: no checkpoint yet
  EXPECT_CONTAINS(before.err, "entry 0");
  EXPECT_CONTAINS(before.err, "checkpoint");
  Checkpoint();
  RunResult past = Ledger("prove", {"3"});
  EXPECT_EXIT_CODE(past, 4);
  EXPECT_CONTAINS(past.err, "entry 3");
  RunResult reversed = Ledger("consistency", {"1", "0"});
  EXPECT_EXIT_CODE(reversed, 2);
  RunResult beyond = Ledger("consistency", {"1", "9"});
  EXPECT_EXIT_CODE(beyond, 2);
  EXPECT_CONTAINS(beyond.err, "9");
  RunResult no_key = Ledger("checkpoint", {});
  EXPECT_EXIT_CODE(no_key, 2);
  EXPECT_CONTAINS(no_key.err, "--key");
  RunResult not_a_number = Ledger("prove", {"zero"});
  EXPECT_EXIT_CODE(not_a_number, 2);
}

TEST_F(LedgerCliTest, CheckpointWithAnotherKeyIsRefused) {
  const std::string vkey = Init();
  Append("policy", Policy(Dg("a")));
  const std::string other = dir_ / "other.key";
  WriteKey(other, crypto::KeyType::kEd25519);
  RunResult r = Ledger("checkpoint", {"--key", other});
  EXPECT_EXIT_CODE(r, 4);  // PermissionDenied
  EXPECT_CONTAINS(r.err, vkey);
  RunResult prove = Ledger("prove", {"0"});
  EXPECT_EXIT_CODE(prove, 4) << "no checkpoint may have been stored";
}

TEST_F(LedgerCliTest, AuditFindsTamperingAndNamesTheIndex) {
  Init();
  for (int i = 0; i < 6; ++i) Append("policy", Policy(Dg("p" + std::to_string(i))));
  Checkpoint();
  ASSERT_EXIT_CODE(Ledger("audit", {}), 0);

  RawExec(db_,
          "UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'policies/p.yaml', "
          "'policies/q.yaml') AS BLOB) WHERE idx = 4");
  RunResult r = Ledger("audit", {});
  EXPECT_EXIT_CODE(r, 1);
  EXPECT_CONTAINS(r.err, "entry 4");
  EXPECT_EQ(r.err.find("entry 3"), std::string::npos) << r.err;
}

TEST_F(LedgerCliTest, AuditNamesATamperedNodeAndCheckpointRefusesToSign) {
  Init();
  for (int i = 0; i < 8; ++i) Append("policy", Policy(Dg("p" + std::to_string(i))));
  Checkpoint();
  Append("policy", Policy(Dg("p8")));
  RawExec(db_, "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0");

  RunResult audit = Ledger("audit", {});
  EXPECT_EXIT_CODE(audit, 1);
  EXPECT_CONTAINS(audit.err, "node level 3 index 0");

  RunResult cp = Ledger("checkpoint", {"--key", log_key_});
  EXPECT_EXIT_CODE(cp, 1);
  EXPECT_CONTAINS(cp.err, "not consistent");
  EXPECT_CONTAINS(cp.err, "size 8");
}

// ---------------------------------------------------------------------------------------
// lineage.

TEST_F(LedgerCliTest, LineagePrintsTheTreeAndItsJsonParses) {
  Init();
  const std::string base = Dg("base model"), tuned = Dg("tuned model");
  const std::string root = Dg("stories");
  Append("dataset", R"({"root":")" + root +
                        R"(","count":42,"license":"CC-BY-4.0","source":"https://x.test/stories",)" +
                        R"("name":"tiny-stories"})");
  const uint64_t run = Append(
      "training-run", R"({"dataset_roots":[")" + root + R"("],"config_digest":")" + Dg("cfg") +
                          R"(","output_model_digest":")" + base +
                          R"(","code_revision":"deadbee","hardware":"2x test-gpu",)" +
                          R"("started":"2026-01-01T00:00:00Z","finished":"2026-01-02T00:00:00Z"})");
  Append("model-release", Release(base, "base-release", "1.0"));
  Append("fine-tune", R"({"parent_digest":")" + base + R"(","child_digest":")" + tuned +
                          R"(","method":"lora r=8"})");
  Append("model-release", Release(tuned, "tuned-release", "2.0"));
  Append("eval-report", R"({"model_digest":")" + tuned + R"(","report_digest":")" + Dg("report") +
                            R"(","summary":{"refusal_rate":0.9},"suite":"rt-basic"})");

  RunResult text = Ledger("lineage", {tuned});
  ASSERT_EXIT_CODE(text, 0);
  for (const std::string& s :
       {"model " + tuned, std::string("tuned-release 2.0"), std::string("rt-basic"),
        std::string("lora r=8"), std::string("parent:"), "model " + base,
        std::string("base-release 1.0"), std::string("training run, code deadbee"),
        std::string("tiny-stories: 42 records")}) {
    EXPECT_CONTAINS(text.out, s);
  }
  // The parent is indented under the child.
  EXPECT_LT(text.out.find("model " + tuned), text.out.find("model " + base));

  RunResult js = Ledger("lineage", {tuned, "--json"});
  ASSERT_EXIT_CODE(js, 0);
  const json::value v = ParseJson(js.out);
  EXPECT_EQ(Str(v, "model_digest"), tuned);
  EXPECT_EQ(Str(v, "releases.0.entry.name"), "tuned-release");
  EXPECT_EQ(Str(v, "evaluations.0.entry.suite"), "rt-basic");
  EXPECT_EQ(Str(v, "produced_by.0.type"), "fine-tune");
  ASSERT_EQ(Len(v, "parents"), 1u);
  EXPECT_EQ(Str(v, "parents.0.model_digest"), base);
  EXPECT_EQ(Str(v, "parents.0.produced_by.0.index"), std::to_string(run));
  EXPECT_EQ(Str(v, "parents.0.produced_by.0.type"), "training-run");
  EXPECT_EQ(Str(v, "parents.0.dataset_roots.0"), root);
  EXPECT_EQ(Str(v, "parents.0.datasets.0.entry.name"), "tiny-stories");
  EXPECT_EQ(Len(v, "parents.0.parents"), 0u);

  RunResult unknown = Ledger("lineage", {Dg("nobody")});
  EXPECT_EXIT_CODE(unknown, 0);
  EXPECT_CONTAINS(unknown.out, "no entry in this ledger mentions this model");
}

// ---------------------------------------------------------------------------------------
// Governance.

TEST_F(LedgerCliTest, ApproveAndPolicyStatusExitCodesFollowTheQuorum) {
  const std::string alice = dir_ / "alice.key", bob = dir_ / "bob.key", eve = dir_ / "eve.key";
  WriteKey(alice, crypto::KeyType::kEd25519);
  WriteKey(bob, crypto::KeyType::kEcdsaP256);
  WriteKey(eve, crypto::KeyType::kEd25519);
  RunResult init = Ledger("init", {"--key", log_key_, "--stakeholder", "alice=" + alice + ".pub",
                                   "--stakeholder", "bob=" + bob + ".pub"});
  ASSERT_EXIT_CODE(init, 0);
  EXPECT_CONTAINS(init.out, "2 stakeholders, quorum 2");
  const std::string policy = Dg("policy text");

  RunResult unknown = Ledger("policy-status", {policy});
  EXPECT_EXIT_CODE(unknown, 1);
  EXPECT_CONTAINS(unknown.out, "unknown policy");

  Append("policy", Policy(policy));
  RunResult none = Ledger("policy-status", {policy});
  EXPECT_EXIT_CODE(none, 1);
  EXPECT_CONTAINS(none.out, "not in force");

  RunResult a = Ledger("approve", {policy, "--key", alice});
  ASSERT_EXIT_CODE(a, 0);
  EXPECT_CONTAINS(a.out, "at index 1");
  RunResult half = Ledger("policy-status", {policy});
  EXPECT_EXIT_CODE(half, 1);
  EXPECT_CONTAINS(half.out, "1 of 2 approvals");

  RunResult outsider = Ledger("approve", {policy, "--key", eve});
  EXPECT_EXIT_CODE(outsider, 1);
  EXPECT_CONTAINS(outsider.err, "not a stakeholder");

  ASSERT_EXIT_CODE(Ledger("approve", {policy, "--key", bob}), 0);
  RunResult in_force = Ledger("policy-status", {policy});
  EXPECT_EXIT_CODE(in_force, 0);
  EXPECT_CONTAINS(in_force.out, "in force");
  EXPECT_CONTAINS(in_force.out, "alice");
  EXPECT_CONTAINS(in_force.out, "bob");
  RunResult js = Ledger("policy-status", {policy, "--json"});
  EXPECT_EXIT_CODE(js, 0);
  const json::value v = ParseJson(js.out);
  EXPECT_EQ(Str(v, "in_force"), "true");
  EXPECT_EQ(Str(v, "quorum"), "2");
  EXPECT_EQ(Len(v, "approvers"), 2u);

  RunResult revoke = Ledger("approve", {policy, "--key", bob, "--revoke"});
  ASSERT_EXIT_CODE(revoke, 0);
  EXPECT_CONTAINS(revoke.out, "revoked");
  RunResult after = Ledger("policy-status", {policy});
  EXPECT_EXIT_CODE(after, 1);
  EXPECT_CONTAINS(after.out, "1 revoked");
  RunResult after_js = Ledger("policy-status", {policy, "--json"});
  EXPECT_EXIT_CODE(after_js, 1);
  EXPECT_EQ(Str(ParseJson(after_js.out), "revoked.0"), "bob");

  RunResult malformed = Ledger("approve", {"md5:1234", "--key", alice});
  EXPECT_EXIT_CODE(malformed, 3);
  EXPECT_CONTAINS(malformed.err, "policy_digest");

  EXPECT_EXIT_CODE(Ledger("audit", {}), 0);
  RunResult missing_key = Ledger("approve", {policy, "--key", dir_ / "none.key"});
  EXPECT_EXIT_CODE(missing_key, 4);
  EXPECT_CONTAINS(missing_key.err, "none.key");
}

// ---------------------------------------------------------------------------------------
// Witness.

TEST_F(LedgerCliTest, WitnessRoundTrip) {
  const std::string wkey = dir_ / "witness.key";
  RunResult kg = Warden({"keygen", "--type", "ed25519", "--out", wkey});
  ASSERT_EXIT_CODE(kg, 0);
  const std::string wname = "witness.test/w1";
  const std::string state = dir_ / "wstate";
  RunResult pv = Warden({"ledger", "witness", "--key", wkey, "--name", wname, "--print-vkey"});
  ASSERT_EXIT_CODE(pv, 0);
  std::string wvkey = pv.out;
  while (!wvkey.empty() && wvkey.back() == '\n') wvkey.pop_back();
  auto wverifier = ledger::NoteVerifier::FromVkey(wvkey);
  ASSERT_TRUE(wverifier.ok()) << wvkey;
  EXPECT_EQ(wverifier->name(), wname);
  EXPECT_EQ(wverifier->type(), ledger::NoteKeyType::kEd25519Cosignature);

  const std::string vkey = Init({"--witness", wvkey});
  auto lverifier = ledger::NoteVerifier::FromVkey(vkey);
  ASSERT_TRUE(lverifier.ok()) << vkey;

  auto witness = [&](const std::string& cp_file, const std::string& proof_file) {
    std::vector<std::string> args = {"ledger",  "witness", "--key",     wkey, "--name", wname,
                                     "--state", state,     "--log-key", vkey, cp_file};
    if (!proof_file.empty()) args.insert(args.end(), {"--proof", proof_file});
    return Warden(args);
  };
  auto cosigned_ok = [&](const std::string& note_text) {
    auto note = ledger::ParseNote(note_text, "cosigned");
    EXPECT_TRUE(note.ok()) << note.error().ToString() << "\n" << note_text;
    if (!note.ok()) return;
    EXPECT_EQ(note->signatures.size(), 2u) << note_text;
    const std::vector<ledger::NoteVerifier> known = {*lverifier, *wverifier};
    auto opened = ledger::OpenNote(*note, known);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(opened->size(), 2u);
  };

  for (int i = 0; i < 3; ++i) Append("policy", Policy(Dg("a" + std::to_string(i))));
  const std::string cp1 = dir_.Write("cp1.txt", Checkpoint());
  RunResult w1 = witness(cp1, "");
  ASSERT_EXIT_CODE(w1, 0);
  EXPECT_CONTAINS(w1.err, "first");
  EXPECT_TRUE(w1.out.starts_with("\xE2\x80\x94 " + wname + " ")) << w1.out;
  const std::string cosig1 = dir_.Write("cosig1", w1.out);
  RunResult add1 = Ledger("checkpoint", {"--witnesses", cosig1});
  ASSERT_EXIT_CODE(add1, 0);
  EXPECT_CONTAINS(add1.out, w1.out);
  cosigned_ok(add1.out);
  // The cosigned note is what proofs now carry.
  RunResult p = Ledger("prove", {"0"});
  ASSERT_EXIT_CODE(p, 0);
  EXPECT_CONTAINS(p.out, w1.out);

  // The log grows: with the consistency proof the witness cosigns again.
  for (int i = 0; i < 4; ++i) Append("policy", Policy(Dg("b" + std::to_string(i))));
  const std::string cp2 = dir_.Write("cp2.txt", Checkpoint());
  RunResult cons = Ledger("consistency", {"3", "7"});
  ASSERT_EXIT_CODE(cons, 0);
  const std::string proof = dir_.Write("cons-3-7.txt", cons.out);
  RunResult w2 = witness(cp2, proof);
  ASSERT_EXIT_CODE(w2, 0);
  EXPECT_EQ(w2.err.find("first"), std::string::npos) << w2.err;
  RunResult add2 = Ledger("checkpoint", {"--witnesses", dir_.Write("cosig2", w2.out)});
  ASSERT_EXIT_CODE(add2, 0);
  cosigned_ok(add2.out);
  EXPECT_EQ(OpenCheckpoint(add2.out, vkey).size, 7u);

  // Growth without a proof is refused; so is a garbage proof and a proof for other sizes.
  for (int i = 0; i < 2; ++i) Append("policy", Policy(Dg("c" + std::to_string(i))));
  const std::string cp3 = dir_.Write("cp3.txt", Checkpoint());
  RunResult no_proof = witness(cp3, "");
  EXPECT_EXIT_CODE(no_proof, 1);
  EXPECT_CONTAINS(no_proof.err, "size 7");
  EXPECT_EQ(no_proof.out, "");
  RunResult garbage = witness(cp3, dir_.Write("garbage-proof.txt", "not base64 at all\n"));
  EXPECT_EXIT_CODE(garbage, 3);
  EXPECT_CONTAINS(garbage.err, "garbage-proof.txt");
  EXPECT_CONTAINS(garbage.err, "line 1");
  RunResult wrong_sizes = witness(cp3, proof);  // the 3 -> 7 proof, not 7 -> 9
  EXPECT_EXIT_CODE(wrong_sizes, 1);

  // Shrinking back to an older checkpoint is refused.
  RunResult shrink = witness(cp1, "");
  EXPECT_EXIT_CODE(shrink, 1);
  EXPECT_CONTAINS(shrink.err, "shrank");

  // A cosignature by a witness the ledger does not list is refused.
  const std::string other = dir_ / "other-witness.key";
  WriteKey(other, crypto::KeyType::kEd25519);
  RunResult ow = Warden({"ledger", "witness", "--key", other, "--name", "witness.test/w2",
                         "--state", dir_ / "other-state", "--log-key", vkey, cp3});
  ASSERT_EXIT_CODE(ow, 0);
  RunResult add_other = Ledger("checkpoint", {"--witnesses", dir_.Write("cosig-other", ow.out)});
  EXPECT_NE(add_other.exit_code, 0) << Describe(add_other);
  EXPECT_EQ(add_other.exit_code, 1)
      << "an unlisted witness fails the check; " << Describe(add_other);
  EXPECT_CONTAINS(add_other.err, "witness.test/w2");
  RunResult add_garbage = Ledger("checkpoint", {"--witnesses", dir_.Write("cosig-bad", "junk\n")});
  EXPECT_EXIT_CODE(add_garbage, 3);

  // A checkpoint signed by someone else's key is refused by the witness.
  RunResult forged = Warden({"ledger", "witness", "--key", wkey, "--name", wname, "--state", state,
                             "--log-key", wvkey, cp3});
  EXPECT_EXIT_CODE(forged, 1);

  EXPECT_EXIT_CODE(Ledger("audit", {}), 0);
}

// ---------------------------------------------------------------------------------------
// warden sign --ledger.

TEST_F(LedgerCliTest, SignWithLedgerAppendsAModelReleaseOfTheSubjectDigest) {
  Init();
  const std::string model = dir_ / "stories260K.gguf";
  fs::copy_file(kModel, model);
  const std::string key = dir_ / "release.key";
  WriteKey(key, crypto::KeyType::kEcdsaP256);
  RunResult r = Warden({"sign", model, "--key", key, "--ledger", db_, "--release-name", "stories",
                        "--release-version", "0.1"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, "appended model-release at index 0");

  // The subject digest, read from the signature bundle's in-toto statement.
  const json::value bundle = ParseJson(ReadAll(model + ".sig"));
  auto payload = Base64Decode(Str(bundle, "dsseEnvelope.payload"));
  ASSERT_TRUE(payload.ok());
  const json::value statement = ParseJson(*payload);
  const std::string subject = Str(statement, "subject.0.digest.sha256");
  ASSERT_EQ(subject.size(), 64u) << *payload;
  EXPECT_EQ(After(r.out, "subject sha256 "), subject);

  RunResult show = Ledger("show", {"0", "--json"});
  ASSERT_EXIT_CODE(show, 0);
  const json::value v = ParseJson(show.out);
  EXPECT_EQ(Str(v, "type"), "model-release");
  EXPECT_EQ(Str(v, "entry.model_digest"), "sha256:" + subject);
  EXPECT_EQ(Str(v, "entry.bundle_digest"), "sha256:" + Sha256Hex(ReadAll(model + ".sig")));
  EXPECT_EQ(Str(v, "entry.name"), "stories");
  EXPECT_EQ(Str(v, "entry.version"), "0.1");

  // The lineage of that digest finds the release.
  RunResult lin = Ledger("lineage", {"sha256:" + subject});
  EXPECT_EXIT_CODE(lin, 0);
  EXPECT_CONTAINS(lin.out, "stories 0.1");

  // A missing ledger fails before anything is signed.
  const std::string out = dir_ / "other.sig";
  RunResult missing =
      Warden({"sign", model, "--key", key, "--out", out, "--ledger", dir_ / "absent.ledger"});
  EXPECT_EXIT_CODE(missing, 4);
  EXPECT_CONTAINS(missing.err, "absent.ledger");
  EXPECT_FALSE(fs::exists(out));
}

// ---------------------------------------------------------------------------------------
// dataset.

class DatasetCliTest : public LedgerCliTest {
 protected:
  DatasetCliTest() {
    std::string text;
    for (int i = 0; i < 11; ++i) {
      // Non-canonical spacing on purpose: the record is the canonical JSON.
      text +=
          "{ \"text\": \"story " + std::to_string(i) + "\", \"id\": " + std::to_string(i) + " }\n";
      records_.push_back(R"({"id":)" + std::to_string(i) + R"(,"text":"story )" +
                         std::to_string(i) + "\"}");
    }
    data_ = dir_.Write("train.jsonl", text);
  }

  std::string ExpectedRoot() const {
    std::vector<ledger::Hash> leaves;
    for (const auto& r : records_) leaves.push_back(ledger::LeafHash(r));
    return "sha256:" + crypto::DigestHex(ledger::RootOf(leaves));
  }

  std::string data_;
  std::vector<std::string> records_;
};

TEST_F(DatasetCliTest, CommitTextAndJsonAgreeWithAnIndependentRoot) {
  RunResult text = Warden({"dataset", "commit", data_});
  ASSERT_EXIT_CODE(text, 0);
  EXPECT_CONTAINS(text.out, ExpectedRoot() + "  11 records");
  EXPECT_CONTAINS(text.out, "train.jsonl");
  RunResult js = Warden({"dataset", "commit", data_, "--json"});
  ASSERT_EXIT_CODE(js, 0);
  const json::value v = ParseJson(js.out);
  EXPECT_EQ(Str(v, "root"), ExpectedRoot());
  EXPECT_EQ(Str(v, "count"), "11");
  EXPECT_EQ(Str(v, "bytes"), std::to_string(fs::file_size(data_)));
  EXPECT_EQ(At(v, "ledger_index"), nullptr);

  // --format lines hashes the raw lines instead: another root, same count.
  RunResult lines = Warden({"dataset", "commit", data_, "--format", "lines", "--json"});
  ASSERT_EXIT_CODE(lines, 0);
  EXPECT_NE(Str(ParseJson(lines.out), "root"), ExpectedRoot());
  EXPECT_EQ(Str(ParseJson(lines.out), "count"), "11");
}

TEST_F(DatasetCliTest, CommitWithLedgerAppendsADatasetEntry) {
  Init();
  Append("policy", Policy(Dg("p")));
  RunResult r = Warden({"dataset", "commit", data_, "--ledger", db_, "--license", "CC0-1.0",
                        "--source", "https://x.test/train", "--name", "train", "--json"});
  ASSERT_EXIT_CODE(r, 0);
  const json::value v = ParseJson(r.out);
  EXPECT_EQ(Str(v, "ledger_index"), "1");
  RunResult show = Ledger("show", {"1", "--json"});
  ASSERT_EXIT_CODE(show, 0);
  const json::value e = ParseJson(show.out);
  EXPECT_EQ(Str(e, "type"), "dataset");
  EXPECT_EQ(Str(e, "entry.root"), ExpectedRoot());
  EXPECT_EQ(Str(e, "entry.count"), "11");
  EXPECT_EQ(Str(e, "entry.license"), "CC0-1.0");
  EXPECT_EQ(Str(e, "entry.name"), "train");

  RunResult text =
      Warden({"dataset", "commit", data_, "--ledger", db_, "--license", "MIT", "--source", "s"});
  ASSERT_EXIT_CODE(text, 0);
  EXPECT_CONTAINS(text.out, "appended dataset entry at index 2");
  EXPECT_EXIT_CODE(Ledger("audit", {}), 0);
}

TEST_F(DatasetCliTest, CommitWithLedgerNeedsLicenseAndSource) {
  Init();
  RunResult no_license =
      Warden({"dataset", "commit", data_, "--ledger", db_, "--source", "https://x.test"});
  EXPECT_EXIT_CODE(no_license, 2);
  EXPECT_CONTAINS(no_license.err, "--license");
  RunResult no_source = Warden({"dataset", "commit", data_, "--ledger", db_, "--license", "MIT"});
  EXPECT_EXIT_CODE(no_source, 2);
  EXPECT_CONTAINS(no_source.err, "--source");
  RunResult audit = Ledger("audit", {});
  EXPECT_EXIT_CODE(audit, 0);
  EXPECT_CONTAINS(audit.out, "0 entries");

  RunResult missing_db = Warden({"dataset", "commit", data_, "--ledger", dir_ / "no.ledger",
                                 "--license", "MIT", "--source", "s"});
  EXPECT_EXIT_CODE(missing_db, 4);
  EXPECT_CONTAINS(missing_db.err, "no.ledger");
}

TEST_F(DatasetCliTest, CommitOfMalformedOrMissingDataNamesTheLine) {
  const std::string bad = dir_.Write("bad.jsonl", "{\"a\":1}\n{\"a\":2}\nnot json\n");
  RunResult r = Warden({"dataset", "commit", bad});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, "bad.jsonl");
  EXPECT_CONTAINS(r.err, "line 3");
  RunResult missing = Warden({"dataset", "commit", dir_ / "absent.jsonl"});
  EXPECT_EXIT_CODE(missing, 4);
  EXPECT_CONTAINS(missing.err, "absent.jsonl");
}

TEST_F(DatasetCliTest, ProveAndCheck) {
  for (int index : {0, 6, 10}) {
    SCOPED_TRACE(index);
    RunResult p = Warden({"dataset", "prove", data_, "--record", std::to_string(index)});
    ASSERT_EXIT_CODE(p, 0);
    const json::value v = ParseJson(p.out);
    EXPECT_EQ(Str(v, "record"), records_[index]);
    EXPECT_EQ(Str(v, "index"), std::to_string(index));
    EXPECT_EQ(Str(v, "tree_size"), "11");
    EXPECT_EQ(Str(v, "root"), ExpectedRoot());
    const std::string proof = dir_.Write("proof" + std::to_string(index) + ".json", p.out);

    RunResult ok = Warden({"dataset", "check", proof});
    EXPECT_EXIT_CODE(ok, 0);
    EXPECT_CONTAINS(ok.out, "record " + std::to_string(index) + " of 11");
    RunResult with_root = Warden({"dataset", "check", proof, "--root", ExpectedRoot()});
    EXPECT_EXIT_CODE(with_root, 0);
  }
  RunResult past = Warden({"dataset", "prove", data_, "--record", "11"});
  EXPECT_EXIT_CODE(past, 2);
  EXPECT_CONTAINS(past.err, "record 11");
}

TEST_F(DatasetCliTest, CheckRefusesTamperedProofsWrongRootsAndGarbage) {
  RunResult p = Warden({"dataset", "prove", data_, "--record", "3"});
  ASSERT_EXIT_CODE(p, 0);
  const std::string good = p.out;
  auto tampered = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in\n" << good;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    return t;
  };

  struct Case {
    const char* name;
    std::string proof;
    std::vector<std::string> extra;
    int code;
    std::string names;
  };
  const std::string other_root = Dg("another dataset");
  const Case cases[] = {
      {"record_changed", tampered("story 3", "story 4"), {}, 1, "root"},
      {"index_changed", tampered("\"index\": 3", "\"index\": 2"), {}, 1, "root"},
      {"wrong_expected_root", good, {"--root", other_root}, 1, other_root.substr(7)},
      {"expected_root_bare_hex", good, {"--root", ExpectedRoot().substr(7)}, 0, ""},
      {"garbage", "this is not a proof\n", {}, 3, "garbage.json"},
      {"unknown_field", tampered("\"index\"", "\"colour\": 1, \"index\""), {}, 3, "colour"},
      {"bad_root_hex", tampered(ExpectedRoot(), "sha256:XYZ"), {}, 3, "root"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = dir_.Write(std::string(c.name) + ".json", c.proof);
    std::vector<std::string> args = {"dataset", "check", file};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    RunResult r = Warden(args);
    EXPECT_EXIT_CODE(r, c.code);
    if (!c.names.empty()) {
      EXPECT_CONTAINS(r.err, c.names);
    }
  }
  RunResult bad_flag = Warden({"dataset", "check", dir_.Write("ok.json", good), "--root", "xyz"});
  EXPECT_EXIT_CODE(bad_flag, 2);
  EXPECT_CONTAINS(bad_flag.err, "--root");
  RunResult missing = Warden({"dataset", "check", dir_ / "absent.json"});
  EXPECT_EXIT_CODE(missing, 4);
}

}  // namespace
}  // namespace warden
