// SHA-256 against FIPS 180-2 / NIST known answers and against a slow reference written from
// FIPS 180-4 in this file, whose round constants are computed from their definition (the
// first 32 bits of the fractional parts of cube and square roots of primes) rather than typed.
#include "crypto/sha256.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "base/encoding.h"

namespace warden::crypto {
namespace {

// ----- Slow reference (FIPS 180-4 section 6.2) ------------------------------------------

std::vector<uint32_t> FirstPrimes(int n) {
  std::vector<uint32_t> primes;
  for (uint32_t c = 2; static_cast<int>(primes.size()) < n; ++c) {
    bool prime = true;
    for (uint32_t p : primes) prime = prime && (c % p != 0);
    if (prime) primes.push_back(c);
  }
  return primes;
}

uint32_t FractionBits(double x) {
  return static_cast<uint32_t>((x - std::floor(x)) * 4294967296.0);
}

uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

Sha256Digest ReferenceSha256(std::string_view message) {
  static const std::vector<uint32_t> k = [] {
    std::vector<uint32_t> out;
    for (uint32_t p : FirstPrimes(64)) out.push_back(FractionBits(std::cbrt(double(p))));
    return out;
  }();
  uint32_t h[8];
  std::vector<uint32_t> primes = FirstPrimes(8);
  for (int i = 0; i < 8; ++i) h[i] = FractionBits(std::sqrt(double(primes[i])));

  std::string m(message);
  const uint64_t bit_length = uint64_t{message.size()} * 8;
  m.push_back(static_cast<char>(0x80));
  while (m.size() % 64 != 56) m.push_back('\0');
  for (int i = 7; i >= 0; --i) m.push_back(static_cast<char>(bit_length >> (8 * i)));

  for (size_t block = 0; block < m.size(); block += 64) {
    uint32_t w[64];
    for (int t = 0; t < 16; ++t) {
      w[t] = 0;
      for (int b = 0; b < 4; ++b) w[t] = w[t] << 8 | static_cast<uint8_t>(m[block + 4 * t + b]);
    }
    for (int t = 16; t < 64; ++t) {
      uint32_t s0 = Rotr(w[t - 15], 7) ^ Rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = Rotr(w[t - 2], 17) ^ Rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; ++t) {
      uint32_t t1 =
          hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[t] + w[t];
      uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  Sha256Digest out;
  for (int i = 0; i < 8; ++i) {
    for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<uint8_t>(h[i] >> (24 - 8 * b));
  }
  return out;
}

std::string RandomString(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// ----- Known answers ---------------------------------------------------------------------

struct KnownAnswer {
  const char* name;
  std::string message;
  const char* digest_hex;
};

std::vector<KnownAnswer> KnownAnswers() {
  return {
      {"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"448_bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"896_bits",
       "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
       "nopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
}

TEST(Sha256Test, OneShotMatchesKnownAnswers) {
  for (const KnownAnswer& ka : KnownAnswers()) {
    EXPECT_EQ(DigestHex(Sha256(ka.message)), ka.digest_hex) << ka.name;
    EXPECT_EQ(DigestHex(Sha256(AsBytes(ka.message))), ka.digest_hex) << ka.name;
  }
}

TEST(Sha256Test, HasherMatchesKnownAnswers) {
  for (const KnownAnswer& ka : KnownAnswers()) {
    Sha256Hasher h;
    h.Update(ka.message);
    EXPECT_EQ(DigestHex(h.Finish()), ka.digest_hex) << ka.name;
  }
}

TEST(Sha256Test, ReferenceMatchesKnownAnswers) {
  // The reference must itself be right before it can judge anything else.
  for (const KnownAnswer& ka : KnownAnswers()) {
    EXPECT_EQ(DigestHex(ReferenceSha256(ka.message)), ka.digest_hex) << ka.name;
  }
}

TEST(Sha256Test, OneMillionAInOddSizedChunks) {
  const std::string chunk_source(4096, 'a');
  const size_t chunk_sizes[] = {1, 63, 64, 65, 997, 55, 4096, 3, 128, 511};
  Sha256Hasher h;
  size_t left = 1000000;
  for (size_t i = 0; left > 0; ++i) {
    size_t n = std::min(left, chunk_sizes[i % std::size(chunk_sizes)]);
    h.Update(std::string_view(chunk_source).substr(0, n));
    left -= n;
  }
  EXPECT_EQ(DigestHex(h.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, MatchesReferenceAtEveryLengthAroundPaddingBoundaries) {
  std::mt19937_64 rng(1);
  for (size_t n = 0; n <= 200; ++n) {
    std::string m = RandomString(rng, n);
    EXPECT_EQ(Sha256(m), ReferenceSha256(m)) << "length " << n;
  }
}

TEST(Sha256Test, MatchesReferenceOnRandomLongMessages) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 20; ++i) {
    std::string m = RandomString(rng, rng() % 20000);
    EXPECT_EQ(Sha256(m), ReferenceSha256(m)) << "length " << m.size();
  }
}

TEST(Sha256Test, IncrementalEqualsOneShotForRandomSplits) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::string m = RandomString(rng, rng() % 5000);
    Sha256Hasher h;
    size_t pos = 0;
    while (pos < m.size()) {
      size_t n = std::min<size_t>(m.size() - pos, rng() % 300);  // includes empty updates
      h.Update(AsBytes(std::string_view(m).substr(pos, n)));
      pos += n;
    }
    EXPECT_EQ(h.Finish(), Sha256(m)) << "trial " << trial << ", length " << m.size();
  }
}

TEST(Sha256Test, FinishStartsANewMessage) {
  Sha256Hasher h;
  h.Update("abc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
  h.Update("abc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
  EXPECT_EQ(h.Finish(), Sha256(""));
}

TEST(Sha256Test, ResetDiscardsInput) {
  Sha256Hasher h;
  h.Update("garbage");
  h.Reset();
  h.Update("abc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
}

TEST(Sha256Test, MoveKeepsStateAndMovedFromHasherStillWorks) {
  Sha256Hasher a;
  a.Update("ab");
  Sha256Hasher b(std::move(a));
  b.Update("c");
  EXPECT_EQ(b.Finish(), Sha256("abc"));

  a.Update("abc");  // NOLINT(bugprone-use-after-move): documented to behave like a new hasher
  EXPECT_EQ(a.Finish(), Sha256("abc"));

  Sha256Hasher c;
  c.Update("junk");
  b.Update("a");
  c = std::move(b);
  c.Update("bc");
  EXPECT_EQ(c.Finish(), Sha256("abc"));
}

TEST(Sha256Test, HashersInAVectorAreIndependent) {
  std::vector<Sha256Hasher> hashers(3);
  hashers[0].Update("a");
  hashers[1].Update("b");
  hashers.emplace_back();  // reallocation moves them
  hashers[0].Update("bc");
  EXPECT_EQ(hashers[0].Finish(), Sha256("abc"));
  EXPECT_EQ(hashers[1].Finish(), Sha256("b"));
  EXPECT_EQ(hashers[3].Finish(), Sha256(""));
}

TEST(Sha256Test, DigestHexRoundTrips) {
  Sha256Digest d = Sha256("abc");
  std::string hex = DigestHex(d);
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Result<Sha256Digest> parsed = ParseDigestHex(hex);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, d);
}

TEST(Sha256Test, ParseDigestHexAcceptsUpperCase) {
  Result<Sha256Digest> parsed =
      ParseDigestHex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, Sha256("abc"));
}

TEST(Sha256Test, ParseDigestHexRejectsMalformed) {
  const std::string good = DigestHex(Sha256("abc"));
  struct Case {
    const char* mutation;
    std::string text;
    const char* message_part;
  };
  const Case cases[] = {
      {"empty", "", "got 0"},
      {"one_char_short", good.substr(1), "got 63"},
      {"one_char_long", good + "0", "got 65"},
      {"sha512_length", good + good, "got 128"},
      {"non_hex_first", "g" + good.substr(1), "offset 0"},
      {"non_hex_last", good.substr(0, 63) + "z", "offset 63"},
      {"space_inside", good.substr(0, 10) + " " + good.substr(11), "offset 10"},
      {"prefixed_0x", "0x" + good.substr(2), "offset 1"},
  };
  for (const Case& c : cases) {
    Result<Sha256Digest> r = ParseDigestHex(c.text);
    ASSERT_FALSE(r.ok()) << c.mutation;
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << c.mutation;
    EXPECT_NE(r.error().message().find(c.message_part), std::string::npos)
        << c.mutation << ": " << r.error().message();
  }
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
TEST(HmacSha256Test, MatchesRfc4231) {
  const std::string key1(20, '\x0b');
  EXPECT_EQ(DigestHex(HmacSha256(AsBytes(key1), AsBytes(std::string_view("Hi There")))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(DigestHex(HmacSha256(AsBytes(std::string_view("Jefe")),
                                 AsBytes(std::string_view("what do ya want for nothing?")))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string key6(131, '\xaa');
  EXPECT_EQ(DigestHex(HmacSha256(
                AsBytes(key6),
                AsBytes(std::string_view("Test Using Larger Than Block-Size Key - Hash Key First")))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyAndMessageAreValidInputs) {
  // HMAC with an empty key pads it to a zero block; the result must differ from plain SHA-256.
  EXPECT_NE(HmacSha256({}, {}), Sha256(std::string_view()));
  EXPECT_EQ(HmacSha256({}, {}), HmacSha256({}, {}));
}

}  // namespace
}  // namespace warden::crypto
