#include "provenance/dsse.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"

namespace warden::provenance {
namespace {

TEST(DsseTest, PaeMatchesSpecVector) {
  auto text = ReadFileToString(
      std::string(WARDEN_TESTDATA_DIR) + "/dsse/dsse_protocol_test_vector.json", 1 << 20);
  ASSERT_TRUE(text.has_value()) << text.error().ToString();
  auto v = json::Parse(*text, "vector");
  ASSERT_TRUE(v.has_value());
  const auto& spec = v->at("from_spec");
  const std::string pae = Pae(std::string(spec.at("payload_type").as_string()),
                              std::string(spec.at("payload_utf8").as_string()));
  EXPECT_EQ(pae, std::string(spec.at("pae_ascii").as_string()));
  EXPECT_EQ(HexEncode(pae), std::string(v->at("derived").at("pae_hex").as_string()));
}

TEST(DsseTest, PaeCountsBytesNotCharacters) {
  EXPECT_EQ(Pae("t", "\xc3\xa9"), "DSSEv1 1 t 2 \xc3\xa9");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
}

TEST(DsseTest, EnvelopeRoundTrips) {
  DsseEnvelope env{"application/x", std::string("\0\1payload", 9), {{"k1", "sigbytes"}}};
  json::object o = EnvelopeToJson(env);
  auto back = ParseEnvelope(o, "env");
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->payload, env.payload);
  EXPECT_EQ(back->signatures[0].sig, "sigbytes");
  EXPECT_EQ(back->signatures[0].keyid, "k1");
}

TEST(DsseTest, EnvelopeErrorsNameTheField) {
  auto parse = [](std::string_view text) {
    auto v = json::Parse(text, "t").value();
    return ParseEnvelope(v.as_object(), "dsseEnvelope");
  };
  auto missing = parse(R"({"payload":"", "signatures":[{"sig":"AA=="}]})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("dsseEnvelope.payloadType"), std::string::npos);
  auto bad64 = parse(R"({"payloadType":"x","payload":"a=b=","signatures":[{"sig":"AA=="}]})");
  ASSERT_FALSE(bad64.has_value());
  EXPECT_NE(bad64.error().message().find("dsseEnvelope.payload"), std::string::npos);
  auto empty_sig = parse(R"({"payloadType":"x","payload":"","signatures":[{"sig":""}]})");
  ASSERT_FALSE(empty_sig.has_value());
  EXPECT_NE(empty_sig.error().message().find("empty signature"), std::string::npos);
}

}  // namespace
}  // namespace warden::provenance
