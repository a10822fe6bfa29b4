// Sign -> verify round trips, every tamper we promise to catch, and the reference
// implementation's own bundles.
#include "provenance/signing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "common/temp_dir.h"
#include "formats/tensor_index.h"

namespace warden::provenance {
namespace {

const std::string kOms = std::string(WARDEN_TESTDATA_DIR) + "/oms";
const std::string kModel = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";

std::string Slurp(const std::string& path) {
  auto s = ReadFileToString(path, 64 << 20);
  EXPECT_TRUE(s.has_value()) << path;
  return s.value_or("");
}

class SigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
    ASSERT_TRUE(k.has_value());
    key_ = std::make_unique<crypto::PrivateKey>(std::move(*k));
    dir_.Write("model/config.json", "{\"dim\": 64}\n");
    dir_.Write("model/weights/part-0.bin", std::string(5000, 'a'));
    dir_.Write("model/weights/part-1.bin", std::string(3000, 'b'));
    dir_.Write("model/README.md", "a model\n");
    dir_.Write("model/.gitattributes", "*.bin filter=lfs\n");
    std::filesystem::copy_file(kModel, dir_ / "model/stories260K.gguf");
  }

  std::string Sign(const std::string& model, SignOptions opt = {}) {
    opt.hash.tensors = true;
    auto r = SignModel(model, *key_, opt);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? r->bundle_json : "";
  }

  Result<VerifyReport> Verify(const std::string& model, const std::string& bundle,
                              bool tensors = true) {
    VerifyOptions vo;
    vo.tensors = tensors;
    return VerifyModel(model, bundle, "model.sig", key_->Public(), vo);
  }

  static const FileChange* Find(const VerifyReport& r, std::string_view name) {
    for (const auto& c : r.changes) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<crypto::PrivateKey> key_;
};

TEST_F(SigningTest, DirectoryRoundTripVerifies) {
  const std::string b = Sign(dir_ / "model");
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->files_checked, 5u);  // .gitattributes is skipped
  EXPECT_EQ(r->tensors_checked, 48u);
}

TEST_F(SigningTest, SingleFileRoundTripVerifies) {
  const std::string b = Sign(dir_ / "model/stories260K.gguf");
  auto r = Verify(dir_ / "model/stories260K.gguf", b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->ok());
  auto st = ParseStatement(
      Base64Decode(json::Parse(b, "b")->at("dsseEnvelope").at("payload").as_string()).value(),
      "payload");
  ASSERT_TRUE(st.has_value());
  ASSERT_EQ(st->resources.size(), 1u);
  EXPECT_EQ(st->resources[0].name, ".");
  EXPECT_EQ(st->resources[0].tensors.size(), 48u);
  EXPECT_EQ(st->subject_name, "stories260K.gguf");
}

TEST_F(SigningTest, ShardsRoundTripVerifies) {
  SignOptions opt;
  opt.hash.method = Method::kShards;
  opt.hash.shard_size = 1024;
  const std::string b = Sign(dir_ / "model", opt);
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->ok());
}

TEST_F(SigningTest, ModifiedFileIsNamed) {
  const std::string b = Sign(dir_ / "model");
  dir_.Write("model/config.json", "{\"dim\": 65}\n");
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_EQ(r->changes[0].kind, FileChange::Kind::kModified);
  EXPECT_EQ(r->changes[0].name, "config.json");
}

TEST_F(SigningTest, AddedRemovedAndRenamedFilesAreNamed) {
  const std::string b = Sign(dir_ / "model");
  dir_.Write("model/extra.py", "import os\n");
  std::filesystem::remove(dir_ / "model/README.md");
  std::filesystem::rename(dir_ / "model/weights/part-1.bin", dir_ / "model/weights/part-9.bin");
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->changes.size(), 3u);
  const FileChange* added = Find(*r, "extra.py");
  const FileChange* removed = Find(*r, "README.md");
  const FileChange* renamed = Find(*r, "weights/part-1.bin");
  ASSERT_TRUE(added && removed && renamed);
  EXPECT_EQ(added->kind, FileChange::Kind::kAdded);
  EXPECT_EQ(removed->kind, FileChange::Kind::kRemoved);
  EXPECT_EQ(renamed->kind, FileChange::Kind::kRenamed);
  EXPECT_EQ(renamed->new_name, "weights/part-9.bin");
}

// Flips one byte at `offset` of `path`.
void FlipByte(const std::string& path, uint64_t offset) {
  std::string bytes = Slurp(path);
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x40);
  ASSERT_TRUE(WriteFileAtomic(path, bytes, 0644).ok());
}

std::vector<formats::TensorRange> Tensors(const std::string& path) {
  std::string bytes = Slurp(path);
  auto t = formats::IndexTensors(formats::ModelFormat::kGguf, AsBytes(bytes), path);
  EXPECT_TRUE(t.has_value());
  return t.value_or(std::vector<formats::TensorRange>{});
}

