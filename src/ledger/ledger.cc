#include "ledger/ledger.h"

#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "ledger/entries.h"
#include "ledger/note.h"

namespace warden::ledger {

namespace {

constexpr std::string_view kConfigKey = "warden.config";

json::object ConfigToJson(const LedgerConfig& c) {
  json::object o;
  o["origin"] = c.origin;
  o["log_vkey"] = c.log_vkey;
  o["quorum"] = c.quorum;
  json::array st;
  for (const auto& s : c.stakeholders) {
    json::object so;
    so["name"] = s.name;
    so["public_key_pem"] = s.public_key_pem;
    so["key_id"] = s.key_id;
    st.push_back(std::move(so));
  }
  o["stakeholders"] = std::move(st);
  json::array w;
  for (const auto& v : c.witness_vkeys) w.push_back(json::value(v));
  o["witness_vkeys"] = std::move(w);
  return o;
}

Result<LedgerConfig> ConfigFromJson(std::string_view text, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(text, source));
  WARDEN_ASSIGN_OR_RETURN(const json::object* o, json::AsObject(v, "config"));
  LedgerConfig c;
  WARDEN_ASSIGN_OR_RETURN(std::string_view origin, json::GetString(*o, "origin", "config"));
  c.origin = std::string(origin);
  WARDEN_ASSIGN_OR_RETURN(std::string_view vkey, json::GetString(*o, "log_vkey", "config"));
  c.log_vkey = std::string(vkey);
  WARDEN_ASSIGN_OR_RETURN(uint64_t quorum, json::GetUint(*o, "quorum", "config"));
  c.quorum = static_cast<uint32_t>(quorum);
  WARDEN_ASSIGN_OR_RETURN(const json::array* st, json::GetArray(*o, "stakeholders", "config"));
  for (size_t i = 0; i < st->size(); ++i) {
    const std::string p = json::JoinIndex("config.stakeholders", i);
    WARDEN_ASSIGN_OR_RETURN(const json::object* so, json::AsObject((*st)[i], p));
    Stakeholder s;
    WARDEN_ASSIGN_OR_RETURN(std::string_view name, json::GetString(*so, "name", p));
    WARDEN_ASSIGN_OR_RETURN(std::string_view pem, json::GetString(*so, "public_key_pem", p));
    WARDEN_ASSIGN_OR_RETURN(std::string_view id, json::GetString(*so, "key_id", p));
    s.name = std::string(name);
    s.public_key_pem = std::string(pem);
    s.key_id = std::string(id);
    c.stakeholders.push_back(std::move(s));
  }
  WARDEN_ASSIGN_OR_RETURN(const json::array* w, json::GetArray(*o, "witness_vkeys", "config"));
  for (size_t i = 0; i < w->size(); ++i) {
    WARDEN_ASSIGN_OR_RETURN(std::string_view vk,
                            json::AsString((*w)[i], json::JoinIndex("config.witness_vkeys", i)));
    c.witness_vkeys.emplace_back(vk);
  }
  return c;
}

std::string RootBase64(const Hash& h) {
  return Base64Encode(std::span<const uint8_t>(h.data(), h.size()));
}

// Field of a canonical entry known to be valid.
std::string FieldOf(const json::value& v, std::string_view key) {
  const json::value* f = v.as_object().if_contains(key);
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}

}  // namespace

std::string ApprovalMessage(std::string_view origin, std::string_view policy_digest, bool revoke) {
  std::string m = revoke ? "warden-policy-revocation/v1\n" : "warden-policy-approval/v1\n";
  m += origin;
  m += '\n';
  m += policy_digest;
  m += '\n';
  return m;
}

Status CheckApproval(const LedgerConfig& config, std::string_view canonical_json,
                     std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(canonical_json, source));
  if (!v.is_object()) return DataLossError(std::string(source) + ": not an object");
  const std::string approver = FieldOf(v, "approver");
  const Stakeholder* who = nullptr;
  for (const auto& s : config.stakeholders) {
    if (s.key_id == approver) who = &s;
  }
  if (who == nullptr) {
    return VerificationFailedError(std::string(source) + ": approver " + approver +
                                   " is not a stakeholder of this ledger");
  }
  const json::value* rv = v.as_object().if_contains("revokes");
  const bool revoke = rv && rv->is_bool() && rv->get_bool();
  WARDEN_ASSIGN_OR_RETURN(crypto::PublicKey key,
                          crypto::PublicKey::FromPem(who->public_key_pem, who->name));
  auto sig = Base64Decode(FieldOf(v, "signature"));
  if (!sig) return sig.error().WithContext(std::string(source) + ": field signature");
  Status st = key.Verify(
      AsBytes(ApprovalMessage(config.origin, FieldOf(v, "policy_digest"), revoke)), AsBytes(*sig));
  if (!st.ok()) {
    return VerificationFailedError(std::string(source) +
                                   ": the approval's signature does not "
                                   "verify with stakeholder " +
                                   who->name + "'s key");
  }
  return Status::Ok();
}

