// libFuzzer target for dataset proofs (ledger/dataset.h): the document `warden dataset check
// PROOF` reads, which comes from whoever claims a record was in a dataset.
//
// Input: the proof document. Beyond "no crash, no leak, no UB": a parse error is DataLoss; an
// accepted proof has index < tree_size and an audit path of at most 64 hashes, survives
// DatasetProofToJson -> ParseDatasetProof unchanged, and CheckDatasetProof answers OK or
// VerificationFailed (never anything else, never a crash), the same for the rewritten proof.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/dataset.h"

namespace {

namespace ledger = warden::ledger;
using warden::StatusCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto proof = ledger::ParseDatasetProof(text, "fuzz.proof");
  if (!proof.has_value()) {
    Check(proof.error().code() == StatusCode::kDataLoss);
    return 0;
  }
  Check(proof->index < proof->size);
  Check(proof->path.size() <= 64);

  const warden::Status checked = ledger::CheckDatasetProof(*proof, std::nullopt);
  Check(checked.ok() || checked.code() == StatusCode::kVerificationFailed);
  const warden::Status against = ledger::CheckDatasetProof(*proof, proof->root);
  Check(against.code() == checked.code());

  const std::string json = ledger::DatasetProofToJson(*proof);
  auto again = ledger::ParseDatasetProof(json, "rewrite");
  Check(again.has_value());
  Check(again->record == proof->record);
  Check(again->format == proof->format);
  Check(again->index == proof->index && again->size == proof->size);
  Check(again->root == proof->root && again->path == proof->path);
  Check(ledger::DatasetProofToJson(*again) == json);
  Check(ledger::CheckDatasetProof(*again, std::nullopt).code() == checked.code());
  return 0;
}
