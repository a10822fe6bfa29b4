// libFuzzer target for checkpoints and witness cosignatures (ledger/note.h): the input is a
// whole signed checkpoint note, as a witness or a client receives it from a log.
//
// Beyond "no crash, no leak, no UB" it checks the promises: ParseCheckpoint fails only with
// DataLoss or ResourceExhausted, and an accepted checkpoint text is written back byte for
// byte by FormatCheckpoint; the input is also read as a signed note whose text is parsed as a
// checkpoint, and every signature line is checked as a cosignature by a fixed witness key
// (failing only with VerificationFailed, or DataLoss when the text is not a checkpoint; never
// InvalidArgument). Cosigning an accepted checkpoint with that key (at its tree size as the
// time) must verify and give that time back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "ledger/note.h"

namespace {

using warden::StatusCode;
namespace ledger = warden::ledger;
namespace crypto = warden::crypto;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// A fixed witness: the all-zero Ed25519 seed (PKCS#8), as a cosignature key.
const ledger::NoteSigner& Witness() {
  static const auto* signer = [] {
    const std::string pem =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        "-----END PRIVATE KEY-----\n";
    auto key = crypto::PrivateKey::FromPem(pem, "fuzz witness");
    Check(key.has_value());
    auto s = ledger::NoteSigner::FromPrivateKey("witness.example/w1", *key,
                                                ledger::NoteKeyType::kEd25519Cosignature);
    Check(s.has_value());
    return new ledger::NoteSigner(*s);
  }();
  return *signer;
}

void FuzzCheckpointText(std::string_view text, bool cosign) {
  auto cp = ledger::ParseCheckpoint(text, "fuzz.checkpoint");
  if (!cp.has_value()) {
    const StatusCode c = cp.error().code();
    Check(c == StatusCode::kDataLoss || c == StatusCode::kResourceExhausted);
    return;
  }
  Check(!cp->origin.empty());
  for (const auto& e : cp->extensions) Check(!e.empty());
  auto again = ledger::FormatCheckpoint(*cp);
  Check(again.has_value());
  Check(*again == text);
  if (!cosign) return;
  auto sig = ledger::Cosign(Witness(), text, cp->size);
  if (cp->size > ledger::kMaxCosignatureTime) {
    Check(!sig.has_value() && sig.error().code() == StatusCode::kInvalidArgument);
    return;
  }
  Check(sig.has_value());
  uint64_t t = 0;
  Check(ledger::VerifyCosignature(Witness().Verifier(), text, *sig, &t).ok());
  Check(t == cp->size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzCheckpointText(input, false);
  auto note = ledger::ParseNote(input, "fuzz.note");
  if (!note.has_value()) return 0;
  FuzzCheckpointText(note->text, true);
  const ledger::NoteVerifier w = Witness().Verifier();
  for (const auto& s : note->signatures) {
    uint64_t t = 0;
    warden::Status st = ledger::VerifyCosignature(w, note->text, s, &t);
    Check(st.ok() || st.code() == StatusCode::kVerificationFailed ||
          st.code() == StatusCode::kDataLoss);
  }
  return 0;
}
