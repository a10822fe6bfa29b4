// C2SP text formats of the transparency ledger:
//   - signed notes            (c2sp.org/signed-note): text, a blank line, signature lines
//                              "— <key name> base64(key ID || signature)";
//   - verifier keys ("vkeys")  "<name>+<8 hex key ID>+base64(signature type || public key)";
//   - checkpoints             (c2sp.org/tlog-checkpoint): origin, tree size, root hash,
//                              optional extension lines, as the text of a signed note;
//   - witness cosignatures    (c2sp.org/tlog-cosignature, Ed25519 form, signature type 0x04):
//                              an 8-byte big-endian timestamp || Ed25519 signature over
//                              "cosignature/v1\ntime <T>\n" || checkpoint text;
//   - offline proofs          (c2sp.org/tlog-proof@v1): header, optional extra data, index,
//                              inclusion proof hashes, a blank line, the signed checkpoint.
// docs/formats/{signed-note,checkpoint,tlog-proof}.md describe the bytes and our limits.
//
// Parsers are strict and never trust their input: anything the specs do not allow is
// DataLoss "<source>: line N: <what is wrong>" (line numbers are 1-based in the whole input),
// and size or count limits are ResourceExhausted. Base64 is RFC 4648 standard, padded and
// canonical (see base/encoding.h), so parse -> format gives back the same bytes.
//
// Verification follows signed-note: a signature whose (key name, key ID) matches no known
// verifier is ignored; one that matches must verify, or the whole note is rejected; a note
// with no verified signature is rejected.
//
// Only Ed25519 is supported: type 0x01 (note signatures over the text) and type 0x04 (witness
// cosignatures). The same Ed25519 key has a different key ID under each type.
//
// Thread-safety: plain values and pure functions. NoteVerifier and NoteSigner are immutable
// and share their OpenSSL key (see crypto/keys.h), so they may be used from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"

namespace warden::ledger {

// Notes (and checkpoint texts) larger than this are refused before any other check. C2SP
// asks verifiers to accept at least 16 signatures of up to ~5 kB; this allows far more.
inline constexpr size_t kMaxNoteBytes = 1 << 20;
// At most this many signature lines per note (the Go reference implementation's limit).
inline constexpr size_t kMaxNoteSignatures = 100;
// A whole tlog-proof: the checkpoint note plus at most kMaxProofHashes lines of proof.
inline constexpr size_t kMaxTlogProofBytes = kMaxNoteBytes + (64 << 10);
// An inclusion proof in a tree of fewer than 2^64 leaves has at most 64 hashes.
inline constexpr size_t kMaxProofHashes = 64;

// Em dash (U+2014) and a space: how every signature line starts.
inline constexpr std::string_view kSignatureLinePrefix = "\xE2\x80\x94 ";
inline constexpr std::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";
inline constexpr std::string_view kCosignatureHeader = "cosignature/v1";
// tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1.
inline constexpr uint64_t kMaxCosignatureTime = (uint64_t{1} << 63) - 1;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// The signed-note signature type byte, which goes into the key ID and the vkey.
enum class NoteKeyType : uint8_t {
  kEd25519 = 0x01,             // signed-note Ed25519: signs the note text
  kEd25519Cosignature = 0x04,  // tlog-cosignature/v1 Ed25519: timestamped, see Cosign()
};

struct NoteSignature {
  std::string name;       // the key name
  uint32_t key_hash = 0;  // the key ID: the first 4 decoded bytes, big-endian
  std::string signature;  // the decoded bytes after the key ID (at least one byte)
  bool operator==(const NoteSignature&) const = default;
};

struct Note {
  std::string text;  // ends in "\n"; may contain empty lines; excludes the separating blank line
  std::vector<NoteSignature> signatures;  // in file order; not verified by ParseNote
  bool operator==(const Note&) const = default;
};

// True when `name` may be a key name: non-empty, valid UTF-8, no control characters, no
// Unicode white space (U+0020, U+00A0, U+2000..U+200A, U+3000, ...) and no '+'.
bool IsValidKeyName(std::string_view name);

// Splits a signed note. Requirements (DataLoss naming `source`, the line and the problem):
// valid UTF-8; no control character other than "\n"; a blank line, the LAST one in the note,
// separating the text from the signature lines; every signature line is em dash, space, a
// valid key name, space, canonical base64 of at least 5 bytes, "\n"; nothing after them.
// More than kMaxNoteBytes bytes or kMaxNoteSignatures signature lines: ResourceExhausted.
// Signatures are not verified (see OpenNote) and duplicates are kept, so that FormatNote
// gives back exactly `bytes`.
Result<Note> ParseNote(std::string_view bytes, std::string_view source);

// The note in its wire form. InvalidArgument unless ParseNote would accept the result and
// give back `note`: text valid and ending in "\n", 1..kMaxNoteSignatures signatures, valid
// names, non-empty signature bytes, at most kMaxNoteBytes in all.
Result<std::string> FormatNote(const Note& note);

// Key ID = the first 4 bytes, big-endian, of SHA-256(name || "\n" || type || public_key).
uint32_t NoteKeyHash(std::string_view name, NoteKeyType type, std::span<const uint8_t> public_key);

// A public key with its name and signature type: what a note's signature lines are checked
// against.
class NoteVerifier {
 public:
  // Parses "<name>+<8 hex digits>+<base64(type || 32-byte Ed25519 key)>" (the base64 may
  // itself contain '+': the text is split at its first two '+' only). Type 0x01 and 0x04 are
  // accepted. DataLoss "vkey <name>: ..." for a bad name, key ID not 8 hex digits, bad base64,
  // unknown type, key not 32 bytes, or a key ID that does not match name, type and key.
  static Result<NoteVerifier> FromVkey(std::string_view vkey);

