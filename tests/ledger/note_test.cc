// Signed notes and verifier keys (c2sp.org/signed-note): the C2SP example note and key, the
// Go sumdb/note package's published keys and Open() cases, byte-exact Ed25519 signing with a
// published seed, round trips with fresh keys, and a table of corruptions by mutation.
#include "ledger/note.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/json.h"
#include "ledger/note_test_util.h"

namespace warden::ledger {
namespace {

using testing::Ed25519FromSeed;
using testing::FromHex;
using testing::kEmDash;
using testing::NewEd25519;
using testing::ReadC2sp;
using testing::ReadC2spLine;
using testing::ReplaceOnce;
using testing::Signer;
using testing::VerifierFromVkey;

Note MustParse(std::string_view bytes) {
  Result<Note> n = ParseNote(bytes, "test.note");
  EXPECT_TRUE(n.ok()) << n.error().ToString();
  return n.value_or(Note{});
}

std::string MustFormat(const Note& n) {
  Result<std::string> s = FormatNote(n);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return s.value_or(std::string());
}

// ---- The C2SP example ----

TEST(NoteExampleTest, FooVerifiesWithItsVkey) {
  const std::string bytes = ReadC2sp("signed-note.example-foo.txt");
  const NoteVerifier foo = VerifierFromVkey(ReadC2spLine("signed-note.example-foo.vkey"));
  EXPECT_EQ(foo.name(), "example.com/foo");
  EXPECT_EQ(foo.key_hash(), 0x530d903au);
  EXPECT_EQ(foo.type(), NoteKeyType::kEd25519);
  EXPECT_EQ(HexEncode(foo.raw_public_key()),
            "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4");
  EXPECT_EQ(foo.Vkey(), ReadC2spLine("signed-note.example-foo.vkey"));

  const Note note = MustParse(bytes);
  EXPECT_EQ(note.text, "This is an example message.\n");
  ASSERT_EQ(note.signatures.size(), 1u);
  EXPECT_EQ(note.signatures[0].name, "example.com/foo");
  EXPECT_EQ(note.signatures[0].key_hash, 0x530d903au);
  EXPECT_EQ(note.signatures[0].signature.size(), 64u);

  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, std::span(&foo, 1));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  ASSERT_EQ(opened->size(), 1u);
  EXPECT_EQ((*opened)[0].verifier, 0u);
  EXPECT_EQ((*opened)[0].name, "example.com/foo");
  EXPECT_FALSE((*opened)[0].timestamp.has_value());
  EXPECT_EQ(MustFormat(note), bytes);
}

TEST(NoteExampleTest, FooWithChangedTextFailsVerification) {
  const NoteVerifier foo = VerifierFromVkey(ReadC2spLine("signed-note.example-foo.vkey"));
  Note note = MustParse(ReadC2sp("signed-note.example-foo.txt"));
  note.text = ReplaceOnce(note.text, "example", "Example");
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, std::span(&foo, 1));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed);
  EXPECT_NE(opened.error().message().find("example.com/foo+530d903a"), std::string::npos)
      << opened.error().message();
}

TEST(NoteExampleTest, QuasimodoTextRunsToTheLastBlankLine) {
  const std::string bytes = ReadC2sp("signed-note.example-quasimodo.txt");
  const Note note = MustParse(bytes);
  EXPECT_EQ(note.text,
            "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned "
            "\xC3\xA8 subito sera.\n");
  ASSERT_EQ(note.signatures.size(), 1u);
  EXPECT_EQ(note.signatures[0].name, "quasimodo.example/salvatore");
  EXPECT_EQ(note.signatures[0].key_hash, 0x367ba04bu);
  EXPECT_EQ(note.signatures[0].signature.size(), 64u);
  EXPECT_EQ(MustFormat(note), bytes);
  // No key is published: with no known verifier the note must not open.
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, {});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed);
}

