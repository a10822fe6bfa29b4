// End-to-end tests of the warden binary: real processes, real files, real keys. Each test
// runs WARDEN_BINARY with posix_spawn (no shell), captures stdout and stderr, and checks the
// documented exit code (0 ok, 1 check failed, 2 usage, 3 malformed, 4 I/O or environment)
// and that the output names the file, field or tensor at fault. Library behaviour is tested
// in tests/provenance; these tests are about the command line a person or a script sees.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/json.h"
#include "common/run_binary.h"
#include "common/temp_dir.h"
#include "formats/tensor_index.h"

extern char** environ;

namespace warden {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using testing::TempDir;

const std::string kModel = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";
const std::string kOmsDir = std::string(WARDEN_TESTDATA_DIR) + "/oms";
constexpr int kDefaultTimeoutMs = 30'000;

// ---------------------------------------------------------------------------------------
// Running the binary.

using testing::Describe;
using testing::RunResult;

// Runs `warden args...` with stdin from /dev/null; kills it after `timeout_ms`.
RunResult Warden(const std::vector<std::string>& args, int timeout_ms = kDefaultTimeoutMs) {
  return testing::RunBinary(WARDEN_BINARY, args, timeout_ms);
}

// ---------------------------------------------------------------------------------------
// Independent references and small file helpers.

// SHA-256 straight from OpenSSL, not through warden's crypto module.
std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

void WriteBytes(const std::string& path, std::string_view bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string CopyModel(const std::string& to) {
  WriteBytes(to, ReadAll(kModel));
  chmod(to.c_str(), 0644);
  return to;
}

int Mode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

json::value ParseJson(const std::string& text) {
  auto v = json::Parse(text, "stdout");
  EXPECT_TRUE(v.has_value()) << v.error().ToString() << "\n" << text;
  return v.has_value() ? *v : json::value();
}

// Field access that fails the test instead of throwing.
const json::value* Field(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  return o == nullptr ? nullptr : o->if_contains(key);
}
std::string StringField(const json::value& v, std::string_view key) {
  const json::value* f = Field(v, key);
  return f != nullptr && f->is_string() ? std::string(f->get_string())
                                        : "<missing " + std::string(key) + ">";
}
const json::array& ArrayField(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  const json::value* f = Field(v, key);
  EXPECT_TRUE(f != nullptr && f->is_array()) << "no array " << key << " in " << json::Pretty(v);
  return f != nullptr && f->is_array() ? f->get_array() : kEmpty;
}

size_t CountLines(std::string_view text, std::string_view needle) {
  size_t n = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(start, end - start).find(needle) != std::string_view::npos) ++n;
    start = end + 1;
  }
  return n;
}

// The tensors of a GGUF file, as the format reader indexes them.
std::vector<formats::TensorRange> Tensors(const std::string& path, const std::string& bytes) {
  auto t = formats::IndexTensors(formats::ModelFormat::kGguf, AsBytes(bytes), path);
  EXPECT_TRUE(t.has_value()) << t.error().ToString();
  return t.value_or(std::vector<formats::TensorRange>{});
}

// Flips one bit in the middle of `tensor`'s data in the GGUF file at `path`.
void FlipBitInTensor(const std::string& path, const std::string& tensor) {
  std::string bytes = ReadAll(path);
  for (const auto& t : Tensors(path, bytes)) {
    if (t.name != tensor) continue;
    ASSERT_GT(t.size, 0u);
    const uint64_t at = t.offset + t.size / 2;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    WriteBytes(path, bytes);
    return;
  }
  FAIL() << path << " has no tensor " << tensor;
}

#define EXPECT_EXIT_CODE(result, code) EXPECT_EQ((result).exit_code, (code)) << Describe(result)
#define ASSERT_EXIT_CODE(result, code) ASSERT_EQ((result).exit_code, (code)) << Describe(result)
#define EXPECT_CONTAINS(haystack, needle)                                                       \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing: " << (needle) << "\nin:\n" \
                                                        << (haystack)

// ---------------------------------------------------------------------------------------
// Help and usage errors.

TEST(CliHelpTest, RootHelpExitsZeroAndListsCommandsAndExitCodes) {
  RunResult r = Warden({"--help"});
  ASSERT_EXIT_CODE(r, 0);
  for (const char* cmd : {"keygen", "hash", "sign", "verify", "demo"}) EXPECT_CONTAINS(r.out, cmd);
  EXPECT_CONTAINS(r.out, "Exit codes");
  EXPECT_CONTAINS(r.out, "warden demo");
}

TEST(CliHelpTest, EverySubcommandHelpExitsZero) {
  for (const char* cmd : {"keygen", "hash", "sign", "verify", "demo"}) {
    RunResult r = Warden({cmd, "--help"});
    EXPECT_EXIT_CODE(r, 0);
    EXPECT_CONTAINS(r.out, std::string("Usage: warden ") + cmd);
  }
}

