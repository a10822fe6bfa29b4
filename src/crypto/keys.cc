#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <utility>

#include "base/encoding.h"
#include "base/files.h"
#include "crypto/sha256.h"

namespace warden::crypto {
namespace internal {

// Everything about a key that never changes, computed once when the key is made.
struct KeyState {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey{nullptr, &EVP_PKEY_free};
  KeyType type = KeyType::kEcdsaP256;
  std::string spki_der;     // of the public part
  std::string fingerprint;  // hex SHA-256 of spki_der
};

}  // namespace internal

namespace {

using internal::KeyState;

// RAII for the OpenSSL objects used here.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using UniquePkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using UniquePkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using UniqueMdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using UniqueX509 = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using UniqueEcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using UniqueBn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using UniquePkcs8 =
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;
void FreeBio(BIO* b) { BIO_free(b); }
using UniqueBio = std::unique_ptr<BIO, Deleter<BIO, FreeBio>>;
// OPENSSL_free is a macro, so it cannot be a template argument like the others.
struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree>;

// Drains OpenSSL's per-thread error queue into "reason; reason" text, so that a failure
// leaves nothing behind to confuse a later, unrelated call.
std::string TakeOpenSslErrors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  unsigned long err;  // NOLINT(runtime/int): OpenSSL's type
  while ((err = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    const char* reason = ERR_reason_error_string(err);
    std::string one = reason != nullptr ? reason : "error " + std::to_string(err);
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      one += " (";
      one += data;
      one += ")";
    }
    if (out.find(one) != std::string::npos) continue;  // decoders repeat themselves
    if (!out.empty()) out += "; ";
    out += one;
  }
  return out;
}

// `message` plus OpenSSL's reasons, if it left any.
std::string WithOpenSslDetail(std::string message) {
  std::string errors = TakeOpenSslErrors();
  if (!errors.empty()) message += " (openssl: " + errors + ")";
  return message;
}

Status SourceError(std::string_view source, std::string_view what) {
  std::string m(source);
  m += ": ";
  m += what;
  return DataLossError(std::move(m));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type
  if (n <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(n));
}

// Describes a key we do not support, for messages: "RSA 2048-bit key", "EC key on curve
// secp256k1".
std::string DescribeKey(EVP_PKEY* pkey, std::string_view group) {
  const char* name = EVP_PKEY_get0_type_name(pkey);
  std::string out = name != nullptr ? name : "unknown";
  if (!group.empty()) return out + " key on curve " + std::string(group);
  int bits = EVP_PKEY_get_bits(pkey);
  if (bits > 0) out += " " + std::to_string(bits) + "-bit";
  return out + " key";
}

// Which of our key types `pkey` is, or DataLoss naming what it is instead.
Result<KeyType> Classify(EVP_PKEY* pkey, std::string_view source) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyType::kEd25519;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[80] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &len) != 1) {
      TakeOpenSslErrors();
      return SourceError(source,
                         "unsupported key: an EC key with explicit curve parameters instead of "
                         "a named curve; warden accepts ecdsa-p256, ecdsa-p384 and ed25519");
    }
    std::string_view g(group, len);
    if (g == "prime256v1" || g == "P-256" || g == "secp256r1") return KeyType::kEcdsaP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::kEcdsaP384;
    return SourceError(source, "unsupported key: found " + DescribeKey(pkey, g) +
                                   "; warden accepts ecdsa-p256, ecdsa-p384 and ed25519");
  }
  return SourceError(source, "unsupported key: found " + DescribeKey(pkey, {}) +
                                 "; warden accepts ecdsa-p256, ecdsa-p384 and ed25519");
}

Result<std::string> SpkiOf(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0 || der == nullptr) {
    return InternalError(WithOpenSslDetail("cannot encode the public key as SPKI DER"));
  }
  OpenSslPtr<unsigned char> owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
}

