// warden ledger: the transparency log of releases, training runs, lineage, datasets,
// evaluations and policies.
#include <cstdio>
#include <ctime>

#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "crypto/keys.h"
#include "ledger/entries.h"
#include "ledger/ledger.h"
#include "ledger/note.h"

namespace warden::cli {

namespace {

constexpr uint64_t kMaxInputBytes = 16ull << 20;

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") return ReadStandardInput(kMaxInputBytes);
  auto r = ReadFileToString(path, kMaxInputBytes);
  if (!r && r.error().code() == StatusCode::kResourceExhausted) {
    return DataLossError(r.error().message());
  }
  return r;
}

// A verifier key given as text ("name+hash+key") or as a file holding it.
Result<std::string> ReadVkey(const std::string& arg) {
  if (arg.find('+') != std::string::npos) return arg;
  WARDEN_ASSIGN_OR_RETURN(std::string vkey, ReadInput(arg));
  while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r')) vkey.pop_back();
  return vkey;
}

json::object EntryJson(const ledger::LogStore::Entry& e) {
  json::object o;
  o["index"] = e.index;
  o["type"] = e.type;
  o["leaf_hash"] = crypto::DigestHex(e.leaf_hash);
  if (auto body = json::Parse(e.body, "entry")) o["entry"] = *body;
  return o;
}

void PrintEntry(const ledger::LogStore::Entry& e, bool as_json) {
  if (as_json) {
    std::fputs(json::Pretty(EntryJson(e)).c_str(), stdout);
    return;
  }
  auto body = json::Parse(e.body, "entry");
  std::printf("#%llu %s  leaf %s\n", static_cast<unsigned long long>(e.index), e.type.c_str(),
              crypto::DigestHex(e.leaf_hash).c_str());
  std::fputs(body ? json::Pretty(*body).c_str() : (e.body + "\n").c_str(), stdout);
}

// One line about an entry, for people: the fields that identify it.
std::string Summarize(const ledger::LogStore::Entry& e) {
  auto v = json::Parse(e.body, "entry");
  if (!v || !v->is_object()) return e.body;
  const auto& o = v->as_object();
  auto f = [&](std::string_view k) -> std::string {
    const json::value* x = o.if_contains(k);
    if (x == nullptr) return "";
    return x->is_string() ? std::string(x->get_string()) : json::Canonical(*x);
  };
  std::string out;
  if (e.type == "model-release") {
    out = f("name") + " " + f("version");
    if (!f("publisher").empty()) out += " by " + f("publisher");
  } else if (e.type == "training-run") {
    out = "training run, code " + f("code_revision") + " on " + f("hardware") + ", " +
          f("started") + " .. " + f("finished");
  } else if (e.type == "fine-tune") {
    out = "fine-tune" + (f("method").empty() ? "" : " (" + f("method") + ")") + " of " +
          f("parent_digest");
  } else if (e.type == "dataset") {
    out = (f("name").empty() ? f("root") : f("name")) + ": " + f("count") + " records, " +
          f("license") + ", from " + f("source");
  } else if (e.type == "eval-report") {
    out = (f("suite").empty() ? "evaluation" : f("suite")) + " " + f("summary");
  } else {
    out = e.body;
  }
  return out + "  (#" + std::to_string(e.index) + ")";
}

void PrintLineage(ledger::Ledger& l, const ledger::LineageNode& n, const std::string& pad) {
  auto line = [&](const char* what, uint64_t i) {
    auto e = l.store().Get(i);
    if (e) std::printf("%s  %-10s %s\n", pad.c_str(), what, Summarize(*e).c_str());
  };
  std::printf("%smodel %s\n", pad.c_str(), n.model_digest.c_str());
  for (uint64_t i : n.releases) line("release", i);
  for (uint64_t i : n.evaluations) line("evaluated", i);
  for (uint64_t i : n.produced_by) line("made by", i);
  for (const auto& root : n.datasets) {
    bool found = false;
    for (uint64_t i : n.dataset_entries) {
      auto e = l.store().Get(i);
      if (e && e->body.find(root) != std::string::npos) {
        line("dataset", i);
        found = true;
      }
    }
    if (!found) {
      std::printf("%s  %-10s %s (no dataset entry in this ledger)\n", pad.c_str(), "dataset",
                  root.c_str());
    }
  }
  if (n.releases.empty() && n.evaluations.empty() && n.produced_by.empty()) {
    std::printf("%s  (no entry in this ledger mentions this model)\n", pad.c_str());
  }
  for (const auto& p : n.parents) {
    std::printf("%s  parent:\n", pad.c_str());
    PrintLineage(l, p, pad + "    ");
  }
}

json::object LineageJson(ledger::Ledger& l, const ledger::LineageNode& n) {
  json::object o;
  o["model_digest"] = n.model_digest;
  auto entries = [&](const std::vector<uint64_t>& idx) {
    json::array a;
    for (uint64_t i : idx) {
      auto e = l.store().Get(i);
      json::object eo;
      eo["index"] = i;
      if (e) {
        eo["type"] = e->type;
        if (auto b = json::Parse(e->body, "entry")) eo["entry"] = *b;
      }
      a.push_back(std::move(eo));
    }
    return a;
  };
  o["releases"] = entries(n.releases);
  o["evaluations"] = entries(n.evaluations);
  o["produced_by"] = entries(n.produced_by);
  json::array ds;
  for (const auto& d : n.datasets) ds.push_back(json::value(d));
  o["dataset_roots"] = std::move(ds);
  o["datasets"] = entries(n.dataset_entries);
  json::array parents;
  for (const auto& p : n.parents) parents.push_back(LineageJson(l, p));
  o["parents"] = std::move(parents);
  return o;
}

}  // namespace

