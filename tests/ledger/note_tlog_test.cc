// Checkpoints (c2sp.org/tlog-checkpoint), Ed25519 witness cosignatures (c2sp.org/
// tlog-cosignature) and offline proofs (c2sp.org/tlog-proof@v1): the C2SP examples byte for
// byte, round trips with fresh keys, and tables of corruptions named by the mutation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/encoding.h"
#include "crypto/sha256.h"
#include "ledger/note.h"
#include "ledger/note_test_util.h"

namespace warden::ledger {
namespace {

using testing::kEmDash;
using testing::NewEd25519;
using testing::ReadC2sp;
using testing::ReplaceOnce;
using testing::Signer;

constexpr std::string_view kExampleRootHex =
    "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62";

crypto::Sha256Digest HashOf(std::string_view s) { return crypto::Sha256(s); }

Note MustParseNote(std::string_view bytes) {
  Result<Note> n = ParseNote(bytes, "test.note");
  EXPECT_TRUE(n.ok()) << n.error().ToString();
  return n.value_or(Note{});
}

// ---- Checkpoints ----

TEST(CheckpointTest, ParsesTheC2spExample) {
  const std::string bytes = ReadC2sp("tlog-checkpoint.example.txt");
  const Note note = MustParseNote(bytes);
  Result<Checkpoint> cp = ParseCheckpoint(note.text, "tlog-checkpoint.example.txt");
  ASSERT_TRUE(cp.ok()) << cp.error().ToString();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(crypto::DigestHex(cp->root), kExampleRootHex);
  EXPECT_TRUE(cp->extensions.empty());
  Result<std::string> text = FormatCheckpoint(*cp);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  EXPECT_EQ(*text, note.text);
}

TEST(CheckpointTest, ExtensionsAndEdgeSizesRoundTrip) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{18446744073709551615u}}) {
    const Checkpoint cp{
        "log.example/\xC3\xA9", size, HashOf("root"), {"ext one", "ext+two \xE2\x9C\x93"}};
    Result<std::string> text = FormatCheckpoint(cp);
    ASSERT_TRUE(text.ok()) << text.error().ToString();
    Result<Checkpoint> back = ParseCheckpoint(*text, "cp");
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    EXPECT_EQ(*back, cp);
  }
}

TEST(CheckpointTest, SignedCheckpointOpensWithTheLogKey) {
  const NoteSigner log = Signer("log.example/warden", NewEd25519());
  const Checkpoint cp{"log.example/warden", 42, HashOf("tree"), {}};
  Result<std::string> text = FormatCheckpoint(cp);
  ASSERT_TRUE(text.ok());
  Result<NoteSignature> sig = log.Sign(*text);
  ASSERT_TRUE(sig.ok());
  Result<std::string> bytes = FormatNote(Note{*text, {*sig}});
  ASSERT_TRUE(bytes.ok());
  const Note note = MustParseNote(*bytes);
  const NoteVerifier v = log.Verifier();
  EXPECT_TRUE(OpenNote(note, std::span(&v, 1)).ok());
  Result<Checkpoint> back = ParseCheckpoint(note.text, "cp");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, cp);
}