// Classifies and checks `pkey` (public part on the curve and not the identity; with
// `has_private`, that the private key matches it) and records what Public*() will need.
Result<std::shared_ptr<const KeyState>> MakeState(UniquePkey pkey, std::string_view source,
                                                  bool has_private) {
  WARDEN_ASSIGN_OR_RETURN(KeyType type, Classify(pkey.get(), source));
  UniquePkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr) return InternalError(WithOpenSslDetail("cannot create a key context"));
  int rc = has_private ? EVP_PKEY_pairwise_check(check.get()) : EVP_PKEY_public_check(check.get());
  if (rc != 1 && rc != -2) {  // -2: the provider has no such check for this key type
    return SourceError(source,
                       WithOpenSslDetail(has_private ? "the private key does not match its "
                                                       "public key"
                                                     : "the public key is not a valid point"));
  }
  TakeOpenSslErrors();
  auto state = std::make_shared<KeyState>();
  state->type = type;
  WARDEN_ASSIGN_OR_RETURN(state->spki_der, SpkiOf(pkey.get()));
  state->fingerprint = DigestHex(Sha256(state->spki_der));
  state->pkey.reset(pkey.release());
  return std::shared_ptr<const KeyState>(std::move(state));
}

Result<std::shared_ptr<const KeyState>> StateFromSpki(std::span<const uint8_t> der,
                                                      std::string_view source) {
  if (der.size() > static_cast<size_t>(LONG_MAX)) return SourceError(source, "SPKI too large");
  const unsigned char* p = der.data();
  UniquePkey pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (pkey == nullptr) {
    return SourceError(source, WithOpenSslDetail("malformed SubjectPublicKeyInfo DER"));
  }
  if (p != der.data() + der.size()) {
    return SourceError(source, std::to_string(der.data() + der.size() - p) +
                                   " bytes after the SubjectPublicKeyInfo DER");
  }
  return MakeState(std::move(pkey), source, /*has_private=*/false);
}

// One PEM block as OpenSSL decoded it. The decoded bytes are wiped when it goes away, since
// they may be a private key.
struct PemBlock {
  std::string name;
  std::string header;
  OpenSslPtr<unsigned char> data;
  long length = 0;  // NOLINT(runtime/int): OpenSSL's type

  PemBlock() = default;
  PemBlock(PemBlock&&) = default;
  ~PemBlock() {
    if (data != nullptr) OPENSSL_cleanse(data.get(), static_cast<size_t>(length));
  }
  std::span<const uint8_t> der() const { return {data.get(), static_cast<size_t>(length)}; }
};

constexpr std::string_view kBeginMarker = "-----BEGIN";

