#include "watermark/prf.h"

#include <bit>
#include <cmath>
#include <string>

#include "base/status.h"
#include "crypto/sha256.h"
#include "watermark/internal/prf_batch.h"

namespace warden::watermark {
namespace {

constexpr std::string_view kSubkeyLabel = "warden-watermark-v1/";
constexpr SipKey kPublicKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

using internal::sip::Round;

// One 8-byte message word through the two compression rounds of SipHash-2-4.
inline void Compress(uint64_t v[4], uint64_t m) {
  v[3] ^= m;
  Round(v[0], v[1], v[2], v[3]);
  Round(v[0], v[1], v[2], v[3]);
  v[0] ^= m;
}

uint64_t LoadLe64(const uint8_t* p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

}  // namespace

SipHasher::SipHasher(SipKey key) {
  // The initialisation constants of SipHash: "somepseudorandomlygeneratedbytes".
  v_[0] = key.k0 ^ 0x736f6d6570736575ull;
  v_[1] = key.k1 ^ 0x646f72616e646f6dull;
  v_[2] = key.k0 ^ 0x6c7967656e657261ull;
  v_[3] = key.k1 ^ 0x7465646279746573ull;
}

void SipHasher::Update(std::span<const uint8_t> bytes) {
  size_t i = 0;
  total_ += bytes.size();
  // Complete a pending partial word first.
  while (tail_len_ != 0 && i < bytes.size()) {
    tail_ |= static_cast<uint64_t>(bytes[i++]) << (8 * tail_len_);
    if (++tail_len_ == 8) {
      Compress(v_, tail_);
      tail_ = 0;
      tail_len_ = 0;
    }
  }
  for (; i + 8 <= bytes.size(); i += 8) Compress(v_, LoadLe64(bytes.data() + i));
  for (; i < bytes.size(); ++i) tail_ |= static_cast<uint64_t>(bytes[i]) << (8 * tail_len_++);
}

void SipHasher::UpdateLe32(uint32_t word) {
  total_ += 4;
  if (tail_len_ <= 4) {
    tail_ |= static_cast<uint64_t>(word) << (8 * tail_len_);
    tail_len_ += 4;
    if (tail_len_ == 8) {
      Compress(v_, tail_);
      tail_ = 0;
      tail_len_ = 0;
    }
    return;
  }
  // 5-7 pending bytes: the word straddles two message words.
  const uint32_t fits = 8 - tail_len_;
  tail_ |= static_cast<uint64_t>(word) << (8 * tail_len_);
  Compress(v_, tail_);
  tail_ = static_cast<uint64_t>(word) >> (8 * fits);
  tail_len_ = 4 - fits;
}

uint64_t SipHasher::Finish() const {
  uint64_t v0 = v_[0], v1 = v_[1], v2 = v_[2], v3 = v_[3];
  // Last word: the pending bytes with the message length (mod 256) in the top byte.
  const uint64_t b = tail_ | (static_cast<uint64_t>(total_ & 0xff) << 56);
  v3 ^= b;
  Round(v0, v1, v2, v3);
  Round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) Round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t SipHash24(SipKey key, std::span<const uint8_t> bytes) {
  SipHasher h(key);
  h.Update(bytes);
  return h.Finish();
}

Prf::Prf(std::span<const uint8_t, 32> secret, std::string_view scheme_name) {
  std::string label(kSubkeyLabel);
  label.append(scheme_name);
  const crypto::Sha256Digest mac = crypto::HmacSha256(
      secret, std::span(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
  key_.k0 = LoadLe64(mac.data());
  key_.k1 = LoadLe64(mac.data() + 8);
}

SipHasher Prf::Absorb(std::span<const engine::Token> context) const {
  SipHasher h(key_);
  for (engine::Token t : context) h.UpdateLe32(static_cast<uint32_t>(t));
  return h;
}

uint64_t Prf::operator()(std::span<const engine::Token> context, engine::Token token) const {
  SipHasher h = Absorb(context);
  h.UpdateLe32(static_cast<uint32_t>(token));
  return h.Finish();
}

uint64_t GreenThreshold53(double gamma) {
  if (!(gamma > 0)) return 0;
  if (gamma >= 1) return 1ull << 53;
  return static_cast<uint64_t>(std::ceil(gamma * 0x1.0p53));
}

uint64_t RepeatFingerprint(std::span<const engine::Token> context, engine::Token token,
                           bool with_token) {
  SipHasher h(kPublicKey);
  for (engine::Token t : context) h.UpdateLe32(static_cast<uint32_t>(t));
  if (with_token) h.UpdateLe32(static_cast<uint32_t>(token));
  return h.Finish();
}

}  // namespace warden::watermark
