// libFuzzer target for c2sp.org/tlog-proof@v1 texts (ledger/note.h ParseTlogProof): the
// detached "transparent signature" a user hands us next to an artifact.
//
// Beyond "no crash, no leak, no UB" it checks the promises: errors are DataLoss or
// ResourceExhausted; an accepted proof has at most kMaxProofHashes hashes and a checkpoint
// note whose text is a checkpoint; FormatTlogProof gives back exactly the input; and the
// checkpoint note, read by ParseNote, either parses or fails with DataLoss (the proof parser
// does not decode signatures).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ledger/note.h"

namespace {

using warden::StatusCode;
namespace ledger = warden::ledger;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto proof = ledger::ParseTlogProof(input, "fuzz.tlog-proof");
  if (!proof.has_value()) {
    const StatusCode c = proof.error().code();
    Check(c == StatusCode::kDataLoss || c == StatusCode::kResourceExhausted);
    return 0;
  }
  Check(proof->hashes.size() <= ledger::kMaxProofHashes);
  Check(!proof->checkpoint_note.empty());
  auto again = ledger::FormatTlogProof(*proof);
  Check(again.has_value());
  Check(*again == input);
  auto back = ledger::ParseTlogProof(*again, "rewrite");
  Check(back.has_value() && *back == *proof);

  auto note = ledger::ParseNote(proof->checkpoint_note, "fuzz.tlog-proof checkpoint");
  if (!note.has_value()) {
    Check(note.error().code() == StatusCode::kDataLoss);
    return 0;
  }
  Check(ledger::ParseCheckpoint(note->text, "fuzz.tlog-proof checkpoint").has_value());
  return 0;
}
