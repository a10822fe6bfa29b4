#include "crypto/sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

#include "base/encoding.h"

namespace warden::crypto {
namespace {

// Fetched once: an implicit EVP_sha256() lookup would search the provider store on every
// init. Never freed on purpose, so that no exit-time destructor races OpenSSL's own cleanup.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  WARDEN_CHECK(md != nullptr);  // the default provider always has SHA-256
  return md;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Sha256Digest Sha256(std::span<const uint8_t> data) {
  // EVP_Digest allocates and frees a context per call, which dominated hashing of small
  // inputs (Merkle leaves and nodes); one reused context per thread does not allocate.
  thread_local Sha256Hasher hasher;
  hasher.Update(data);
  return hasher.Finish();
}

Sha256Digest Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

Sha256Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Sha256Digest out;
  unsigned int len = 0;
  // HMAC() with an empty key needs a non-null pointer.
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  WARDEN_CHECK(HMAC(Sha256Md(), k, static_cast<int>(key.size()), data.data(), data.size(),
                    out.data(), &len) != nullptr &&
               len == out.size());
  return out;
}

Sha256Hasher::Sha256Hasher() { Start(); }

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher::Sha256Hasher(Sha256Hasher&& other) noexcept
    : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Sha256Hasher::Start() {
  if (ctx_ == nullptr) {
    ctx_ = EVP_MD_CTX_new();
    WARDEN_CHECK(ctx_ != nullptr);
  }
  WARDEN_CHECK(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) == 1);
}

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  if (ctx_ == nullptr) Start();
  if (data.empty()) return;
  WARDEN_CHECK(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1);
}

void Sha256Hasher::Update(std::string_view data) { Update(AsBytes(data)); }

Sha256Digest Sha256Hasher::Finish() {
  if (ctx_ == nullptr) Start();
  Sha256Digest out;
  unsigned int len = 0;
  WARDEN_CHECK(EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1 && len == kSha256Size);
  Start();
  return out;
}

void Sha256Hasher::Reset() { Start(); }

std::string DigestHex(const Sha256Digest& digest) { return HexEncode(digest); }

Result<Sha256Digest> ParseDigestHex(std::string_view hex) {
  if (hex.size() != 2 * kSha256Size) {
    return DataLossError("not a SHA-256 hex digest: expected 64 hex characters, got " +
                         std::to_string(hex.size()));
  }
  Sha256Digest out;
  for (size_t i = 0; i < kSha256Size; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? 2 * i : 2 * i + 1;
      return DataLossError("not a SHA-256 hex digest: non-hex character at offset " +
                           std::to_string(bad));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace warden::crypto
