// libFuzzer target for signed notes and verifier keys (ledger/note.h), the text a log, a
// witness or a mirror hands us before any signature is checked.
//
// The first byte picks the mode, the rest is the input:
//   even: a signed note: ParseNote, then OpenNote against fixed keys (an Ed25519 note key and
//         a cosignature key, both named like signers in the seeds);
//   odd:  a vkey: NoteVerifier::FromVkey.
// Seeds in fuzz/corpus/note_fuzz/ carry that prefix byte.
//
// Beyond "no crash, no leak, no UB" it checks the promises: parse errors are DataLoss or
// ResourceExhausted; an accepted note has a text ending in "\n", 1..kMaxNoteSignatures
// signatures with valid names and non-empty bytes, and FormatNote gives back exactly the
// input; OpenNote only fails with VerificationFailed; an accepted vkey writes back to a vkey
// that parses to the same key.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "ledger/note.h"

namespace {

using warden::StatusCode;
namespace ledger = warden::ledger;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Fixed keys: the C2SP example key and a cosignature key (the public key of the all-zero
// Ed25519 seed), so that mutated seeds hit both verification paths.
const std::vector<ledger::NoteVerifier>& Known() {
  static const auto* known = [] {
    auto* v = new std::vector<ledger::NoteVerifier>;
    for (const char* vkey : {
             "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
             "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
         }) {
      auto r = ledger::NoteVerifier::FromVkey(vkey);
      Check(r.has_value());
      v->push_back(*r);
    }
    auto pub = v->back().public_key();
    auto w = ledger::NoteVerifier::FromPublicKey("witness.example/w1", pub,
                                                 ledger::NoteKeyType::kEd25519Cosignature);
    Check(w.has_value());
    v->push_back(*w);
    return v;
  }();
  return *known;
}

void FuzzNote(std::string_view bytes) {
  auto note = ledger::ParseNote(bytes, "fuzz.note");
  if (!note.has_value()) {
    const StatusCode c = note.error().code();
    Check(c == StatusCode::kDataLoss || c == StatusCode::kResourceExhausted);
    return;
  }
  Check(!note->text.empty() && note->text.back() == '\n');
  Check(!note->signatures.empty() && note->signatures.size() <= ledger::kMaxNoteSignatures);
  for (const auto& s : note->signatures) {
    Check(ledger::IsValidKeyName(s.name));
    Check(!s.signature.empty());
  }
  auto again = ledger::FormatNote(*note);
  Check(again.has_value());
  Check(*again == bytes);

  auto opened = ledger::OpenNote(*note, Known());
  if (!opened.has_value()) {
    Check(opened.error().code() == StatusCode::kVerificationFailed);
  } else {
    Check(!opened->empty());
    for (const auto& v : *opened) {
      Check(v.verifier < Known().size());
      Check(v.name == Known()[v.verifier].name());
      Check(v.timestamp.has_value() ==
            (Known()[v.verifier].type() == ledger::NoteKeyType::kEd25519Cosignature));
    }
  }
}

void FuzzVkey(std::string_view text) {
  auto v = ledger::NoteVerifier::FromVkey(text);
  if (!v.has_value()) {
    Check(v.error().code() == StatusCode::kDataLoss);
    return;
  }
  Check(ledger::IsValidKeyName(v->name()));
  Check(v->raw_public_key().size() == ledger::kEd25519PublicKeySize);
  const std::string written = v->Vkey();
  auto back = ledger::NoteVerifier::FromVkey(written);
  Check(back.has_value());
  Check(back->key_hash() == v->key_hash() && back->name() == v->name());
  Check(back->Vkey() == written);
  Check(back->public_key() == v->public_key());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    FuzzNote(rest);
  } else {
    FuzzVkey(rest);
  }
  return 0;
}
