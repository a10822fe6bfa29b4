#include "ledger/note.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

#include "base/encoding.h"

namespace warden::ledger {
namespace {

// RFC 8410 section 4: an Ed25519 SubjectPublicKeyInfo is always these 12 bytes followed by
// the 32-byte key, so the raw key and the SPKI convert without an ASN.1 parser.
constexpr std::array<uint8_t, 12> kEd25519SpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                        0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
constexpr size_t kKeyHashSize = 4;
constexpr size_t kTimestampSize = 8;
constexpr std::string_view kBlankLine = "\n\n";

std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

std::string KeyLabel(std::string_view name, uint32_t hash) {
  return std::string(name) + "+" + Hex8(hash);
}

// Quotes a piece of untrusted input for an error message, cut short.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  out += "\"";
  return out;
}

Status LineError(std::string_view source, size_t line, std::string_view what) {
  return DataLossError(std::string(source) + ": line " + std::to_string(line) + ": " +
                       std::string(what));
}

// Valid UTF-8 and no control characters but "\n". `first_line` is the line number of
// bytes[0] in the whole input.
Status CheckCharacters(std::string_view bytes, std::string_view source, size_t first_line) {
  size_t line = first_line;
  for (size_t i = 0; i < bytes.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8At(bytes, i, &cp);
    if (n == 0) {
      return LineError(source, line,
                       "invalid UTF-8 at byte offset " + std::to_string(i) + " (byte 0x" +
                           HexEncode(bytes.substr(i, 1)) + ")");
    }
    if (cp == '\n') {
      ++line;
    } else if (cp < 0x20) {
      std::string what = "control character 0x" + HexEncode(bytes.substr(i, 1)) +
                         " at byte offset " + std::to_string(i);
      if (cp == '\r') what += " (CRLF line endings are not allowed)";
      return LineError(source, line, what);
    }
    i += n;
  }
  return Status::Ok();
}

// Text of a note: non-empty, valid characters, ends in "\n".
bool IsValidNoteText(std::string_view text) {
  return !text.empty() && text.back() == '\n' && CheckCharacters(text, "", 1).ok();
}

size_t CountLines(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// Parses ASCII decimal with no leading zeros (but "0") into 64 bits.
bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

std::string DecimalError(std::string_view what, std::string_view s) {
  if (s.empty()) return std::string(what) + " is empty";
  if (s.size() > 1 && s[0] == '0' &&
      std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::string(what) + " " + Quote(s) + " has a leading zero";
  }
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::string(what) + " " + Quote(s) + " does not fit in 64 bits";
  }
  return std::string(what) + " " + Quote(s) + " is not an ASCII decimal number";
}

// Decodes one base64 line holding a SHA-256 hash.
Result<crypto::Sha256Digest> DecodeHashLine(std::string_view b64, std::string_view source,
                                            size_t line, std::string_view what) {
  Result<std::string> raw = Base64Decode(b64);
  if (!raw.has_value()) {
    return LineError(source, line, std::string(what) + " is not base64: " + raw.error().message());
  }
  if (raw->size() != crypto::kSha256Size) {
    return LineError(
        source, line,
        std::string(what) + " is " + std::to_string(raw->size()) + " bytes; a SHA-256 hash is 32");
  }
  crypto::Sha256Digest d;
  std::copy(raw->begin(), raw->end(), d.begin());
  return d;
}

struct RawSignatureLine {
  std::string_view name;
  std::string_view token;  // the base64 text, not decoded
  size_t line = 0;
};

struct SplitNoteResult {
  std::string_view text;
  std::vector<RawSignatureLine> signatures;
};

// The shape of a signed note (everything ParseNote checks except the base64 decoding).
// `first_line` is the line number of bytes[0] in the whole input.
Result<SplitNoteResult> SplitNote(std::string_view bytes, std::string_view source,
                                  size_t first_line) {
  if (bytes.size() > kMaxNoteBytes) {
    return ResourceExhaustedError(std::string(source) + ": signed note is " +
                                  std::to_string(bytes.size()) + " bytes; the limit is " +
                                  std::to_string(kMaxNoteBytes));
  }
  if (bytes.empty()) return DataLossError(std::string(source) + ": signed note is empty");
  WARDEN_RETURN_IF_ERROR(CheckCharacters(bytes, source, first_line));
  const size_t split = bytes.rfind(kBlankLine);
  if (split == std::string_view::npos) {
    const size_t last_line = first_line + CountLines(bytes) - (bytes.back() == '\n' ? 1 : 0);
    return LineError(source, last_line,
                     "no blank line separating the note text from signature lines");
  }
  SplitNoteResult out;
  out.text = bytes.substr(0, split + 1);
  std::string_view sigs = bytes.substr(split + 2);
  size_t line = first_line + CountLines(out.text);  // the blank line
  if (sigs.empty()) return LineError(source, line, "no signature lines after the blank line");
  ++line;
  if (sigs.back() != '\n') {
    return LineError(source, line + CountLines(sigs), "last line does not end in a newline");
  }
  if (CountLines(sigs) > kMaxNoteSignatures) {
    return ResourceExhaustedError(std::string(source) + ": " + std::to_string(CountLines(sigs)) +
                                  " signature lines; the limit is " +
                                  std::to_string(kMaxNoteSignatures));
  }
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    std::string_view l = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (!l.starts_with(kSignatureLinePrefix)) {
      return LineError(
          source, line,
          "signature line does not start with an em dash (U+2014) and a space: " + Quote(l));
    }
    l.remove_prefix(kSignatureLinePrefix.size());
    const size_t sp = l.find(' ');
    if (sp == std::string_view::npos) {
      return LineError(source, line, "signature line has no space between key name and signature");
    }
    RawSignatureLine raw{l.substr(0, sp), l.substr(sp + 1), line};
    if (!IsValidKeyName(raw.name)) {
      return LineError(
          source, line,
          "invalid key name " + Quote(raw.name) + " (must be non-empty, without spaces or '+')");
    }
    if (raw.token.empty()) {
      return LineError(source, line, "signature of " + std::string(raw.name) + " is empty");
    }
    out.signatures.push_back(raw);
    ++line;
  }
  return out;
}