TEST_F(SigningTest, TamperedTensorIsNamed) {
  const std::string b = Sign(dir_ / "model");
  const std::string gguf = dir_ / "model/stories260K.gguf";
  auto tensors = Tensors(gguf);
  ASSERT_GT(tensors.size(), 10u);
  const auto& victim = tensors[7];
  FlipByte(gguf, victim.offset + victim.size - 1);
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->changes.size(), 1u);
  const FileChange& c = r->changes[0];
  EXPECT_EQ(c.name, "stories260K.gguf");
  ASSERT_EQ(c.tensors.size(), 1u);
  EXPECT_EQ(c.tensors[0].kind, TensorChange::Kind::kModified);
  EXPECT_EQ(c.tensors[0].name, victim.name);
}

TEST_F(SigningTest, HeaderOnlyEditSaysTensorsAreUnchanged) {
  const std::string b = Sign(dir_ / "model");
  const std::string gguf = dir_ / "model/stories260K.gguf";
  // Byte 8 is the low byte of the tensor count in GGUF v3; the version field is at 4. Edit a
  // byte of padding between the header and the data instead: the first tensor's offset - 1
  // is padding or header, never tensor data.
  auto tensors = Tensors(gguf);
  ASSERT_FALSE(tensors.empty());
  std::string bytes = Slurp(gguf);
  // Find a metadata string to change: the model name "llama" appears in the header.
  size_t at = bytes.find("llama");
  ASSERT_NE(at, std::string::npos);
  ASSERT_LT(at, tensors[0].offset);
  bytes[at] = 'L';
  ASSERT_TRUE(WriteFileAtomic(gguf, bytes, 0644).ok());
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_TRUE(r->changes[0].tensors.empty());
  EXPECT_NE(r->changes[0].tensor_note.find("unchanged"), std::string::npos)
      << r->changes[0].tensor_note;
}

TEST_F(SigningTest, SignatureOverAnotherModelFails) {
  dir_.Write("other/config.json", "{}\n");
  const std::string b = Sign(dir_ / "other");
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->changes.size(), 5u);  // config.json modified, four files added
}

TEST_F(SigningTest, WrongKeyFailsVerification) {
  const std::string b = Sign(dir_ / "model");
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(other.has_value());
  auto r = VerifyModel(dir_ / "model", b, "model.sig", other->Public(), {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed);
  EXPECT_NE(r.error().message().find("another key"), std::string::npos) << r.error().message();
}

// Edits the bundle JSON with `edit` and returns the text.
template <typename F>
std::string EditBundle(const std::string& bundle, F edit) {
  auto v = json::Parse(bundle, "bundle");
  EXPECT_TRUE(v.has_value());
  edit(v->as_object());
  return json::Pretty(*v);
}

TEST_F(SigningTest, AlteredPayloadFailsVerification) {
  const std::string b = Sign(dir_ / "model");
  const std::string edited = EditBundle(b, [](json::object& o) {
    auto& env = o["dsseEnvelope"].as_object();
    std::string payload = Base64Decode(env["payload"].as_string()).value();
    payload.replace(payload.find("config.json"), 11, "config.jsoN");
    env["payload"] = Base64Encode(payload);
  });
  auto r = Verify(dir_ / "model", edited);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kVerificationFailed);
}