TEST(NoteExampleTest, GoSumdbCheckpointVerifiesWithSumGolangOrgKey) {
  const NoteVerifier sumdb = VerifierFromVkey(ReadC2spLine("derived.sum.golang.org.vkey"));
  EXPECT_EQ(sumdb.key_hash(), 0x033de0aeu);
  EXPECT_EQ(HexEncode(sumdb.raw_public_key()),
            "ce3372d75ad1ee5ecdaf8727293d4b111d87eb37531d7c86d4d3003f0eb809fc");
  const std::string bytes = ReadC2sp("derived.tlog-checkpoint.go-sumdb-20852163.txt");
  const Note note = MustParse(bytes);
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, std::span(&sumdb, 1));
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ((*opened)[0].name, "sum.golang.org");

  Result<Checkpoint> cp = ParseCheckpoint(note.text, "go-sumdb checkpoint");
  ASSERT_TRUE(cp.ok()) << cp.error().ToString();
  EXPECT_EQ(cp->origin, "go.sum database tree");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(crypto::DigestHex(cp->root),
            "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62");
}

// C2SP renamed the origin and key name of the real sum.golang.org checkpoint, so its signature
// line matches no key: it must be ignored, and the note then rejected as unverified.
TEST(NoteExampleTest, RenamedCheckpointSignatureIsIgnoredNotFailed) {
  const NoteVerifier sumdb = VerifierFromVkey(ReadC2spLine("derived.sum.golang.org.vkey"));
  const Note note = MustParse(ReadC2sp("tlog-checkpoint.example.txt"));
  ASSERT_EQ(note.signatures.size(), 1u);
  EXPECT_EQ(note.signatures[0].key_hash, sumdb.key_hash());  // same ID, different name
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, std::span(&sumdb, 1));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed);
  EXPECT_NE(opened.error().message().find("no signature from a known key"), std::string::npos)
      << opened.error().message();
}

// A verifier under the right name but with the key ID of another key must also be ignored.
TEST(NoteExampleTest, SameNameDifferentKeyIdIsIgnored) {
  const Note note = MustParse(ReadC2sp("signed-note.example-foo.txt"));
  const NoteVerifier other =
      Signer("example.com/foo", NewEd25519()).Verifier();  // same name, other key ID
  ASSERT_NE(other.key_hash(), 0x530d903au);
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, std::span(&other, 1));
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message().find("no signature from a known key"), std::string::npos);
}

// ---- golang.org/x/mod/sumdb/note: published keys and Open() cases ----

class NoteGoCasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<json::value> v =
        json::Parse(ReadC2sp("golang-sumdb-note/note_open_cases.json"), "note_open_cases.json");
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    doc_ = v->as_object();
    text_ = Str(doc_, "TEXT");
    peter_sig_ = Str(doc_, "PETER_SIG");
    enoch_sig_ = Str(doc_, "ENOCH_SIG");
    const json::object& keys = doc_.at("keys").as_object();
    for (const char* name : {"PeterNeumann", "EnochRoot", "sum.golang.org"}) {
      vkeys_[name] = Str(keys.at(name).as_object(), "vkey");
    }
  }

  static std::string Str(const json::object& o, std::string_view key) {
    Result<std::string_view> s = json::GetString(o, key, "");
    EXPECT_TRUE(s.ok()) << key;
    return std::string(s.value_or(""));
  }

  std::string Outcome(std::string_view case_name) const {
    for (const json::value& c : doc_.at("cases").as_array()) {
      const json::object& o = c.as_object();
      if (Str(o, "name") == case_name) return Str(o, "outcome");
    }
    ADD_FAILURE() << "no case " << case_name << " in note_open_cases.json";
    return "";
  }

  json::object doc_;
  std::string text_, peter_sig_, enoch_sig_;
  std::map<std::string, std::string> vkeys_;
};

TEST_F(NoteGoCasesTest, PublishedVkeysParseWithTheirKeyIds) {
  const json::object& keys = doc_.at("keys").as_object();
  for (const auto& [name, vkey] : vkeys_) {
    const NoteVerifier v = VerifierFromVkey(vkey);
    EXPECT_EQ(v.name(), name);
    char id[9];
    std::snprintf(id, sizeof(id), "%08x", v.key_hash());
    EXPECT_EQ(std::string(id), Str(keys.at(name).as_object(), "key_id_hex"));
    EXPECT_EQ(HexEncode(v.raw_public_key()), Str(keys.at(name).as_object(), "public_key_hex"));
    EXPECT_EQ(v.Vkey(), vkey);
  }
}