void PutBigEndian(uint64_t v, size_t n, std::string* out) {
  for (size_t i = n; i-- > 0;) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetBigEndian(std::span<const uint8_t> b) {
  uint64_t v = 0;
  for (uint8_t c : b) v = v << 8 | c;
  return v;
}

// The 32-byte Ed25519 key from a PublicKey's SPKI DER, or an error if it is not Ed25519.
Result<std::string> RawEd25519Key(const crypto::PublicKey& key) {
  if (key.type() != crypto::KeyType::kEd25519) {
    return InvalidArgumentError("note keys must be Ed25519; this key is " +
                                std::string(crypto::KeyTypeName(key.type())));
  }
  const std::string der = key.SpkiDer();
  const std::string_view prefix(reinterpret_cast<const char*>(kEd25519SpkiPrefix.data()),
                                kEd25519SpkiPrefix.size());
  if (der.size() != prefix.size() + kEd25519PublicKeySize || !der.starts_with(prefix)) {
    return InternalError("Ed25519 SubjectPublicKeyInfo has an unexpected encoding");
  }
  return der.substr(prefix.size());
}

Result<crypto::PublicKey> Ed25519FromRaw(std::string_view raw) {
  std::string der(reinterpret_cast<const char*>(kEd25519SpkiPrefix.data()),
                  kEd25519SpkiPrefix.size());
  der.append(raw);
  return crypto::PublicKey::FromSpkiDer(AsBytes(der));
}

bool IsKnownType(uint8_t t) {
  return t == static_cast<uint8_t>(NoteKeyType::kEd25519) ||
         t == static_cast<uint8_t>(NoteKeyType::kEd25519Cosignature);
}

std::string TypeName(NoteKeyType t) {
  return t == NoteKeyType::kEd25519 ? "Ed25519 note key (type 0x01)"
                                    : "Ed25519 cosignature key (type 0x04)";
}

Result<Checkpoint> ParseCheckpointAt(std::string_view note_text, std::string_view source,
                                     size_t first_line);

// Shape of a checkpoint note inside a tlog-proof or handed to FormatTlogProof.
Status CheckCheckpointNote(std::string_view note, std::string_view source, size_t first_line) {
  WARDEN_ASSIGN_OR_RETURN(SplitNoteResult split, SplitNote(note, source, first_line));
  return ParseCheckpointAt(split.text, source, first_line).error();
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    size_t n = DecodeUtf8At(name, i, &cp);
    if (n == 0 || cp < 0x20 || cp == '+' || IsUnicodeWhiteSpace(cp)) return false;
    i += n;
  }
  return true;
}