TEST(CliHelpTest, SubcommandHelpShowsExamples) {
  for (const char* cmd : {"keygen", "hash", "sign", "verify"}) {
    RunResult r = Warden({cmd, "--help"});
    EXPECT_EXIT_CODE(r, 0);
    EXPECT_CONTAINS(r.out, "Example");
    EXPECT_CONTAINS(r.out, std::string("warden ") + cmd + " ");
  }
}

TEST(CliHelpTest, VersionExitsZero) {
  RunResult r = Warden({"--version"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, "warden ");
}

TEST(CliUsageTest, NoSubcommandIsUsageError) {
  RunResult r = Warden({});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_CONTAINS(r.err, "subcommand");
}

TEST(CliUsageTest, UnknownSubcommandIsUsageError) {
  RunResult r = Warden({"frobnicate"});
  EXPECT_EXIT_CODE(r, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST(CliUsageTest, MissingRequiredOptionIsUsageErrorNamingIt) {
  TempDir dir;
  const std::string model = dir.Write("m/a.txt", "a\n");
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  const Case cases[] = {
      {{"hash"}, "MODEL"},
      {{"keygen"}, "--out"},
      {{"sign", dir / "m"}, "--key"},
      {{"verify", dir / "m"}, "--key"},
      {{"verify", "--key", dir / "k.pub"}, "MODEL"},
  };
  for (const auto& c : cases) {
    RunResult r = Warden(c.args);
    EXPECT_EXIT_CODE(r, 2);
    EXPECT_CONTAINS(r.err, c.names);
  }
}

TEST(CliUsageTest, BadOptionValuesAreUsageErrors) {
  TempDir dir;
  dir.Write("m/a.txt", "a\n");
  const std::vector<std::vector<std::string>> cases = {
      {"hash", dir / "m", "--no-such-flag"},
      {"hash", dir / "m", "--method", "chunks"},
      {"hash", dir / "m", "--method", "shards", "--shard-size", "0"},
      {"hash", dir / "m", "--threads", "0"},
      {"keygen", "--out", dir / "k", "--type", "rsa"},
  };
  for (const auto& args : cases) {
    RunResult r = Warden(args);
    EXPECT_EXIT_CODE(r, 2);
    EXPECT_FALSE(r.err.empty());
  }
  EXPECT_FALSE(fs::exists(dir / "k"));
}

// ---------------------------------------------------------------------------------------
// keygen

TEST(CliKeygenTest, WritesPrivateKey0600AndPublicKey) {
  TempDir dir;
  RunResult r = Warden({"keygen", "--out", dir / "release.key"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_EQ(Mode(dir / "release.key"), 0600);
  ASSERT_TRUE(fs::exists(dir / "release.key.pub"));
  EXPECT_CONTAINS(ReadAll(dir / "release.key"), "-----BEGIN PRIVATE KEY-----");
  EXPECT_CONTAINS(ReadAll(dir / "release.key.pub"), "-----BEGIN PUBLIC KEY-----");
  EXPECT_EQ(ReadAll(dir / "release.key.pub").find("PRIVATE"), std::string::npos);
  EXPECT_CONTAINS(r.out, "fingerprint");
  EXPECT_CONTAINS(r.out, "ecdsa");
}

TEST(CliKeygenTest, RefusesToOverwriteWithoutForce) {
  TempDir dir;
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir / "k"}), 0);
  const std::string before = ReadAll(dir / "k");
  const std::string before_pub = ReadAll(dir / "k.pub");
  RunResult r = Warden({"keygen", "--out", dir / "k"});
  EXPECT_NE(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.exit_code, -1) << Describe(r);
  EXPECT_CONTAINS(r.err, dir / "k");
  EXPECT_CONTAINS(r.err, "overwrite");
  EXPECT_EQ(ReadAll(dir / "k"), before);
  EXPECT_EQ(ReadAll(dir / "k.pub"), before_pub);
}

TEST(CliKeygenTest, ForceOverwrites) {
  TempDir dir;
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir / "k"}), 0);
  const std::string before = ReadAll(dir / "k");
  RunResult r = Warden({"keygen", "--out", dir / "k", "--force"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_NE(ReadAll(dir / "k"), before);
  EXPECT_EQ(Mode(dir / "k"), 0600);
}

TEST(CliKeygenTest, Ed25519KeyType) {
  TempDir dir;
  RunResult r = Warden({"keygen", "--out", dir / "ed", "--type", "ed25519"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, "ed25519");
  EXPECT_EQ(Mode(dir / "ed"), 0600);
  EXPECT_CONTAINS(ReadAll(dir / "ed.pub"), "-----BEGIN PUBLIC KEY-----");
}

TEST(CliKeygenTest, UnwritableDirectoryIsEnvironmentError) {
  TempDir dir;
  RunResult r = Warden({"keygen", "--out", dir / "no/such/dir/k"});
  EXPECT_EXIT_CODE(r, 4);
  EXPECT_CONTAINS(r.err, "no/such/dir");
}

// ---------------------------------------------------------------------------------------
// hash

TEST(CliHashTest, DirectoryTextOutputIsSha256sumFormat) {
  TempDir dir;
  dir.Write("m/abc.txt", "abc");
  dir.Write("m/sub/b.bin", std::string(70000, 'b'));
  dir.Write("m/empty", "");
  RunResult r = Warden({"hash", dir / "m"});
  ASSERT_EXIT_CODE(r, 0);
  // Known answer for "abc" (FIPS 180-2), and OpenSSL for the rest; names relative, sorted.
  EXPECT_EQ(r.out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc.txt\n" +
                       Sha256Hex("") + "  empty\n" + Sha256Hex(std::string(70000, 'b')) +
                       "  sub/b.bin\n");
}

TEST(CliHashTest, SingleFileIsNamedAsGiven) {
  TempDir dir;
  const std::string f = dir.Write("one.bin", "hello world\n");
  RunResult r = Warden({"hash", f});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, Sha256Hex("hello world\n") + "  " + f + "\n");
}

TEST(CliHashTest, JsonHasEveryFileWithItsSha256) {
  TempDir dir;
  dir.Write("m/a.txt", "alpha");
  dir.Write("m/z/b.txt", "beta");
  RunResult r = Warden({"hash", dir / "m", "--json"});
  ASSERT_EXIT_CODE(r, 0);
  json::value v = ParseJson(r.out);
  EXPECT_EQ(StringField(v, "method"), "files");
  EXPECT_EQ(StringField(v, "subject_sha256").size(), 64u);
  const json::array& files = ArrayField(v, "files");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(StringField(files[0], "name"), "a.txt");
  EXPECT_EQ(StringField(files[0], "sha256"), Sha256Hex("alpha"));
  EXPECT_EQ(StringField(files[1], "name"), "z/b.txt");
  EXPECT_EQ(StringField(files[1], "sha256"), Sha256Hex("beta"));
}

TEST(CliHashTest, TensorsListsAll48TensorsOfTheBundledModel) {
  RunResult r = Warden({"hash", kModel, "--tensors"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_EQ(CountLines(r.out, "(offset "), 48u) << r.out;
  EXPECT_CONTAINS(r.out, "  token_embd.weight  ");
  EXPECT_CONTAINS(r.out, "  blk.4.ffn_norm.weight  ");
  EXPECT_EQ(r.out.rfind(Sha256Hex(ReadAll(kModel)) + "  " + kModel + "\n", 0), 0u) << r.out;
}

TEST(CliHashTest, TensorsJsonDigestsAreTheTensorDataBytes) {
  RunResult r = Warden({"hash", kModel, "--tensors", "--json"});
  ASSERT_EXIT_CODE(r, 0);
  json::value v = ParseJson(r.out);
  const json::array& files = ArrayField(v, "files");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(StringField(files[0], "format"), "gguf");
  const json::array& tensors = ArrayField(files[0], "tensors");
  ASSERT_EQ(tensors.size(), 48u);
  const std::string bytes = ReadAll(kModel);
  const auto index = Tensors(kModel, bytes);
  ASSERT_EQ(index.size(), 48u);
  for (size_t i = 0; i < index.size(); ++i) {
    EXPECT_EQ(StringField(tensors[i], "name"), index[i].name);
    EXPECT_EQ(StringField(tensors[i], "sha256"),
              Sha256Hex(std::string_view(bytes).substr(index[i].offset, index[i].size)))
        << index[i].name;
  }
}

TEST(CliHashTest, ShardsGivesOneLinePerShard) {
  TempDir dir;
  std::string data;
  for (int i = 0; i < 2500; ++i) data.push_back(static_cast<char>(i * 7));
  dir.Write("m/w.bin", data);
  RunResult r = Warden({"hash", dir / "m", "--method", "shards", "--shard-size", "1000"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, Sha256Hex(data.substr(0, 1000)) + "  w.bin:0:1000\n" +
                       Sha256Hex(data.substr(1000, 1000)) + "  w.bin:1000:2000\n" +
                       Sha256Hex(data.substr(2000)) + "  w.bin:2000:2500\n");
}

TEST(CliHashTest, ShardsJson) {
  TempDir dir;
  dir.Write("m/w.bin", std::string(1500, 'x'));
  RunResult r = Warden({"hash", dir / "m", "--method", "shards", "--shard-size", "1000", "--json"});
  ASSERT_EXIT_CODE(r, 0);
  json::value v = ParseJson(r.out);
  EXPECT_EQ(StringField(v, "method"), "shards");
  const json::array& files = ArrayField(v, "files");
  ASSERT_EQ(files.size(), 1u);
  const json::array& shards = ArrayField(files[0], "shards");
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(StringField(shards[1], "sha256"), Sha256Hex(std::string(500, 'x')));
}

TEST(CliHashTest, TruncatedGgufWithTensorsIsMalformedNamingTheFile) {
  TempDir dir;
  const std::string f = dir / "cut.gguf";
  WriteBytes(f, ReadAll(kModel).substr(0, 3000));
  RunResult r = Warden({"hash", f, "--tensors"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, f);
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(CliHashTest, CorruptGgufMagicIsHashedAsPlainFile) {
  // Without the magic the file is not recognised as GGUF: hashed per file, no tensors.
  TempDir dir;
  std::string bytes = ReadAll(kModel).substr(0, 4096);
  bytes[0] = 'X';
  const std::string f = dir / "bad.gguf";
  WriteBytes(f, bytes);
  RunResult r = Warden({"hash", f, "--tensors"});
  EXPECT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, Sha256Hex(bytes) + "  " + f + "\n");
}

TEST(CliHashTest, GgufWithBadTensorCountIsMalformedNamingTheFile) {
  // The tensor count (uint64 at offset 8) claims far more tensors than the file holds.
  TempDir dir;
  std::string bytes = ReadAll(kModel);
  for (int i = 8; i < 16; ++i) bytes[i] = static_cast<char>(0x7f);
  const std::string f = dir / "count.gguf";
  WriteBytes(f, bytes);
  RunResult r = Warden({"hash", f, "--tensors"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, f);
}

TEST(CliHashTest, NonexistentPathIsEnvironmentError) {
  TempDir dir;
  RunResult r = Warden({"hash", dir / "nope"});
  EXPECT_EXIT_CODE(r, 4);
  EXPECT_CONTAINS(r.err, dir / "nope");
}

TEST(CliHashTest, SymlinkIsRefusedWithoutAllowSymlinks) {
  TempDir dir;
  dir.Write("m/real.bin", "real");
  fs::create_symlink("real.bin", dir / "m/link.bin");
  RunResult r = Warden({"hash", dir / "m"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, "link.bin");
  EXPECT_CONTAINS(r.err, "--allow-symlinks");

  RunResult ok = Warden({"hash", dir / "m", "--allow-symlinks"});
  ASSERT_EXIT_CODE(ok, 0);
  EXPECT_EQ(ok.out, Sha256Hex("real") + "  link.bin\n" + Sha256Hex("real") + "  real.bin\n");
}

TEST(CliHashTest, SymlinkLeavingTheModelIsRefusedEvenWhenAllowed) {
  TempDir dir;
  dir.Write("outside.bin", "secret");
  dir.Write("m/real.bin", "real");
  fs::create_symlink(dir / "outside.bin", dir / "m/escape.bin");
  RunResult r = Warden({"hash", dir / "m", "--allow-symlinks"});
  EXPECT_EXIT_CODE(r, 3);
  EXPECT_CONTAINS(r.err, "escape.bin");
  EXPECT_EQ(r.out.find(Sha256Hex("secret")), std::string::npos);
}

TEST(CliHashTest, GitPathsAreSkippedUnlessIncluded) {
  TempDir dir;
  dir.Write("m/a.txt", "a");
  dir.Write("m/.gitattributes", "*.bin filter=lfs\n");
  RunResult r = Warden({"hash", dir / "m"});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_EQ(r.out, Sha256Hex("a") + "  a.txt\n");
  RunResult all = Warden({"hash", dir / "m", "--include-git"});
  ASSERT_EXIT_CODE(all, 0);
  EXPECT_CONTAINS(all.out, "  .gitattributes\n");
}

// ---------------------------------------------------------------------------------------
// sign and verify

class CliSignVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = Warden({"keygen", "--out", key_});
    ASSERT_EXIT_CODE(r, 0);
    dir_.Write("model/config.json", "{\"dim\": 64}\n");
    dir_.Write("model/README.md", "a model\n");
    dir_.Write("model/weights/part-0.bin", std::string(5000, 'a'));
    CopyModel(dir_ / "model/stories260K.gguf");
  }

  RunResult Sign(const std::string& model, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"sign", model, "--key", key_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Warden(args);
  }
  RunResult Verify(const std::string& model, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", model, "--key", pub_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Warden(args);
  }
  // Signs model/ (default signature path model.sig) and checks that it worked.
  void SignModelDir() {
    RunResult r = Sign(model_);
    ASSERT_EXIT_CODE(r, 0);
    ASSERT_TRUE(fs::exists(sig_));
  }
  // Rewrites the bundle at sig_ after `edit` changes its JSON.
  template <typename Edit>
  void EditBundle(Edit edit) {
    json::value v = ParseJson(ReadAll(sig_));
    json::object* root = v.if_object();
    ASSERT_NE(root, nullptr);
    edit(*root);
    WriteBytes(sig_, json::Pretty(v));
  }

  TempDir dir_;
  const std::string key_ = dir_ / "release.key";
  const std::string pub_ = dir_ / "release.key.pub";
  const std::string model_ = dir_ / "model";
  const std::string sig_ = dir_ / "model.sig";
};

TEST_F(CliSignVerifyTest, DirectoryRoundTripVerifies) {
  RunResult s = Sign(model_);
  ASSERT_EXIT_CODE(s, 0);
  EXPECT_CONTAINS(s.out, "4 files");
  EXPECT_CONTAINS(s.out, "48 tensor digests");
  EXPECT_CONTAINS(s.out, sig_);
  ASSERT_TRUE(fs::exists(sig_));
  RunResult v = Verify(model_);
  ASSERT_EXIT_CODE(v, 0);
  EXPECT_EQ(v.out.rfind("verified", 0), 0u) << v.out;
  EXPECT_CONTAINS(v.out, "4 files");
}

TEST_F(CliSignVerifyTest, TrailingSlashStillWritesModelDotSig) {
  ASSERT_EXIT_CODE(Sign(model_ + "/"), 0);
  EXPECT_TRUE(fs::exists(sig_));
  EXPECT_EXIT_CODE(Verify(model_ + "/"), 0);
}

TEST_F(CliSignVerifyTest, SingleFileRoundTripVerifiesWithTensors) {
  const std::string f = model_ + "/stories260K.gguf";
  ASSERT_EXIT_CODE(Sign(f), 0);
  ASSERT_TRUE(fs::exists(f + ".sig"));
  RunResult v = Verify(f, {"--tensors"});
  ASSERT_EXIT_CODE(v, 0);
  EXPECT_EQ(v.out.rfind("verified", 0), 0u) << v.out;
  EXPECT_CONTAINS(v.out, "1 file,");
  EXPECT_CONTAINS(v.out, "48 tensors");
}

TEST_F(CliSignVerifyTest, ExplicitSignaturePath) {
  const std::string sig = dir_ / "elsewhere/custom.sig";
  fs::create_directories(dir_ / "elsewhere");
  ASSERT_EXIT_CODE(Sign(model_, {"--out", sig}), 0);
  EXPECT_FALSE(fs::exists(sig_));
  EXPECT_EXIT_CODE(Verify(model_, {"--signature", sig}), 0);
  // Without --signature the default MODEL.sig is looked for, and it is not there.
  RunResult r = Verify(model_);
  EXPECT_EXIT_CODE(r, 4);
  EXPECT_CONTAINS(r.err, sig_);
}

TEST_F(CliSignVerifyTest, SignatureFileInsideTheModelIsLeftOut) {
  const std::string inside = model_ + "/model.sig";
  RunResult s = Sign(model_, {"--out", inside});
  ASSERT_EXIT_CODE(s, 0);
  EXPECT_CONTAINS(s.out, "4 files");
  RunResult v = Verify(model_, {"--signature", inside});
  ASSERT_EXIT_CODE(v, 0);
  EXPECT_CONTAINS(v.out, "4 files");
}

TEST_F(CliSignVerifyTest, ModifiedFileIsNamed) {
  SignModelDir();
  WriteBytes(model_ + "/config.json", "{\"dim\": 65}\n");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "FAILED");
  EXPECT_CONTAINS(v.out, "modified    config.json");
  EXPECT_EQ(CountLines(v.out, "modified"), 1u) << v.out;
}

TEST_F(CliSignVerifyTest, AddedFileIsNamed) {
  SignModelDir();
  dir_.Write("model/weights/extra.bin", "new");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "added");
  EXPECT_CONTAINS(v.out, "weights/extra.bin");
}

TEST_F(CliSignVerifyTest, RemovedFileIsNamed) {
  SignModelDir();
  fs::remove(model_ + "/README.md");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "removed");
  EXPECT_CONTAINS(v.out, "README.md");
}

TEST_F(CliSignVerifyTest, RenamedFileIsNamedWithBothNames) {
  SignModelDir();
  fs::rename(model_ + "/weights/part-0.bin", model_ + "/weights/part-9.bin");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "renamed     weights/part-0.bin -> weights/part-9.bin");
}

TEST_F(CliSignVerifyTest, TamperedTensorIsNamed) {
  const std::string f = dir_ / "solo/stories260K.gguf";
  CopyModel(f);
  ASSERT_EXIT_CODE(Sign(f), 0);
  FlipBitInTensor(f, "blk.3.ffn_down.weight");
  RunResult v = Verify(f, {"--tensors"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "stories260K.gguf");
  EXPECT_CONTAINS(v.out, "tensor modified blk.3.ffn_down.weight");
  EXPECT_EQ(CountLines(v.out, "tensor "), 1u) << v.out;  // only that tensor
}

TEST_F(CliSignVerifyTest, TamperedTensorInDirectoryIsNamedInJson) {
  SignModelDir();
  FlipBitInTensor(model_ + "/stories260K.gguf", "output_norm.weight");
  RunResult v = Verify(model_, {"--tensors", "--json"});
  EXPECT_EXIT_CODE(v, 1);
  json::value j = ParseJson(v.out);
  const json::value* verified = Field(j, "verified");
  ASSERT_NE(verified, nullptr) << v.out;
  EXPECT_EQ(*verified, json::value(false));
  const json::array& changes = ArrayField(j, "changes");
  ASSERT_EQ(changes.size(), 1u) << v.out;
  EXPECT_EQ(StringField(changes[0], "kind"), "modified");
  EXPECT_EQ(StringField(changes[0], "name"), "stories260K.gguf");
  const json::array& tensors = ArrayField(changes[0], "tensors");
  ASSERT_EQ(tensors.size(), 1u) << v.out;
  EXPECT_EQ(StringField(tensors[0], "name"), "output_norm.weight");
  EXPECT_EQ(StringField(tensors[0], "kind"), "modified");
}

TEST_F(CliSignVerifyTest, NoTensorsSignatureSaysSoWhenAskedForTensors) {
  ASSERT_EXIT_CODE(Sign(model_, {"--no-tensors"}), 0);
  FlipBitInTensor(model_ + "/stories260K.gguf", "blk.0.attn_k.weight");
  RunResult v = Verify(model_, {"--tensors"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "stories260K.gguf");
  EXPECT_CONTAINS(v.out, "no per-tensor digests");
  EXPECT_EQ(v.out.find("blk.0.attn_k.weight"), std::string::npos) << v.out;
}

TEST_F(CliSignVerifyTest, JsonReportOnSuccessAndFailure) {
  SignModelDir();
  RunResult ok = Verify(model_, {"--json"});
  ASSERT_EXIT_CODE(ok, 0);
  json::value j = ParseJson(ok.out);
  ASSERT_NE(Field(j, "verified"), nullptr) << ok.out;
  EXPECT_EQ(*Field(j, "verified"), json::value(true));
  EXPECT_TRUE(ArrayField(j, "changes").empty());

  WriteBytes(model_ + "/README.md", "changed\n");
  fs::remove(model_ + "/config.json");
  RunResult bad = Verify(model_, {"--json"});
  EXPECT_EXIT_CODE(bad, 1);
  json::value k = ParseJson(bad.out);
  ASSERT_NE(Field(k, "verified"), nullptr) << bad.out;
  EXPECT_EQ(*Field(k, "verified"), json::value(false));
  const json::array& changes = ArrayField(k, "changes");
  ASSERT_EQ(changes.size(), 2u) << bad.out;
  std::vector<std::string> seen;
  for (const auto& c : changes)
    seen.push_back(StringField(c, "kind") + " " + StringField(c, "name"));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"modified README.md", "removed config.json"}));
}