  // A verifier for an Ed25519 public key under `name`. InvalidArgument for an invalid name
  // or a key that is not Ed25519.
  static Result<NoteVerifier> FromPublicKey(std::string name, const crypto::PublicKey& key,
                                            NoteKeyType type = NoteKeyType::kEd25519);

  // The vkey text; FromVkey(Vkey()) gives an equal verifier.
  std::string Vkey() const;
  const std::string& name() const { return name_; }
  uint32_t key_hash() const { return key_hash_; }
  NoteKeyType type() const { return type_; }
  const crypto::PublicKey& public_key() const { return key_; }
  // The raw 32-byte Ed25519 public key.
  const std::string& raw_public_key() const { return raw_key_; }

  // Checks `signature` (the bytes after the key ID) over `text`, a note text:
  //   kEd25519:             a 64-byte Ed25519 signature of `text`;
  //   kEd25519Cosignature:  8-byte big-endian timestamp T (at most 2^63 - 1) || a 64-byte
  //                         Ed25519 signature of CosignatureMessage(text, T); *time_out (when
  //                         not null) receives T.
  // Returns OK or VerificationFailed saying which key and why (wrong length included: a
  // malformed signature from a known key is a failed signature).
  Status Verify(std::string_view text, std::span<const uint8_t> signature,
                uint64_t* time_out = nullptr) const;

 private:
  NoteVerifier(std::string name, NoteKeyType type, crypto::PublicKey key, std::string raw_key);
  std::string name_;
  NoteKeyType type_;
  uint32_t key_hash_;
  crypto::PublicKey key_;
  std::string raw_key_;
};

class NoteSigner;
Result<NoteSignature> Cosign(const NoteSigner& witness, std::string_view checkpoint_text,
                             uint64_t unix_time);

// A private Ed25519 key with its name and signature type.
class NoteSigner {
 public:
  // InvalidArgument for an invalid name or a key that is not Ed25519.
  static Result<NoteSigner> FromPrivateKey(std::string name, const crypto::PrivateKey& key,
                                           NoteKeyType type = NoteKeyType::kEd25519);

  NoteVerifier Verifier() const { return verifier_; }
  const std::string& name() const { return verifier_.name(); }
  uint32_t key_hash() const { return verifier_.key_hash(); }
  NoteKeyType type() const { return verifier_.type(); }

  // Signs a note text (deterministic: Ed25519). InvalidArgument when `text` is not a valid
  // note text (empty, not ending in "\n", control characters, invalid UTF-8), or when this is
  // a cosignature key (those sign with a timestamp: use Cosign). Internal if OpenSSL fails.
  Result<NoteSignature> Sign(std::string_view text) const;