// ---- Notes ----

Result<Note> ParseNote(std::string_view bytes, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(SplitNoteResult split, SplitNote(bytes, source, 1));
  Note note;
  note.text = std::string(split.text);
  note.signatures.reserve(split.signatures.size());
  for (const RawSignatureLine& raw : split.signatures) {
    Result<std::string> decoded = Base64Decode(raw.token);
    if (!decoded.has_value()) {
      return LineError(
          source, raw.line,
          "signature of " + std::string(raw.name) + " is not base64: " + decoded.error().message());
    }
    if (decoded->size() <= kKeyHashSize) {
      return LineError(source, raw.line,
                       "signature of " + std::string(raw.name) + " is " +
                           std::to_string(decoded->size()) +
                           " bytes; it needs a 4-byte key ID and at least one more byte");
    }
    NoteSignature sig;
    sig.name = std::string(raw.name);
    sig.key_hash = static_cast<uint32_t>(GetBigEndian(AsBytes(*decoded).first(kKeyHashSize)));
    sig.signature = decoded->substr(kKeyHashSize);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

Result<std::string> FormatNote(const Note& note) {
  if (!IsValidNoteText(note.text)) {
    return InvalidArgumentError(
        "note text must be non-empty valid UTF-8 ending in a newline, without control "
        "characters");
  }
  if (note.signatures.empty()) return InvalidArgumentError("note has no signatures");
  if (note.signatures.size() > kMaxNoteSignatures) {
    return InvalidArgumentError("note has " + std::to_string(note.signatures.size()) +
                                " signatures; the limit is " + std::to_string(kMaxNoteSignatures));
  }
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& sig : note.signatures) {
    if (!IsValidKeyName(sig.name)) {
      return InvalidArgumentError("invalid key name " + Quote(sig.name));
    }
    if (sig.signature.empty()) {
      return InvalidArgumentError("signature of " + sig.name + " is empty");
    }
    std::string raw;
    PutBigEndian(sig.key_hash, kKeyHashSize, &raw);
    raw += sig.signature;
    out += kSignatureLinePrefix;
    out += sig.name;
    out += ' ';
    out += Base64Encode(AsBytes(raw));
    out += '\n';
  }
  if (out.size() > kMaxNoteBytes) {
    return InvalidArgumentError("signed note would be " + std::to_string(out.size()) +
                                " bytes; the limit is " + std::to_string(kMaxNoteBytes));
  }
  return out;
}

uint32_t NoteKeyHash(std::string_view name, NoteKeyType type, std::span<const uint8_t> public_key) {
  crypto::Sha256Hasher h;
  h.Update(name);
  h.Update(std::string_view("\n"));
  const uint8_t t = static_cast<uint8_t>(type);
  h.Update(std::span<const uint8_t>(&t, 1));
  h.Update(public_key);
  const crypto::Sha256Digest d = h.Finish();
  return static_cast<uint32_t>(GetBigEndian(std::span<const uint8_t>(d).first(kKeyHashSize)));
}

// ---- NoteVerifier ----

NoteVerifier::NoteVerifier(std::string name, NoteKeyType type, crypto::PublicKey key,
                           std::string raw_key)
    : name_(std::move(name)),
      type_(type),
      key_hash_(NoteKeyHash(name_, type_, AsBytes(raw_key))),
      key_(std::move(key)),
      raw_key_(std::move(raw_key)) {}

Result<NoteVerifier> NoteVerifier::FromVkey(std::string_view vkey) {
  const size_t p1 = vkey.find('+');
  const std::string_view name = vkey.substr(0, p1);
  const std::string label = "vkey " + Quote(name);
  if (p1 == std::string_view::npos) {
    return DataLossError("vkey " + Quote(vkey) + ": expected <name>+<key ID>+<key>");
  }
  const size_t p2 = vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return DataLossError(label + ": expected <name>+<key ID>+<key>");
  }
  if (!IsValidKeyName(name)) {
    return DataLossError(label + ": invalid key name (must be non-empty, without spaces or '+')");
  }
  const std::string_view hash_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  Result<std::vector<uint8_t>> hash_bytes = HexDecode(hash_hex);
  if (hash_hex.size() != 2 * kKeyHashSize || !hash_bytes.has_value()) {
    return DataLossError(label + ": key ID " + Quote(hash_hex) + " is not 8 hex digits");
  }
  const uint32_t hash = static_cast<uint32_t>(GetBigEndian(*hash_bytes));
  Result<std::string> key = Base64Decode(vkey.substr(p2 + 1));
  if (!key.has_value()) {
    return DataLossError(label + ": key is not base64: " + key.error().message());
  }
  if (key->empty()) return DataLossError(label + ": key is empty");
  const uint8_t type = static_cast<uint8_t>((*key)[0]);
  if (!IsKnownType(type)) {
    return DataLossError(label + ": unsupported signature type 0x" +
                         HexEncode(std::string_view(*key).substr(0, 1)) +
                         " (supported: 0x01 Ed25519, 0x04 Ed25519 cosignature)");
  }
  const std::string raw = key->substr(1);
  if (raw.size() != kEd25519PublicKeySize) {
    return DataLossError(label + ": Ed25519 key is " + std::to_string(raw.size()) +
                         " bytes, not 32");
  }
  const NoteKeyType t = static_cast<NoteKeyType>(type);
  const uint32_t expected = NoteKeyHash(name, t, AsBytes(raw));
  if (expected != hash) {
    return DataLossError(label + ": key ID " + Hex8(hash) + " does not match the key (expected " +
                         Hex8(expected) + ")");
  }
  Result<crypto::PublicKey> pub = Ed25519FromRaw(raw);
  if (!pub.has_value()) {
    return DataLossError(label + ": Ed25519 key does not load: " + pub.error().message());
  }
  return NoteVerifier(std::string(name), t, std::move(pub).value(), raw);
}