// The first PEM block of `pem` other than "EC PARAMETERS". Text before the first
// "-----BEGIN" is skipped (certtool writes a description there).
Result<PemBlock> ReadPemBlock(std::string_view pem, std::string_view source,
                              std::string_view expected) {
  if (pem.empty())
    return SourceError(source, "empty input; expected a PEM " + std::string(expected));
  size_t begin = pem.find(kBeginMarker);
  if (begin == std::string_view::npos) {
    return SourceError(source, "no PEM block found (no \"-----BEGIN\" line); expected a PEM " +
                                   std::string(expected));
  }
  pem.remove_prefix(begin);
  if (pem.size() > static_cast<size_t>(INT_MAX)) return SourceError(source, "PEM text too large");
  UniqueBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return InternalError(WithOpenSslDetail("cannot create a memory BIO"));
  TakeOpenSslErrors();  // start from an empty queue so the reasons we report are ours
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;  // NOLINT(runtime/int)
    int ok = PEM_read_bio(bio.get(), &name, &header, &data, &length);
    PemBlock block;
    OpenSslPtr<char> owned_name(name);
    OpenSslPtr<char> owned_header(header);
    block.data.reset(data);
    block.length = length;
    if (ok != 1) {
      return SourceError(source, WithOpenSslDetail("malformed or truncated PEM"));
    }
    block.name = name != nullptr ? name : "";
    block.header = header != nullptr ? header : "";
    if (block.name == "EC PARAMETERS") continue;  // `openssl ecparam -genkey` writes one first
    return block;
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The message digest ECDSA uses with each curve; null for Ed25519 (which hashes internally).
const char* DigestNameFor(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return "SHA256";
    case KeyType::kEcdsaP384:
      return "SHA384";
    case KeyType::kEd25519:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return "ecdsa-p256";
    case KeyType::kEcdsaP384:
      return "ecdsa-p384";
    case KeyType::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// PublicKey

PublicKey::PublicKey(std::shared_ptr<const internal::KeyState> state) : state_(std::move(state)) {}

Result<PublicKey> PublicKey::FromPem(std::string_view pem, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(
      PemBlock block, ReadPemBlock(pem, source, "public key (\"PUBLIC KEY\" or \"CERTIFICATE\")"));
  if (block.name == "PUBLIC KEY") {
    WARDEN_ASSIGN_OR_RETURN(auto state, StateFromSpki(block.der(), source));
    return PublicKey(std::move(state));
  }
  if (block.name == "CERTIFICATE") {
    const unsigned char* p = block.data.get();
    UniqueX509 cert(d2i_X509(nullptr, &p, block.length));
    if (cert == nullptr) return SourceError(source, WithOpenSslDetail("malformed certificate"));
    UniquePkey pkey(X509_get_pubkey(cert.get()));
    if (pkey == nullptr) {
      return SourceError(source, WithOpenSslDetail("cannot read the certificate's public key"));
    }
    WARDEN_ASSIGN_OR_RETURN(auto state, MakeState(std::move(pkey), source, false));
    return PublicKey(std::move(state));
  }
  if (EndsWith(block.name, "PRIVATE KEY")) {
    return SourceError(source, "found a private key (\"" + block.name +
                                   "\" PEM block) where a public key was expected");
  }
  return SourceError(source, "unsupported PEM block \"" + block.name +
                                 "\"; expected \"PUBLIC KEY\" or \"CERTIFICATE\"");
}

Result<PublicKey> PublicKey::FromSpkiDer(std::span<const uint8_t> der) {
  WARDEN_ASSIGN_OR_RETURN(auto state, StateFromSpki(der, "SubjectPublicKeyInfo"));
  return PublicKey(std::move(state));
}

std::string PublicKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), state_->pkey.get()) != 1) {
    TakeOpenSslErrors();
    return {};
  }
  return BioContents(bio.get());
}

std::string PublicKey::SpkiDer() const { return state_->spki_der; }

KeyType PublicKey::type() const { return state_->type; }

std::string PublicKey::Fingerprint() const { return state_->fingerprint; }

bool PublicKey::operator==(const PublicKey& other) const {
  return state_ == other.state_ || state_->spki_der == other.state_->spki_der;
}

Status PublicKey::Verify(std::span<const uint8_t> message,
                         std::span<const uint8_t> signature) const {
  const KeyType type = state_->type;
  if (type == KeyType::kEd25519) {
    if (signature.size() != 64) {
      return DataLossError("malformed ed25519 signature: expected 64 bytes, got " +
                           std::to_string(signature.size()));
    }
  } else {
    // Strict DER, as OpenSSL's own ECDSA verification wants: parse, re-encode, compare. A
    // raw r||s signature lands here too; say so, since mixing the two is the usual mistake.
    const unsigned char* p = signature.data();
    UniqueEcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size())));  // NOLINT
    bool canonical = false;
    if (sig != nullptr && p == signature.data() + signature.size()) {
      unsigned char* der = nullptr;
      int n = i2d_ECDSA_SIG(sig.get(), &der);
      OpenSslPtr<unsigned char> owned(der);
      canonical = n > 0 && static_cast<size_t>(n) == signature.size() &&
                  std::equal(signature.begin(), signature.end(), der);
    }
    TakeOpenSslErrors();
    if (!canonical) {
      return DataLossError("malformed " + std::string(KeyTypeName(type)) + " signature: not DER " +
                           "SEQUENCE{r, s} (" + std::to_string(signature.size()) +
                           " bytes; a raw r||s signature needs converting with EcdsaRawToDer)");
    }
  }
  UniqueMdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, DigestNameFor(type), nullptr,
                                                nullptr, state_->pkey.get(), nullptr) != 1) {
    return InternalError(WithOpenSslDetail("cannot start signature verification"));
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                            message.size());
  TakeOpenSslErrors();
  if (rc == 1) return Status::Ok();
  return VerificationFailedError("signature does not verify with " +
                                 std::string(KeyTypeName(type)) + " key " + state_->fingerprint);
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

