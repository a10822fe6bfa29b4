// Sigstore bundle v0.3 carrying a DSSE envelope: the file an OMS signature lives in.
//
// warden writes key-based bundles: verificationMaterial.publicKey.hint (hex SHA-256 of the
// public key's PEM text, as the reference implementation writes it) and an empty tlogEntries
// list. It reads any bundle with a dsseEnvelope (key, certificate or Sigstore material); only
// the envelope's signature is checked against the key the caller supplies.
//
// Thread-safety: values and pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "provenance/dsse.h"

namespace warden::provenance {

inline constexpr std::string_view kBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";

struct Bundle {
  std::string media_type;
  std::string key_hint;  // empty when the bundle has none
  std::string material;  // "publicKey", "certificate" or "x509CertificateChain"
  DsseEnvelope envelope;
};

// Parses bundle text. DataLoss naming `source` and the field: not JSON, an unknown media
// type, no verificationMaterial, no dsseEnvelope (a message-signature bundle), an envelope
// whose payloadType is not in-toto JSON, bad base64, no signatures.
Result<Bundle> ParseBundle(std::string_view text, std::string_view source);

std::string BundleToJson(const Bundle& b);

}  // namespace warden::provenance
