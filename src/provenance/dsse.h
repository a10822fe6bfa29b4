// DSSE (Dead Simple Signing Envelope) v1: the pre-authentication encoding and the envelope.
//
// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, where LEN is the
// ASCII decimal byte length. Signatures are always over PAE bytes, never over the raw
// payload, so a signature cannot be replayed under another payload type.
//
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace warden::provenance {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

std::string Pae(std::string_view payload_type, std::string_view payload);

struct DsseSignature {
  std::string keyid;  // may be empty
  std::string sig;    // raw signature bytes (base64-decoded)
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // raw bytes (base64-decoded)
  std::vector<DsseSignature> signatures;
};

// Parses the JSON object of an envelope; `path` names it in errors ("dsseEnvelope").
// DataLoss for missing or mistyped fields, bad base64, or an empty signature list.
Result<DsseEnvelope> ParseEnvelope(const json::object& obj, std::string_view path);
json::object EnvelopeToJson(const DsseEnvelope& env);

}  // namespace warden::provenance