TEST_F(NoteGoCasesTest, RejectedVkeys) {
  for (const json::value& r : doc_.at("verifier_key_rejections").as_array()) {
    const std::string vkey = Str(r.as_object(), "vkey");
    Result<NoteVerifier> v = NoteVerifier::FromVkey(vkey);
    ASSERT_FALSE(v.ok()) << vkey << " (" << Str(r.as_object(), "why") << ")";
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << v.error().ToString();
  }
}

// Ed25519 is deterministic: the published seed must give the published key and signature.
TEST_F(NoteGoCasesTest, PeterNeumannSeedSignsByteExactly) {
  const json::object& peter = doc_.at("keys").as_object().at("PeterNeumann").as_object();
  const NoteSigner signer =
      Signer("PeterNeumann", Ed25519FromSeed(FromHex(Str(peter, "private_seed_hex"))));
  EXPECT_EQ(signer.Verifier().Vkey(), vkeys_["PeterNeumann"]);
  Result<NoteSignature> sig = signer.Sign(text_);
  ASSERT_TRUE(sig.ok()) << sig.error().ToString();
  const std::string formatted = MustFormat(Note{text_, {*sig}});
  EXPECT_EQ(formatted, text_ + "\n" + peter_sig_);
  EXPECT_EQ(formatted, ReadC2sp("golang-sumdb-note/note-peterneumann.txt"));
}

TEST_F(NoteGoCasesTest, EnochRootIsTheAllZeroSeed) {
  const NoteSigner enoch = Signer("EnochRoot", Ed25519FromSeed(std::string(32, '\0')));
  EXPECT_EQ(enoch.Verifier().Vkey(), vkeys_["EnochRoot"]);
  Result<NoteSignature> sig = enoch.Sign(text_);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(MustFormat(Note{text_, {*sig}}), text_ + "\n" + enoch_sig_);
}

TEST_F(NoteGoCasesTest, TwoSignerFileOpensWithEitherKey) {
  const Note note = MustParse(ReadC2sp("golang-sumdb-note/note-peterneumann-enochroot.txt"));
  ASSERT_EQ(note.signatures.size(), 2u);
  std::vector<NoteVerifier> both = {VerifierFromVkey(vkeys_["EnochRoot"]),
                                    VerifierFromVkey(vkeys_["PeterNeumann"])};
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, both);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  ASSERT_EQ(opened->size(), 2u);
  // Note order, with indices into `known`.
  EXPECT_EQ((*opened)[0].name, "PeterNeumann");
  EXPECT_EQ((*opened)[0].verifier, 1u);
  EXPECT_EQ((*opened)[1].name, "EnochRoot");
  EXPECT_EQ((*opened)[1].verifier, 0u);
}

