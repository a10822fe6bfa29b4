#include "provenance/dsse.h"

#include "base/encoding.h"

namespace warden::provenance {

std::string Pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Result<DsseEnvelope> ParseEnvelope(const json::object& obj, std::string_view path) {
  DsseEnvelope env;
  WARDEN_ASSIGN_OR_RETURN(std::string_view type, json::GetString(obj, "payloadType", path));
  env.payload_type = std::string(type);
  WARDEN_ASSIGN_OR_RETURN(std::string_view payload_b64, json::GetString(obj, "payload", path));
  auto payload = Base64Decode(payload_b64);
  if (!payload) return payload.error().WithContext("field " + json::Join(path, "payload"));
  env.payload = std::move(*payload);
  WARDEN_ASSIGN_OR_RETURN(const json::array* sigs, json::GetArray(obj, "signatures", path));
  const std::string sigs_path = json::Join(path, "signatures");
  if (sigs->empty()) return DataLossError("field " + sigs_path + ": no signatures");
  for (size_t i = 0; i < sigs->size(); ++i) {
    const std::string p = json::JoinIndex(sigs_path, i);
    WARDEN_ASSIGN_OR_RETURN(const json::object* s, json::AsObject((*sigs)[i], p));
    DsseSignature sig;
    if (s->contains("keyid") && !s->at("keyid").is_null()) {  // older tools write null
      WARDEN_ASSIGN_OR_RETURN(std::string_view keyid, json::GetString(*s, "keyid", p));
      sig.keyid = std::string(keyid);
    }
    WARDEN_ASSIGN_OR_RETURN(std::string_view sig_b64, json::GetString(*s, "sig", p));
    auto raw = Base64Decode(sig_b64);
    if (!raw) return raw.error().WithContext("field " + json::Join(p, "sig"));
    if (raw->empty()) return DataLossError("field " + json::Join(p, "sig") + ": empty signature");
    sig.sig = std::move(*raw);
    env.signatures.push_back(std::move(sig));
  }
  return env;
}

json::object EnvelopeToJson(const DsseEnvelope& env) {
  json::object o;
  o["payload"] = Base64Encode(env.payload);
  o["payloadType"] = env.payload_type;
  json::array sigs;
  for (const auto& s : env.signatures) {
    json::object so;
    so["sig"] = Base64Encode(s.sig);
    so["keyid"] = s.keyid;
    sigs.push_back(std::move(so));
  }
  o["signatures"] = std::move(sigs);
  return o;
}

}  // namespace warden::provenance