Result<Ledger> Ledger::Init(const std::string& path, const crypto::PublicKey& log_key,
                            LedgerConfig config) {
  if (log_key.type() != crypto::KeyType::kEd25519) {
    return InvalidArgumentError(
        "the log's checkpoint key must be Ed25519 (warden keygen --type "
        "ed25519), found " +
        std::string(crypto::KeyTypeName(log_key.type())));
  }
  if (!IsValidKeyName(config.origin)) {
    return InvalidArgumentError("origin '" + config.origin +
                                "' is not a valid note key name (no spaces or '+')");
  }
  std::set<std::string> names, ids;
  for (const auto& s : config.stakeholders) {
    if (!names.insert(s.name).second) {
      return InvalidArgumentError("stakeholder " + s.name + " is listed twice");
    }
    if (!ids.insert(s.key_id).second) {
      return InvalidArgumentError("stakeholder " + s.name + " has the same key as another");
    }
  }
  const uint32_t n = static_cast<uint32_t>(config.stakeholders.size());
  if (config.quorum == 0 && n > 0) config.quorum = n / 2 + 1;
  if (config.quorum > n) {
    return InvalidArgumentError("quorum " + std::to_string(config.quorum) + " exceeds the " +
                                std::to_string(n) + " stakeholders");
  }
  for (const auto& w : config.witness_vkeys) {
    auto v = NoteVerifier::FromVkey(w);
    if (!v) return v.error().WithContext("--witness");
  }
  WARDEN_ASSIGN_OR_RETURN(NoteVerifier verifier,
                          NoteVerifier::FromPublicKey(config.origin, log_key));
  config.log_vkey = verifier.Vkey();
  WARDEN_ASSIGN_OR_RETURN(LogStore store, LogStore::Create(path, config.origin));
  WARDEN_RETURN_IF_ERROR(store.SetMeta(kConfigKey, json::Canonical(ConfigToJson(config))));
  return Ledger(std::move(store), std::move(config));
}

Result<Ledger> Ledger::Open(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(LogStore store, LogStore::Open(path));
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> text, store.GetMeta(kConfigKey));
  if (!text) return DataLossError(path + ": ledger has no configuration (not made by ledger init)");
  WARDEN_ASSIGN_OR_RETURN(LedgerConfig config, ConfigFromJson(*text, path + " (config)"));
  return Ledger(std::move(store), std::move(config));
}

Result<LogStore::Appended> Ledger::Append(std::string_view type, std::string_view json_text,
                                          std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(CanonicalEntry entry, CanonicalizeEntry(type, json_text, source));
  if (entry.type == "approval") {
    WARDEN_RETURN_IF_ERROR(CheckApproval(config_, entry.canonical_json, source));
  }
  return store_.Append(entry.type, entry.canonical_json);
}

Result<LogStore::Appended> Ledger::Approve(std::string_view policy_digest,
                                           const crypto::PrivateKey& key, bool revoke) {
  WARDEN_ASSIGN_OR_RETURN(
      std::string sig, key.Sign(AsBytes(ApprovalMessage(config_.origin, policy_digest, revoke))));
  json::object o;
  o["policy_digest"] = policy_digest;
  o["approver"] = key.Public().Fingerprint();
  o["signature"] = Base64Encode(sig);
  if (revoke) o["revokes"] = true;
  return Append("approval", json::Canonical(o), "approval");
}