void RegisterLedger(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "ledger", "Append-only transparency log (RFC 9162, SQLite)");
  LongHelp(cmd,
           "An append-only, provable record of model releases, training runs, fine-tune lineage,\n"
           "datasets, evaluations, policies and approvals, in one SQLite file. Entries are\n"
           "canonical JSON, one schema per type; checkpoints are C2SP signed notes (Ed25519);\n"
           "proofs are C2SP tlog-proofs anyone can check. See docs/ledger.md.");
  AddFooter(cmd,
            "Example:\n"
            "  warden keygen --type ed25519 --out log.key\n"
            "  warden ledger init --db models.ledger --key log.key --origin example.com/models\n"
            "  warden ledger append model-release release.json --db models.ledger\n"
            "  warden ledger checkpoint --db models.ledger --key log.key\n"
            "  warden ledger prove 0 --db models.ledger > entry0.tlog-proof\n"
            "  warden ledger audit --db models.ledger");
  cmd->require_subcommand(1);
  auto db = std::make_shared<std::string>();
  auto add_db = [db](CLI::App* sub) {
    sub->add_option("--db", *db, "Ledger file (SQLite)")->required();
  };

  // init
  {
    auto* sub = AddCommand(cmd, "init", "Create a ledger");
    LongHelp(sub,
             "Create a ledger file. KEY is the log's Ed25519 checkpoint key (warden keygen --type\n"
             "ed25519); only its public half is stored. Stakeholders (NAME=PUBKEY.pem) approve\n"
             "policies; a policy is in force once --quorum of them approved it.");
    add_db(sub);
    auto key = std::make_shared<std::string>();
    auto origin = std::make_shared<std::string>();
    auto stakeholders = std::make_shared<std::vector<std::string>>();
    auto quorum = std::make_shared<uint32_t>(0);
    auto witnesses = std::make_shared<std::vector<std::string>>();
    sub->add_option("--key,-k", *key, "The log's Ed25519 private or public key (PEM)")->required();
    sub->add_option("--origin", *origin,
                    "The log's name in checkpoints, e.g. example.com/models (default: "
                    "warden.local/<file name>)");
    sub->add_option("--stakeholder", *stakeholders, "NAME=PUBLIC_KEY.pem, repeatable");
    sub->add_option("--quorum", *quorum, "Approvals needed (default: a majority)");
    sub->add_option("--witness", *witnesses, "A witness's C2SP verifier key, repeatable");
    sub->callback([=] {
      auto pub = crypto::LoadPublicKey(*key);
      if (!pub) {
        auto priv = crypto::LoadPrivateKey(*key);
        if (!priv) {
          *exit_code = Fail("ledger init", pub.error());
          return;
        }
        pub = priv->Public();
      }
      ledger::LedgerConfig cfg;
      cfg.origin = *origin;
      if (cfg.origin.empty()) {
        std::string base = *db;
        if (auto s = base.find_last_of('/'); s != std::string::npos) base = base.substr(s + 1);
        cfg.origin = "warden.local/" + base;
      }
      for (const auto& s : *stakeholders) {
        auto eq = s.find('=');
        if (eq == std::string::npos || eq == 0) {
          *exit_code = Fail("ledger init",
                            InvalidArgumentError("--stakeholder " + s + ": expected NAME=KEY.pem"));
          return;
        }
        auto k = crypto::LoadPublicKey(s.substr(eq + 1));
        if (!k) {
          *exit_code = Fail("ledger init", k.error());
          return;
        }
        cfg.stakeholders.push_back({s.substr(0, eq), k->ToPem(), k->Fingerprint()});
      }
      cfg.quorum = *quorum;
      cfg.witness_vkeys = *witnesses;
      auto l = ledger::Ledger::Init(*db, *pub, cfg);
      if (!l) {
        *exit_code = Fail("ledger init", l.error());
        return;
      }
      std::printf("created %s: origin %s, %zu stakeholder%s, quorum %u\nlog key %s\n", db->c_str(),
                  l->config().origin.c_str(), l->config().stakeholders.size(),
                  l->config().stakeholders.size() == 1 ? "" : "s", l->config().quorum,
                  l->config().log_vkey.c_str());
    });
  }

  // append
  {
    auto* sub = AddCommand(cmd, "append", "Append a typed entry (JSON)");
    LongHelp(
        sub,
        "Validate FILE (JSON, or - for standard input) against the schema of TYPE, store it as\n"
        "canonical JSON and print its index and leaf hash. Types: model-release,\n"
        "training-run, fine-tune, dataset, eval-report, policy, approval, audit-checkpoint,\n"
        "key-rotation (docs/formats/ledger-entries.md).");
    add_db(sub);
    auto type = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    sub->add_option("TYPE", *type, "Entry type")->required();
    sub->add_option("FILE", *file, "The entry as JSON (- for standard input)")->required();
    sub->callback([=] {
      auto text = ReadInput(*file);
      if (!text) {
        *exit_code = Fail("ledger append", text.error());
        return;
      }
      auto l = ledger::Ledger::Open(*db);
      if (!l) {
        *exit_code = Fail("ledger append", l.error());
        return;
      }
      auto a = l->Append(*type, *text, *file);
      if (!a) {
        *exit_code = Fail("ledger append", a.error());
        return;
      }
      std::printf("appended %s at index %llu, leaf hash %s\n", type->c_str(),
                  static_cast<unsigned long long>(a->index),
                  crypto::DigestHex(a->leaf_hash).c_str());
    });
  }

  // checkpoint
  {
    auto* sub = AddCommand(cmd, "checkpoint", "Sign a checkpoint of the log");
    LongHelp(
        sub,
        "Sign a C2SP checkpoint (origin, size, root) of the current log with the log's key and\n"
        "store it; refused when the log is not consistent with the last checkpoint. With\n"
        "--witnesses, add the witnesses' cosignature lines (from `ledger witness`) to the\n"
        "latest checkpoint instead.");
    add_db(sub);
    auto key = std::make_shared<std::string>();
    auto witnesses = std::make_shared<std::vector<std::string>>();
    sub->add_option("--key,-k", *key, "The log's Ed25519 private key");
    sub->add_option("--witnesses", *witnesses, "Files holding cosignature lines");
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      if (!l) {
        *exit_code = Fail("ledger checkpoint", l.error());
        return;
      }
      Result<std::string> note = InternalError("unreachable");
      if (!witnesses->empty()) {
        std::string lines;
        for (const auto& w : *witnesses) {
          auto t = ReadInput(w);
          if (!t) {
            *exit_code = Fail("ledger checkpoint", t.error());
            return;
          }
          lines += *t;
        }
        note = l->AddCosignatures(lines);
      } else {
        if (key->empty()) {
          *exit_code = Fail("ledger checkpoint",
                            InvalidArgumentError("--key is required to sign a checkpoint"));
          return;
        }
        auto k = crypto::LoadPrivateKey(*key);
        if (!k) {
          *exit_code = Fail("ledger checkpoint", k.error());
          return;
        }
        note = l->Checkpoint(*k);
      }
      if (!note) {
        *exit_code = Fail("ledger checkpoint", note.error());
        return;
      }
      std::fputs(note->c_str(), stdout);
    });
  }

  // prove
  {
    auto* sub = AddCommand(cmd, "prove", "Inclusion proof of an entry (C2SP tlog-proof)");
    add_db(sub);
    auto index = std::make_shared<uint64_t>(0);
    sub->add_option("INDEX", *index, "Entry index")->required();
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      auto p = l ? l->ProveInclusion(*index) : Result<std::string>(l.error());
      if (!p) {
        *exit_code = Fail("ledger prove", p.error());
        return;
      }
      std::fputs(p->c_str(), stdout);
    });
  }

  // consistency
  {
    auto* sub = AddCommand(cmd, "consistency", "Consistency proof between two tree sizes");
    add_db(sub);
    auto old_size = std::make_shared<uint64_t>(0);
    auto new_size = std::make_shared<uint64_t>(0);
    sub->add_option("OLD", *old_size, "Older tree size")->required();
    sub->add_option("NEW", *new_size, "Newer tree size")->required();
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      auto p = l ? l->ProveConsistency(*old_size, *new_size) : Result<std::string>(l.error());
      if (!p) {
        *exit_code = Fail("ledger consistency", p.error());
        return;
      }
      std::fputs(p->c_str(), stdout);
    });
  }

  // audit
  {
    auto* sub = AddCommand(cmd, "audit", "Recompute and check everything");
    LongHelp(sub,
             "Recompute every leaf and node hash, re-validate every entry against its schema,\n"
             "verify every checkpoint's signature and the consistency of successive checkpoints.\n"
             "Exit 1 naming the first bad index.");
    add_db(sub);
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      if (!l) {
        *exit_code = Fail("ledger audit", l.error());
        return;
      }
      Status st = l->Audit();
      if (!st.ok()) {
        *exit_code = Fail("ledger audit", st);
        return;
      }
      std::printf("audit passed: %llu entries, root %s\n",
                  static_cast<unsigned long long>(l->store().Size()),
                  crypto::DigestHex(l->store().Root().value_or(ledger::Hash{})).c_str());
    });
  }

  // show
  {
    auto* sub = AddCommand(cmd, "show", "Print entries by index or by type");
    add_db(sub);
    auto index = std::make_shared<std::optional<uint64_t>>();
    auto type = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    sub->add_option("INDEX", *index, "Entry index");
    sub->add_option("--type", *type, "Every entry of this type");
    sub->add_flag("--json", *as_json, "JSON output");
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      if (!l) {
        *exit_code = Fail("ledger show", l.error());
        return;
      }
      if (index->has_value() == !type->empty()) {
        *exit_code = Fail("ledger show", InvalidArgumentError("give INDEX or --type, not both"));
        return;
      }
      if (index->has_value()) {
        auto e = l->store().Get(**index);
        if (!e) {
          *exit_code = Fail("ledger show", e.error());
          return;
        }
        PrintEntry(*e, *as_json);
        return;
      }
      auto es = l->store().ByType(*type);
      if (!es) {
        *exit_code = Fail("ledger show", es.error());
        return;
      }
      if (*as_json) {  // one JSON document: an array of entries
        json::array a;
        for (const auto& e : *es) a.push_back(EntryJson(e));
        std::fputs(json::Pretty(a).c_str(), stdout);
        return;
      }
      for (const auto& e : *es) PrintEntry(e, false);
    });
  }

  // lineage
  {
    auto* sub = AddCommand(cmd, "lineage", "A model's history as a tree");
    LongHelp(sub,
             "Walk from MODEL_DIGEST (sha256:<hex>) to the runs and fine-tunes that produced it,\n"
             "their parent models and datasets, and the releases and evaluations of each model.");
    add_db(sub);
    auto digest = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    sub->add_option("MODEL_DIGEST", *digest, "sha256:<hex>")->required();
    sub->add_flag("--json", *as_json, "JSON output");
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      auto n = l ? l->Lineage(*digest) : Result<ledger::LineageNode>(l.error());
      if (!n) {
        *exit_code = Fail("ledger lineage", n.error());
        return;
      }
      if (*as_json) {
        std::fputs(json::Pretty(LineageJson(*l, *n)).c_str(), stdout);
      } else {
        PrintLineage(*l, *n, "");
      }
    });
  }

  // approve
  {
    auto* sub = AddCommand(cmd, "approve", "Record a stakeholder's approval of a policy");
    add_db(sub);
    auto digest = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    auto revoke = std::make_shared<bool>(false);
    sub->add_option("POLICY_DIGEST", *digest, "sha256:<hex> of the policy")->required();
    sub->add_option("--key,-k", *key, "The stakeholder's private key")->required();
    sub->add_flag("--revoke", *revoke, "Revoke this stakeholder's earlier approval");
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      if (!l) {
        *exit_code = Fail("ledger approve", l.error());
        return;
      }
      auto k = crypto::LoadPrivateKey(*key);
      if (!k) {
        *exit_code = Fail("ledger approve", k.error());
        return;
      }
      auto a = l->Approve(*digest, *k, *revoke);
      if (!a) {
        *exit_code = Fail("ledger approve", a.error());
        return;
      }
      std::printf("%s %s at index %llu\n", *revoke ? "revoked approval of" : "approved",
                  digest->c_str(), static_cast<unsigned long long>(a->index));
    });
  }

  // policy-status
  {
    auto* sub = AddCommand(cmd, "policy-status", "Is a policy in force?");
    LongHelp(sub,
             "Exit 0 when the policy is in force (quorum of distinct listed approvers,\n"
             "none of them revoked), 1 otherwise.");
    add_db(sub);
    auto digest = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    sub->add_option("POLICY_DIGEST", *digest, "sha256:<hex>")->required();
    sub->add_flag("--json", *as_json, "JSON output");
    sub->callback([=] {
      auto l = ledger::Ledger::Open(*db);
      auto s = l ? l->StatusOfPolicy(*digest) : Result<ledger::PolicyStatus>(l.error());
      if (!s) {
        *exit_code = Fail("ledger policy-status", s.error());
        return;
      }
      if (*as_json) {
        json::object o;
        o["policy_digest"] = *digest;
        o["exists"] = s->exists;
        o["in_force"] = s->in_force;
        o["quorum"] = s->quorum;
        json::array a, r;
        for (const auto& n : s->approvers) a.push_back(json::value(n));
        for (const auto& n : s->revoked) r.push_back(json::value(n));
        o["approvers"] = std::move(a);
        o["revoked"] = std::move(r);
        std::fputs(json::Pretty(o).c_str(), stdout);
      } else {
        std::printf("%s: %s (%zu of %u approvals", digest->c_str(),
                    !s->exists    ? "unknown policy"
                    : s->in_force ? "in force"
                                  : "not in force",
                    s->approvers.size(), s->quorum);
        for (size_t i = 0; i < s->approvers.size(); ++i) {
          std::printf("%s%s", i ? ", " : ": ", s->approvers[i].c_str());
        }
        if (!s->revoked.empty()) std::printf("; %zu revoked", s->revoked.size());
        std::printf(")\n");
      }
      *exit_code = s->in_force ? kExitOk : kExitCheckFailed;
    });
  }

  // witness
  {
    auto* sub = AddCommand(cmd, "witness", "Cosign a log's checkpoint as a witness");
    LongHelp(
        sub,
        "Act as a witness for a log: check that CHECKPOINT is signed by the log, and that it\n"
        "is consistent with the last checkpoint this witness saw for that origin (kept in\n"
        "--state DIR; --proof gives the consistency proof from `ledger consistency OLD NEW`).\n"
        "Prints a C2SP tlog-cosignature line for `ledger checkpoint --witnesses`.\n"
        "With --print-vkey, print this witness's verifier key (for `ledger init --witness`).");
    AddFooter(
        sub,
        "Example:\n"
        "  warden keygen --type ed25519 --out w.key\n"
        "  warden ledger witness --key w.key --name witness.example/w1 --print-vkey\n"
        "  warden ledger witness --key w.key --name witness.example/w1 --state wstate \\\n"
        "      --log-key 'example.com/models+734be124+AT...' cp.txt --proof cons.txt > cosig");
    auto key = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto state = std::make_shared<std::string>();
    auto log_key = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    auto proof = std::make_shared<std::string>();
    auto print_vkey = std::make_shared<bool>(false);
    sub->add_option("--key,-k", *key, "The witness's Ed25519 private key")->required();
    sub->add_option("--name", *name, "The witness's name, e.g. witness.example.com/w1")->required();
    sub->add_option("--state", *state, "Directory of the last checkpoint seen per origin");
    sub->add_option("--log-key", *log_key, "The log's verifier key (vkey text or a file)");
    sub->add_option("CHECKPOINT", *file, "The signed checkpoint note (- for standard input)");
    sub->add_option("--proof", *proof, "Consistency proof from the last size seen");
    sub->add_flag("--print-vkey", *print_vkey, "Print the witness's verifier key and exit");
    sub->callback([=] {
      auto k = crypto::LoadPrivateKey(*key);
      if (!k) {
        *exit_code = Fail("ledger witness", k.error());
        return;
      }
      auto signer =
          ledger::NoteSigner::FromPrivateKey(*name, *k, ledger::NoteKeyType::kEd25519Cosignature);
      if (!signer) {
        *exit_code = Fail("ledger witness", signer.error());
        return;
      }
      if (*print_vkey) {
        std::printf("%s\n", signer->Verifier().Vkey().c_str());
        return;
      }
      if (state->empty() || log_key->empty() || file->empty()) {
        *exit_code = Fail("ledger witness",
                          InvalidArgumentError("--state, --log-key and CHECKPOINT are required"));
        return;
      }
      auto vkey = ReadVkey(*log_key);
      auto log =
          vkey ? ledger::NoteVerifier::FromVkey(*vkey) : Result<ledger::NoteVerifier>(vkey.error());
      auto note = log ? ReadInput(*file) : Result<std::string>(log.error());
      if (!note) {
        *exit_code = Fail("ledger witness", note.error());
        return;
      }
      std::vector<ledger::Hash> hashes;
      if (!proof->empty()) {
        auto t = ReadInput(*proof);
        auto h =
            t ? ledger::ParseProofLines(*t, *proof) : Result<std::vector<ledger::Hash>>(t.error());
        if (!h) {
          *exit_code = Fail("ledger witness", h.error());
          return;
        }
        hashes = std::move(*h);
      }
      bool first = false;
      auto sig = ledger::WitnessCheckpoint(*state, *signer, *log, *note, hashes,
                                           static_cast<uint64_t>(std::time(nullptr)), &first);
      if (!sig) {
        *exit_code = Fail("ledger witness", sig.error());
        return;
      }
      auto line = ledger::FormatNote(ledger::Note{"x\n", {*sig}});
      if (!line) {
        *exit_code = Fail("ledger witness", line.error());
        return;
      }
      std::fputs(line->substr(3).c_str(), stdout);  // drop the placeholder text and blank line
      if (first) {
        std::fprintf(stderr, "first checkpoint seen for this origin: accepted on first use\n");
      }
    });
  }

  // verify-proof
  {
    auto* sub = AddCommand(cmd, "verify-proof", "Check an entry's inclusion proof offline");
    LongHelp(
        sub,
        "Check, without the ledger file, that ENTRY (JSON of TYPE, any formatting) is in the\n"
        "log: PROOF (from `ledger prove`) must carry a checkpoint signed by --log-key, and its\n"
        "audit path must lead from the entry to that checkpoint's root. Exit 0 when it does,\n"
        "1 when it does not, 3 for malformed input.");
    AddFooter(
        sub,
        "Example:\n"
        "  warden ledger verify-proof entry0.tlog-proof --log-key 'example.com/models+...' \\\n"
        "      --type model-release release.json");
    auto proof = std::make_shared<std::string>();
    auto log_key = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    auto entry = std::make_shared<std::string>();
    sub->add_option("PROOF", *proof, "tlog-proof file")->required();
    sub->add_option("ENTRY", *entry, "The entry as JSON (- for standard input)")->required();
    sub->add_option("--log-key", *log_key, "The log's verifier key (vkey text or a file)")
        ->required();
    sub->add_option("--type", *type, "The entry's type (default: its \"type\" field)");
    sub->callback([=] {
      auto vkey = ReadVkey(*log_key);
      auto log =
          vkey ? ledger::NoteVerifier::FromVkey(*vkey) : Result<ledger::NoteVerifier>(vkey.error());
      auto p = log ? ReadInput(*proof) : Result<std::string>(log.error());
      auto e = p ? ReadInput(*entry) : Result<std::string>(p.error());
      if (!e) {
        *exit_code = Fail("ledger verify-proof", e.error());
        return;
      }
      auto cp = ledger::VerifyEntryProof(*p, *proof, *log, *type, *e, *entry);
      if (!cp) {
        *exit_code = Fail("ledger verify-proof", cp.error());
        return;
      }
      std::printf("verified: %s is in %s (checkpoint size %llu, root %s)\n", entry->c_str(),
                  cp->origin.c_str(), static_cast<unsigned long long>(cp->size),
                  crypto::DigestHex(cp->root).c_str());
    });
  }
}

}  // namespace warden::cli
