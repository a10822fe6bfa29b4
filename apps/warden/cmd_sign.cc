// warden sign: an OMS v1.0 signature (Sigstore bundle) over a model.
#include <cstdio>
#include <optional>

#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "crypto/keys.h"
#include "ledger/ledger.h"
#include "model_options.h"
#include "provenance/signing.h"

namespace warden::cli {

std::string DefaultSignaturePath(std::string model) {
  while (model.size() > 1 && model.back() == '/') model.pop_back();
  return model + ".sig";
}

namespace {

struct ReleaseOptions {
  std::string ledger;
  std::string name;
  std::string version = "unversioned";
};

int RunSign(const ModelOptions& o, const std::string& key_path, std::string out, bool tensors,
            const ReleaseOptions& release) {
  if (out.empty()) out = DefaultSignaturePath(o.model);
  auto key = crypto::LoadPrivateKey(key_path);
  if (!key) return Fail("sign", key.error());
  std::optional<ledger::Ledger> ledger;
  if (!release.ledger.empty()) {  // open it first: fail before hashing, not after
    auto l = ledger::Ledger::Open(release.ledger);
    if (!l) return Fail("sign", l.error());
    ledger.emplace(std::move(*l));
  }
  provenance::SignOptions so;
  so.walk = o.Walk();
  so.walk.exclude_files.push_back(out);
  so.hash = o.Hash(tensors);
  auto signed_model = provenance::SignModel(o.model, *key, so);
  if (!signed_model) return Fail("sign", signed_model.error());
  Status st = WriteFileAtomic(out, signed_model->bundle_json, 0644);
  if (!st.ok()) return Fail("sign", st);
  size_t files = 0, n_tensors = 0;
  std::string last;
  for (const auto& r : signed_model->statement.resources) {
    if (r.path != last) ++files;
    last = r.path;
    n_tensors += r.tensors.size();
  }
  std::printf("signed %s: %zu file%s", signed_model->statement.subject_name.c_str(), files,
              files == 1 ? "" : "s");
  if (n_tensors > 0) std::printf(", %zu tensor digests", n_tensors);
  std::printf(
      ", method %s\n",
      std::string(provenance::MethodName(signed_model->statement.serialization.method)).c_str());
  std::printf("subject sha256 %s\n", signed_model->statement.subject_digest.c_str());
  std::printf("wrote %s (OMS v1.0, key %s...)\n", out.c_str(),
              key->Public().Fingerprint().substr(0, 16).c_str());
  if (ledger) {
    const std::string entry = ledger::ModelReleaseJson(
        release.name.empty() ? signed_model->statement.subject_name : release.name, release.version,
        signed_model->statement.subject_digest, signed_model->bundle_json);
    auto a = ledger->Append("model-release", entry, "sign --ledger");
    if (!a) return Fail("sign", a.error().WithContext("the signature was written, but"));
    std::printf("appended model-release at index %llu of %s\n",
                static_cast<unsigned long long>(a->index), release.ledger.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterSign(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "sign", "Sign a model (OpenSSF Model Signing v1.0 bundle)");
  LongHelp(
      cmd,
      "Hash MODEL and write an OpenSSF Model Signing (OMS) v1.0 signature: a Sigstore bundle\n"
      "v0.3 whose DSSE envelope holds an in-toto statement listing every file's SHA-256,\n"
      "signed with an ECDSA P-256 key from `warden keygen`. GGUF and safetensors files also\n"
      "get per-tensor digests (ignored by other OMS verifiers) so that `warden verify --tensors`\n"
      "can say which tensor changed. The signature file is left out of the model.");
  AddFooter(cmd,
            "Examples:\n"
            "  warden keygen --out release.key\n"
            "  warden sign ./my-model --key release.key            # writes ./my-model.sig\n"
            "  warden verify ./my-model --key release.key.pub");
  auto o = std::make_shared<ModelOptions>();
  auto key = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto no_tensors = std::make_shared<bool>(false);
  auto release = std::make_shared<ReleaseOptions>();
  AddModelOptions(cmd, *o);
  cmd->add_option("--key,-k", *key, "Private key (PEM) from `warden keygen`")->required();
  cmd->add_option("--out,-o", *out, "Where to write the signature (default: MODEL.sig)");
  cmd->add_flag("--no-tensors", *no_tensors, "Leave out per-tensor digests");
  cmd->add_option("--ledger", release->ledger,
                  "Also append a model-release entry to this ledger (model_digest = the "
                  "signature's subject digest)");
  cmd->add_option("--release-name", release->name, "Release name (default: the model's name)");
  cmd->add_option("--release-version", release->version, "Release version")->capture_default_str();
  cmd->callback([=] { *exit_code = RunSign(*o, *key, *out, !*no_tensors, *release); });
}

}  // namespace warden::cli