TEST_F(CliSignVerifyTest, ShardsRoundTripAndModifiedShardIsNamed) {
  ASSERT_EXIT_CODE(Sign(model_, {"--method", "shards", "--shard-size", "1000"}), 0);
  EXPECT_EXIT_CODE(Verify(model_), 0);
  std::string w(5000, 'a');
  w[2500] = 'Z';
  WriteBytes(model_ + "/weights/part-0.bin", w);
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "weights/part-0.bin");
  EXPECT_CONTAINS(v.out, "2000");  // the detail names the shard that differs
}

TEST_F(CliSignVerifyTest, WrongPublicKeyFails) {
  SignModelDir();
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir_ / "other.key"}), 0);
  RunResult v = Warden({"verify", model_, "--key", dir_ / "other.key.pub"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.err, sig_);
  EXPECT_CONTAINS(v.err, "another key");
  EXPECT_EQ(v.out.find("verified"), std::string::npos) << v.out;
}

// A public key of another type is a wrong key like any other: the bundle is well-formed,
// it just was not signed with this key, so the answer is "check failed" (1), not "malformed".
TEST_F(CliSignVerifyTest, PublicKeyOfAnotherTypeFailsVerification) {
  SignModelDir();
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir_ / "ed.key", "--type", "ed25519"}), 0);
  RunResult v = Warden({"verify", model_, "--key", dir_ / "ed.key.pub"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.err, sig_);
  EXPECT_CONTAINS(v.err, "another key");
}