// Each upstream TestOpen case, with the message built as the JSON describes it. Outcomes:
// "ok" -> opened with `verified`; "unverified" / "invalid_signature" -> VerificationFailed;
// "ambiguous" -> InvalidArgument; "malformed" -> ParseNote fails.
TEST_F(NoteGoCasesTest, OpenCases) {
  auto insert = [](const std::string& sig) { return sig.substr(0, 60) + "ABCD" + sig.substr(60); };
  std::string hundred_and_one;
  for (int i = 0; i < 101; ++i) hundred_and_one += peter_sig_;
  const std::string no_newline = peter_sig_.substr(0, peter_sig_.size() - 1);
  struct Case {
    std::string name;
    std::string msg;
    std::vector<std::string> verifiers;
    std::vector<std::string> verified;
    StatusCode parse_error = StatusCode::kOk;
    StatusCode open_error = StatusCode::kOk;
    std::string error_substring;
  };
  const std::string t = text_ + "\n";
  const std::vector<Case> cases = {
      {"peter_only_known", t + peter_sig_ + enoch_sig_, {"PeterNeumann"}, {"PeterNeumann"}},
      {"both_known",
       t + peter_sig_ + enoch_sig_,
       {"PeterNeumann", "EnochRoot"},
       {"PeterNeumann", "EnochRoot"}},
      {"none_known",
       t + peter_sig_ + enoch_sig_,
       {},
       {},
       StatusCode::kOk,
       StatusCode::kVerificationFailed,
       "no signature from a known key"},
      {"duplicate_verifier_used",
       t + enoch_sig_,
       {"EnochRoot", "PeterNeumann", "EnochRoot"},
       {},
       StatusCode::kOk,
       StatusCode::kInvalidArgument,
       "ambiguous"},
      {"duplicate_verifier_unused",
       t + peter_sig_,
       {"EnochRoot", "PeterNeumann", "EnochRoot"},
       {"PeterNeumann"}},
      {"too_many_signatures",
       t + hundred_and_one,
       {"PeterNeumann"},
       {},
       StatusCode::kResourceExhausted},
      {"corrupted_known_signature",
       t + insert(peter_sig_),
       {"PeterNeumann"},
       {},
       StatusCode::kOk,
       StatusCode::kVerificationFailed,
       "does not verify"},
      {"corrupted_unknown_and_duplicates",
       t + peter_sig_ + peter_sig_ + enoch_sig_ + enoch_sig_ + insert(enoch_sig_),
       {"PeterNeumann"},
       {"PeterNeumann"}},
      {"no_signature_block", text_, {"PeterNeumann"}, {}, StatusCode::kDataLoss},
      {"blank_line_but_no_signatures", t, {"PeterNeumann"}, {}, StatusCode::kDataLoss},
      {"missing_final_newline", t + no_newline, {"PeterNeumann"}, {}, StatusCode::kDataLoss},
      {"control_character", "\x01" + t + peter_sig_, {"PeterNeumann"}, {}, StatusCode::kDataLoss},
      {"invalid_utf8", "\xFF" + t + peter_sig_, {"PeterNeumann"}, {}, StatusCode::kDataLoss},
      {"space_in_key_name",
       t + std::string(kEmDash) +
           " Bad Name "
           "x08go/ZJkuBS9UG/"
           "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
       {"PeterNeumann"},
       {},
       StatusCode::kDataLoss},
      {"trailing_non_signature_line",
       t + peter_sig_ + "Unexpected line.\n",
       {"PeterNeumann"},
       {},
       StatusCode::kDataLoss},
  };
  EXPECT_EQ(cases.size(), doc_.at("cases").as_array().size());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string outcome = Outcome(c.name);
    if (c.parse_error != StatusCode::kOk) {
      EXPECT_EQ(outcome, "malformed");
    } else if (c.open_error == StatusCode::kInvalidArgument) {
      EXPECT_EQ(outcome, "ambiguous");
    } else if (c.open_error == StatusCode::kVerificationFailed) {
      EXPECT_TRUE(outcome == "unverified" || outcome == "invalid_signature") << outcome;
    } else {
      EXPECT_EQ(outcome, "ok");
    }
    Result<Note> note = ParseNote(c.msg, "case.note");
    if (c.parse_error != StatusCode::kOk) {
      ASSERT_FALSE(note.ok());
      EXPECT_EQ(note.error().code(), c.parse_error) << note.error().ToString();
      continue;
    }
    ASSERT_TRUE(note.ok()) << note.error().ToString();
    std::vector<NoteVerifier> known;
    for (const std::string& v : c.verifiers) known.push_back(VerifierFromVkey(vkeys_[v]));
    Result<std::vector<VerifiedSignature>> opened = OpenNote(*note, known);
    if (c.open_error != StatusCode::kOk) {
      ASSERT_FALSE(opened.ok());
      EXPECT_EQ(opened.error().code(), c.open_error) << opened.error().ToString();
      EXPECT_NE(opened.error().message().find(c.error_substring), std::string::npos)
          << opened.error().message();
      continue;
    }
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    std::vector<std::string> names;
    for (const VerifiedSignature& v : *opened) names.push_back(v.name);
    EXPECT_EQ(names, c.verified);
  }
}

