// Keys: known answers (DSSE spec vector, RFC 8032 Ed25519, a real model_signing P-384 bundle
// and its key hint), round trips for every key type, key files, and malformed inputs.
#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "crypto/sha256.h"

namespace warden::crypto {
namespace {

const std::string kTestdata = WARDEN_TESTDATA_DIR;

std::string ReadTestFile(const std::string& relative) {
  Result<std::string> r = ReadFileToString(kTestdata + "/" + relative, 1 << 20);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.value_or(std::string());
}

std::vector<uint8_t> Hex(std::string_view hex) {
  Result<std::vector<uint8_t>> r = HexDecode(hex);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.value_or(std::vector<uint8_t>());
}

std::string Unbase64(std::string_view text) {
  Result<std::string> r = Base64Decode(text);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
  return r.value_or(std::string());
}

std::string Pae(std::string_view type, std::string_view body) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " +
         std::to_string(body.size()) + " " + std::string(body);
}

std::string Flip(std::string s, size_t index) {
  s[index] = static_cast<char>(s[index] ^ 0x01);
  return s;
}

// PEM text of `der` under `label`, 64-column base64 as OpenSSL writes it.
std::string WrapPem(std::string_view label, std::span<const uint8_t> der) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(label) + "-----\n";
}

// ----- Test-side OpenSSL helpers, to make inputs that PrivateKey/PublicKey must read ------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