TEST_F(SigningTest, MalformedBundlesAreDataLossNamingTheField) {
  const std::string b = Sign(dir_ / "model");
  struct Case {
    const char* name;
    std::string bundle;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"empty file", "", "empty input"},
      {"not json", "{\"mediaType\": ", "line 1"},
      {"missing envelope", EditBundle(b, [](json::object& o) { o.erase("dsseEnvelope"); }),
       "dsseEnvelope"},
      {"missing verification material",
       EditBundle(b, [](json::object& o) { o.erase("verificationMaterial"); }),
       "verificationMaterial"},
      {"unknown media type", EditBundle(b, [](json::object& o) { o["mediaType"] = "text/plain"; }),
       "mediaType"},
      {"unknown payload type",
       EditBundle(b,
                  [](json::object& o) {
                    o["dsseEnvelope"].as_object()["payloadType"] = "application/json";
                  }),
       "unknown payload type"},
      {"no signatures",
       EditBundle(
           b, [](json::object& o) { o["dsseEnvelope"].as_object()["signatures"] = json::array(); }),
       "no signatures"},
      {"signature not base64",
       EditBundle(b,
                  [](json::object& o) {
                    o["dsseEnvelope"].as_object()["signatures"].as_array()[0].as_object()["sig"] =
                        "!!!!";
                  }),
       "signatures[0].sig"},
      {"signature wrong type",
       EditBundle(b,
                  [](json::object& o) {
                    o["dsseEnvelope"].as_object()["signatures"].as_array()[0].as_object()["sig"] =
                        42;
                  }),
       "expected a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Verify(dir_ / "model", c.bundle);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << r.error().ToString();
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
}

// Signs an arbitrary statement with the test key, so that hostile statement contents reach
// the statement parser (they must pass the signature check first).
std::string SignStatement(const crypto::PrivateKey& key, const std::string& payload) {
  Bundle b;
  b.media_type = std::string(kBundleMediaType);
  b.envelope.payload_type = std::string(kInTotoPayloadType);
  b.envelope.payload = payload;
  b.envelope.signatures.push_back(
      {"", key.Sign(AsBytes(Pae(kInTotoPayloadType, payload))).value()});
  return BundleToJson(b);
}

TEST_F(SigningTest, HostileStatementsAreRefused) {
  auto base = SignModel(dir_ / "model", *key_, {});
  ASSERT_TRUE(base.has_value());
  const std::string good = StatementToJson(base->statement);
  auto mutate = [&](auto edit) {
    auto v = json::Parse(good, "s").value();
    edit(v.as_object());
    return SignStatement(*key_, json::Pretty(v));
  };
  auto res0 = [](json::object& o) -> json::object& {
    return o["predicate"].as_object()["resources"].as_array()[0].as_object();
  };
  struct Case {
    const char* name;
    std::string bundle;
    StatusCode code;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"dot-dot resource name",
       mutate([&](json::object& o) { res0(o)["name"] = "../../etc/passwd"; }),
       StatusCode::kDataLoss, "'..'"},
      {"absolute resource name", mutate([&](json::object& o) { res0(o)["name"] = "/etc/passwd"; }),
       StatusCode::kDataLoss, "absolute"},
      {"wrong predicate type",
       mutate([](json::object& o) { o["predicateType"] = "https://example.com/wrong/v1"; }),
       StatusCode::kDataLoss, "predicateType"},
      {"unsupported hash", mutate([](json::object& o) {
         o["predicate"].as_object()["serialization"].as_object()["hash_type"] = "blake3";
       }),
       StatusCode::kDataLoss, "hash_type"},
      {"short digest", mutate([&](json::object& o) { res0(o)["digest"] = "abcd"; }),
       StatusCode::kDataLoss, "64 hex digits"},
      {"duplicate resource", mutate([&](json::object& o) {
         auto& a = o["predicate"].as_object()["resources"].as_array();
         a.push_back(a[0]);
       }),
       StatusCode::kDataLoss, "duplicate resource"},
      {"subject digest does not match resources", mutate([](json::object& o) {
         o["subject"].as_array()[0].as_object()["digest"].as_object()["sha256"] =
             std::string(64, '0');
       }),
       StatusCode::kVerificationFailed, "subject digest"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Verify(dir_ / "model", c.bundle);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), c.code) << r.error().ToString();
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
}

TEST_F(SigningTest, SymlinksAreRefusedUnlessAllowedAndNeverLeaveTheModel) {
  ASSERT_EQ(symlink("config.json", (dir_ / "model/alias.json").c_str()), 0);
  auto refused = SignModel(dir_ / "model", *key_, {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(refused.error().message().find("--allow-symlinks"), std::string::npos);

  SignOptions allow;
  allow.walk.allow_symlinks = true;
  const std::string b = Sign(dir_ / "model", allow);
  auto r = Verify(dir_ / "model", b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->ok());

  dir_.Write("outside.txt", "secret");
  ASSERT_EQ(symlink((dir_ / "outside.txt").c_str(), (dir_ / "model/escape").c_str()), 0);
  auto escape = SignModel(dir_ / "model", *key_, allow);
  ASSERT_FALSE(escape.has_value());
  EXPECT_NE(escape.error().message().find("outside the model"), std::string::npos);
  std::filesystem::remove(dir_ / "model/escape");

  ASSERT_EQ(symlink("loop-b", (dir_ / "model/loop-a").c_str()), 0);
  ASSERT_EQ(symlink("loop-a", (dir_ / "model/loop-b").c_str()), 0);
  auto loop = SignModel(dir_ / "model", *key_, allow);
  ASSERT_FALSE(loop.has_value());
  EXPECT_EQ(loop.error().code(), StatusCode::kDataLoss) << loop.error().ToString();
  EXPECT_NE(loop.error().message().find("loop"), std::string::npos) << loop.error().message();
}

TEST_F(SigningTest, DirectoryLoopThroughSymlinkIsRefused) {
  ASSERT_EQ(symlink("..", (dir_ / "model/weights/up").c_str()), 0);
  SignOptions allow;
  allow.walk.allow_symlinks = true;
  auto r = SignModel(dir_ / "model", *key_, allow);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("loop"), std::string::npos) << r.error().message();
}

TEST_F(SigningTest, NonUtf8FileNameIsRefused) {
  dir_.Write(std::string("model/bad-\xff-name"), "x");
  auto r = SignModel(dir_ / "model", *key_, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("UTF-8"), std::string::npos);
}

TEST_F(SigningTest, UnreadableFileIsReportedNotFatal) {
  const std::string b = Sign(dir_ / "model");
  ASSERT_EQ(chmod((dir_ / "model/README.md").c_str(), 0), 0);
  auto check = [&]() -> int {
    auto r = Verify(dir_ / "model", b);
    if (!r.has_value() || r->changes.size() != 1) return 10;
    const FileChange& c = r->changes[0];
    if (c.kind != FileChange::Kind::kUnreadable || c.name != "README.md") return 11;
    return c.detail.find("Permission denied") != std::string::npos ? 0 : 12;
  };
  if (geteuid() != 0) {
    EXPECT_EQ(check(), 0);
    return;
  }
  // Root reads any file whatever its mode: check as an unprivileged user in a child process.
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(20);
    _exit(check());
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: error, 11: wrong change, 12: wrong message";
}

TEST_F(SigningTest, SignatureFileInsideTheModelIsLeftOut) {
  SignOptions opt;
  opt.walk.exclude_files.push_back(dir_ / "model/model.sig");
  dir_.Write("model/model.sig", "placeholder");
  const std::string b = Sign(dir_ / "model", opt);
  dir_.Write("model/model.sig", b);
  VerifyOptions vo;
  vo.exclude_files.push_back(dir_ / "model/model.sig");
  auto r = VerifyModel(dir_ / "model", b, "model.sig", key_->Public(), vo);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok());
}

