// `warden ledger verify-proof`: an entry's inclusion proof checked with nothing but the log's
// verifier key, as a third party would.
#include <gtest/gtest.h>

#include "common/run_binary.h"
#include "common/temp_dir.h"

namespace warden {
namespace {

using testing::Describe;
using testing::RunBinary;
using testing::RunResult;

const std::string kEntries = std::string(WARDEN_TESTDATA_DIR) + "/ledger/entries/";

RunResult Warden(const std::vector<std::string>& args) { return RunBinary(WARDEN_BINARY, args); }

std::string VkeyOf(const RunResult& init) {
  const size_t at = init.out.find("log key ");
  if (at == std::string::npos) return "";
  return init.out.substr(at + 8, init.out.find('\n', at) - at - 8);
}

TEST(LedgerVerifyProofTest, ThirdPartyChecksAnEntryWithOnlyTheVerifierKey) {
  testing::TempDir dir;
  const std::string db = dir / "l.db";
  ASSERT_EQ(Warden({"keygen", "--type", "ed25519", "--out", dir / "log.key"}).exit_code, 0);
  RunResult init = Warden(
      {"ledger", "init", "--db", db, "--key", dir / "log.key", "--origin", "example.com/vp"});
  ASSERT_EQ(init.exit_code, 0) << Describe(init);
  const std::string vkey = VkeyOf(init);
  ASSERT_FALSE(vkey.empty()) << init.out;
  for (const char* t : {"model-release", "dataset", "policy"}) {
    ASSERT_EQ(Warden({"ledger", "append", t, kEntries + t + ".json", "--db", db}).exit_code, 0);
  }
  ASSERT_EQ(Warden({"ledger", "checkpoint", "--db", db, "--key", dir / "log.key"}).exit_code, 0);
  RunResult prove = Warden({"ledger", "prove", "1", "--db", db});
  ASSERT_EQ(prove.exit_code, 0) << Describe(prove);
  const std::string proof = dir.Write("p1", prove.out);

  // The entry in other formatting (the example file, not the canonical bytes) verifies.
  RunResult ok = Warden({"ledger", "verify-proof", proof, kEntries + "dataset.json", "--log-key",
                         vkey, "--type", "dataset"});
  EXPECT_EQ(ok.exit_code, 0) << Describe(ok);
  EXPECT_NE(ok.out.find("size 3"), std::string::npos) << ok.out;

  // Another entry is not entry 1.
  RunResult other = Warden({"ledger", "verify-proof", proof, kEntries + "policy.json", "--log-key",
                            vkey, "--type", "policy"});
  EXPECT_EQ(other.exit_code, 1) << Describe(other);
  EXPECT_NE(other.err.find("is not entry 1"), std::string::npos) << other.err;

  // A proof checked against another log's key fails.
  ASSERT_EQ(Warden({"keygen", "--type", "ed25519", "--out", dir / "other.key"}).exit_code, 0);
  RunResult init2 = Warden({"ledger", "init", "--db", dir / "o.db", "--key", dir / "other.key",
                            "--origin", "example.com/vp"});
  ASSERT_EQ(init2.exit_code, 0);
  RunResult wrong_key = Warden({"ledger", "verify-proof", proof, kEntries + "dataset.json",
                                "--log-key", VkeyOf(init2), "--type", "dataset"});
  EXPECT_EQ(wrong_key.exit_code, 1) << Describe(wrong_key);

  // Malformed proof and malformed entry are exit 3.
  RunResult garbage = Warden({"ledger", "verify-proof", dir.Write("g", "garbage\n"),
                              kEntries + "dataset.json", "--log-key", vkey, "--type", "dataset"});
  EXPECT_EQ(garbage.exit_code, 3) << Describe(garbage);
  RunResult bad_entry = Warden({"ledger", "verify-proof", proof, dir.Write("e.json", "{"),
                                "--log-key", vkey, "--type", "dataset"});
  EXPECT_EQ(bad_entry.exit_code, 3) << Describe(bad_entry);
}

}  // namespace
}  // namespace warden