PrivateKey::PrivateKey(std::shared_ptr<const internal::KeyState> state, PublicKey pub)
    : state_(std::move(state)), public_(std::move(pub)) {}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcdsaP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  UniquePkey pkey(raw);
  if (pkey == nullptr) {
    return InternalError(
        WithOpenSslDetail("cannot generate a " + std::string(KeyTypeName(type)) + " key"));
  }
  WARDEN_ASSIGN_OR_RETURN(auto state, MakeState(std::move(pkey), "generated key", true));
  return FromState(std::move(state));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(
      PemBlock block,
      ReadPemBlock(pem, source, "private key (\"PRIVATE KEY\" or \"EC PRIVATE KEY\")"));
  if (block.name == "ENCRYPTED PRIVATE KEY" || !block.header.empty()) {
    return SourceError(source,
                       "the private key is encrypted; warden reads unencrypted keys only "
                       "(decrypt a copy with `openssl pkey -in KEY -out PLAIN` and chmod 600 it)");
  }
  UniquePkey pkey;
  const unsigned char* p = block.data.get();
  if (block.name == "PRIVATE KEY") {
    UniquePkcs8 info(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, block.length));
    if (info != nullptr) pkey.reset(EVP_PKCS82PKEY(info.get()));
  } else if (block.name == "EC PRIVATE KEY") {
    pkey.reset(d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, block.length));
  } else if (EndsWith(block.name, "PUBLIC KEY") || block.name == "CERTIFICATE") {
    return SourceError(source, "found a public key (\"" + block.name +
                                   "\" PEM block) where a private key was expected");
  } else {
    return SourceError(source, "unsupported PEM block \"" + block.name +
                                   "\"; expected \"PRIVATE KEY\" (PKCS#8) or \"EC PRIVATE KEY\"");
  }
  if (pkey == nullptr) {
    return SourceError(source, WithOpenSslDetail("malformed \"" + block.name + "\" DER"));
  }
  if (p != block.data.get() + block.length) {
    return SourceError(source, "trailing bytes after the \"" + block.name + "\" DER");
  }
  WARDEN_ASSIGN_OR_RETURN(auto state, MakeState(std::move(pkey), source, true));
  return FromState(std::move(state));
}

Result<PrivateKey> PrivateKey::FromState(std::shared_ptr<const internal::KeyState> state) {
  // The public half gets a key of its own, made from the SPKI, so that a PublicKey never
  // holds private material.
  WARDEN_ASSIGN_OR_RETURN(auto pub, StateFromSpki(AsBytes(state->spki_der), "public half"));
  return PrivateKey(std::move(state), PublicKey(std::move(pub)));
}

std::string PrivateKey::ToPem() const {
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PKCS8PrivateKey(bio.get(), state_->pkey.get(), nullptr,
                                                      nullptr, 0, nullptr, nullptr) != 1) {
    TakeOpenSslErrors();
    return {};
  }
  std::string out = BioContents(bio.get());
  // The memory BIO's buffer held the key: wipe it before BIO_free releases it.
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  if (n > 0 && data != nullptr) OPENSSL_cleanse(data, static_cast<size_t>(n));
  return out;
}

PublicKey PrivateKey::Public() const { return public_; }

KeyType PrivateKey::type() const { return state_->type; }

Result<std::string> PrivateKey::Sign(std::span<const uint8_t> message) const {
  UniqueMdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), nullptr, DigestNameFor(state_->type),
                                              nullptr, nullptr, state_->pkey.get(), nullptr) != 1) {
    return InternalError(WithOpenSslDetail("cannot start signing"));
  }
  size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, message.data(), message.size()) != 1) {
    return InternalError(WithOpenSslDetail("cannot size the signature"));
  }
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, message.data(),
                     message.size()) != 1) {
    return InternalError(WithOpenSslDetail("signing failed"));
  }
  sig.resize(size);  // ECDSA DER is often shorter than the maximum
  return sig;
}