TEST(CheckpointTest, FormatRejectsUnrepresentableFields) {
  const crypto::Sha256Digest root = HashOf("r");
  const std::vector<std::pair<const char*, Checkpoint>> cases = {
      {"empty origin", Checkpoint{"", 1, root, {}}},
      {"newline in origin", Checkpoint{"a\nb", 1, root, {}}},
      {"control character in origin", Checkpoint{"a\tb", 1, root, {}}},
      {"invalid UTF-8 in origin", Checkpoint{"\xFF", 1, root, {}}},
      {"empty extension", Checkpoint{"a", 1, root, {""}}},
      {"newline in extension", Checkpoint{"a", 1, root, {"x\ny"}}},
  };
  for (const auto& [name, cp] : cases) {
    Result<std::string> text = FormatCheckpoint(cp);
    ASSERT_FALSE(text.ok()) << name;
    EXPECT_EQ(text.error().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(CheckpointCorruptionTest, Table) {
  const std::string good =
      "example.com/behind-the-sofa\n20852163\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  struct Case {
    const char* mutation;
    std::string text;
    const char* message;
    StatusCode code = StatusCode::kDataLoss;
  };
  const std::vector<Case> cases = {
      {"empty", "", "empty"},
      {"origin only", "example.com/log\n", "has 1 line(s)"},
      {"missing root line", "example.com/log\n5\n", "has 2 line(s)"},
      {"no trailing newline", good.substr(0, good.size() - 1),
       "line 3: checkpoint text does not end in a newline"},
      {"origin empty", "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
       "line 1: origin is empty"},
      {"size empty", ReplaceOnce(good, "20852163", ""), "line 2: tree size is empty"},
      {"size not decimal", ReplaceOnce(good, "20852163", "0x13e2"), "line 2: tree size"},
      {"size negative", ReplaceOnce(good, "20852163", "-1"), "not an ASCII decimal"},
      {"size with plus sign", ReplaceOnce(good, "20852163", "+1"), "not an ASCII decimal"},
      {"size with space", ReplaceOnce(good, "20852163", "2085 2163"), "not an ASCII decimal"},
      {"size with leading zeros", ReplaceOnce(good, "20852163", "020852163"), "leading zero"},
      {"size 00", ReplaceOnce(good, "20852163", "00"), "leading zero"},
      {"size over 64 bits", ReplaceOnce(good, "20852163", "18446744073709551616"),
       "does not fit in 64 bits"},
      {"size far over 64 bits", ReplaceOnce(good, "20852163", std::string(30, '9')),
       "does not fit in 64 bits"},
      {"root not base64", ReplaceOnce(good, "CsUY", "C!UY"), "line 3: root hash is not base64"},
      {"root 31 bytes",
       ReplaceOnce(good, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
                   Base64Encode(std::string(31, 'x'))),
       "line 3: root hash is 31 bytes"},
      {"root 33 bytes",
       ReplaceOnce(good, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
                   Base64Encode(std::string(33, 'x'))),
       "root hash is 33 bytes"},
      {"root unpadded", ReplaceOnce(good, "q2I=", "q2I"), "not base64"},
      {"root hex instead of base64",
       ReplaceOnce(good, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", kExampleRootHex),
       "root hash is 48 bytes"},
      {"empty extension line", good + "\n", "line 4: extension line is empty"},
      {"empty line between extensions", good + "ext\n\next\n", "line 5: extension line is empty"},
      {"control character",
       ReplaceOnce(good, "sofa",
                   "so\x7f\x01"
                   "fa"),
       "line 1: control character 0x01"},
      {"invalid UTF-8",
       ReplaceOnce(good, "sofa",
                   "so\xC3"
                   "fa"),
       "line 1: invalid UTF-8"},
      {"CRLF", ReplaceOnce(good, "20852163\n", "20852163\r\n"), "line 2: control character 0x0d"},
      {"over the size limit", good + std::string(kMaxNoteBytes, 'x') + "\n", "limit",
       StatusCode::kResourceExhausted},
  };
  for (const Case& c : cases) {
    Result<Checkpoint> cp = ParseCheckpoint(c.text, "bad.checkpoint");
    ASSERT_FALSE(cp.ok()) << c.mutation;
    EXPECT_EQ(cp.error().code(), c.code) << c.mutation << ": " << cp.error().ToString();
    EXPECT_NE(cp.error().message().find(c.message), std::string::npos)
        << c.mutation << ": " << cp.error().message();
    EXPECT_TRUE(cp.error().message().starts_with("bad.checkpoint")) << cp.error().message();
  }
}

// ---- Cosignatures ----

TEST(CosignatureTest, SignedMessageMatchesTheC2spExampleByteForByte) {
  const Note note = MustParseNote(ReadC2sp("tlog-checkpoint.example.txt"));
  const std::string expected = ReadC2sp("tlog-cosignature.example-ed25519-signed-message.txt");
  EXPECT_EQ(expected.size(), 113u);
  EXPECT_EQ(CosignatureMessage(note.text, 1679315147), expected);
}

TEST(CosignatureTest, ParsesTheC2spCosignedCheckpoint) {
  const Note note = MustParseNote(ReadC2sp("tlog-cosignature.example-cosigned-checkpoint.txt"));
  ASSERT_EQ(note.signatures.size(), 2u);
  EXPECT_EQ(note.signatures[0].name, "example.com/behind-the-sofa");
  EXPECT_EQ(note.signatures[0].key_hash, 0x033de0aeu);
  const NoteSignature& w = note.signatures[1];
  EXPECT_EQ(w.name, "witness.example.com/w1");
  EXPECT_EQ(w.key_hash, 0x8d66cf3fu);
  ASSERT_EQ(w.signature.size(), 72u);  // 8-byte timestamp + 64-byte Ed25519
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = t << 8 | static_cast<uint8_t>(w.signature[i]);
  EXPECT_EQ(t, 1679315147u);
  EXPECT_EQ(FormatNote(note).value_or(""),
            ReadC2sp("tlog-cosignature.example-cosigned-checkpoint.txt"));
}

class CosignatureRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> t = FormatCheckpoint(Checkpoint{"log.example/w", 7, HashOf("x"), {"ext"}});
    ASSERT_TRUE(t.ok());
    text_ = *t;
  }
  std::string text_;
  crypto::PrivateKey witness_key_ = NewEd25519();
  NoteSigner witness_ =
      Signer("witness.example/w1", witness_key_, NoteKeyType::kEd25519Cosignature);
  NoteSigner log_ = Signer("log.example/w", NewEd25519());
};

TEST_F(CosignatureRoundTripTest, CosignVerifyAndOpen) {
  Result<NoteSignature> cosig = Cosign(witness_, text_, 1700000000);
  ASSERT_TRUE(cosig.ok()) << cosig.error().ToString();
  ASSERT_EQ(cosig->signature.size(), 72u);
  EXPECT_EQ(HexEncode(std::string_view(cosig->signature).substr(0, 8)), "000000006553f100");
  // The Ed25519 part is a plain signature of the cosigned message under the same key.
  EXPECT_TRUE(witness_key_.Public()
                  .Verify(AsBytes(CosignatureMessage(text_, 1700000000)),
                          AsBytes(std::string_view(cosig->signature).substr(8)))
                  .ok());
  uint64_t t = 0;
  Status st = VerifyCosignature(witness_.Verifier(), text_, *cosig, &t);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(t, 1700000000u);

  // A cosigned checkpoint: log signature + cosignature, opened with both keys.
  Result<NoteSignature> log_sig = log_.Sign(text_);
  ASSERT_TRUE(log_sig.ok());
  Result<std::string> bytes = FormatNote(Note{text_, {*log_sig, *cosig}});
  ASSERT_TRUE(bytes.ok());
  const Note note = MustParseNote(*bytes);
  const std::vector<NoteVerifier> known = {witness_.Verifier(), log_.Verifier()};
  Result<std::vector<VerifiedSignature>> opened = OpenNote(note, known);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  ASSERT_EQ(opened->size(), 2u);
  EXPECT_EQ((*opened)[0].name, "log.example/w");
  EXPECT_FALSE((*opened)[0].timestamp.has_value());
  EXPECT_EQ((*opened)[1].name, "witness.example/w1");
  EXPECT_EQ((*opened)[1].timestamp, 1700000000u);
}

TEST_F(CosignatureRoundTripTest, CosignatureVkeyUsesType04AndADifferentKeyId) {
  const NoteVerifier w = witness_.Verifier();
  const std::string vkey = w.Vkey();
  Result<std::string> material = Base64Decode(vkey.substr(vkey.find('+', vkey.find('+') + 1) + 1));
  ASSERT_TRUE(material.ok());
  EXPECT_EQ((*material)[0], '\x04');
  Result<NoteVerifier> back = NoteVerifier::FromVkey(vkey);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->type(), NoteKeyType::kEd25519Cosignature);
  EXPECT_EQ(back->key_hash(), w.key_hash());
  const NoteSigner as_note_key = Signer("witness.example/w1", witness_key_);
  EXPECT_NE(as_note_key.key_hash(), w.key_hash());
  EXPECT_EQ(w.key_hash(), NoteKeyHash("witness.example/w1", NoteKeyType::kEd25519Cosignature,
                                      AsBytes(w.raw_public_key())));
}