Result<PolicyStatus> Ledger::StatusOfPolicy(std::string_view policy_digest) {
  PolicyStatus out;
  out.quorum = config_.quorum;
  WARDEN_ASSIGN_OR_RETURN(std::vector<LogStore::Entry> policies, store_.ByType("policy"));
  for (const auto& e : policies) {
    auto v = json::Parse(e.body, "entry");
    if (v && FieldOf(*v, "policy_digest") == policy_digest) out.exists = true;
  }
  WARDEN_ASSIGN_OR_RETURN(std::vector<LogStore::Entry> approvals, store_.ByType("approval"));
  // In log order, the last word of each stakeholder counts. Signatures were checked on append
  // and are checked again here: someone who can write the file cannot forge an approval.
  std::map<std::string, bool> standing;  // stakeholder name -> approves
  for (const auto& e : approvals) {
    auto v = json::Parse(e.body, "entry");
    if (!v || FieldOf(*v, "policy_digest") != policy_digest) continue;
    if (!CheckApproval(config_, e.body, "entry").ok()) continue;  // forged: Audit names it
    const std::string approver = FieldOf(*v, "approver");
    const json::value* rv = v->as_object().if_contains("revokes");
    const bool revoke = rv && rv->is_bool() && rv->get_bool();
    for (const auto& s : config_.stakeholders) {
      if (s.key_id == approver) standing[s.name] = !revoke;
    }
  }
  for (const auto& [name, approves] : standing) {
    (approves ? out.approvers : out.revoked).push_back(name);
  }
  out.in_force = out.exists && config_.quorum > 0 && out.approvers.size() >= config_.quorum;
  return out;
}

Result<std::string> Ledger::Checkpoint(const crypto::PrivateKey& log_key) {
  WARDEN_ASSIGN_OR_RETURN(NoteSigner signer, NoteSigner::FromPrivateKey(config_.origin, log_key));
  if (signer.Verifier().Vkey() != config_.log_vkey) {
    return PermissionDeniedError("this key is not the ledger's checkpoint key (ledger: " +
                                 config_.log_vkey + ", key: " + signer.Verifier().Vkey() + ")");
  }
  const uint64_t size = store_.Size();
  WARDEN_ASSIGN_OR_RETURN(Hash root, store_.Root());
  WARDEN_ASSIGN_OR_RETURN(auto last, store_.LatestCheckpoint());
  if (last) {
    if (size < last->size) {
      return VerificationFailedError("the log has " + std::to_string(size) +
                                     " entries, fewer than the last checkpoint's " +
                                     std::to_string(last->size) + ": refusing to sign");
    }
    // The empty tree is consistent with every tree; it has no consistency proof.
    Status st = last->root == EmptyRoot() ? Status::Ok()
                                          : VerificationFailedError(
                                                "the empty checkpoint's root "
                                                "is not the empty root");
    if (last->size > 0) {
      WARDEN_ASSIGN_OR_RETURN(std::vector<Hash> proof, store_.ConsistencyProof(last->size, size));
      st = VerifyConsistency(last->size, size, proof, last->root, root);
    }
    if (!st.ok()) {
      return VerificationFailedError("the log is not consistent with its last checkpoint (size " +
                                     std::to_string(last->size) + "): " + st.message() +
                                     "; refusing to sign");
    }
  }
  ledger::Checkpoint cp{config_.origin, size, root, {}};
  WARDEN_ASSIGN_OR_RETURN(std::string body, FormatCheckpoint(cp));
  WARDEN_ASSIGN_OR_RETURN(NoteSignature sig, signer.Sign(body));
  WARDEN_ASSIGN_OR_RETURN(std::string note, FormatNote(Note{body, {sig}}));
  WARDEN_RETURN_IF_ERROR(store_.SaveCheckpoint(size, root, note));
  return note;
}