Result<NoteVerifier> NoteVerifier::FromPublicKey(std::string name, const crypto::PublicKey& key,
                                                 NoteKeyType type) {
  if (!IsValidKeyName(name)) {
    return InvalidArgumentError("invalid key name " + Quote(name) +
                                " (must be non-empty, without spaces or '+')");
  }
  if (!IsKnownType(static_cast<uint8_t>(type))) {
    return InvalidArgumentError("unsupported note signature type");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string raw, RawEd25519Key(key));
  return NoteVerifier(std::move(name), type, key, std::move(raw));
}

std::string NoteVerifier::Vkey() const {
  std::string material(1, static_cast<char>(type_));
  material += raw_key_;
  return name_ + "+" + Hex8(key_hash_) + "+" + Base64Encode(AsBytes(material));
}

Status NoteVerifier::Verify(std::string_view text, std::span<const uint8_t> signature,
                            uint64_t* time_out) const {
  const std::string who = KeyLabel(name_, key_hash_);
  if (type_ == NoteKeyType::kEd25519) {
    if (signature.size() != kEd25519SignatureSize) {
      return VerificationFailedError("signature by " + who + " does not verify: it is " +
                                     std::to_string(signature.size()) +
                                     " bytes; an Ed25519 signature is 64");
    }
    if (!key_.Verify(AsBytes(text), signature).ok()) {
      return VerificationFailedError("signature by " + who + " does not verify over the note text");
    }
    return Status::Ok();
  }
  if (signature.size() != kTimestampSize + kEd25519SignatureSize) {
    return VerificationFailedError("cosignature by " + who + " does not verify: it is " +
                                   std::to_string(signature.size()) +
                                   " bytes; expected 72 (8-byte timestamp, 64-byte Ed25519)");
  }
  const uint64_t t = GetBigEndian(signature.first(kTimestampSize));
  if (t > kMaxCosignatureTime) {
    return VerificationFailedError("cosignature by " + who + " does not verify: its timestamp " +
                                   std::to_string(t) + " is above 2^63-1");
  }
  const std::string msg = CosignatureMessage(text, t);
  if (!key_.Verify(AsBytes(msg), signature.subspan(kTimestampSize)).ok()) {
    return VerificationFailedError("cosignature by " + who + " (time " + std::to_string(t) +
                                   ") does not verify over the checkpoint");
  }
  if (time_out != nullptr) *time_out = t;
  return Status::Ok();
}