TEST_F(CosignatureRoundTripTest, Failures) {
  Result<NoteSignature> cosig = Cosign(witness_, text_, 1700000000);
  ASSERT_TRUE(cosig.ok());
  const NoteVerifier w = witness_.Verifier();

  // Wrong kind of key, each way.
  Result<NoteSignature> by_note_key = Cosign(log_, text_, 1);
  ASSERT_FALSE(by_note_key.ok());
  EXPECT_EQ(by_note_key.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCosignature(log_.Verifier(), text_, *cosig, nullptr).code(),
            StatusCode::kInvalidArgument);
  Result<NoteSignature> plain = witness_.Sign(text_);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code(), StatusCode::kInvalidArgument);

  // Time limits and a non-checkpoint text.
  EXPECT_EQ(Cosign(witness_, text_, kMaxCosignatureTime + 1).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(Cosign(witness_, text_, kMaxCosignatureTime).ok());
  EXPECT_EQ(Cosign(witness_, "not a checkpoint\n", 1).error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyCosignature(w, "not a checkpoint\n", *cosig, nullptr).code(),
            StatusCode::kDataLoss);

  struct Case {
    const char* mutation;
    NoteSignature sig;
    std::string text;
    const char* message;
  };
  NoteSignature later = *cosig;
  later.signature[7] ^= 1;  // timestamp changed: the signed message changes with it
  NoteSignature huge_time = *cosig;
  huge_time.signature[0] = '\x80';
  NoteSignature flipped = *cosig;
  flipped.signature[40] ^= 1;
  NoteSignature short_sig = *cosig;
  short_sig.signature.resize(71);
  NoteSignature other_name = *cosig;
  other_name.name = "witness.example/w2";
  NoteSignature other_hash = *cosig;
  other_hash.key_hash ^= 1;
  const std::string other_text = ReplaceOnce(text_, "\n7\n", "\n8\n");
  const std::vector<Case> cases = {
      {"timestamp changed", later, text_, "does not verify"},
      {"timestamp above 2^63-1", huge_time, text_, "above 2^63-1"},
      {"signature bit flipped", flipped, text_, "does not verify"},
      {"signature 71 bytes", short_sig, text_, "expected 72"},
      {"other witness name", other_name, text_, "not by witness"},
      {"other key hash", other_hash, text_, "not by witness"},
      {"other checkpoint", *cosig, other_text, "does not verify"},
  };
  for (const Case& c : cases) {
    uint64_t t = 12345;
    Status st = VerifyCosignature(w, c.text, c.sig, &t);
    ASSERT_FALSE(st.ok()) << c.mutation;
    EXPECT_EQ(st.code(), StatusCode::kVerificationFailed) << c.mutation;
    EXPECT_NE(st.message().find(c.message), std::string::npos)
        << c.mutation << ": " << st.message();
    EXPECT_EQ(t, 12345u) << c.mutation;  // untouched on failure
  }
}

