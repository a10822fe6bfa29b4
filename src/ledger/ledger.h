// Ledger: the transparency log as warden's users see it: typed entries, signed checkpoints,
// proofs, audits, lineage and policy governance, over one SQLite file (LogStore).
//
// A ledger is created once with its origin (the log's name in checkpoints), the public half
// of its Ed25519 checkpoint key, its stakeholders' public keys with a quorum M of N, and the
// witnesses whose cosignatures it accepts. All of this is recorded in the store's metadata and
// never changes afterwards (a key-rotation entry records a change of keys; re-keying the log
// itself is future work).
//
// Thread-safety: a Ledger is used from one thread at a time. Several processes may open the
// same file; SQLite serialises their writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "ledger/store.h"

namespace warden::ledger {

struct Stakeholder {
  std::string name;
  std::string public_key_pem;
  std::string key_id;  // hex SHA-256 of the key's SPKI DER (crypto::PublicKey::Fingerprint)
};

struct LedgerConfig {
  std::string origin;
  std::string log_vkey;  // C2SP verifier key of the checkpoint key
  std::vector<Stakeholder> stakeholders;
  uint32_t quorum = 0;  // approvals needed for a policy to be in force
  std::vector<std::string> witness_vkeys;
};

// OK when `canonical_json` (an approval entry) is signed by a stakeholder listed in `config`;
// VerificationFailed naming the approver otherwise.
Status CheckApproval(const LedgerConfig& config, std::string_view canonical_json,
                     std::string_view source);

// The message a stakeholder signs to approve (or revoke an approval of) a policy digest.
std::string ApprovalMessage(std::string_view origin, std::string_view policy_digest, bool revoke);

struct PolicyStatus {
  bool exists = false;    // a policy entry with this digest was appended
  bool in_force = false;  // exists, and approvals from `quorum` distinct stakeholders stand
  uint32_t quorum = 0;
  std::vector<std::string> approvers;  // names of stakeholders whose approval stands
  std::vector<std::string> revoked;    // names whose approval was revoked
};

// One node of a model's lineage tree.
struct LineageNode {
  std::string model_digest;
  std::vector<uint64_t> releases;         // model-release entry indices
  std::vector<uint64_t> evaluations;      // eval-report indices
  std::vector<uint64_t> produced_by;      // training-run / fine-tune indices that output it
  std::vector<std::string> datasets;      // dataset roots used to produce it
  std::vector<uint64_t> dataset_entries;  // dataset entries for those roots
  std::vector<LineageNode> parents;       // base / parent models
};

class Ledger {
 public:
  // Creates `path` (FailedPrecondition if it exists). `log_key` must be Ed25519.
  static Result<Ledger> Init(const std::string& path, const crypto::PublicKey& log_key,
                             LedgerConfig config);
  static Result<Ledger> Open(const std::string& path);

  const LedgerConfig& config() const { return config_; }
  LogStore& store() { return store_; }

  // Canonicalizes and validates `json_text` as an entry of `type`, then appends it. Approvals
  // must be signed by a listed stakeholder (VerificationFailed otherwise).
  Result<LogStore::Appended> Append(std::string_view type, std::string_view json_text,
                                    std::string_view source);

  // Appends a signed approval (or revocation) of `policy_digest` by `key`.
  Result<LogStore::Appended> Approve(std::string_view policy_digest, const crypto::PrivateKey& key,
                                     bool revoke);
  Result<PolicyStatus> StatusOfPolicy(std::string_view policy_digest);

  // Signs a checkpoint of the current tree with `log_key` (must match the ledger's key) and
  // stores it. Refuses (VerificationFailed) when the tree is not consistent with the last
  // checkpoint. Returns the signed note text.
  Result<std::string> Checkpoint(const crypto::PrivateKey& log_key);
  // Adds witness cosignature lines to the latest checkpoint; each must verify with a witness
  // key listed in the config.
  Result<std::string> AddCosignatures(std::string_view cosignature_lines);

  // c2sp.org/tlog-proof@v1 text proving entry `index` against the latest checkpoint.
  Result<std::string> ProveInclusion(uint64_t index);
  // Consistency proof between two sizes, one base64 hash a line.
  Result<std::string> ProveConsistency(uint64_t old_size, uint64_t new_size);

  // Recomputes every hash, re-validates every entry, verifies every checkpoint signature and
  // the consistency of successive checkpoints. VerificationFailed naming the first bad index.
  Status Audit();

  Result<LineageNode> Lineage(std::string_view model_digest);

 private:
  Ledger(LogStore store, LedgerConfig config)
      : store_(std::move(store)), config_(std::move(config)) {}
  LogStore store_;
  LedgerConfig config_;
};

// A witness: checks that `checkpoint_note` is signed by `log`, and that it is consistent with
// the last checkpoint this witness saw for the same origin (kept in `state_dir`, one file per
// origin, replaced atomically), using `consistency_proof` when the log grew. Returns the
// cosignature to hand back to the log. The first checkpoint seen for an origin is accepted
// as is (trust on first use) and `*first_seen` says so.
// Errors: DataLoss (malformed note or proof), VerificationFailed (bad log signature, a log
// that shrank, forked or whose proof does not verify), I/O errors from the state directory.
Result<NoteSignature> WitnessCheckpoint(const std::string& state_dir, const NoteSigner& witness,
                                        const NoteVerifier& log, std::string_view checkpoint_note,
                                        std::span<const Hash> consistency_proof, uint64_t unix_time,
                                        bool* first_seen);

// Checks, with nothing but the log's verifier key, that `entry_json` (an entry of `type`, in
// any formatting: it is canonicalized first) is in the log: the tlog-proof's checkpoint must
// be signed by `log`, and the audit path must lead from the entry's leaf hash to its root.
// On success returns the checkpoint the proof was checked against.
// Errors: DataLoss (malformed proof, note or entry), VerificationFailed (bad signature, wrong
// origin, an entry or index the path does not lead from).
Result<Checkpoint> VerifyEntryProof(std::string_view tlog_proof, std::string_view proof_source,
                                    const NoteVerifier& log, std::string_view type,
                                    std::string_view entry_json, std::string_view entry_source);

// The JSON of a model-release entry for a signed model: `subject_digest_hex` is the OMS
// subject digest (it becomes model_digest), `bundle_json` the signature file's bytes (their
// SHA-256 becomes bundle_digest). Used by `sign --ledger` and the demo.
std::string ModelReleaseJson(std::string_view name, std::string_view version,
                             std::string_view subject_digest_hex, std::string_view bundle_json);

// The JSON of a dataset entry for a commitment. `name` may be empty.
std::string DatasetEntryJson(const Hash& root, uint64_t count, std::string_view license,
                             std::string_view source, std::string_view name,
                             std::string_view format);

// Parses a consistency proof as `ledger consistency` prints it: one base64 hash a line.
Result<std::vector<Hash>> ParseProofLines(std::string_view text, std::string_view source);

}  // namespace warden::ledger
