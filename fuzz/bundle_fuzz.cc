// libFuzzer target for the signature path an attacker controls before any signature is
// checked: the Sigstore bundle (provenance/bundle.h, DSSE envelope) and, once the bundle
// parses, the in-toto statement inside it (provenance/manifest.h ParseStatement).
//
// The first byte picks the mode, the rest is the input:
//   even: a bundle; if it parses, its payload is parsed as a statement.
//   odd:  a statement (a DSSE payload), fed straight to ParseStatement.
// Seeds in fuzz/corpus/bundle_fuzz/ carry that prefix byte.
//
// Beyond "no crash, no leak, no UB", it checks what the parsers promise: every error is
// DataLoss; an accepted bundle has the in-toto payload type and at least one non-empty
// signature, and survives BundleToJson -> ParseBundle unchanged; an accepted statement has
// unique resource names and well-formed digests (SubjectDigest succeeds), survives
// StatementToJson -> ParseStatement, re-encodes to the same text, and compares equal to
// itself (CompareStatements reports no change).
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "provenance/bundle.h"
#include "provenance/dsse.h"
#include "provenance/manifest.h"

namespace {

using warden::StatusCode;
namespace provenance = warden::provenance;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void FuzzStatement(std::string_view payload) {
  auto st = provenance::ParseStatement(payload, "fuzz.sig (payload)");
  if (!st.has_value()) {
    Check(st.error().code() == StatusCode::kDataLoss);
    return;
  }
  std::set<std::string> names;
  for (const auto& r : st->resources) {
    Check(names.insert(r.name).second);
    Check(r.digest.size() == 64);
    Check(r.name.size() >= r.path.size());
    if (st->serialization.method == provenance::Method::kShards) {
      Check(r.end > r.start && r.end - r.start <= st->serialization.shard_size);
    }
  }
  Check(st->serialization.method != provenance::Method::kShards ||
        st->serialization.shard_size > 0);
  Check(provenance::SubjectDigest(st->resources).has_value());

  const std::string once = provenance::StatementToJson(*st);
  auto again = provenance::ParseStatement(once, "rewrite");
  Check(again.has_value());
  Check(again->resources.size() == st->resources.size());
  Check(again->subject_digest == st->subject_digest);
  Check(provenance::StatementToJson(*again) == once);

  const provenance::VerifyReport self = provenance::CompareStatements(*st, *st, {}, true);
  Check(self.ok());
}

void FuzzBundle(std::string_view text) {
  auto b = provenance::ParseBundle(text, "fuzz.sig");
  if (!b.has_value()) {
    Check(b.error().code() == StatusCode::kDataLoss);
    return;
  }
  Check(b->envelope.payload_type == provenance::kInTotoPayloadType);
  Check(!b->envelope.signatures.empty());
  for (const auto& s : b->envelope.signatures) Check(!s.sig.empty());
  Check(!b->material.empty());
  // What the verifier signs over; must be computable for any accepted envelope.
  const std::string pae = provenance::Pae(b->envelope.payload_type, b->envelope.payload);
  Check(pae.size() > b->envelope.payload.size());

  // Writing an accepted bundle back must give a bundle that reads the same.
  const std::string rewritten = provenance::BundleToJson(*b);
  auto again = provenance::ParseBundle(rewritten, "rewrite");
  Check(again.has_value());
  Check(again->envelope.payload == b->envelope.payload);
  Check(again->envelope.signatures.size() == b->envelope.signatures.size());
  for (size_t i = 0; i < b->envelope.signatures.size(); ++i) {
    Check(again->envelope.signatures[i].sig == b->envelope.signatures[i].sig);
    Check(again->envelope.signatures[i].keyid == b->envelope.signatures[i].keyid);
  }
  Check(again->key_hint == b->key_hint);

  FuzzStatement(b->envelope.payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    FuzzBundle(rest);
  } else {
    FuzzStatement(rest);
  }
  return 0;
}