Result<std::string> Ledger::AddCosignatures(std::string_view cosignature_lines) {
  WARDEN_ASSIGN_OR_RETURN(auto last, store_.LatestCheckpoint());
  if (!last) return FailedPreconditionError("the ledger has no checkpoint to add cosignatures to");
  WARDEN_ASSIGN_OR_RETURN(Note note, ParseNote(last->note, "latest checkpoint"));
  std::vector<NoteVerifier> witnesses;
  for (const auto& vk : config_.witness_vkeys) {
    WARDEN_ASSIGN_OR_RETURN(NoteVerifier v, NoteVerifier::FromVkey(vk));
    witnesses.push_back(std::move(v));
  }
  // The lines are signature lines; parse them by putting them under the checkpoint text.
  std::string lines(cosignature_lines);
  if (!lines.empty() && lines.back() != '\n') lines += '\n';
  WARDEN_ASSIGN_OR_RETURN(Note extra, ParseNote(note.text + "\n" + lines, "cosignatures"));
  size_t added = 0;
  for (const auto& sig : extra.signatures) {
    const NoteVerifier* w = nullptr;
    for (const auto& v : witnesses) {
      if (v.name() == sig.name && v.key_hash() == sig.key_hash) w = &v;
    }
    if (w == nullptr) {
      return VerificationFailedError("cosignature by " + sig.name +
                                     " is not from a witness listed in this ledger's config");
    }
    uint64_t t = 0;
    WARDEN_RETURN_IF_ERROR(VerifyCosignature(*w, note.text, sig, &t).WithContext(sig.name));
    if (std::find(note.signatures.begin(), note.signatures.end(), sig) == note.signatures.end()) {
      note.signatures.push_back(sig);
      ++added;
    }
  }
  WARDEN_ASSIGN_OR_RETURN(std::string text, FormatNote(note));
  if (added > 0) WARDEN_RETURN_IF_ERROR(store_.SaveCheckpoint(last->size, last->root, text));
  return text;
}

Result<std::string> Ledger::ProveInclusion(uint64_t index) {
  WARDEN_ASSIGN_OR_RETURN(auto last, store_.LatestCheckpoint());
  if (!last || index >= last->size) {
    return FailedPreconditionError(
        "no checkpoint covers entry " + std::to_string(index) +
        " yet (run `warden ledger checkpoint` first; latest checkpoint size " +
        std::to_string(last ? last->size : 0) + ")");
  }
  WARDEN_ASSIGN_OR_RETURN(std::vector<Hash> proof, store_.InclusionProof(index, last->size));
  TlogProof p;
  p.index = index;
  p.hashes = std::move(proof);
  p.checkpoint_note = last->note;
  return FormatTlogProof(p);
}

Result<std::string> Ledger::ProveConsistency(uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size || new_size > store_.Size()) {
    return InvalidArgumentError("need OLD <= NEW <= " + std::to_string(store_.Size()) + ", got " +
                                std::to_string(old_size) + " and " + std::to_string(new_size));
  }
  if (old_size == 0) return std::string();  // the empty tree needs no proof
  WARDEN_ASSIGN_OR_RETURN(std::vector<Hash> proof, store_.ConsistencyProof(old_size, new_size));
  std::string out;
  for (const auto& h : proof) out += RootBase64(h) + "\n";
  return out;
}

Status Ledger::Audit() {
  // The store recomputes every hash; each entry must also still validate, in canonical form.
  WARDEN_RETURN_IF_ERROR(store_.Audit([this](const LogStore::Entry& e) -> Status {
    auto canon = CanonicalizeEntry(e.type, e.body, "entry " + std::to_string(e.index));
    if (!canon) {
      return VerificationFailedError("entry " + std::to_string(e.index) + " (" + e.type +
                                     ") does not validate: " + canon.error().message());
    }
    if (canon->canonical_json != e.body) {
      return VerificationFailedError("entry " + std::to_string(e.index) +
                                     " is not stored in canonical form");
    }
    if (e.type == "approval") {
      Status st = CheckApproval(config_, e.body, "entry " + std::to_string(e.index));
      if (!st.ok()) return VerificationFailedError(st.message());
    }
    return Status::Ok();
  }));
  WARDEN_ASSIGN_OR_RETURN(NoteVerifier log, NoteVerifier::FromVkey(config_.log_vkey));
  WARDEN_ASSIGN_OR_RETURN(std::vector<StoredCheckpoint> cps, store_.Checkpoints());
  const StoredCheckpoint* prev = nullptr;
  for (const auto& cp : cps) {
    const std::string what = "checkpoint at size " + std::to_string(cp.size);
    auto note = ParseNote(cp.note, what);
    if (!note) return VerificationFailedError(note.error().message());
    auto opened = OpenNote(*note, std::span<const NoteVerifier>(&log, 1));
    if (!opened) {
      return VerificationFailedError(
          what + ": signature does not verify with the log key: " + opened.error().message());
    }
    auto body = ParseCheckpoint(note->text, what);
    if (!body || body->size != cp.size || body->root != cp.root || body->origin != config_.origin) {
      return VerificationFailedError(what +
                                     ": the signed note does not match the stored size "
                                     "and root");
    }
    WARDEN_ASSIGN_OR_RETURN(Hash root_then, store_.RootAt(cp.size));
    if (root_then != cp.root) {
      return VerificationFailedError(what + ": the log's root at that size is " +
                                     crypto::DigestHex(root_then) + ", the checkpoint says " +
                                     crypto::DigestHex(cp.root));
    }
    if (prev != nullptr && prev->size > cp.size) {
      return VerificationFailedError(what + ": smaller than the checkpoint before it");
    }
    prev = &cp;
  }
  return Status::Ok();
}

