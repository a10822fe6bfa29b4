// Signing and verifying models: OMS v1.0 signatures (Sigstore bundle v0.3, DSSE, in-toto).
//
// SignModel walks and hashes the model, builds the statement, signs PAE(payload) with the
// key and returns the bundle text. VerifyModel checks, in this order: the bundle parses, a
// DSSE signature verifies with the key, the statement parses, its subject digest matches its
// resources; then it re-hashes the model the way the statement says it was serialized and
// reports every difference. A difference is a value in the report, not an error.
//
// Thread-safety: reentrant; each call owns its threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "provenance/bundle.h"
#include "provenance/hashing.h"
#include "provenance/manifest.h"
#include "provenance/model_tree.h"

namespace warden::provenance {

struct SignOptions {
  WalkOptions walk;
  HashOptions hash;
};

struct SignResult {
  std::string bundle_json;
  Statement statement;
};

// Errors: those of WalkModel; the first unreadable file (as HashModel reports it); with
// hash.tensors, a GGUF/safetensors file whose header is malformed (DataLoss naming it).
Result<SignResult> SignModel(const std::string& model, const crypto::PrivateKey& key,
                             const SignOptions& options);

struct VerifyOptions {
  bool tensors = false;  // report which tensors of a modified file changed
  size_t threads = 0;
  std::vector<std::string> ignore_paths;   // in addition to those the signature records
  std::vector<std::string> exclude_files;  // e.g. the signature file, if inside the model
};

// Errors: DataLoss (malformed bundle or statement), VerificationFailed (no signature verifies
// with `key`, or the statement contradicts itself), and WalkModel's errors. Otherwise a report
// whose ok() says whether the model matches.
Result<VerifyReport> VerifyModel(const std::string& model, std::string_view bundle_text,
                                 std::string_view bundle_source, const crypto::PublicKey& key,
                                 const VerifyOptions& options);

// The key hint the reference implementation writes: hex SHA-256 of the public key's PEM.
std::string KeyHint(const crypto::PublicKey& key);

}  // namespace warden::provenance
