// Typed ledger entries: one JSON schema per entry type, and the canonical bytes that go into
// the log.
//
// An entry is a JSON object. CanonicalizeEntry parses it (duplicate keys refused), checks it
// against its type's schema (every required field present, every field known, every value in
// its format, cross-field rules such as finished >= started), adds the "type" member, and
// writes it with base/json Canonical(): keys sorted by their UTF-8 bytes, no insignificant
// whitespace, integers as plain integers. Two texts that mean the same entry therefore give
// the same bytes, and the bytes (not the text the user typed) are what the Merkle leaf hashes.
// The byte-exact format and every field of every type are in docs/formats/ledger-entries.md.
//
// Canonicalization is idempotent: CanonicalizeEntry(type, CanonicalizeEntry(type, x)) gives
// the same bytes as CanonicalizeEntry(type, x).
//
// Thread-safety: pure functions; EntryTypes() returns a static table.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::ledger {

// The largest entry accepted, both as given and once canonical. An entry is metadata (digests,
// names, a few numbers); anything bigger belongs in a file whose digest the entry records.
// The bound also caps the leaf a log verifier must hash and the row a store must hold.
inline constexpr size_t kMaxEntryBytes = 64 * 1024;

// Type names, in the order of docs/formats/ledger-entries.md: "model-release",
// "training-run", "fine-tune", "dataset", "eval-report", "policy", "approval",
// "audit-checkpoint", "key-rotation".
std::span<const std::string_view> EntryTypes();
bool IsEntryType(std::string_view type);

struct CanonicalEntry {
  std::string type;
  std::string canonical_json;  // includes "type":"<type>"
};

// Canonicalizes and validates `json_text` as an entry of `type`. `source` names the input in
// messages ("entry.json").
//
// `type` may be empty: the type is then taken from the object's "type" member. When both are
// given they must agree.
//
// Errors:
//   InvalidArgument  `type` is not one of EntryTypes() (a usage error: it came from the caller)
//   DataLoss         "<source>: ..." for text that is not JSON (with line and column), a
//                    duplicate key, a value that is not an object, an entry over
//                    kMaxEntryBytes, an unknown "type" member, and
//                    "<source>: field <path>: <what>" for a missing, unknown or malformed field
//                    or a broken cross-field rule.
Result<CanonicalEntry> CanonicalizeEntry(std::string_view type, std::string_view json_text,
                                         std::string_view source);

// The digests an entry links to, for walking a model's lineage. Digests are in the entry's
// "sha256:<hex>" form. Which fields land where:
//
//   type              model_digests_in      model_digests_out     dataset_roots    policy
//   model-release     -                     model_digest          -                -
//   training-run      base_model_digest?    output_model_digest   dataset_roots    -
//   fine-tune         parent_digest         child_digest          dataset_roots?   -
//   dataset           -                     -                     root             -
//   eval-report       model_digest          -                     -                -
//   policy            -                     -                     -                policy_digest
//   approval          -                     -                     -                policy_digest
//   audit-checkpoint, key-rotation: nothing.
//
// So "how was model D made" = entries with D in model_digests_out (a release names the model
// it publishes as its output); "what was derived from or measured on D" = entries with D in
// model_digests_in.
struct EntryLinks {
  std::vector<std::string> model_digests_in;
  std::vector<std::string> model_digests_out;
  std::vector<std::string> dataset_roots;
  std::vector<std::string> policy_digests;
};

// Links of an entry. `canonical_json` is normally CanonicalizeEntry's output, but any text it
// accepts works: the entry is validated again (so a corrupt row in a store is reported, not
// walked). `type` may be empty as for CanonicalizeEntry. Errors: as CanonicalizeEntry.
Result<EntryLinks> LinksOf(std::string_view type, std::string_view canonical_json);

}  // namespace warden::ledger
