// Signing keys over OpenSSL 3 (EVP only): ECDSA P-256 / P-384 and Ed25519 public and private
// keys, PEM and DER I/O, signing and verification, and key files on disk.
//
// Accepted PEM blocks (text before the first "-----BEGIN" is skipped, as GnuTLS certtool
// writes a description first; "EC PARAMETERS" blocks are skipped too, as `openssl ecparam
// -genkey` writes one first; the first remaining block is used):
//   public keys:  "PUBLIC KEY" (SubjectPublicKeyInfo) and "CERTIFICATE" (its key is taken; the
//                 certificate itself is not checked: chains and validity are the caller's job)
//   private keys: "PRIVATE KEY" (unencrypted PKCS#8) and "EC PRIVATE KEY" (SEC 1)
// Any other key type, curve or block type is DataLoss naming the source and what was found.
// Encrypted private keys ("ENCRYPTED PRIVATE KEY", or a Proc-Type header) are DataLoss too,
// with a hint on how to decrypt them: warden never prompts for a passphrase.
//
// Signature encodings: ECDSA signatures are DER SEQUENCE{r, s} (what OpenSSL, Sigstore and
// model_signing use); the message is hashed with SHA-256 for P-256 and SHA-384 for P-384.
// Ed25519 signatures are the raw 64 bytes over the message itself (pure Ed25519). Use
// EcdsaRawToDer() for signatures in the fixed-width r||s form (DSSE spec, JOSE, WebCrypto).
//
// Thread-safety: PublicKey and PrivateKey are immutable values that share one OpenSSL key
// (reference counted), so copies are cheap and Verify()/Sign() may run concurrently on the
// same key from many threads.
// Ownership: each class owns a reference to its EVP_PKEY; no OpenSSL type appears in this
// header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::crypto {

enum class KeyType { kEcdsaP256, kEcdsaP384, kEd25519 };

// "ecdsa-p256", "ecdsa-p384", "ed25519".
std::string_view KeyTypeName(KeyType type);

// Key files larger than this are refused (ResourceExhausted) before being read.
inline constexpr uint64_t kMaxKeyFileBytes = 256 * 1024;

namespace internal {
struct KeyState;  // defined in keys.cc: the EVP_PKEY and what is derived from it once
}  // namespace internal

class PublicKey {
 public:
  // Parses the first usable PEM block of `pem` (see the file comment). `source` names the
  // input in error messages (a path, or "bundle verificationMaterial.publicKey"). Errors:
  // DataLoss "<source>: ..." for no PEM block, bad base64/DER, a private key, or a key that
  // is not ECDSA P-256/P-384 or Ed25519 (the message says what was found).
  static Result<PublicKey> FromPem(std::string_view pem, std::string_view source);

  // Parses DER SubjectPublicKeyInfo; trailing bytes are refused. Errors as FromPem.
  static Result<PublicKey> FromSpkiDer(std::span<const uint8_t> der);

  // SPKI PEM exactly as OpenSSL (and Python cryptography) write it: "-----BEGIN PUBLIC
  // KEY-----\n", base64 in 64-column lines, "-----END PUBLIC KEY-----\n". Its SHA-256 is the
  // `publicKey.hint` of model_signing bundles.
  std::string ToPem() const;

  // DER SubjectPublicKeyInfo (ECDSA points uncompressed, as OpenSSL writes them).
  std::string SpkiDer() const;

  KeyType type() const;

  // Verifies `signature` over `message` (see the file comment for encodings). Returns OK;
  // VerificationFailed "signature does not verify with <type> key <fingerprint>"; or DataLoss
  // when `signature` is not even well-formed (ECDSA: not strict DER; Ed25519: not 64 bytes).
  Status Verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const;

  // Hex SHA-256 of SpkiDer(); used as a key id in messages and key lists.
  std::string Fingerprint() const;

  // Same key (same SPKI bytes).
  bool operator==(const PublicKey& other) const;

 private:
  friend class PrivateKey;
  explicit PublicKey(std::shared_ptr<const internal::KeyState> state);
  std::shared_ptr<const internal::KeyState> state_;
};

class PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG. Errors: Internal if OpenSSL fails.
  static Result<PrivateKey> Generate(KeyType type);

  // Parses an unencrypted "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" PEM block. For ECDSA the
  // private scalar is checked against the stored public point. Errors: DataLoss
  // "<source>: ..." (no PEM block, malformed, encrypted, a public key, unsupported type).
  static Result<PrivateKey> FromPem(std::string_view pem, std::string_view source);

  // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
  std::string ToPem() const;

  PublicKey Public() const;
  KeyType type() const;

  // ECDSA: DER signature over the SHA-256 (P-256) / SHA-384 (P-384) hash of `message`, with a
  // random nonce (so two signatures of one message differ). Ed25519: the raw 64-byte
  // signature (deterministic). Errors: Internal if OpenSSL fails.
  Result<std::string> Sign(std::span<const uint8_t> message) const;

 private:
  PrivateKey(std::shared_ptr<const internal::KeyState> state, PublicKey pub);
  static Result<PrivateKey> FromState(std::shared_ptr<const internal::KeyState> state);
  std::shared_ptr<const internal::KeyState> state_;
  PublicKey public_;
};

// Converts a fixed-width ECDSA signature r||s (64 bytes for P-256, 96 for P-384, big-endian)
// into DER SEQUENCE{r, s} for PublicKey::Verify. Errors: DataLoss for any other length.
Result<std::string> EcdsaRawToDer(std::span<const uint8_t> raw_r_s);

// Writes `path` (PKCS#8 PEM, mode 0600) and `path + ".pub"` (SPKI PEM, mode 0644), each with
// WriteFileAtomic (the private key first). Unless `overwrite`, refuses with
// FailedPrecondition when either file already exists. Other errors come from the writes.
Status WriteKeyPair(const PrivateKey& key, const std::string& path, bool overwrite);

// PermissionDenied "<path>: permissions 0644 are too open: <what> must not be accessible by
// group or others (chmod 600 <path>)" when the open file `fd` has any of mode 077 set; OK
// otherwise. Shared by every loader of secrets (signing keys, watermark keys).
Status CheckSecretFileMode(int fd, const std::string& path, std::string_view what);

// Reads a private key file. Like ssh, refuses a key that group or others may access
// (any of mode 077 set) with PermissionDenied "<path>: permissions 0644 are too open ...
// (chmod 600 <path>)": such a key must be considered leaked, and a key that anyone on the
// machine can read should not silently keep signing releases. Note that git does not keep
// file modes other than 0644/0755, so checked-in test keys need a chmod before loading.
// Errors: NotFound, PermissionDenied, ResourceExhausted (over kMaxKeyFileBytes), and the
// errors of PrivateKey::FromPem with the path as source.
Result<PrivateKey> LoadPrivateKey(const std::string& path);

// Reads a public key or certificate PEM file. Errors: NotFound, PermissionDenied,
// ResourceExhausted (over kMaxKeyFileBytes), and those of PublicKey::FromPem.
Result<PublicKey> LoadPublicKey(const std::string& path);

// `n` bytes from OpenSSL's CSPRNG. Aborts (WARDEN_CHECK) if the CSPRNG fails: there is no
// safe fallback, and returning predictable bytes would be worse than stopping.
std::string RandomBytes(size_t n);

}  // namespace warden::crypto