// ---- tlog-proof ----

TEST(TlogProofTest, ParsesTheC2spExample) {
  const std::string bytes = ReadC2sp("tlog-proof.example.tlog-proof");
  Result<TlogProof> proof = ParseTlogProof(bytes, "tlog-proof.example.tlog-proof");
  ASSERT_TRUE(proof.ok()) << proof.error().ToString();
  EXPECT_TRUE(proof->extra.starts_with("age-v1.2.1-darwin-arm64.tar.gz"));
  EXPECT_EQ(proof->extra.size(), 39u);
  EXPECT_EQ(proof->index, 73894u);
  ASSERT_EQ(proof->hashes.size(), 5u);
  EXPECT_EQ(Base64Encode(std::span<const uint8_t>(proof->hashes[0])),
            "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=");
  EXPECT_EQ(Base64Encode(std::span<const uint8_t>(proof->hashes[4])),
            "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=");
  EXPECT_TRUE(proof->checkpoint_note.starts_with("example.com/fancylog\n109482\n"));
  Result<std::string> again = FormatTlogProof(*proof);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, bytes);
  // The example's signatures are elided with "[...]": the note itself does not parse, which is
  // where a verifier rejects it.
  Result<Note> note = ParseNote(proof->checkpoint_note, "example checkpoint");
  ASSERT_FALSE(note.ok());
  EXPECT_NE(note.error().message().find("line 5: signature of example.com/fancylog is not base64"),
            std::string::npos)
      << note.error().message();
}

