#include "provenance/signing.h"

#include "base/encoding.h"

namespace warden::provenance {

std::string KeyHint(const crypto::PublicKey& key) {
  return crypto::DigestHex(crypto::Sha256(key.ToPem()));
}

Result<SignResult> SignModel(const std::string& model, const crypto::PrivateKey& key,
                             const SignOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(ModelTree tree, WalkModel(model, options.walk));
  WARDEN_ASSIGN_OR_RETURN(std::vector<FileDigest> digests, HashModel(tree, options.hash));
  for (const auto& fd : digests) {
    if (!fd.status.ok()) return fd.status;
    if (!fd.tensor_status.ok()) return fd.tensor_status;
  }
  SignResult out;
  out.statement = BuildStatement(tree, digests, options.hash, options.walk.allow_symlinks);
  const std::string payload = StatementToJson(out.statement);
  WARDEN_ASSIGN_OR_RETURN(std::string sig, key.Sign(AsBytes(Pae(kInTotoPayloadType, payload))));
  Bundle b;
  b.media_type = std::string(kBundleMediaType);
  b.key_hint = KeyHint(key.Public());
  b.material = "publicKey";
  b.envelope.payload_type = std::string(kInTotoPayloadType);
  b.envelope.payload = payload;
  b.envelope.signatures.push_back({"", std::move(sig)});
  out.bundle_json = BundleToJson(b);
  return out;
}

Result<VerifyReport> VerifyModel(const std::string& model, std::string_view bundle_text,
                                 std::string_view bundle_source, const crypto::PublicKey& key,
                                 const VerifyOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(Bundle bundle, ParseBundle(bundle_text, bundle_source));

  // The signature first: nothing in the payload is believed before it verifies.
  const std::string pae = Pae(bundle.envelope.payload_type, bundle.envelope.payload);
  Status last;
  bool verified = false;
  for (const auto& s : bundle.envelope.signatures) {
    last = key.Verify(AsBytes(pae), AsBytes(s.sig));
    if (last.ok()) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    std::string msg = std::string(bundle_source) +
                      ": no signature in the bundle verifies with the key " +
                      key.Fingerprint().substr(0, 16) + "... (" + last.message() + ")";
    const std::string hint = KeyHint(key);
    if (!bundle.key_hint.empty() && bundle.key_hint != hint) {
      msg += "; the bundle names key hint " + bundle.key_hint + ", this key's hint is " + hint +
             ": it was signed with another key";
    } else {
      msg += "; the payload or the signature was altered after signing";
    }
    // Even a signature that is not well-formed for this key type is a failed check, not
    // malformed input: a key of another type cannot tell the two apart.
    return VerificationFailedError(msg);
  }

  WARDEN_ASSIGN_OR_RETURN(
      Statement want,
      ParseStatement(bundle.envelope.payload, std::string(bundle_source) + " (payload)"));
  WARDEN_ASSIGN_OR_RETURN(crypto::Sha256Digest subject, SubjectDigest(want.resources));
  if (crypto::DigestHex(subject) != want.subject_digest) {
    return VerificationFailedError(
        std::string(bundle_source) + ": the statement's subject digest " + want.subject_digest +
        " does not match its resources (" + crypto::DigestHex(subject) + ")");
  }

  WalkOptions walk;
  walk.allow_symlinks = want.serialization.allow_symlinks;
  walk.exclude_files = options.exclude_files;
  walk.ignore_paths = options.ignore_paths;
  if (!want.serialization.ignore_paths.empty()) {
    // The signer recorded what it left out: use exactly that (git names included).
    walk.include_git = true;
    for (const auto& p : want.serialization.ignore_paths) walk.ignore_paths.push_back(p);
  }
  WARDEN_ASSIGN_OR_RETURN(ModelTree tree, WalkModel(model, walk));

  bool want_tensors = false;
  for (const auto& r : want.resources) want_tensors = want_tensors || !r.tensors.empty();
  HashOptions hash;
  hash.method = want.serialization.method;
  hash.shard_size = want.serialization.method == Method::kShards ? want.serialization.shard_size
                                                                 : kDefaultShardSize;
  hash.threads = options.threads;
  hash.tensors = options.tensors && want_tensors;
  WARDEN_ASSIGN_OR_RETURN(std::vector<FileDigest> digests, HashModel(tree, hash));

  Statement got = BuildStatement(tree, digests, hash, want.serialization.allow_symlinks);
  VerifyReport report = CompareStatements(want, got, digests, options.tensors);
  report.subject_name = want.subject_name;
  if (options.tensors && !want_tensors) {
    for (auto& c : report.changes) {
      if (c.kind == FileChange::Kind::kModified && c.tensor_note.empty()) {
        c.tensor_note = "the signature carries no per-tensor digests";
      }
    }
  }
  return report;
}

}  // namespace warden::provenance