// --- The reference implementation's own bundles ------------------------------------------

class ReferenceBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = crypto::LoadPublicKey(kOms + "/keys/signing-key-pub.pem");
    ASSERT_TRUE(k.has_value()) << k.error().ToString();
    key_ = std::make_unique<crypto::PublicKey>(std::move(*k));
  }

  Result<VerifyReport> VerifyDir(const std::string& model, const std::string& sig,
                                 std::vector<std::string> ignore) {
    VerifyOptions vo;
    vo.ignore_paths = std::move(ignore);
    vo.exclude_files.push_back(sig);
    return VerifyModel(model, Slurp(sig), sig, *key_, vo);
  }

  std::unique_ptr<crypto::PublicKey> key_;
};

TEST_F(ReferenceBundleTest, EveryKeyBasedReleaseBundleVerifies) {
  const std::string h = kOms + "/model-transparency/historical-bundles/";
  struct Case {
    std::string version;
    bool single_file;
  };
  for (const Case& c :
       {Case{"v0.3.1", true}, Case{"v1.0.0", true}, Case{"v1.0.1", false}, Case{"v1.1.0", false}}) {
    SCOPED_TRACE(c.version);
    const std::string dir = h + c.version + "-elliptic-key";
    const std::string model = c.single_file ? dir + "/signme-1" : dir;
    auto r = VerifyDir(model, dir + "/model.sig", {"ignore-me"});
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_TRUE(r->ok());
    EXPECT_EQ(r->files_checked, c.single_file ? 1u : 2u);
  }
}

TEST_F(ReferenceBundleTest, ReferenceBundleCatchesATamperedCopy) {
  testing::TempDir tmp;
  const std::string src = kOms + "/model-transparency/historical-bundles/v1.1.0-elliptic-key";
  for (const char* f : {"signme-1", "signme-2", "ignore-me"}) {
    std::filesystem::copy_file(src + "/" + f, tmp / f);
  }
  tmp.Write("signme-2", "signme-X");
  auto r = VerifyDir(tmp.path(), src + "/model.sig", {});
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_EQ(r->changes[0].name, "signme-2");
}

TEST_F(ReferenceBundleTest, SpecVectors) {
  const std::string v = kOms + "/ossf-spec/test-vectors-v1.0/";
  const std::string model = kOms + "/model-transparency/historical-bundles/v1.1.0-elliptic-key";
  // The folder also holds that release's own model.sig, which this bundle did not sign.
  auto ok = VerifyDir(model, v + "valid/key.bundle.json", {"model.sig"});
  ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
  EXPECT_TRUE(ok->ok());

  for (const char* bad : {"invalid/empty.bundle.json", "invalid/missing-envelope.bundle.json",
                          "invalid/missing-verification-material.bundle.json"}) {
    SCOPED_TRACE(bad);
    auto r = VerifyDir(model, v + bad, {"ignore-me"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << r.error().ToString();
  }
  // Its signature was made over another payload.
  auto wrong = VerifyDir(model, v + "invalid-payload/wrong-predicate.bundle.json", {});
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), StatusCode::kVerificationFailed) << wrong.error().ToString();
}

}  // namespace
}  // namespace warden::provenance