TEST(TlogProofTest, RoundTripWithASignedCheckpoint) {
  const NoteSigner log = Signer("log.example/p", NewEd25519());
  Result<std::string> cp_text = FormatCheckpoint(Checkpoint{"log.example/p", 9, HashOf("9"), {}});
  ASSERT_TRUE(cp_text.ok());
  Result<NoteSignature> sig = log.Sign(*cp_text);
  ASSERT_TRUE(sig.ok());
  Result<std::string> cp_note = FormatNote(Note{*cp_text, {*sig}});
  ASSERT_TRUE(cp_note.ok());
  for (const std::string& extra : {std::string(), std::string("\x00\xFF vrf", 6)}) {
    const TlogProof proof{extra, 8, {HashOf("a"), HashOf("b")}, *cp_note};
    Result<std::string> bytes = FormatTlogProof(proof);
    ASSERT_TRUE(bytes.ok()) << bytes.error().ToString();
    EXPECT_EQ(bytes->find("extra ") != std::string::npos, !extra.empty());
    Result<TlogProof> back = ParseTlogProof(*bytes, "p.tlog-proof");
    ASSERT_TRUE(back.ok()) << back.error().ToString();
    EXPECT_EQ(*back, proof);
    const NoteVerifier v = log.Verifier();
    EXPECT_TRUE(OpenNote(MustParseNote(back->checkpoint_note), std::span(&v, 1)).ok());
  }
  // No proof hashes at all (a one-leaf tree) is allowed.
  const TlogProof empty_path{"", 0, {}, *cp_note};
  Result<std::string> bytes = FormatTlogProof(empty_path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ParseTlogProof(*bytes, "p").value_or(TlogProof{}), empty_path);
}