// ---- Round trips with fresh keys ----

TEST(NoteRoundTripTest, SignFormatParseOpen) {
  const NoteSigner a = Signer("warden.example/log", NewEd25519());
  const NoteSigner b = Signer("witness.example/\xC3\xA9t\xC3\xA9", NewEd25519());
  const std::string text = "line one\n\nline three after an empty line \xE2\x9C\x93\n";
  Note note{text, {}};
  for (const NoteSigner* s : {&a, &b}) {
    Result<NoteSignature> sig = s->Sign(text);
    ASSERT_TRUE(sig.ok()) << sig.error().ToString();
    EXPECT_EQ(sig->signature.size(), 64u);
    note.signatures.push_back(*sig);
  }
  const std::string bytes = MustFormat(note);
  const Note back = MustParse(bytes);
  EXPECT_EQ(back, note);
  EXPECT_EQ(MustFormat(back), bytes);

  const std::vector<NoteVerifier> known = {b.Verifier(), a.Verifier()};
  Result<std::vector<VerifiedSignature>> opened = OpenNote(back, known);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  ASSERT_EQ(opened->size(), 2u);
  EXPECT_EQ((*opened)[0].verifier, 1u);
  EXPECT_EQ((*opened)[1].verifier, 0u);

  // Vkey text round-trips to an equal verifier.
  const NoteVerifier again = VerifierFromVkey(a.Verifier().Vkey());
  EXPECT_EQ(again.key_hash(), a.key_hash());
  EXPECT_EQ(again.public_key(), a.Verifier().public_key());
}

TEST(NoteRoundTripTest, KeyHashIsSha256OfNameTypeAndKey) {
  const std::string pk =
      FromHex("e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4");
  EXPECT_EQ(NoteKeyHash("example.com/foo", NoteKeyType::kEd25519, AsBytes(pk)), 0x530d903au);
  // Slow reference: the definition spelled out.
  std::string pre = "example.com/foo\n";
  pre += '\x01';
  pre += pk;
  const crypto::Sha256Digest d = crypto::Sha256(pre);
  EXPECT_EQ(NoteKeyHash("example.com/foo", NoteKeyType::kEd25519, AsBytes(pk)),
            uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3]);
}

TEST(NoteRoundTripTest, OneSignatureTamperedAmongGoodOnesRejectsTheNote) {
  const NoteSigner a = Signer("a.example", NewEd25519());
  const NoteSigner b = Signer("b.example", NewEd25519());
  const std::string text = "hello\n";
  Note note{text, {*a.Sign(text), *b.Sign(text)}};
  note.signatures[1].signature[10] ^= 1;
  const std::vector<NoteVerifier> known = {a.Verifier(), b.Verifier()};
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, known);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed);
  EXPECT_NE(opened.error().message().find("b.example+"), std::string::npos);
  // Only a's key known: b's bad signature is from an unknown key and is ignored.
  Result<std::vector<VerifiedSignature>> only_a = OpenNote(note, std::span(&known[0], 1));
  EXPECT_TRUE(only_a.ok()) << only_a.error().ToString();
}

// Two different signature lines by the same known key: both must verify (not just the first).
TEST(NoteRoundTripTest, SecondDifferentSignatureByKnownKeyIsChecked) {
  const NoteSigner a = Signer("a.example", NewEd25519());
  const std::string text = "hello\n";
  NoteSignature good = *a.Sign(text);
  NoteSignature bad = good;
  bad.signature[0] ^= 0x80;
  const NoteVerifier va = a.Verifier();
  Result<std::vector<VerifiedSignature>> opened =
      OpenNote(Note{text, {good, bad}}, std::span(&va, 1));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed);
}

