// The watermark's keyed pseudo-random function, fixed bit for bit so that generation and
// detection agree on every machine (docs/formats/watermark.md has the byte-level definition
// and tests/testdata/watermark/ the known answers).
//
//   subkey(secret, scheme) = first 16 bytes of HMAC-SHA-256(key = secret (32 bytes),
//                                                         msg = "warden-watermark-v1/" + scheme)
//                            read as two little-endian 64-bit words k0 (bytes 0-7), k1 (8-15)
//   PRF(context c_1..c_h, token t) = SipHash-2-4((k0, k1), LE32(c_1) || ... || LE32(c_h) ||
//                                                 LE32(t))
//
// HMAC-SHA-256 (OpenSSL) runs once per key and scheme; SipHash-2-4 (Aumasson and Bernstein,
// 2012), a PRF designed for short inputs, runs once per (context, candidate). It is written
// here rather than taken from OpenSSL because OpenSSL's EVP_MAC interface costs far more per
// 20-byte message than the hash itself, and generation evaluates it for every vocabulary
// entry at every step. It is checked against the reference vectors of the SipHash paper.
//
// The scheme-specific uses of a PRF value v (a uint64):
//   kgw:        green iff (v >> 11) < gamma * 2^53
//   tournament: g-value of layer l (0-based) = bit l of v (bit 0 the least significant)
//   gumbel:     r = ((v >> 12) + 0.5) * 2^-52, uniform on (0, 1) (52 bits: with 53 the top
//               value would round to 1.0)
//
// Thread-safety: every type here is a value; const methods may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "engine/types.h"

namespace warden::watermark {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// Incremental SipHash-2-4 with 64-bit output. Copy a hasher to fork it: the watermark absorbs
// a step's context once and then finishes a copy per candidate token.
class SipHasher {
 public:
  explicit SipHasher(SipKey key);
  void Update(std::span<const uint8_t> bytes);
  void UpdateLe32(uint32_t word);  // four bytes, little-endian
  // The hash of everything given so far. Does not change the hasher (it can keep absorbing
  // or be finished again).
  uint64_t Finish() const;

  // The raw state, for the vectorised finisher of many candidates
  // (watermark/internal/prf_batch.h), which must reproduce UpdateLe32 + Finish bit for bit.
  struct RawState {
    uint64_t v[4];
    uint64_t tail;      // pending bytes, little-endian
    uint32_t tail_len;  // number of pending bytes, 0-7
    uint64_t total;     // bytes absorbed
  };
  RawState raw_state() const { return {{v_[0], v_[1], v_[2], v_[3]}, tail_, tail_len_, total_}; }

 private:
  uint64_t v_[4];
  uint64_t tail_ = 0;      // pending bytes, little-endian, fewer than 8
  uint32_t tail_len_ = 0;  // number of pending bytes
  uint64_t total_ = 0;     // bytes absorbed
};

// One-shot SipHash-2-4.
uint64_t SipHash24(SipKey key, std::span<const uint8_t> bytes);

// The PRF of one scheme under one secret. `scheme_name` is "kgw", "tournament" or "gumbel"
// (any string is accepted: it is only a domain separator).
class Prf {
 public:
  Prf(std::span<const uint8_t, 32> secret, std::string_view scheme_name);
  explicit Prf(SipKey subkey) : key_(subkey) {}

  const SipKey& subkey() const { return key_; }

  // PRF(context, token). Token ids are written as their two's-complement 32-bit pattern.
  uint64_t operator()(std::span<const engine::Token> context, engine::Token token) const;

  // The hasher after absorbing `context`: finish a copy with UpdateLe32(token) to get
  // PRF(context, token) for many candidates at the cost of one block each.
  SipHasher Absorb(std::span<const engine::Token> context) const;

 private:
  SipKey key_;
};

// The scheme-specific maps from a PRF value (see the header comment).
inline bool KgwGreen(uint64_t v, uint64_t green_threshold53) { return (v >> 11) < green_threshold53; }
// ceil(gamma * 2^53): the green threshold for KgwGreen; the exact green probability under the
// null is GreenThreshold53(gamma) / 2^53.
uint64_t GreenThreshold53(double gamma);
inline double GumbelUniform(uint64_t v) {
  return (static_cast<double>(v >> 12) + 0.5) * 0x1.0p-52;
}

// A public, unkeyed fingerprint of (context, token) used to recognise repeats. It must not
// depend on the secret (which tokens are skipped must not depend on the key, or the null
// distribution would). SipHash-2-4 with the fixed key k0 = 0x0706050403020100,
// k1 = 0x0f0e0d0c0b0a0908 over the same bytes as the PRF, with `with_token` choosing whether
// the candidate is part of it (kgw dedups (context, token) pairs; tournament and gumbel dedup
// contexts).
uint64_t RepeatFingerprint(std::span<const engine::Token> context, engine::Token token,
                           bool with_token);

}  // namespace warden::watermark