// ---------------------------------------------------------------------------------------------
// Free functions

Result<std::string> EcdsaRawToDer(std::span<const uint8_t> raw_r_s) {
  if (raw_r_s.size() != 64 && raw_r_s.size() != 96) {
    return DataLossError(
        "malformed raw ECDSA signature: expected r||s of 64 (P-256) or 96 "
        "(P-384) bytes, got " +
        std::to_string(raw_r_s.size()));
  }
  const int half = static_cast<int>(raw_r_s.size() / 2);
  UniqueBn r(BN_bin2bn(raw_r_s.data(), half, nullptr));
  UniqueBn s(BN_bin2bn(raw_r_s.data() + half, half, nullptr));
  UniqueEcdsaSig sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return InternalError(WithOpenSslDetail("cannot build an ECDSA signature"));
  }
  r.release();  // owned by sig now
  s.release();
  unsigned char* der = nullptr;
  int n = i2d_ECDSA_SIG(sig.get(), &der);
  OpenSslPtr<unsigned char> owned(der);
  if (n <= 0 || der == nullptr) {
    return InternalError(WithOpenSslDetail("cannot DER-encode an ECDSA signature"));
  }
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
}

namespace {

// OK when nothing is at `path` (not even a dangling symlink).
Status CheckAbsent(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    return FailedPreconditionError(path +
                                   " already exists; refusing to overwrite a key file (ask for "
                                   "overwrite explicitly to replace it)");
  }
  if (errno != ENOENT) return ErrnoStatus(errno, "cannot stat", path);
  return Status::Ok();
}

}  // namespace

Status WriteKeyPair(const PrivateKey& key, const std::string& path, bool overwrite) {
  const std::string pub_path = path + ".pub";
  if (!overwrite) {
    WARDEN_RETURN_IF_ERROR(CheckAbsent(path));
    WARDEN_RETURN_IF_ERROR(CheckAbsent(pub_path));
  }
  std::string private_pem = key.ToPem();
  std::string public_pem = key.Public().ToPem();
  if (private_pem.empty() || public_pem.empty()) {
    return InternalError("cannot encode the key pair as PEM");
  }
  Status s = WriteFileAtomic(path, private_pem, 0600);
  OPENSSL_cleanse(private_pem.data(), private_pem.size());
  WARDEN_RETURN_IF_ERROR(s);
  return WriteFileAtomic(pub_path, public_pem, 0644);
}

Status CheckSecretFileMode(int fd, const std::string& path, std::string_view what) {
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError(path + ": permissions " + mode + " are too open: " +
                                 std::string(what) +
                                 " must not be accessible by group or others (chmod 600 " + path +
                                 ")");
  }
  return Status::Ok();
}

Result<PrivateKey> LoadPrivateKey(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
  // Checked on the open descriptor, so the mode is that of the bytes we read.
  WARDEN_RETURN_IF_ERROR(CheckSecretFileMode(file.fd(), path, "a private key"));
  if (file.size() > kMaxKeyFileBytes) {
    return ResourceExhaustedError(path + ": " + std::to_string(file.size()) +
                                  " bytes is more than the limit of " +
                                  std::to_string(kMaxKeyFileBytes) + " bytes for a key file");
  }
  // Parsed straight from the mapping: no heap copy of the key text to wipe afterwards.
  WARDEN_ASSIGN_OR_RETURN(MappedRegion region, file.MapAll());
  return PrivateKey::FromPem(AsChars(region.bytes()), path);
}

Result<PublicKey> LoadPublicKey(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path, kMaxKeyFileBytes));
  return PublicKey::FromPem(pem, path);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    int chunk = static_cast<int>(std::min<size_t>(n - done, 1 << 30));
    WARDEN_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done), chunk) == 1);
    done += static_cast<size_t>(chunk);
  }
  return out;
}

}  // namespace warden::crypto