 private:
  friend Result<NoteSignature> Cosign(const NoteSigner&, std::string_view, uint64_t);
  NoteSigner(crypto::PrivateKey key, NoteVerifier verifier)
      : key_(std::move(key)), verifier_(std::move(verifier)) {}
  crypto::PrivateKey key_;
  NoteVerifier verifier_;
};

// One signature that OpenNote verified.
struct VerifiedSignature {
  size_t verifier = 0;  // index into `known`
  std::string name;
  uint32_t key_hash = 0;
  std::optional<uint64_t> timestamp;  // cosignatures (type 0x04) only
};

// Verifies `note` against `known` (c2sp signed-note rules). Identical signature lines count
// once; lines from keys not in `known` are ignored. Returns the verified signatures in note
// order, each verifier at most once. Errors:
//   VerificationFailed  a signature from a known (name, key ID) does not verify (the whole
//                       note is rejected), or no signature from a known key is present;
//   InvalidArgument     a signature matches two entries of `known` (ambiguous configuration);
//   ResourceExhausted   more than kMaxNoteSignatures signatures.
Result<std::vector<VerifiedSignature>> OpenNote(const Note& note,
                                                std::span<const NoteVerifier> known);

// ---- tlog-checkpoint ----

struct Checkpoint {
  std::string origin;                   // non-empty; opaque (no URL syntax is assumed)
  uint64_t size = 0;                    // number of leaves
  crypto::Sha256Digest root{};          // RFC 6962 / 9162 root hash at `size`
  std::vector<std::string> extensions;  // opaque, non-empty lines
  bool operator==(const Checkpoint&) const = default;
};

// Parses a checkpoint note TEXT (Note::text, not the whole signed note): at least three
// non-empty "\n"-terminated lines: origin; tree size in decimal without leading zeros (fits
// in 64 bits); base64 of exactly 32 bytes; then extension lines, each non-empty. Also valid
// UTF-8 without control characters. DataLoss "<source>: line N: ..." otherwise;
// ResourceExhausted over kMaxNoteBytes.
Result<Checkpoint> ParseCheckpoint(std::string_view note_text, std::string_view source);

// The checkpoint note text. InvalidArgument unless ParseCheckpoint would give back `cp`
// (non-empty origin and extensions, no "\n" or control characters, valid UTF-8).
Result<std::string> FormatCheckpoint(const Checkpoint& cp);

// ---- tlog-cosignature (Ed25519, type 0x04) ----

// "cosignature/v1\ntime <unix_time>\n" || checkpoint_text: the bytes a witness signs.
std::string CosignatureMessage(std::string_view checkpoint_text, uint64_t unix_time);

// A witness cosignature of `checkpoint_text` at `unix_time`: signature bytes are the 8-byte
// big-endian time || the Ed25519 signature of CosignatureMessage(). Errors: InvalidArgument
// when `witness` is not a kEd25519Cosignature key or unix_time > kMaxCosignatureTime;
// DataLoss when `checkpoint_text` is not a checkpoint (ParseCheckpoint's error).
Result<NoteSignature> Cosign(const NoteSigner& witness, std::string_view checkpoint_text,
                             uint64_t unix_time);

// Checks one cosignature of `checkpoint_text` by `witness`; on success *time_out (when not
// null) receives its timestamp. Errors: InvalidArgument when `witness` is not a
// kEd25519Cosignature key; DataLoss when `checkpoint_text` is not a checkpoint;
// VerificationFailed when `sig` names another key or does not verify.
Status VerifyCosignature(const NoteVerifier& witness, std::string_view checkpoint_text,
                         const NoteSignature& sig, uint64_t* time_out);

// ---- tlog-proof ----

struct TlogProof {
  std::string extra;  // decoded opaque extra data, unauthenticated; empty = no "extra" line
  uint64_t index = 0;
  std::vector<crypto::Sha256Digest> hashes;  // inclusion proof, leaf's sibling first
  std::string checkpoint_note;  // the signed checkpoint note, verbatim (feed to ParseNote)
  bool operator==(const TlogProof&) const = default;
};

// Parses a c2sp.org/tlog-proof@v1 text: the header line; optionally "extra <base64>" (of at
// least one byte); "index <decimal, no leading zeros>"; 0..kMaxProofHashes base64 lines of
// 32 bytes; an empty line; then the checkpoint note, which must have the shape of a signed
// note whose text is a valid checkpoint. The checkpoint's signature lines are checked for
// shape only (em dash, key name, non-empty signature token), not decoded: proofs in
// documentation carry elided signatures, and verification is ParseNote + OpenNote's job.
// DataLoss "<source>: line N: ..." for anything else; ResourceExhausted over
// kMaxTlogProofBytes.
Result<TlogProof> ParseTlogProof(std::string_view bytes, std::string_view source);

// The proof text. InvalidArgument unless ParseTlogProof would give back `proof`.
Result<std::string> FormatTlogProof(const TlogProof& proof);

}  // namespace warden::ledger