template <typename Write>
std::string WriteToString(Write write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (write(bio) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

std::string PublicPem(EVP_PKEY* pkey) {
  return WriteToString([&](BIO* b) { return PEM_write_bio_PUBKEY(b, pkey); });
}
std::string Pkcs8Pem(EVP_PKEY* pkey) {
  return WriteToString([&](BIO* b) {
    return PEM_write_bio_PKCS8PrivateKey(b, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

// An EC P-256 key pair from the scalar d and the point (x, y), via EVP_PKEY_fromdata.
Pkey EcKeyFromData(std::span<const uint8_t> d, std::span<const uint8_t> x,
                   std::span<const uint8_t> y) {
  std::vector<uint8_t> point = {0x04};
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  BIGNUM* priv = BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr);
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  BN_free(priv);
  OSSL_PARAM_BLD_free(bld);
  return Pkey(pkey);
}

PrivateKey MustGenerate(KeyType type) {
  Result<PrivateKey> key = PrivateKey::Generate(type);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

std::span<const uint8_t> Bytes(const std::string& s) { return AsBytes(s); }

void ExpectCode(const Status& s, StatusCode code, std::string_view what) {
  EXPECT_EQ(s.code(), code) << what << ": " << s.ToString();
}

// ----- DSSE protocol.md test vector (ECDSA P-256, raw r||s) -----------------------------

class DsseVectorTest : public testing::Test {
 protected:
  void SetUp() override {
    Result<json::value> v =
        json::Parse(ReadTestFile("dsse/dsse_protocol_test_vector.json"), "dsse vector");
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    vector_ = std::move(v).value();
  }
  std::string Field(std::string_view section, std::string_view key) const {
    return std::string(vector_.at(section).at(key).as_string());
  }
  std::string RawSignature() const {
    return Unbase64(std::string(
        vector_.at("from_spec").at("envelope").at("signatures").at(0).at("sig").as_string()));
  }
  std::string PaeBytes() const {
    std::vector<uint8_t> pae = Hex(Field("derived", "pae_hex"));
    return std::string(pae.begin(), pae.end());
  }
  PublicKey Key() const {
    Result<PublicKey> key = PublicKey::FromPem(Field("derived", "public_key_spki_pem"), "dsse");
    EXPECT_TRUE(key.ok()) << key.error().ToString();
    return std::move(key).value();
  }
  json::value vector_;
};

TEST_F(DsseVectorTest, PaeHexIsTheSpecString) {
  EXPECT_EQ(PaeBytes(), Field("from_spec", "pae_ascii"));
  EXPECT_EQ(PaeBytes(), Pae("http://example.com/HelloWorld", "hello world"));
}

TEST_F(DsseVectorTest, PublicKeyIsP256WithTheSpecPoint) {
  PublicKey key = Key();
  EXPECT_EQ(key.type(), KeyType::kEcdsaP256);
  // An uncompressed point ends the SPKI: 0x04 || X || Y.
  std::string spki = key.SpkiDer();
  ASSERT_GE(spki.size(), 65u);
  EXPECT_EQ(HexEncode(std::string_view(spki).substr(spki.size() - 65)),
            "04" + Field("derived", "key_X_hex") + Field("derived", "key_Y_hex"));
  EXPECT_EQ(key.ToPem(), Field("derived", "public_key_spki_pem"));
}

TEST_F(DsseVectorTest, RawSignatureConvertsToTheDerForm) {
  std::string raw = RawSignature();
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_EQ(HexEncode(std::string_view(raw).substr(0, 32)), Field("derived", "sig_r_hex"));
  Result<std::string> der = EcdsaRawToDer(Bytes(raw));
  ASSERT_TRUE(der.ok()) << der.error().ToString();
  EXPECT_EQ(*der, Unbase64(Field("derived", "sig_der_base64")));
}

TEST_F(DsseVectorTest, SignatureVerifiesOverPae) {
  Result<std::string> der = EcdsaRawToDer(Bytes(RawSignature()));
  ASSERT_TRUE(der.ok());
  Status s = Key().Verify(Bytes(PaeBytes()), Bytes(*der));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DsseVectorTest, FlippedMessageBitFails) {
  Result<std::string> der = EcdsaRawToDer(Bytes(RawSignature()));
  ASSERT_TRUE(der.ok());
  std::string pae = PaeBytes();
  for (size_t i : {size_t{0}, pae.size() / 2, pae.size() - 1}) {
    ExpectCode(Key().Verify(Bytes(Flip(pae, i)), Bytes(*der)), StatusCode::kVerificationFailed,
               "byte " + std::to_string(i));
  }
}

TEST_F(DsseVectorTest, FlippedSignatureBitFails) {
  std::string raw = RawSignature();
  for (size_t i : {size_t{0}, size_t{31}, size_t{32}, size_t{63}}) {
    Result<std::string> der = EcdsaRawToDer(Bytes(Flip(raw, i)));
    ASSERT_TRUE(der.ok());
    ExpectCode(Key().Verify(Bytes(PaeBytes()), Bytes(*der)), StatusCode::kVerificationFailed,
               "byte " + std::to_string(i));
  }
}

TEST_F(DsseVectorTest, RawSignatureGivenAsDerIsDataLoss) {
  Status s = Key().Verify(Bytes(PaeBytes()), Bytes(RawSignature()));
  ExpectCode(s, StatusCode::kDataLoss, "raw r||s");
  EXPECT_NE(s.message().find("EcdsaRawToDer"), std::string::npos) << s.message();
}

TEST_F(DsseVectorTest, PrivateKeyFromScalarMatchesThePublicKey) {
  Pkey pkey = EcKeyFromData(Hex(Field("derived", "key_d_hex")), Hex(Field("derived", "key_X_hex")),
                            Hex(Field("derived", "key_Y_hex")));
  ASSERT_NE(pkey, nullptr);
  Result<PrivateKey> key = PrivateKey::FromPem(Pkcs8Pem(pkey.get()), "dsse d");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->Public(), Key());
  // OpenSSL signs with a random nonce, so the spec's exact bytes are not reproduced; the
  // signature must still verify with the spec's public key.
  Result<std::string> sig = key->Sign(Bytes(PaeBytes()));
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  EXPECT_TRUE(Key().Verify(Bytes(PaeBytes()), Bytes(*sig)).ok());
}

TEST_F(DsseVectorTest, PrivateKeyWithWrongScalarForItsPointIsDataLoss) {
  std::vector<uint8_t> d = Hex(Field("derived", "key_d_hex"));
  d.back() ^= 1;
  Pkey pkey =
      EcKeyFromData(d, Hex(Field("derived", "key_X_hex")), Hex(Field("derived", "key_Y_hex")));
  ASSERT_NE(pkey, nullptr);
  Result<PrivateKey> key = PrivateKey::FromPem(Pkcs8Pem(pkey.get()), "mismatched.pem");
  ASSERT_FALSE(key.ok());
  ExpectCode(key.error(), StatusCode::kDataLoss, "mismatched");
  EXPECT_NE(key.error().message().find("mismatched.pem"), std::string::npos);
}

// ----- RFC 8032 section 7.1 Ed25519 test vectors ----------------------------------------

struct Ed25519Vector {
  const char* name;
  const char* secret_hex;
  const char* public_hex;
  const char* message_hex;
  const char* signature_hex;
};

const Ed25519Vector kRfc8032[] = {
    {"test1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"test2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

// SPKI and PKCS#8 DER of an Ed25519 key are a fixed prefix (RFC 8410) plus the raw key.
constexpr std::string_view kEd25519SpkiPrefix = "302a300506032b6570032100";
constexpr std::string_view kEd25519Pkcs8Prefix = "302e020100300506032b657004220420";

TEST(Ed25519VectorTest, PublicKeyVerifiesRfc8032Signatures) {
  for (const Ed25519Vector& v : kRfc8032) {
    Result<PublicKey> key =
        PublicKey::FromSpkiDer(Hex(std::string(kEd25519SpkiPrefix) + v.public_hex));
    ASSERT_TRUE(key.ok()) << v.name << ": " << key.error().ToString();
    EXPECT_EQ(key->type(), KeyType::kEd25519);
    std::vector<uint8_t> message = Hex(v.message_hex);
    std::vector<uint8_t> sig = Hex(v.signature_hex);
    Status ok = key->Verify(message, sig);
    EXPECT_TRUE(ok.ok()) << v.name << ": " << ok.ToString();
    sig[10] ^= 0x20;
    ExpectCode(key->Verify(message, sig), StatusCode::kVerificationFailed, v.name);
  }
}

TEST(Ed25519VectorTest, PrivateKeySignsExactlyTheRfc8032Signature) {
  for (const Ed25519Vector& v : kRfc8032) {
    std::string pem = WrapPem("PRIVATE KEY", Hex(std::string(kEd25519Pkcs8Prefix) + v.secret_hex));
    Result<PrivateKey> key = PrivateKey::FromPem(pem, v.name);
    ASSERT_TRUE(key.ok()) << v.name << ": " << key.error().ToString();
    EXPECT_EQ(HexEncode(key->Public().SpkiDer()), std::string(kEd25519SpkiPrefix) + v.public_hex);
    Result<std::string> sig = key->Sign(Hex(v.message_hex));
    ASSERT_TRUE(sig.ok()) << sig.error().ToString();
    EXPECT_EQ(HexEncode(*sig), v.signature_hex) << v.name;
  }
}

// ----- model_signing (OMS) P-384 key and a real signed bundle --------------------------

TEST(OmsKeyTest, CerttoolTextBeforePemIsSkippedAndHintMatches) {
  Result<PublicKey> key = LoadPublicKey(kTestdata + "/oms/keys/signing-key-pub.pem");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->type(), KeyType::kEcdsaP384);
  // publicKey.hint of model_signing v1.1.0 bundles: SHA-256 of the PEM as OpenSSL writes it.
  EXPECT_EQ(DigestHex(Sha256(key->ToPem())),
            "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
  EXPECT_TRUE(ReadTestFile("oms/keys/signing-key-pub.pem").ends_with(key->ToPem()));
}

TEST(OmsKeyTest, CertificateYieldsTheSameKey) {
  Result<PublicKey> from_cert = LoadPublicKey(kTestdata + "/oms/keys/signing-key-cert.pem");
  Result<PublicKey> from_pub = LoadPublicKey(kTestdata + "/oms/keys/signing-key-pub.pem");
  ASSERT_TRUE(from_cert.ok()) << from_cert.error().ToString();
  ASSERT_TRUE(from_pub.ok());
  EXPECT_EQ(*from_cert, *from_pub);
  EXPECT_EQ(from_cert->Fingerprint(), from_pub->Fingerprint());
}

TEST(OmsKeyTest, RsaCertificateIsDataLossNamingRsa) {
  const std::string path = kTestdata + "/oms/keys/ca-cert.pem";
  Result<PublicKey> key = LoadPublicKey(path);
  ASSERT_FALSE(key.ok());
  ExpectCode(key.error(), StatusCode::kDataLoss, "rsa cert");
  EXPECT_NE(key.error().message().find(path), std::string::npos) << key.error().message();
  EXPECT_NE(key.error().message().find("RSA"), std::string::npos) << key.error().message();
}

class OmsBundleTest : public testing::Test {
 protected:
  void SetUp() override {
    Result<json::value> v = json::Parse(
        ReadTestFile("oms/ossf-spec/test-vectors-v1.0/valid/key.bundle.json"), "key.bundle.json");
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    const json::value& env = v->at("dsseEnvelope");
    payload_ = Unbase64(std::string(env.at("payload").as_string()));
    type_ = std::string(env.at("payloadType").as_string());
    sig_ = Unbase64(std::string(env.at("signatures").at(0).at("sig").as_string()));
    Result<PublicKey> key = LoadPublicKey(kTestdata + "/oms/keys/signing-key-pub.pem");
    ASSERT_TRUE(key.ok());
    key_.emplace(std::move(key).value());
  }
  std::string payload_, type_, sig_;
  std::optional<PublicKey> key_;
};

TEST_F(OmsBundleTest, RealP384SignatureVerifies) {
  Status s = key_->Verify(Bytes(Pae(type_, payload_)), Bytes(sig_));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(OmsBundleTest, ChangedPayloadFails) {
  std::string payload = payload_;
  payload.back() = ' ';
  Status s = key_->Verify(Bytes(Pae(type_, payload)), Bytes(sig_));
  ExpectCode(s, StatusCode::kVerificationFailed, "changed payload");
  EXPECT_NE(s.message().find("ecdsa-p384 key " + key_->Fingerprint()), std::string::npos)
      << s.message();
}

TEST_F(OmsBundleTest, RawFormRoundTripsThroughEcdsaRawToDer) {
  // DER -> fixed-width r||s (48 + 48 bytes) with OpenSSL, then back with EcdsaRawToDer.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig_.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig_.size()));  // NOLINT
  ASSERT_NE(sig, nullptr);
  std::vector<uint8_t> raw(96);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 48);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 48, 48);
  ECDSA_SIG_free(sig);
  Result<std::string> der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.ok()) << der.error().ToString();
  EXPECT_EQ(*der, sig_);
}

// ----- Round trips for every key type --------------------------------------------------

class KeyTypeTest : public testing::TestWithParam<KeyType> {};

INSTANTIATE_TEST_SUITE_P(AllTypes, KeyTypeTest,
                         testing::Values(KeyType::kEcdsaP256, KeyType::kEcdsaP384,
                                         KeyType::kEd25519),
                         [](const testing::TestParamInfo<KeyType>& info) {
                           std::string name(KeyTypeName(info.param));
                           std::erase(name, '-');
                           return name;
                         });

const std::string kMessage = "model.safetensors: 0123456789abcdef";

TEST_P(KeyTypeTest, GenerateSignVerify) {
  PrivateKey key = MustGenerate(GetParam());
  EXPECT_EQ(key.type(), GetParam());
  EXPECT_EQ(key.Public().type(), GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  if (GetParam() == KeyType::kEd25519) {
    EXPECT_EQ(sig->size(), 64u);
  }
  Status s = key.Public().Verify(Bytes(kMessage), Bytes(*sig));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(KeyTypeTest, EmptyMessageSignsAndVerifies) {
  PrivateKey key = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign({});
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  EXPECT_TRUE(key.Public().Verify({}, Bytes(*sig)).ok());
}

TEST_P(KeyTypeTest, TamperedMessageFailsNamingKey) {
  PrivateKey key = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  Status s = key.Public().Verify(Bytes(Flip(kMessage, 3)), Bytes(*sig));
  ExpectCode(s, StatusCode::kVerificationFailed, "tampered message");
  EXPECT_EQ(s.message(), "signature does not verify with " + std::string(KeyTypeName(GetParam())) +
                             " key " + key.Public().Fingerprint());
}

TEST_P(KeyTypeTest, TamperedSignatureFails) {
  PrivateKey key = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  // The last byte is inside s (ECDSA) or S (Ed25519): still well-formed, no longer valid.
  ExpectCode(key.Public().Verify(Bytes(kMessage), Bytes(Flip(*sig, sig->size() - 1))),
             StatusCode::kVerificationFailed, "tampered signature");
}

TEST_P(KeyTypeTest, OtherKeyOfSameTypeFails) {
  PrivateKey key = MustGenerate(GetParam());
  PrivateKey other = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  ExpectCode(other.Public().Verify(Bytes(kMessage), Bytes(*sig)), StatusCode::kVerificationFailed,
             "other key");
  EXPECT_NE(key.Public(), other.Public());
  EXPECT_NE(key.Public().Fingerprint(), other.Public().Fingerprint());
}

TEST_P(KeyTypeTest, WrongKeyTypeFails) {
  PrivateKey key = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  for (KeyType other : {KeyType::kEcdsaP256, KeyType::kEcdsaP384, KeyType::kEd25519}) {
    if (other == GetParam()) continue;
    Status s = MustGenerate(other).Public().Verify(Bytes(kMessage), Bytes(*sig));
    EXPECT_FALSE(s.ok()) << KeyTypeName(other);
    // ECDSA <-> ECDSA is well-formed but wrong; across families the encoding itself is wrong.
    bool both_ecdsa = other != KeyType::kEd25519 && GetParam() != KeyType::kEd25519;
    ExpectCode(s, both_ecdsa ? StatusCode::kVerificationFailed : StatusCode::kDataLoss,
               KeyTypeName(other));
  }
}

TEST_P(KeyTypeTest, PrivatePemRoundTrips) {
  PrivateKey key = MustGenerate(GetParam());
  std::string pem = key.ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n")) << pem;
  EXPECT_TRUE(pem.ends_with("-----END PRIVATE KEY-----\n"));
  Result<PrivateKey> back = PrivateKey::FromPem(pem, "round trip");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->type(), GetParam());
  EXPECT_EQ(back->Public(), key.Public());
  EXPECT_EQ(back->ToPem(), pem);
  Result<std::string> sig = back->Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key.Public().Verify(Bytes(kMessage), Bytes(*sig)).ok());
}

TEST_P(KeyTypeTest, PublicPemAndDerRoundTrip) {
  PublicKey pub = MustGenerate(GetParam()).Public();
  std::string pem = pub.ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PUBLIC KEY-----\n")) << pem;
  EXPECT_TRUE(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
  Result<PublicKey> from_pem = PublicKey::FromPem(pem, "round trip");
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().ToString();
  EXPECT_EQ(*from_pem, pub);
  EXPECT_EQ(from_pem->ToPem(), pem);
  Result<PublicKey> from_der = PublicKey::FromSpkiDer(Bytes(pub.SpkiDer()));
  ASSERT_TRUE(from_der.ok()) << from_der.error().ToString();
  EXPECT_EQ(*from_der, pub);
  EXPECT_EQ(pub.Fingerprint(), DigestHex(Sha256(pub.SpkiDer())));
  EXPECT_EQ(pem, WrapPem("PUBLIC KEY", Bytes(pub.SpkiDer())));
}

TEST_P(KeyTypeTest, ConcurrentVerifyOnOneKey) {
  PrivateKey key = MustGenerate(GetParam());
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  const PublicKey pub = key.Public();
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        (pub.Verify(Bytes(kMessage), Bytes(*sig)).ok() ? good : bad)++;
        (pub.Verify(Bytes(Flip(kMessage, 0)), Bytes(*sig)).ok() ? bad : good)++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 8 * 25 * 2);
  EXPECT_EQ(bad.load(), 0);
}

TEST(KeysTest, KeyTypeNames) {
  EXPECT_EQ(KeyTypeName(KeyType::kEcdsaP256), "ecdsa-p256");
  EXPECT_EQ(KeyTypeName(KeyType::kEcdsaP384), "ecdsa-p384");
  EXPECT_EQ(KeyTypeName(KeyType::kEd25519), "ed25519");
}

TEST(KeysTest, EcdsaSignaturesAreRandomized) {
  PrivateKey key = MustGenerate(KeyType::kEcdsaP256);
  Result<std::string> a = key.Sign(Bytes(kMessage));
  Result<std::string> b = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(KeysTest, EcdsaRawToDerRejectsOtherLengths) {
  for (size_t n : {0, 1, 63, 65, 95, 97, 128}) {
    Result<std::string> r = EcdsaRawToDer(std::vector<uint8_t>(n, 1));
    ASSERT_FALSE(r.ok()) << n;
    ExpectCode(r.error(), StatusCode::kDataLoss, std::to_string(n));
  }
}

TEST(KeysTest, EcdsaRawToDerDropsLeadingZerosAndPadsHighBits) {
  std::vector<uint8_t> raw(64, 0);
  raw[31] = 0x01;  // r = 1
  raw[32] = 0x80;  // s has its top bit set: DER needs a 0x00 before it
  Result<std::string> der = EcdsaRawToDer(raw);
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(HexEncode(*der).substr(0, 16), "3026020101022100");
}

TEST(KeysTest, NonCanonicalEcdsaDerIsDataLoss) {
  PrivateKey key = MustGenerate(KeyType::kEcdsaP256);
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  const std::string& der = *sig;
  ASSERT_EQ(static_cast<uint8_t>(der[0]), 0x30);
  struct Case {
    const char* mutation;
    std::string bytes;
  };
  const Case cases[] = {
      {"empty", ""},
      {"trailing_zero_byte", der + std::string(1, '\0')},
      {"truncated", der.substr(0, der.size() - 1)},
      {"long_form_length", std::string("\x30\x81", 2) + der.substr(1)},
      {"not_a_sequence", std::string(1, '\x31') + der.substr(1)},
      {"garbage", std::string(70, 'x')},
  };
  for (const Case& c : cases) {
    ExpectCode(key.Public().Verify(Bytes(kMessage), Bytes(c.bytes)), StatusCode::kDataLoss,
               c.mutation);
  }
}

TEST(KeysTest, Ed25519SignatureOfWrongLengthIsDataLoss) {
  PrivateKey key = MustGenerate(KeyType::kEd25519);
  Result<std::string> sig = key.Sign(Bytes(kMessage));
  ASSERT_TRUE(sig.ok());
  ExpectCode(key.Public().Verify(Bytes(kMessage), Bytes(sig->substr(0, 63))), StatusCode::kDataLoss,
             "63 bytes");
  ExpectCode(key.Public().Verify(Bytes(kMessage), Bytes(*sig + "x")), StatusCode::kDataLoss,
             "65 bytes");
}

TEST(KeysTest, RandomBytes) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

// ----- Accepted PEM variants ------------------------------------------------------------

TEST(PemTest, TraditionalEcPrivateKeyIsAccepted) {
  Pkey pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  std::string pem = WriteToString([&](BIO* b) {
    return PEM_write_bio_PrivateKey_traditional(b, pkey.get(), nullptr, nullptr, 0, nullptr,
                                                nullptr);
  });
  ASSERT_TRUE(pem.starts_with("-----BEGIN EC PRIVATE KEY-----")) << pem;
  Result<PrivateKey> key = PrivateKey::FromPem(pem, "sec1.pem");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->type(), KeyType::kEcdsaP256);
  Result<PublicKey> pub = PublicKey::FromPem(PublicPem(pkey.get()), "pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(key->Public(), *pub);

  // As `openssl ecparam -genkey` writes it: an EC PARAMETERS block first.
  std::string params =
      WriteToString([&](BIO* b) { return PEM_write_bio_Parameters(b, pkey.get()); });
  ASSERT_TRUE(params.starts_with("-----BEGIN EC PARAMETERS-----")) << params;
  Result<PrivateKey> with_params = PrivateKey::FromPem(params + pem, "ecparam.pem");
  ASSERT_TRUE(with_params.ok()) << with_params.error().ToString();
  EXPECT_EQ(with_params->Public(), *pub);
}

TEST(PemTest, TextBeforeAndCrlfLineEndingsAreAccepted) {
  PublicKey pub = MustGenerate(KeyType::kEcdsaP256).Public();
  std::string crlf;
  for (char c : pub.ToPem()) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  Result<PublicKey> key = PublicKey::FromPem("Subject: someone\r\nnotes\r\n\r\n" + crlf, "crlf");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(*key, pub);
}

// ----- Malformed and unsupported inputs --------------------------------------------------

struct BadPem {
  std::string mutation;
  std::string text;
  std::string message_part;  // besides the source name
};

std::vector<BadPem> BadPublicPems() {
  PrivateKey p256 = MustGenerate(KeyType::kEcdsaP256);
  const std::string good = p256.Public().ToPem();
  const std::string der = p256.Public().SpkiDer();
  Pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  Pkey k1(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  Pkey ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  std::string bad_base64 = good;
  bad_base64[40] = '*';
  std::string bad_point = der;
  bad_point[der.size() - 1] ^= 1;  // y no longer on the curve
  return {
      {"empty", "", "empty"},
      {"garbage", "this is not a key\n", "no PEM block"},
      {"begin_line_only", "-----BEGIN PUBLIC KEY-----\n", "PEM"},
      {"no_end_line", good.substr(0, good.find("-----END")), "PEM"},
      {"truncated_body", good.substr(0, 60) + "\n-----END PUBLIC KEY-----\n", ""},
      {"bad_base64_character", bad_base64, ""},
      {"truncated_der", WrapPem("PUBLIC KEY", AsBytes(std::string_view(der).substr(0, 40))),
       "SubjectPublicKeyInfo"},
      {"trailing_der_bytes", WrapPem("PUBLIC KEY", AsBytes(der + "\x01")), "bytes after"},
      {"point_not_on_curve", WrapPem("PUBLIC KEY", AsBytes(bad_point)), ""},
      {"pkcs8_private_key", p256.ToPem(), "private key"},
      {"ec_private_key_label", WrapPem("EC PRIVATE KEY", AsBytes(der)), "private key"},
      {"rsa_public_key", PublicPem(rsa.get()), "RSA"},
      {"secp256k1_public_key", PublicPem(k1.get()), "secp256k1"},
      {"ed448_public_key", PublicPem(ed448.get()), "ED448"},
      {"other_pem_type", WrapPem("X509 CRL", AsBytes(der)), "unsupported PEM block"},
      {"garbage_certificate", WrapPem("CERTIFICATE", AsBytes(der)), "certificate"},
  };
}

TEST(PemTest, MalformedPublicPemIsDataLossNamingSource) {
  for (const BadPem& c : BadPublicPems()) {
    Result<PublicKey> r = PublicKey::FromPem(c.text, "keys/pub.pem");
    ASSERT_FALSE(r.ok()) << c.mutation;
    ExpectCode(r.error(), StatusCode::kDataLoss, c.mutation);
    EXPECT_TRUE(r.error().message().starts_with("keys/pub.pem: "))
        << c.mutation << ": " << r.error().message();
    EXPECT_NE(r.error().message().find(c.message_part), std::string::npos)
        << c.mutation << ": " << r.error().message();
  }
}

TEST(PemTest, MalformedSpkiDerIsDataLoss) {
  const std::string der = MustGenerate(KeyType::kEd25519).Public().SpkiDer();
  for (std::string bad :
       {std::string(), der.substr(0, der.size() - 1), der + "x", std::string("\x30\x00", 2)}) {
    Result<PublicKey> r = PublicKey::FromSpkiDer(Bytes(bad));
    ASSERT_FALSE(r.ok()) << HexEncode(bad);
    ExpectCode(r.error(), StatusCode::kDataLoss, HexEncode(bad));
  }
}

std::vector<BadPem> BadPrivatePems() {
  Pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Pkey k1(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  Pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  const std::string good = Pkcs8Pem(ec.get());
  std::string encrypted_pkcs8 = WriteToString([&](BIO* b) {
    return PEM_write_bio_PKCS8PrivateKey(b, ec.get(), EVP_aes_256_cbc(), "secret", 6, nullptr,
                                         nullptr);
  });
  std::string encrypted_sec1 = WriteToString([&](BIO* b) {
    return PEM_write_bio_PrivateKey_traditional(b, ec.get(), EVP_aes_256_cbc(),
                                                reinterpret_cast<const unsigned char*>("secret"), 6,
                                                nullptr, nullptr);
  });
  std::string garbage_der(100, '\x42');
  return {
      {"empty", "", "empty"},
      {"garbage", "\x01\x02 binary junk", "no PEM block"},
      {"truncated", good.substr(0, good.size() / 2), "PEM"},
      {"public_key", PublicPem(ec.get()), "public key"},
      {"certificate", ReadTestFile("oms/keys/signing-key-cert.pem"), "public key"},
      {"encrypted_pkcs8", encrypted_pkcs8, "encrypted"},
      {"encrypted_sec1", encrypted_sec1, "encrypted"},
      {"garbage_der", WrapPem("PRIVATE KEY", AsBytes(garbage_der)), "malformed"},
      {"garbage_sec1_der", WrapPem("EC PRIVATE KEY", AsBytes(garbage_der)), "malformed"},
      {"secp256k1", Pkcs8Pem(k1.get()), "secp256k1"},
      {"rsa", Pkcs8Pem(rsa.get()), "RSA"},
      {"openssh", WrapPem("OPENSSH PRIVATE KEY", AsBytes(garbage_der)), "unsupported PEM block"},
  };
}

TEST(PemTest, MalformedPrivatePemIsDataLossNamingSource) {
  for (const BadPem& c : BadPrivatePems()) {
    Result<PrivateKey> r = PrivateKey::FromPem(c.text, "keys/signing.key");
    ASSERT_FALSE(r.ok()) << c.mutation;
    ExpectCode(r.error(), StatusCode::kDataLoss, c.mutation);
    EXPECT_TRUE(r.error().message().starts_with("keys/signing.key: "))
        << c.mutation << ": " << r.error().message();
    EXPECT_NE(r.error().message().find(c.message_part), std::string::npos)
        << c.mutation << ": " << r.error().message();
  }
}

// ----- Key files --------------------------------------------------------------------------

class KeyFileTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "/warden_keys_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/signing.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_, path_;
};

TEST_F(KeyFileTest, WriteKeyPairSetsModesAndLoadsBack) {
  PrivateKey key = MustGenerate(KeyType::kEcdsaP384);
  Status s = WriteKeyPair(key, path_, /*overwrite=*/false);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Mode(path_), 0600u);
  EXPECT_EQ(Mode(path_ + ".pub"), 0644u);
  Result<PrivateKey> priv = LoadPrivateKey(path_);
  ASSERT_TRUE(priv.ok()) << priv.error().ToString();
  EXPECT_EQ(priv->Public(), key.Public());
  Result<PublicKey> pub = LoadPublicKey(path_ + ".pub");
  ASSERT_TRUE(pub.ok()) << pub.error().ToString();
  EXPECT_EQ(*pub, key.Public());
}

TEST_F(KeyFileTest, WriteKeyPairRefusesToOverwrite) {
  PrivateKey first = MustGenerate(KeyType::kEd25519);
  ASSERT_TRUE(WriteKeyPair(first, path_, false).ok());
  Status s = WriteKeyPair(MustGenerate(KeyType::kEd25519), path_, false);
  ExpectCode(s, StatusCode::kFailedPrecondition, "second write");
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  Result<PrivateKey> still = LoadPrivateKey(path_);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->Public(), first.Public());
}

TEST_F(KeyFileTest, WriteKeyPairRefusesWhenOnlyThePublicFileExists) {
  ASSERT_TRUE(WriteFileAtomic(path_ + ".pub", "x", 0644).ok());
  ExpectCode(WriteKeyPair(MustGenerate(KeyType::kEd25519), path_, false),
             StatusCode::kFailedPrecondition, "pub exists");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(KeyFileTest, WriteKeyPairOverwritesWhenAsked) {
  ASSERT_TRUE(WriteKeyPair(MustGenerate(KeyType::kEd25519), path_, false).ok());
  PrivateKey second = MustGenerate(KeyType::kEcdsaP256);
  Status s = WriteKeyPair(second, path_, /*overwrite=*/true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  Result<PrivateKey> loaded = LoadPrivateKey(path_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Public(), second.Public());
  EXPECT_EQ(Mode(path_), 0600u);
}

TEST_F(KeyFileTest, LoadPrivateKeyRefusesGroupOrWorldAccess) {
  ASSERT_TRUE(WriteKeyPair(MustGenerate(KeyType::kEd25519), path_, false).ok());
  for (unsigned mode : {0640u, 0604u, 0644u, 0610u}) {
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
    Result<PrivateKey> r = LoadPrivateKey(path_);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    ExpectCode(r.error(), StatusCode::kPermissionDenied, "mode");
    EXPECT_NE(r.error().message().find("chmod 600 " + path_), std::string::npos)
        << r.error().message();
  }
  ASSERT_EQ(chmod(path_.c_str(), 0400), 0);
  EXPECT_TRUE(LoadPrivateKey(path_).ok());
}

TEST_F(KeyFileTest, MissingFilesAreNotFound) {
  Result<PrivateKey> priv = LoadPrivateKey(path_);
  ASSERT_FALSE(priv.ok());
  ExpectCode(priv.error(), StatusCode::kNotFound, "private");
  Result<PublicKey> pub = LoadPublicKey(path_ + ".pub");
  ASSERT_FALSE(pub.ok());
  ExpectCode(pub.error(), StatusCode::kNotFound, "public");
}

TEST_F(KeyFileTest, OversizedFilesAreRefused) {
  std::string big(kMaxKeyFileBytes + 1, 'a');
  ASSERT_TRUE(WriteFileAtomic(path_, big, 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path_ + ".pub", big, 0644).ok());
  Result<PrivateKey> priv = LoadPrivateKey(path_);
  ASSERT_FALSE(priv.ok());
  ExpectCode(priv.error(), StatusCode::kResourceExhausted, "private");
  Result<PublicKey> pub = LoadPublicKey(path_ + ".pub");
  ASSERT_FALSE(pub.ok());
  ExpectCode(pub.error(), StatusCode::kResourceExhausted, "public");
}

TEST_F(KeyFileTest, EmptyPrivateKeyFileIsDataLossNamingPath) {
  ASSERT_TRUE(WriteFileAtomic(path_, "", 0600).ok());
  Result<PrivateKey> r = LoadPrivateKey(path_);
  ASSERT_FALSE(r.ok());
  ExpectCode(r.error(), StatusCode::kDataLoss, "empty");
  EXPECT_TRUE(r.error().message().starts_with(path_ + ": ")) << r.error().message();
}

}  // namespace
}  // namespace warden::crypto