Result<LineageNode> Ledger::Lineage(std::string_view model_digest) {
  struct Indexed {
    uint64_t index;
    std::string type;
    EntryLinks links;
  };
  std::vector<Indexed> all;
  const uint64_t size = store_.Size();
  for (uint64_t i = 0; i < size; ++i) {
    WARDEN_ASSIGN_OR_RETURN(LogStore::Entry e, store_.Get(i));
    auto links = LinksOf(e.type, e.body);
    if (!links) continue;
    all.push_back({i, e.type, std::move(*links)});
  }
  std::set<std::string> visiting;
  std::function<LineageNode(const std::string&, int)> walk = [&](const std::string& d, int depth) {
    LineageNode n;
    n.model_digest = d;
    if (depth > 64 || !visiting.insert(d).second) return n;  // a cycle or absurd depth
    std::set<std::string> parents, roots;
    for (const auto& e : all) {
      const bool out =
          std::count(e.links.model_digests_out.begin(), e.links.model_digests_out.end(), d) > 0;
      const bool in =
          std::count(e.links.model_digests_in.begin(), e.links.model_digests_in.end(), d) > 0;
      if (e.type == "model-release" && out) n.releases.push_back(e.index);
      if (e.type == "eval-report" && in) n.evaluations.push_back(e.index);
      if ((e.type == "training-run" || e.type == "fine-tune") && out) {
        n.produced_by.push_back(e.index);
        for (const auto& p : e.links.model_digests_in) parents.insert(p);
        for (const auto& r : e.links.dataset_roots) roots.insert(r);
      }
    }
    n.datasets.assign(roots.begin(), roots.end());
    for (const auto& e : all) {
      if (e.type != "dataset") continue;
      for (const auto& r : e.links.dataset_roots) {
        if (roots.count(r)) n.dataset_entries.push_back(e.index);
      }
    }
    for (const auto& p : parents) n.parents.push_back(walk(p, depth + 1));
    visiting.erase(d);
    return n;
  };
  return walk(std::string(model_digest), 0);
}

std::string ModelReleaseJson(std::string_view name, std::string_view version,
                             std::string_view subject_digest_hex, std::string_view bundle_json) {
  json::object e;
  e["name"] = name;
  e["version"] = version;
  e["model_digest"] = "sha256:" + std::string(subject_digest_hex);
  e["bundle_digest"] = "sha256:" + crypto::DigestHex(crypto::Sha256(bundle_json));
  return json::Canonical(e);
}

std::string DatasetEntryJson(const Hash& root, uint64_t count, std::string_view license,
                             std::string_view source, std::string_view name,
                             std::string_view format) {
  json::object e;
  e["root"] = "sha256:" + crypto::DigestHex(root);
  e["count"] = count;
  e["license"] = license;
  e["source"] = source;
  if (!name.empty()) e["name"] = name;
  if (!format.empty()) e["format"] = format;
  return json::Canonical(e);
}

Result<Checkpoint> VerifyEntryProof(std::string_view tlog_proof, std::string_view proof_source,
                                    const NoteVerifier& log, std::string_view type,
                                    std::string_view entry_json, std::string_view entry_source) {
  WARDEN_ASSIGN_OR_RETURN(TlogProof proof, ParseTlogProof(tlog_proof, proof_source));
  WARDEN_ASSIGN_OR_RETURN(Note note, ParseNote(proof.checkpoint_note, proof_source));
  auto opened = OpenNote(note, std::span<const NoteVerifier>(&log, 1));
  if (!opened) {
    return VerificationFailedError(std::string(proof_source) +
                                   ": the checkpoint is not signed by " + log.Vkey() + ": " +
                                   opened.error().message());
  }
  WARDEN_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ParseCheckpoint(note.text, proof_source));
  if (cp.origin != log.name()) {
    return VerificationFailedError(std::string(proof_source) + ": checkpoint origin " + cp.origin +
                                   " is not the key's name " + log.name());
  }
  WARDEN_ASSIGN_OR_RETURN(CanonicalEntry entry, CanonicalizeEntry(type, entry_json, entry_source));
  if (proof.index >= cp.size) {
    return VerificationFailedError(std::string(proof_source) + ": index " +
                                   std::to_string(proof.index) + " is outside the checkpoint's " +
                                   std::to_string(cp.size) + " entries");
  }
  Status st =
      VerifyInclusion(proof.index, cp.size, LeafHash(entry.canonical_json), proof.hashes, cp.root);
  if (!st.ok()) {
    return VerificationFailedError(std::string(entry_source) + " is not entry " +
                                   std::to_string(proof.index) + " of " + cp.origin + " at size " +
                                   std::to_string(cp.size) + ": " + st.message());
  }
  return cp;
}