TEST_F(CliSignVerifyTest, Ed25519SignedBundleFailsWithEcdsaKey) {
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir_ / "ed.key", "--type", "ed25519"}), 0);
  ASSERT_EXIT_CODE(Warden({"sign", model_, "--key", dir_ / "ed.key"}), 0);
  EXPECT_EXIT_CODE(Warden({"verify", model_, "--key", dir_ / "ed.key.pub"}), 0);
  RunResult v = Verify(model_);  // the ECDSA key from SetUp
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.err, sig_);
  EXPECT_CONTAINS(v.err, "another key");
}

TEST_F(CliSignVerifyTest, WrongKeyFailureIsJsonWithJsonFlag) {
  SignModelDir();
  ASSERT_EXIT_CODE(Warden({"keygen", "--out", dir_ / "other.key"}), 0);
  RunResult v = Warden({"verify", model_, "--key", dir_ / "other.key.pub", "--json"});
  EXPECT_EXIT_CODE(v, 1);
  json::value j = ParseJson(v.out);
  ASSERT_NE(Field(j, "verified"), nullptr) << v.out;
  EXPECT_EQ(*Field(j, "verified"), json::value(false));
  EXPECT_CONTAINS(StringField(j, "error"), "no signature");
}

TEST_F(CliSignVerifyTest, AlteredPayloadFailsTheSignatureCheck) {
  SignModelDir();
  EditBundle([](json::object& root) {
    json::object& env = root["dsseEnvelope"].as_object();
    auto payload = Base64Decode(env["payload"].as_string());
    ASSERT_TRUE(payload.has_value());
    // Still a valid statement, but not the bytes that were signed.
    env["payload"] = Base64Encode(*payload + "\n");
  });
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.err, sig_);
  EXPECT_CONTAINS(v.err, "altered");
}