TEST(TlogProofTest, FormatRejectsWhatParseWouldRefuse) {
  const std::string cp_note = ReadC2sp("tlog-checkpoint.example.txt");
  EXPECT_TRUE(FormatTlogProof(TlogProof{"", 1, {}, cp_note}).ok());
  EXPECT_EQ(FormatTlogProof(TlogProof{"", 1, {}, ""}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatTlogProof(TlogProof{"", 1, {}, "a\n1\n"}).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatTlogProof(TlogProof{"", 1, std::vector<crypto::Sha256Digest>(65), cp_note})
                .error()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      FormatTlogProof(TlogProof{"", 1, std::vector<crypto::Sha256Digest>(64), cp_note}).ok());
}

TEST(TlogProofCorruptionTest, Table) {
  const std::string good = ReadC2sp("tlog-proof.example.tlog-proof");
  const std::string hash_line = "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n";
  const std::string checkpoint = good.substr(good.find("\n\n") + 2);
  std::string sixty_five = "c2sp.org/tlog-proof@v1\nindex 1\n";
  for (int i = 0; i < 65; ++i) sixty_five += hash_line;
  sixty_five += "\n" + checkpoint;
  struct Case {
    const char* mutation;
    std::string bytes;
    const char* message;
    StatusCode code = StatusCode::kDataLoss;
  };
  const std::vector<Case> cases = {
      {"empty", "", "line 1: expected the header"},
      {"wrong header", ReplaceOnce(good, "tlog-proof@v1", "tlog-proof@v2"),
       "line 1: expected the header c2sp.org/tlog-proof@v1, got \"c2sp.org/tlog-proof@v2\""},
      {"header only, no newline", "c2sp.org/tlog-proof@v1", "line 1: expected the header"},
      {"header with trailing space", ReplaceOnce(good, "@v1\n", "@v1 \n"), "line 1"},
      {"missing index line", "c2sp.org/tlog-proof@v1\n", "line 2: missing index line"},
      {"extra not base64", ReplaceOnce(good, "extra YWdl", "extra YW!l"),
       "line 2: extra data is not base64"},
      {"extra empty",
       ReplaceOnce(good, "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ", "extra "),
       "line 2: extra line has no data"},
      {"extra twice", ReplaceOnce(good, "index", "extra AAAA\nindex"),
       "line 3: expected \"index <N>\""},
      {"index missing", ReplaceOnce(good, "index 73894\n", ""), "line 3: expected \"index <N>\""},
      {"index keyword misspelled", ReplaceOnce(good, "index ", "Index "), "line 3: expected"},
      {"bad index", ReplaceOnce(good, "73894", "7389x"),
       "line 3: index \"7389x\" is not an ASCII decimal"},
      {"index leading zero", ReplaceOnce(good, "73894", "073894"), "leading zero"},
      {"index empty", ReplaceOnce(good, "index 73894", "index "), "line 3: index is empty"},
      {"index over 64 bits", ReplaceOnce(good, "73894", "99999999999999999999"),
       "does not fit in 64 bits"},
      {"garbage hash line", ReplaceOnce(good, "B95lDa8R", "B95l!a8R"),
       "line 5: proof hash is not base64"},
      {"hash line 31 bytes",
       ReplaceOnce(good, "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=",
                   Base64Encode(std::string(31, 'h'))),
       "line 5: proof hash is 31 bytes"},
      {"65 proof hashes", sixty_five, "line 67: more than 64 proof hashes"},
      {"missing blank line and checkpoint", good.substr(0, good.find("\n\n") + 1),
       "line 9: missing the blank line and checkpoint"},
      {"missing checkpoint", good.substr(0, good.find("\n\n") + 2),
       "line 10: missing checkpoint after the blank line"},
      {"checkpoint without signatures",
       good.substr(0, good.find("\n\n") + 2) + "example.com/fancylog\n109482\n"
                                               "sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n",
       "no blank line separating"},
      {"checkpoint with bad size", ReplaceOnce(good, "109482", "0109482"),
       "line 11: tree size \"0109482\" has a leading zero"},
      {"checkpoint with bad root", ReplaceOnce(good, "sFodV", "sFod!"), "line 12: root hash"},
      {"trailing data after signatures", good + "trailing\n",
       "line 18: signature line does not start with an em dash"},
      {"trailing blank line and data", good + "\nmore\n", "signature line does not start"},
      {"no final newline", good.substr(0, good.size() - 1), "last line does not end in a newline"},
      {"signature line without em dash",
       ReplaceOnce(good, std::string(kEmDash) + " witness1", "- witness1"),
       "line 15: signature line does not start with an em dash"},
      {"control character", ReplaceOnce(good, "fancylog\n109482", "fancylog\x0b\n109482"),
       "line 10: control character 0x0b"},
      {"invalid UTF-8", ReplaceOnce(good, "witness2", "witness\xFE"), "line 16: invalid UTF-8"},
      {"over the size limit", good + std::string(kMaxTlogProofBytes, 'x'), "limit",
       StatusCode::kResourceExhausted},
  };
  for (const Case& c : cases) {
    Result<TlogProof> p = ParseTlogProof(c.bytes, "bad.tlog-proof");
    ASSERT_FALSE(p.ok()) << c.mutation;
    EXPECT_EQ(p.error().code(), c.code) << c.mutation << ": " << p.error().ToString();
    EXPECT_NE(p.error().message().find(c.message), std::string::npos)
        << c.mutation << ": " << p.error().message();
    EXPECT_TRUE(p.error().message().starts_with("bad.tlog-proof")) << p.error().message();
  }
}

}  // namespace
}  // namespace warden::ledger
