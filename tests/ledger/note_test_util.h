// Helpers shared by the C2SP note, checkpoint, cosignature and tlog-proof tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "crypto/keys.h"
#include "ledger/note.h"

namespace warden::ledger::testing {

inline const std::string kC2spDir = std::string(WARDEN_TESTDATA_DIR) + "/c2sp";

inline std::string ReadC2sp(const std::string& relative) {
  Result<std::string> r = ReadFileToString(kC2spDir + "/" + relative, 1 << 20);
  EXPECT_TRUE(r.ok()) << relative << ": " << r.error().ToString();
  return r.value_or(std::string());
}

// A one-line file (a vkey) without its final newline.
inline std::string ReadC2spLine(const std::string& relative) {
  std::string s = ReadC2sp(relative);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

inline std::string FromHex(std::string_view hex) {
  Result<std::vector<uint8_t>> r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  std::vector<uint8_t> v = r.value_or(std::vector<uint8_t>());
  return std::string(v.begin(), v.end());
}

// An Ed25519 private key from its 32-byte RFC 8032 seed, through PKCS#8 (RFC 8410: the DER is
// a fixed 16-byte prefix followed by the seed).
inline crypto::PrivateKey Ed25519FromSeed(std::string_view seed) {
  std::string der = FromHex("302e020100300506032b657004220420");
  der.append(seed);
  const std::string pem =
      "-----BEGIN PRIVATE KEY-----\n" + Base64Encode(der) + "\n-----END PRIVATE KEY-----\n";
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(pem, "test seed");
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

inline crypto::PrivateKey NewEd25519() {
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

inline NoteVerifier VerifierFromVkey(std::string_view vkey) {
  Result<NoteVerifier> v = NoteVerifier::FromVkey(vkey);
  EXPECT_TRUE(v.ok()) << vkey << ": " << v.error().ToString();
  return std::move(v).value();
}

inline NoteSigner Signer(std::string name, const crypto::PrivateKey& key,
                         NoteKeyType type = NoteKeyType::kEd25519) {
  Result<NoteSigner> s = NoteSigner::FromPrivateKey(std::move(name), key, type);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return std::move(s).value();
}

// Replaces the first occurrence of `from` in `s` (which must contain it).
inline std::string ReplaceOnce(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "\"" << from << "\" not in \"" << s << "\"";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

inline constexpr std::string_view kEmDash = "\xE2\x80\x94";

}  // namespace warden::ledger::testing