TEST_F(CliSignVerifyTest, GarbageSignatureFileIsMalformedNamingIt) {
  SignModelDir();
  WriteBytes(sig_, "this is not a bundle\n");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 3);
  EXPECT_CONTAINS(v.err, sig_);
}

TEST_F(CliSignVerifyTest, EmptySignatureFileIsMalformed) {
  SignModelDir();
  WriteBytes(sig_, "");
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 3);
  EXPECT_CONTAINS(v.err, sig_);
}

TEST_F(CliSignVerifyTest, ChangedPayloadTypeIsMalformedNamingTheField) {
  SignModelDir();
  EditBundle([](json::object& root) {
    root["dsseEnvelope"].as_object()["payloadType"] = "application/vnd.example+json";
  });
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 3);
  EXPECT_CONTAINS(v.err, sig_);
  EXPECT_CONTAINS(v.err, "payloadType");
}

TEST_F(CliSignVerifyTest, MalformedBundleFieldsAreMalformedNamingTheField) {
  struct Case {
    const char* what;
    void (*edit)(json::object&);
    const char* field;
  };
  const Case cases[] = {
      {"unknown media type", [](json::object& r) { r["mediaType"] = "application/vnd.example"; },
       "mediaType"},
      {"no envelope", [](json::object& r) { r.erase("dsseEnvelope"); }, "dsseEnvelope"},
      {"no verification material", [](json::object& r) { r.erase("verificationMaterial"); },
       "verificationMaterial"},
      {"bad base64 payload",
       [](json::object& r) { r["dsseEnvelope"].as_object()["payload"] = "!!not base64!!"; },
       "payload"},
      {"no signatures",
       [](json::object& r) { r["dsseEnvelope"].as_object()["signatures"] = json::array(); },
       "signatures"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    SignModelDir();
    EditBundle(c.edit);
    RunResult v = Verify(model_);
    EXPECT_EXIT_CODE(v, 3);
    EXPECT_CONTAINS(v.err, sig_);
    EXPECT_CONTAINS(v.err, c.field);
  }
}

TEST_F(CliSignVerifyTest, MissingPublicKeyIsEnvironmentError) {
  SignModelDir();
  RunResult v = Warden({"verify", model_, "--key", dir_ / "absent.pub"});
  EXPECT_EXIT_CODE(v, 4);
  EXPECT_CONTAINS(v.err, dir_ / "absent.pub");
}

TEST_F(CliSignVerifyTest, MissingPrivateKeyIsEnvironmentError) {
  RunResult s = Warden({"sign", model_, "--key", dir_ / "absent.key"});
  EXPECT_EXIT_CODE(s, 4);
  EXPECT_CONTAINS(s.err, dir_ / "absent.key");
  EXPECT_FALSE(fs::exists(sig_));
}

TEST_F(CliSignVerifyTest, MissingSignatureIsEnvironmentError) {
  RunResult v = Verify(model_);
  EXPECT_EXIT_CODE(v, 4);
  EXPECT_CONTAINS(v.err, sig_);
}

TEST_F(CliSignVerifyTest, MissingModelIsEnvironmentError) {
  RunResult s = Sign(dir_ / "no-model");
  EXPECT_EXIT_CODE(s, 4);
  EXPECT_CONTAINS(s.err, dir_ / "no-model");
}

TEST_F(CliSignVerifyTest, PrivateKeyReadableByOthersIsRefused) {
  ASSERT_EQ(chmod(key_.c_str(), 0644), 0);
  RunResult s = Sign(model_);
  EXPECT_NE(s.exit_code, 0) << Describe(s);
  EXPECT_EXIT_CODE(s, 4);
  EXPECT_CONTAINS(s.err, key_);
  EXPECT_CONTAINS(s.err, "0644");
  EXPECT_FALSE(fs::exists(sig_));
}

TEST_F(CliSignVerifyTest, PublicKeyIsNotAPrivateKey) {
  const std::string pub_copy = dir_ / "pub-as-private";
  WriteBytes(pub_copy, ReadAll(pub_));
  ASSERT_EQ(chmod(pub_copy.c_str(), 0600), 0);
  RunResult s = Warden({"sign", model_, "--key", pub_copy});
  EXPECT_EXIT_CODE(s, 3);
  EXPECT_CONTAINS(s.err, pub_copy);
  EXPECT_CONTAINS(s.err, "public key");
  EXPECT_FALSE(fs::exists(sig_));
}

// Named pipes must be refused, not opened and waited on: nothing will ever write to them.
constexpr int kFifoTimeoutMs = 3000;

TEST_F(CliSignVerifyTest, FifoAsSignatureIsRefusedWithoutHanging) {
  SignModelDir();
  const std::string fifo = dir_ / "sig.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  RunResult v = Warden({"verify", model_, "--key", pub_, "--signature", fifo}, kFifoTimeoutMs);
  EXPECT_FALSE(v.timed_out) << Describe(v);
  EXPECT_NE(v.exit_code, 0) << Describe(v);
  EXPECT_NE(v.exit_code, -1) << Describe(v);
  EXPECT_CONTAINS(v.err, fifo);
}

TEST_F(CliSignVerifyTest, FifoAsPrivateKeyIsRefusedWithoutHanging) {
  const std::string fifo = dir_ / "key.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  RunResult s = Warden({"sign", model_, "--key", fifo}, kFifoTimeoutMs);
  EXPECT_FALSE(s.timed_out) << Describe(s);
  EXPECT_NE(s.exit_code, 0) << Describe(s);
  EXPECT_NE(s.exit_code, -1) << Describe(s);
  EXPECT_CONTAINS(s.err, fifo);
  EXPECT_FALSE(fs::exists(sig_));
}

TEST_F(CliSignVerifyTest, FifoInsideTheModelIsMalformed) {
  ASSERT_EQ(mkfifo((model_ + "/weights/pipe").c_str(), 0600), 0);
  RunResult s = Warden({"sign", model_, "--key", key_}, kFifoTimeoutMs);
  EXPECT_EXIT_CODE(s, 3);
  EXPECT_CONTAINS(s.err, "pipe");
  EXPECT_FALSE(fs::exists(sig_));
}

TEST_F(CliSignVerifyTest, SymlinkInModelIsRefusedBySign) {
  fs::create_symlink("README.md", model_ + "/link.md");
  RunResult s = Sign(model_);
  EXPECT_EXIT_CODE(s, 3);
  EXPECT_CONTAINS(s.err, "link.md");
  EXPECT_CONTAINS(s.err, "--allow-symlinks");
  EXPECT_FALSE(fs::exists(sig_));
}

TEST_F(CliSignVerifyTest, CorruptGgufIsRefusedBySignAndAcceptedWithNoTensors) {
  const std::string f = model_ + "/stories260K.gguf";
  WriteBytes(f, ReadAll(kModel).substr(0, 3000));
  RunResult s = Sign(model_);
  EXPECT_EXIT_CODE(s, 3);
  EXPECT_CONTAINS(s.err, "stories260K.gguf");
  EXPECT_FALSE(fs::exists(sig_));
  ASSERT_EXIT_CODE(Sign(model_, {"--no-tensors"}), 0);
  EXPECT_EXIT_CODE(Verify(model_), 0);
}

// The OMS reference implementation's own bundle (v1.1.0, ECDSA key). It sits inside the
// model directory, so verify must leave the signature file out.
TEST(CliReferenceBundleTest, ReferenceV110BundleVerifies) {
  const std::string model = kOmsDir + "/model-transparency/historical-bundles/v1.1.0-elliptic-key";
  RunResult v = Warden({"verify", model, "--key", kOmsDir + "/keys/signing-key-pub.pem",
                        "--signature", model + "/model.sig"});
  ASSERT_EXIT_CODE(v, 0);
  EXPECT_EQ(v.out.rfind("verified", 0), 0u) << v.out;
  EXPECT_CONTAINS(v.out, "2 files");
}

TEST(CliReferenceBundleTest, TamperedCopyOfReferenceModelFails) {
  TempDir dir;
  const std::string src = kOmsDir + "/model-transparency/historical-bundles/v1.1.0-elliptic-key";
  const std::string model = dir / "v1.1.0-elliptic-key";
  fs::copy(src, model);
  WriteBytes(model + "/signme-1", "tampered");
  RunResult v = Warden({"verify", model, "--key", kOmsDir + "/keys/signing-key-pub.pem",
                        "--signature", model + "/model.sig"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "signme-1");
}

// ---------------------------------------------------------------------------------------
// demo

TEST(CliDemoTest, DemoNamesTheTamperedTensorAndItsCommandsWork) {
  TempDir dir;
  const std::string work = dir / "demo";
  RunResult r = Warden({"demo", "--dir", work});
  ASSERT_EXIT_CODE(r, 0);
  EXPECT_CONTAINS(r.out, "verified");
  EXPECT_CONTAINS(r.out, "tensor modified blk.2.attn_q.weight");
  EXPECT_EQ(CountLines(r.out, "tensor modified"), 1u) << r.out;

  // What the demo tells the reader to run: the real verify on its tampered model exits 1
  // and names the same tensor.
  RunResult v =
      Warden({"verify", work + "/stories260K", "--key", work + "/release.key.pub", "--tensors"});
  EXPECT_EXIT_CODE(v, 1);
  EXPECT_CONTAINS(v.out, "tensor modified blk.2.attn_q.weight");
}

}  // namespace
}  // namespace warden