// ---- NoteSigner ----

Result<NoteSigner> NoteSigner::FromPrivateKey(std::string name, const crypto::PrivateKey& key,
                                              NoteKeyType type) {
  WARDEN_ASSIGN_OR_RETURN(NoteVerifier v,
                          NoteVerifier::FromPublicKey(std::move(name), key.Public(), type));
  return NoteSigner(key, std::move(v));
}

Result<NoteSignature> NoteSigner::Sign(std::string_view text) const {
  if (type() != NoteKeyType::kEd25519) {
    return InvalidArgumentError(KeyLabel(name(), key_hash()) +
                                " is a cosignature key: sign checkpoints with Cosign()");
  }
  if (!IsValidNoteText(text)) {
    return InvalidArgumentError(
        "note text must be non-empty valid UTF-8 ending in a newline, without control "
        "characters");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string sig, key_.Sign(AsBytes(text)));
  return NoteSignature{name(), key_hash(), std::move(sig)};
}

// ---- Open ----

Result<std::vector<VerifiedSignature>> OpenNote(const Note& note,
                                                std::span<const NoteVerifier> known) {
  if (note.signatures.size() > kMaxNoteSignatures) {
    return ResourceExhaustedError("note has " + std::to_string(note.signatures.size()) +
                                  " signatures; the limit is " +
                                  std::to_string(kMaxNoteSignatures));
  }
  std::vector<VerifiedSignature> verified;
  std::vector<std::string> unknown;
  for (size_t i = 0; i < note.signatures.size(); ++i) {
    const NoteSignature& sig = note.signatures[i];
    // Identical lines count once (a note may be re-served with a signature appended twice).
    bool repeat = false;
    for (size_t j = 0; j < i && !repeat; ++j) repeat = note.signatures[j] == sig;
    if (repeat) continue;
    std::optional<size_t> match;
    for (size_t k = 0; k < known.size(); ++k) {
      if (known[k].name() != sig.name || known[k].key_hash() != sig.key_hash) continue;
      if (match.has_value()) {
        return InvalidArgumentError("ambiguous verifier: more than one known key is " +
                                    KeyLabel(sig.name, sig.key_hash));
      }
      match = k;
    }
    if (!match.has_value()) {
      unknown.push_back(KeyLabel(sig.name, sig.key_hash));
      continue;
    }
    uint64_t t = 0;
    WARDEN_RETURN_IF_ERROR(known[*match].Verify(note.text, AsBytes(sig.signature), &t));
    const bool seen = std::any_of(verified.begin(), verified.end(),
                                  [&](const auto& v) { return v.verifier == *match; });
    if (seen) continue;
    VerifiedSignature v;
    v.verifier = *match;
    v.name = sig.name;
    v.key_hash = sig.key_hash;
    if (known[*match].type() == NoteKeyType::kEd25519Cosignature) v.timestamp = t;
    verified.push_back(std::move(v));
  }
  if (verified.empty()) {
    std::string msg = "note has no signature from a known key: signed by ";
    for (size_t i = 0; i < unknown.size(); ++i) msg += (i ? ", " : "") + unknown[i];
    if (unknown.empty()) msg += "nobody";
    msg += "; known keys: ";
    for (size_t k = 0; k < known.size(); ++k) {
      msg += (k ? ", " : "") + KeyLabel(known[k].name(), known[k].key_hash());
    }
    if (known.empty()) msg += "none";
    return VerificationFailedError(msg);
  }
  return verified;
}

// ---- Checkpoints ----

