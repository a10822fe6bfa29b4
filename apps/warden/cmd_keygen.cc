// warden keygen: a signing key pair in PEM (private key 0600, public key beside it).
#include <cstdio>

#include "cli.h"
#include "crypto/keys.h"

namespace warden::cli {

void RegisterKeygen(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "keygen", "Create a signing key pair (PEM)");
  LongHelp(cmd,
           "Create a signing key pair: KEY (PKCS#8 PEM, mode 0600) and KEY.pub (SPKI PEM).\n"
           "ECDSA P-256 signs model signatures (the OMS `key` method); Ed25519 signs ledger\n"
           "checkpoints. Existing files are never overwritten unless --force is given.");
  AddFooter(cmd,
            "Example:\n  warden keygen --out keys/release\n"
            "  -> keys/release (keep secret), keys/release.pub (publish)");
  auto out = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("ecdsa-p256");
  auto force = std::make_shared<bool>(false);
  cmd->add_option("--out,-o", *out, "Path of the private key; the public key gets .pub")
      ->required();
  cmd->add_option("--type", *type, "Key type")
      ->check(CLI::IsMember({"ecdsa-p256", "ed25519"}))
      ->capture_default_str();
  cmd->add_flag("--force", *force, "Overwrite existing key files");
  cmd->callback([=] {
    crypto::KeyType kt =
        *type == "ed25519" ? crypto::KeyType::kEd25519 : crypto::KeyType::kEcdsaP256;
    auto key = crypto::PrivateKey::Generate(kt);
    if (!key) {
      *exit_code = Fail("keygen", key.error());
      return;
    }
    Status st = crypto::WriteKeyPair(*key, *out, *force);
    if (st.code() == StatusCode::kFailedPrecondition) {
      st = Status(st.code(), st.message() + " (pass --force to replace the key pair)");
    }
    if (!st.ok()) {
      *exit_code = Fail("keygen", st);
      return;
    }
    std::printf("wrote %s (private, 0600) and %s.pub (public)\n", out->c_str(), out->c_str());
    std::printf("key type %s, fingerprint %s\n", std::string(crypto::KeyTypeName(kt)).c_str(),
                key->Public().Fingerprint().c_str());
  });
}

}  // namespace warden::cli
