// SHA-256 over OpenSSL 3's EVP interface: one-shot digests, an incremental hasher, and the
// hex form used in manifests and messages.
//
// This is the hot path when hashing multi-gigabyte model files, so the EVP_MD is fetched
// from the default provider once per process (OpenSSL picks SHA-NI / AVX2 code itself) and
// each Sha256Hasher owns one EVP_MD_CTX: Update() never allocates.
//
// Thread-safety: the free functions are reentrant. A Sha256Hasher is a value owned by one
// thread at a time; different hashers may run concurrently.
// Ownership: a Sha256Hasher owns its EVP_MD_CTX; it is movable, not copyable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;  // from <openssl/types.h>; keeps OpenSSL out of users

namespace warden::crypto {

inline constexpr size_t kSha256Size = 32;
using Sha256Digest = std::array<uint8_t, kSha256Size>;

// SHA-256 of `data` in one call.
Sha256Digest Sha256(std::span<const uint8_t> data);
Sha256Digest Sha256(std::string_view data);

// Incremental SHA-256. Update() any number of times, then Finish(). After Finish() the hasher
// starts a new, empty message (Reset() is implied), so one hasher can hash many messages.
// Reset() discards any input given since the last Finish().
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(Sha256Hasher&& other) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&& other) noexcept;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  // Adds bytes to the message. Does not allocate. A moved-from hasher may be used again; it
  // behaves like a new one (and allocates its context on first use).
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);

  // Returns the digest of everything given since construction, the last Finish() or Reset().
  Sha256Digest Finish();

  // Discards the message so far.
  void Reset();

 private:
  // Allocates ctx_ if needed and initialises it for a new message. The context is always
  // ready for Update() (re-initialised eagerly in Finish()) so that Update() stays
  // allocation-free.
  void Start();

  EVP_MD_CTX* ctx_ = nullptr;  // null only when moved from
};

// HMAC-SHA-256 (RFC 2104) of `data` under `key` (any length), through OpenSSL.
Sha256Digest HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// 64 lower-case hex characters.
std::string DigestHex(const Sha256Digest& digest);

// Parses exactly 64 hex characters (either case). Anything else is DataLoss saying what was
// wrong (length, or the offset of the first non-hex character).
Result<Sha256Digest> ParseDigestHex(std::string_view hex);

}  // namespace warden::crypto
