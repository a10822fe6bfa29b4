// libFuzzer target for ledger entries (ledger/entries.h): the JSON a publisher hands to
// `warden ledger append TYPE ENTRY.json`, and the rows a store reads back.
//
// The first byte picks the type (byte % (number of types + 1); the extra value means "no type
// given: take it from the object's type member"), the rest is the entry text.
// Seeds in fuzz/corpus/entry_fuzz/ carry that prefix byte.
//
// Beyond "no crash, no leak, no UB", it checks what CanonicalizeEntry promises: an error is
// DataLoss (the type always comes from the table, so never InvalidArgument); an accepted entry
// is at most kMaxEntryBytes, names its type, canonicalizes again to identical bytes (with and
// without the type argument), and LinksOf accepts it.
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/entries.h"

namespace {

namespace ledger = warden::ledger;
using warden::StatusCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto types = ledger::EntryTypes();
  const size_t pick = data[0] % (types.size() + 1);
  const std::string_view type = pick < types.size() ? types[pick] : std::string_view();
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto once = ledger::CanonicalizeEntry(type, text, "fuzz.json");
  if (!once.has_value()) {
    Check(once.error().code() == StatusCode::kDataLoss);
    return 0;
  }
  Check(once->canonical_json.size() <= ledger::kMaxEntryBytes);
  Check(ledger::IsEntryType(once->type));
  Check(type.empty() || once->type == type);

  auto twice = ledger::CanonicalizeEntry(once->type, once->canonical_json, "canonical");
  Check(twice.has_value());
  Check(twice->canonical_json == once->canonical_json);
  auto untyped = ledger::CanonicalizeEntry("", once->canonical_json, "canonical");
  Check(untyped.has_value());
  Check(untyped->type == once->type);
  Check(untyped->canonical_json == once->canonical_json);

  auto links = ledger::LinksOf(once->type, once->canonical_json);
  Check(links.has_value());
  for (const auto* list : {&links->model_digests_in, &links->model_digests_out,
                           &links->dataset_roots, &links->policy_digests}) {
    for (const std::string& d : *list) Check(d.size() == 71 && d.compare(0, 7, "sha256:") == 0);
  }
  return 0;
}