Result<std::vector<Hash>> ParseProofLines(std::string_view text, std::string_view source) {
  std::vector<Hash> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return DataLossError(std::string(source) + ": line " + std::to_string(line_no) +
                           ": missing final newline");
    }
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    auto raw = Base64Decode(line);
    if (!raw || raw->size() != 32) {
      return DataLossError(std::string(source) + ": line " + std::to_string(line_no) +
                           ": not a base64 SHA-256 hash");
    }
    if (out.size() >= kMaxProofHashes) {
      return DataLossError(std::string(source) + ": more than " + std::to_string(kMaxProofHashes) +
                           " hashes");
    }
    Hash h;
    std::copy(raw->begin(), raw->end(), reinterpret_cast<char*>(h.data()));
    out.push_back(h);
  }
  return out;
}

Result<NoteSignature> WitnessCheckpoint(const std::string& state_dir, const NoteSigner& witness,
                                        const NoteVerifier& log, std::string_view checkpoint_note,
                                        std::span<const Hash> consistency_proof, uint64_t unix_time,
                                        bool* first_seen) {
  WARDEN_ASSIGN_OR_RETURN(Note note, ParseNote(checkpoint_note, "checkpoint"));
  auto opened = OpenNote(note, std::span<const NoteVerifier>(&log, 1));
  if (!opened) {
    return VerificationFailedError("the checkpoint is not signed by the log key " + log.Vkey() +
                                   ": " + opened.error().message());
  }
  WARDEN_ASSIGN_OR_RETURN(ledger::Checkpoint cp, ParseCheckpoint(note.text, "checkpoint"));
  if (cp.origin != log.name()) {
    return VerificationFailedError("the checkpoint's origin " + cp.origin +
                                   " is not the log key's name " + log.name());
  }
  mkdir(state_dir.c_str(), 0755);  // may exist; a real failure shows up when writing
  const std::string state =
      state_dir + "/" + crypto::DigestHex(crypto::Sha256(cp.origin)) + ".checkpoint";
  *first_seen = true;
  auto old_text = ReadFileToString(state, kMaxNoteBytes);
  if (old_text) {
    *first_seen = false;
    WARDEN_ASSIGN_OR_RETURN(Note old_note, ParseNote(*old_text, state));
    WARDEN_ASSIGN_OR_RETURN(ledger::Checkpoint old, ParseCheckpoint(old_note.text, state));
    if (cp.size < old.size) {
      return VerificationFailedError("the log shrank: this checkpoint has size " +
                                     std::to_string(cp.size) + ", the witness saw " +
                                     std::to_string(old.size));
    }
    if (cp.size == old.size && cp.root != old.root) {
      return VerificationFailedError("the log forked: two different roots at size " +
                                     std::to_string(cp.size));
    }
    if (cp.size > old.size) {
      Status st = VerifyConsistency(old.size, cp.size, consistency_proof, old.root, cp.root);
      if (!st.ok()) {
        return VerificationFailedError(
            "not consistent with the checkpoint the witness saw at "
            "size " +
            std::to_string(old.size) + ": " + st.message());
      }
    }
  } else if (old_text.error().code() != StatusCode::kNotFound) {
    return old_text.error();
  }
  WARDEN_ASSIGN_OR_RETURN(NoteSignature sig, Cosign(witness, note.text, unix_time));
  WARDEN_RETURN_IF_ERROR(WriteFileAtomic(state, checkpoint_note, 0644));
  return sig;
}

}  // namespace warden::ledger