namespace {

// `first_line` is the line number of note_text[0] in the whole input.
Result<Checkpoint> ParseCheckpointAt(std::string_view note_text, std::string_view source,
                                     size_t first_line) {
  if (note_text.size() > kMaxNoteBytes) {
    return ResourceExhaustedError(std::string(source) + ": checkpoint text is " +
                                  std::to_string(note_text.size()) + " bytes; the limit is " +
                                  std::to_string(kMaxNoteBytes));
  }
  WARDEN_RETURN_IF_ERROR(CheckCharacters(note_text, source, first_line));
  if (note_text.empty()) return DataLossError(std::string(source) + ": checkpoint text is empty");
  if (note_text.back() != '\n') {
    return LineError(source, first_line + CountLines(note_text),
                     "checkpoint text does not end in a newline");
  }
  std::vector<std::string_view> lines;
  for (std::string_view rest = note_text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) {
    return DataLossError(std::string(source) + ": checkpoint text has " +
                         std::to_string(lines.size()) +
                         " line(s); it needs origin, tree size and root hash");
  }
  Checkpoint cp;
  if (lines[0].empty()) return LineError(source, first_line, "origin is empty");
  cp.origin = std::string(lines[0]);
  if (!ParseDecimal(lines[1], &cp.size))
    return LineError(source, first_line + 1, DecimalError("tree size", lines[1]));
  WARDEN_ASSIGN_OR_RETURN(cp.root, DecodeHashLine(lines[2], source, first_line + 2, "root hash"));
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return LineError(source, first_line + i, "extension line is empty");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

}  // namespace

Result<Checkpoint> ParseCheckpoint(std::string_view note_text, std::string_view source) {
  return ParseCheckpointAt(note_text, source, 1);
}

Result<std::string> FormatCheckpoint(const Checkpoint& cp) {
  std::string out = cp.origin + "\n" + std::to_string(cp.size) + "\n" +
                    Base64Encode(std::span<const uint8_t>(cp.root)) + "\n";
  for (const std::string& e : cp.extensions) out += e + "\n";
  // Every field must come back as it went in: re-parse rather than restate the rules.
  Result<Checkpoint> back = ParseCheckpoint(out, "checkpoint");
  if (!back.has_value() || !(*back == cp)) {
    return InvalidArgumentError(
        "checkpoint cannot be written: origin and extension lines must be non-empty valid "
        "UTF-8 without newlines or control characters" +
        (back.has_value() ? std::string() : " (" + back.error().message() + ")"));
  }
  return out;
}

// ---- Cosignatures ----

std::string CosignatureMessage(std::string_view checkpoint_text, uint64_t unix_time) {
  std::string msg(kCosignatureHeader);
  msg += "\ntime ";
  msg += std::to_string(unix_time);
  msg += '\n';
  msg += checkpoint_text;
  return msg;
}

Result<NoteSignature> Cosign(const NoteSigner& witness, std::string_view checkpoint_text,
                             uint64_t unix_time) {
  if (witness.type() != NoteKeyType::kEd25519Cosignature) {
    return InvalidArgumentError(KeyLabel(witness.name(), witness.key_hash()) + " is an " +
                                TypeName(witness.type()) +
                                "; cosigning needs a cosignature key (type 0x04)");
  }
  if (unix_time > kMaxCosignatureTime) {
    return InvalidArgumentError("cosignature time " + std::to_string(unix_time) +
                                " is above 2^63-1");
  }
  WARDEN_RETURN_IF_ERROR(ParseCheckpoint(checkpoint_text, "checkpoint to cosign").error());
  const std::string msg = CosignatureMessage(checkpoint_text, unix_time);
  WARDEN_ASSIGN_OR_RETURN(std::string ed25519_sig, witness.key_.Sign(AsBytes(msg)));
  NoteSignature sig{witness.name(), witness.key_hash(), std::string()};
  PutBigEndian(unix_time, kTimestampSize, &sig.signature);
  sig.signature += ed25519_sig;
  return sig;
}

Status VerifyCosignature(const NoteVerifier& witness, std::string_view checkpoint_text,
                         const NoteSignature& sig, uint64_t* time_out) {
  if (witness.type() != NoteKeyType::kEd25519Cosignature) {
    return InvalidArgumentError(KeyLabel(witness.name(), witness.key_hash()) + " is an " +
                                TypeName(witness.type()) + ", not a cosignature key (type 0x04)");
  }
  WARDEN_RETURN_IF_ERROR(ParseCheckpoint(checkpoint_text, "cosigned checkpoint").error());
  if (sig.name != witness.name() || sig.key_hash != witness.key_hash()) {
    return VerificationFailedError("cosignature is by " + KeyLabel(sig.name, sig.key_hash) +
                                   ", not by witness " +
                                   KeyLabel(witness.name(), witness.key_hash()));
  }
  return witness.Verify(checkpoint_text, AsBytes(sig.signature), time_out);
}

// ---- tlog-proof ----

Result<TlogProof> ParseTlogProof(std::string_view bytes, std::string_view source) {
  if (bytes.size() > kMaxTlogProofBytes) {
    return ResourceExhaustedError(std::string(source) + ": tlog-proof is " +
                                  std::to_string(bytes.size()) + " bytes; the limit is " +
                                  std::to_string(kMaxTlogProofBytes));
  }
  WARDEN_RETURN_IF_ERROR(CheckCharacters(bytes, source, 1));
  std::string_view rest = bytes;
  size_t line = 0;
  // Takes the next "\n"-terminated line; false at the end of the input or on a last line
  // without a newline.
  auto next = [&](std::string_view* l) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return false;
    *l = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    ++line;
    return true;
  };
  std::string_view l;
  if (!next(&l) || l != kTlogProofHeader) {
    return LineError(source, 1,
                     "expected the header " + std::string(kTlogProofHeader) + ", got " +
                         Quote(bytes.substr(0, bytes.find('\n'))));
  }
  TlogProof proof;
  if (!next(&l)) return LineError(source, line + 1, "missing index line");
  if (l.starts_with("extra ")) {
    Result<std::string> extra = Base64Decode(l.substr(6));
    if (!extra.has_value()) {
      return LineError(source, line, "extra data is not base64: " + extra.error().message());
    }
    if (extra->empty()) return LineError(source, line, "extra line has no data");
    proof.extra = std::move(extra).value();
    if (!next(&l)) return LineError(source, line + 1, "missing index line");
  }
  if (!l.starts_with("index ")) {
    return LineError(source, line, "expected \"index <N>\", got " + Quote(l));
  }
  if (!ParseDecimal(l.substr(6), &proof.index)) {
    return LineError(source, line, DecimalError("index", l.substr(6)));
  }
  while (true) {
    if (!next(&l)) {
      return LineError(source, line + 1,
                       "missing the blank line and checkpoint after the proof hashes");
    }
    if (l.empty()) break;
    if (proof.hashes.size() == kMaxProofHashes) {
      return LineError(source, line,
                       "more than " + std::to_string(kMaxProofHashes) + " proof hashes");
    }
    WARDEN_ASSIGN_OR_RETURN(crypto::Sha256Digest h, DecodeHashLine(l, source, line, "proof hash"));
    proof.hashes.push_back(h);
  }
  if (rest.empty()) return LineError(source, line + 1, "missing checkpoint after the blank line");
  WARDEN_RETURN_IF_ERROR(CheckCheckpointNote(rest, source, line + 1));
  proof.checkpoint_note = std::string(rest);
  return proof;
}

Result<std::string> FormatTlogProof(const TlogProof& proof) {
  if (proof.hashes.size() > kMaxProofHashes) {
    return InvalidArgumentError("proof has " + std::to_string(proof.hashes.size()) +
                                " hashes; the limit is " + std::to_string(kMaxProofHashes));
  }
  std::string out(kTlogProofHeader);
  out += '\n';
  if (!proof.extra.empty()) out += "extra " + Base64Encode(proof.extra) + "\n";
  out += "index " + std::to_string(proof.index) + "\n";
  for (const crypto::Sha256Digest& h : proof.hashes) {
    out += Base64Encode(std::span<const uint8_t>(h));
    out += '\n';
  }
  out += '\n';
  const size_t note_line = CountLines(out) + 1;
  Status st = CheckCheckpointNote(proof.checkpoint_note, "checkpoint note", note_line);
  if (!st.ok()) return InvalidArgumentError("tlog-proof cannot be written: " + st.message());
  out += proof.checkpoint_note;
  if (out.size() > kMaxTlogProofBytes) {
    return InvalidArgumentError("tlog-proof would be " + std::to_string(out.size()) +
                                " bytes; the limit is " + std::to_string(kMaxTlogProofBytes));
  }
  return out;
}

}  // namespace warden::ledger
