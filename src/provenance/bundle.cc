#include "provenance/bundle.h"

#include "base/json.h"

namespace warden::provenance {

namespace {
constexpr std::string_view kAcceptedMediaTypes[] = {
    kBundleMediaType,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
};
// A signature file is a few KB plus per-tensor digests; this bounds what we parse.
}  // namespace

Result<Bundle> ParseBundle(std::string_view text, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(text, source));
  auto in = [&](Status st) { return st.WithContext(source); };
  auto root = json::AsObject(v, "bundle");
  if (!root) return in(root.error());
  Bundle b;
  auto mt = json::GetString(**root, "mediaType", "");
  if (!mt) return in(mt.error());
  bool known = false;
  for (auto t : kAcceptedMediaTypes) known = known || *mt == t;
  if (!known) {
    return in(DataLossError("field mediaType: '" + std::string(*mt) +
                            "' is not a Sigstore bundle media type warden reads (expected " +
                            std::string(kBundleMediaType) + ")"));
  }
  b.media_type = std::string(*mt);
  auto vm = json::GetObject(**root, "verificationMaterial", "");
  if (!vm) return in(vm.error());
  for (std::string_view m : {"publicKey", "certificate", "x509CertificateChain"}) {
    if ((*vm)->contains(m)) b.material = std::string(m);
  }
  if (b.material.empty()) {
    return in(DataLossError(
        "field verificationMaterial: none of publicKey, certificate, x509CertificateChain"));
  }
  if (b.material == "publicKey") {
    auto pk = json::GetObject(**vm, "publicKey", "verificationMaterial");
    if (!pk) return in(pk.error());
    if ((*pk)->contains("hint")) {
      auto hint = json::GetString(**pk, "hint", "verificationMaterial.publicKey");
      if (!hint) return in(hint.error());
      b.key_hint = std::string(*hint);
    }
  }
  if (!(*root)->contains("dsseEnvelope")) {
    if ((*root)->contains("messageSignature")) {
      return in(
          DataLossError("field dsseEnvelope: missing; this bundle holds a "
                        "messageSignature, not an OMS model signature"));
    }
    return in(DataLossError("missing field dsseEnvelope"));
  }
  auto env_obj = json::GetObject(**root, "dsseEnvelope", "");
  if (!env_obj) return in(env_obj.error());
  auto env = ParseEnvelope(**env_obj, "dsseEnvelope");
  if (!env) return in(env.error());
  if (env->payload_type != kInTotoPayloadType) {
    return in(DataLossError("field dsseEnvelope.payloadType: unknown payload type '" +
                            env->payload_type + "' (expected " + std::string(kInTotoPayloadType) +
                            ")"));
  }
  b.envelope = std::move(*env);
  return b;
}

std::string BundleToJson(const Bundle& b) {
  json::object root;
  root["mediaType"] = b.media_type.empty() ? std::string(kBundleMediaType) : b.media_type;
  json::object pk;
  pk["hint"] = b.key_hint;
  json::object vm;
  vm["publicKey"] = std::move(pk);
  vm["tlogEntries"] = json::array();
  root["verificationMaterial"] = std::move(vm);
  root["dsseEnvelope"] = EnvelopeToJson(b.envelope);
  return json::Pretty(root);
}

}  // namespace warden::provenance