TEST(NoteRoundTripTest, SignerRejectsNonEd25519AndBadNames) {
  Result<crypto::PrivateKey> p256 = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  ASSERT_TRUE(p256.ok());
  Result<NoteSigner> s = NoteSigner::FromPrivateKey("ecdsa.example", *p256);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("ecdsa-p256"), std::string::npos) << s.error().message();
  for (const std::string& name : {std::string(), std::string("a b"), std::string("a+b"),
                                  std::string("a\xC2\xA0"
                                              "b"),
                                  std::string("a\xE3\x80\x80"
                                              "b"),
                                  std::string("a\xE2\x80\x8A"
                                              "b"),
                                  std::string("\xFF")}) {
    Result<NoteSigner> bad = NoteSigner::FromPrivateKey(name, NewEd25519());
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(IsValidKeyName("example.com/log42"));
  EXPECT_TRUE(IsValidKeyName("\xC3\xA9"));
}

TEST(NoteRoundTripTest, SignRejectsInvalidText) {
  const NoteSigner a = Signer("a.example", NewEd25519());
  for (const std::string& text : {std::string(), std::string("no newline"),
                                  std::string("tab\there\n"), std::string("\xC3\n")}) {
    Result<NoteSignature> sig = a.Sign(text);
    ASSERT_FALSE(sig.ok()) << text;
    EXPECT_EQ(sig.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST(NoteRoundTripTest, FormatRejectsWhatParseWouldRefuse) {
  const NoteSignature ok{"a.example", 1, "sig"};
  struct Case {
    const char* name;
    Note note;
  };
  const std::vector<Case> cases = {
      {"text without newline", Note{"text", {ok}}},
      {"empty text", Note{"", {ok}}},
      {"control character", Note{"a\rb\n", {ok}}},
      {"no signatures", Note{"text\n", {}}},
      {"bad name", Note{"text\n", {NoteSignature{"a b", 1, "sig"}}}},
      {"empty signature bytes", Note{"text\n", {NoteSignature{"a.example", 1, ""}}}},
      {"too many signatures", Note{"text\n", std::vector<NoteSignature>(101, ok)}},
  };
  for (const Case& c : cases) {
    Result<std::string> s = FormatNote(c.note);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument) << c.name;
  }
  // A text that itself ends in an empty line still round-trips (the LAST blank line splits).
  const Note trailing_empty{"a\n\n", {ok}};
  EXPECT_EQ(MustParse(MustFormat(trailing_empty)), trailing_empty);
}

TEST(NoteRoundTripTest, ExactlyTheSignatureLimitIsAccepted) {
  const std::string line = std::string(kEmDash) + " a.example " + Base64Encode("12345") + "\n";
  std::string bytes = "text\n\n";
  for (size_t i = 0; i < kMaxNoteSignatures; ++i) bytes += line;
  EXPECT_EQ(MustParse(bytes).signatures.size(), kMaxNoteSignatures);
}

// ---- Corruptions, named by the mutation ----

struct NoteCorruption {
  const char* mutation;
  std::string bytes;
  StatusCode code;
  const char* message;  // a substring of the error message
};

TEST(NoteCorruptionTest, Table) {
  const std::string good = ReadC2sp("signed-note.example-foo.txt");
  const std::string text = "This is an example message.\n";
  const std::string sig_b64 =
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM"
      "=";
  const std::string dash = std::string(kEmDash) + " ";
  std::string too_many = text + "\n";
  for (int i = 0; i < 101; ++i) too_many += dash + "example.com/foo " + sig_b64 + "\n";
  const std::vector<NoteCorruption> cases = {
      {"empty input", "", StatusCode::kDataLoss, "empty"},
      {"missing blank line", text + dash + "example.com/foo " + sig_b64 + "\n",
       StatusCode::kDataLoss, "line 2: no blank line"},
      {"no trailing newline", good.substr(0, good.size() - 1), StatusCode::kDataLoss,
       "line 3: last line does not end in a newline"},
      {"blank line but no signatures", text + "\n", StatusCode::kDataLoss, "no signature lines"},
      {"bad base64", ReplaceOnce(good, "Uw2Q", "Uw2!"), StatusCode::kDataLoss,
       "line 3: signature of example.com/foo is not base64"},
      {"non-canonical base64 padding bits", ReplaceOnce(good, "IneyaQM=", "IneyaQN="),
       StatusCode::kDataLoss, "canonical"},
      {"short signature (key ID only)",
       text + "\n" + dash + "example.com/foo " + Base64Encode("\x53\x0d\x90\x3a") + "\n",
       StatusCode::kDataLoss, "4-byte key ID and at least one more byte"},
      {"empty signature token", text + "\n" + dash + "example.com/foo \n", StatusCode::kDataLoss,
       "is empty"},
      {"no space after the name", text + "\n" + dash + "example.com/foo\n", StatusCode::kDataLoss,
       "no space between key name and signature"},
      {"empty key name", text + "\n" + dash + " " + sig_b64 + "\n", StatusCode::kDataLoss,
       "invalid key name"},
      {"plus in key name", ReplaceOnce(good, "example.com/foo", "example.com+foo"),
       StatusCode::kDataLoss, "invalid key name"},
      {"no-break space in key name",
       ReplaceOnce(good, "example.com/foo",
                   "example.com\xC2\xA0"
                   "foo"),
       StatusCode::kDataLoss, "invalid key name"},
      {"two spaces between name and signature", ReplaceOnce(good, "foo ", "foo  "),
       StatusCode::kDataLoss, "not base64"},
      {"signature line without em dash", text + "\n- example.com/foo " + sig_b64 + "\n",
       StatusCode::kDataLoss, "line 3: signature line does not start with an em dash"},
      {"en dash instead of em dash", ReplaceOnce(good, kEmDash, "\xE2\x80\x93"),
       StatusCode::kDataLoss, "em dash"},
      {"em dash without space", ReplaceOnce(good, dash, kEmDash), StatusCode::kDataLoss, "em dash"},
      {"trailing non-signature line", good + "trailing\n", StatusCode::kDataLoss,
       "line 4: signature line does not start"},
      {"trailing blank line", good + "\n", StatusCode::kDataLoss, "no signature lines"},
      {"control character in text", ReplaceOnce(good, "an example", "an\texample"),
       StatusCode::kDataLoss, "line 1: control character 0x09"},
      {"NUL in signature line", ReplaceOnce(good, "example.com/foo", std::string("exa\0mple", 8)),
       StatusCode::kDataLoss, "line 3: control character 0x00"},
      {"CRLF line endings", ReplaceOnce(good, "message.\n", "message.\r\n"), StatusCode::kDataLoss,
       "CRLF"},
      {"non-UTF-8 byte", ReplaceOnce(good, "This", "Th\xE9s"), StatusCode::kDataLoss,
       "line 1: invalid UTF-8"},
      {"overlong UTF-8 slash",
       ReplaceOnce(good, "/foo",
                   "\xC0\xAF"
                   "foo"),
       StatusCode::kDataLoss, "line 3: invalid UTF-8"},
      {"UTF-8 surrogate", ReplaceOnce(good, "This", "\xED\xA0\x80"), StatusCode::kDataLoss,
       "invalid UTF-8"},
      {"truncated UTF-8 at end", good + "\xE2\x80", StatusCode::kDataLoss, "invalid UTF-8"},
      {"too many signatures", too_many, StatusCode::kResourceExhausted, "101 signature lines"},
      {"over the size limit",
       std::string(kMaxNoteBytes, 'a') + "\n\n" + dash + "a " + sig_b64 + "\n",
       StatusCode::kResourceExhausted, "limit"},
  };
  for (const NoteCorruption& c : cases) {
    Result<Note> n = ParseNote(c.bytes, "bad.note");
    ASSERT_FALSE(n.ok()) << c.mutation;
    EXPECT_EQ(n.error().code(), c.code) << c.mutation << ": " << n.error().ToString();
    EXPECT_NE(n.error().message().find(c.message), std::string::npos)
        << c.mutation << ": " << n.error().message();
    EXPECT_TRUE(n.error().message().starts_with("bad.note: ")) << n.error().message();
  }
}

// Mutations that parse but must not open with the foo key.
TEST(NoteCorruptionTest, ParsesButDoesNotOpen) {
  const std::string good = ReadC2sp("signed-note.example-foo.txt");
  const NoteVerifier foo = VerifierFromVkey(ReadC2spLine("signed-note.example-foo.vkey"));
  struct Case {
    const char* mutation;
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown signer only", ReplaceOnce(good, "example.com/foo", "example.com/bar"),
       "no signature from a known key"},
      {"wrong key hash", ReplaceOnce(good, "Uw2QOk", "Uw2QPk"), "no signature from a known key"},
      {"flipped signature bit", ReplaceOnce(good, "srV1", "srV2"), "does not verify"},
      {"text changed", ReplaceOnce(good, "an example", "an exampl3"), "does not verify"},
      {"signature truncated to 60 bytes",
       std::string("This is an example message.\n\n") + std::string(kEmDash) + " example.com/foo " +
           Base64Encode(FromHex("530d903a") + std::string(60, 'x')) + "\n",
       "is 60 bytes"},
  };
  for (const Case& c : cases) {
    Result<Note> n = ParseNote(c.bytes, "mutated.note");
    ASSERT_TRUE(n.ok()) << c.mutation << ": " << n.error().ToString();
    Result<std::vector<VerifiedSignature>> opened = OpenNote(*n, std::span(&foo, 1));
    ASSERT_FALSE(opened.ok()) << c.mutation;
    EXPECT_EQ(opened.error().code(), StatusCode::kVerificationFailed) << c.mutation;
    EXPECT_NE(opened.error().message().find(c.message), std::string::npos)
        << c.mutation << ": " << opened.error().message();
  }
}

// ---- Verifier keys ----

TEST(NoteVkeyTest, Corruptions) {
  const std::string good = ReadC2spLine("signed-note.example-foo.vkey");
  struct Case {
    const char* mutation;
    std::string vkey;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty", "", "expected <name>+<key ID>+<key>"},
      {"no plus", "example.com/foo", "expected"},
      {"one plus", "example.com/foo+530d903a", "expected"},
      {"empty name", good.substr(good.find('+')), "invalid key name"},
      {"space in name", ReplaceOnce(good, "example.com/foo", "example com/foo"),
       "invalid key name"},
      {"key ID 7 hex digits", ReplaceOnce(good, "+530d903a+", "+530d903+"), "not 8 hex digits"},
      {"key ID not hex", ReplaceOnce(good, "+530d903a+", "+530d903g+"), "not 8 hex digits"},
      {"wrong key ID", ReplaceOnce(good, "+530d903a+", "+530d903b+"), "does not match"},
      {"bad base64", good + "=", "not base64"},
      {"empty key", "example.com/foo+530d903a+", "key is empty"},
  };
  for (const Case& c : cases) {
    Result<NoteVerifier> v = NoteVerifier::FromVkey(c.vkey);
    ASSERT_FALSE(v.ok()) << c.mutation;
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << c.mutation;
    EXPECT_NE(v.error().message().find(c.message), std::string::npos)
        << c.mutation << ": " << v.error().message();
  }
  // An unknown type byte with a self-consistent key ID is refused for its type.
  const std::string raw =
      FromHex("e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4");
  char id[9];
  std::snprintf(id, sizeof(id), "%08x",
                NoteKeyHash("example.com/foo", static_cast<NoteKeyType>(0x02), AsBytes(raw)));
  Result<NoteVerifier> ecdsa = NoteVerifier::FromVkey("example.com/foo+" + std::string(id) + "+" +
                                                      Base64Encode("\x02" + raw));
  ASSERT_FALSE(ecdsa.ok());
  EXPECT_NE(ecdsa.error().message().find("unsupported signature type 0x02"), std::string::npos)
      << ecdsa.error().message();
}

TEST(NoteVkeyTest, UppercaseKeyIdIsAccepted) {
  const std::string good = ReadC2spLine("signed-note.example-foo.vkey");
  const NoteVerifier v = VerifierFromVkey(ReplaceOnce(good, "530d903a", "530D903A"));
  EXPECT_EQ(v.Vkey(), good);  // written back in lower case
}

}  // namespace
}  // namespace warden::ledger
