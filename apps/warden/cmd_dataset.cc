// warden dataset: Merkle commitments to training data, and offline membership proofs.
#include <cstdio>

#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "ledger/dataset.h"
#include "ledger/ledger.h"

namespace warden::cli {

namespace {

std::string RootText(const ledger::Hash& h) { return "sha256:" + crypto::DigestHex(h); }

}  // namespace

void RegisterDataset(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "dataset", "Commit to a dataset; prove a record is in it");
  LongHelp(
      cmd,
      "A dataset's commitment is the RFC 9162 Merkle root over its records (JSONL: each line's\n"
      "canonical JSON; CSV: each row as a canonical JSON object keyed by the header; otherwise\n"
      "each line). Publish the root (in a ledger `dataset` entry); later prove that a record\n"
      "was in the data with a small self-contained proof anyone can check offline.");
  AddFooter(cmd,
            "Example:\n"
            "  warden dataset commit train.jsonl --ledger models.ledger --license CC-BY-4.0 \\\n"
            "      --source https://example.com/train\n"
            "  warden dataset prove train.jsonl --record 41 > record41.proof.json\n"
            "  warden dataset check record41.proof.json --root sha256:...");
  cmd->require_subcommand(1);
  auto format = std::make_shared<std::string>();
  auto add_format = [format](CLI::App* sub) {
    sub->add_option("--format", *format, "Record format (default: from the file extension)")
        ->check(CLI::IsMember({"lines", "jsonl", "csv"}));
  };

  {
    auto* sub = AddCommand(cmd, "commit", "Print a dataset's Merkle root and record count");
    auto file = std::make_shared<std::string>();
    auto db = std::make_shared<std::string>();
    auto license = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    auto as_json = std::make_shared<bool>(false);
    sub->add_option("FILE", *file, "The dataset file")->required();
    add_format(sub);
    sub->add_option("--ledger", *db, "Also append a `dataset` entry to this ledger");
    sub->add_option("--license", *license, "License, for the ledger entry");
    sub->add_option("--source", *source, "Where the data comes from, for the ledger entry");
    sub->add_option("--name", *name, "A name for the dataset, for the ledger entry");
    sub->add_flag("--json", *as_json, "JSON output");
    sub->callback([=] {
      auto fmt = ledger::FormatFor(*file, *format);
      if (!fmt) {
        *exit_code = Fail("dataset commit", fmt.error());
        return;
      }
      auto c = ledger::CommitDataset(*file, *fmt);
      if (!c) {
        *exit_code = Fail("dataset commit", c.error());
        return;
      }
      std::optional<ledger::LogStore::Appended> appended;
      if (!db->empty()) {
        if (license->empty() || source->empty()) {
          *exit_code =
              Fail("dataset commit", InvalidArgumentError("--ledger needs --license and --source"));
          return;
        }
        const std::string entry =
            ledger::DatasetEntryJson(c->root, c->count, *license, *source, *name, "");
        auto l = ledger::Ledger::Open(*db);
        auto a = l ? l->Append("dataset", entry, "dataset commit")
                   : Result<ledger::LogStore::Appended>(l.error());
        if (!a) {
          *exit_code = Fail("dataset commit", a.error());
          return;
        }
        appended = *a;
      }
      if (*as_json) {
        json::object o;
        o["root"] = RootText(c->root);
        o["count"] = c->count;
        o["bytes"] = c->bytes;
        if (appended) o["ledger_index"] = appended->index;
        std::fputs(json::Pretty(o).c_str(), stdout);
      } else {
        std::printf("%s  %llu records  %s\n", RootText(c->root).c_str(),
                    static_cast<unsigned long long>(c->count), file->c_str());
        if (appended) {
          std::printf("appended dataset entry at index %llu of %s\n",
                      static_cast<unsigned long long>(appended->index), db->c_str());
        }
      }
    });
  }
  {
    auto* sub = AddCommand(cmd, "prove", "Write a membership proof for one record");
    auto file = std::make_shared<std::string>();
    auto record = std::make_shared<uint64_t>(0);
    sub->add_option("FILE", *file, "The dataset file")->required();
    sub->add_option("--record,-r", *record, "Record index (0-based)")->required();
    add_format(sub);
    sub->callback([=] {
      auto fmt = ledger::FormatFor(*file, *format);
      auto p = fmt ? ledger::ProveRecord(*file, *fmt, *record)
                   : Result<ledger::DatasetProof>(fmt.error());
      if (!p) {
        *exit_code = Fail("dataset prove", p.error());
        return;
      }
      std::fputs(ledger::DatasetProofToJson(*p).c_str(), stdout);
    });
  }
  {
    auto* sub = AddCommand(cmd, "check", "Verify a membership proof offline");
    LongHelp(sub,
             "Exit 0 when the proof's record is in the tree with the proof's root (and\n"
             "that root equals --root when given); exit 1 otherwise.");
    auto file = std::make_shared<std::string>();
    auto root = std::make_shared<std::string>();
    sub->add_option("PROOF", *file, "Proof file from `dataset prove`")->required();
    sub->add_option("--root", *root, "Expected root (sha256:<hex> or hex)");
    sub->callback([=] {
      auto text = ReadFileToString(*file, 64ull << 20);
      if (!text) {
        *exit_code = Fail("dataset check", text.error());
        return;
      }
      auto p = ledger::ParseDatasetProof(*text, *file);
      if (!p) {
        *exit_code = Fail("dataset check", p.error());
        return;
      }
      std::optional<ledger::Hash> want;
      if (!root->empty()) {
        std::string_view hex = *root;
        if (hex.starts_with("sha256:")) hex.remove_prefix(7);
        auto h = crypto::ParseDigestHex(hex);
        if (!h) {
          *exit_code =
              Fail("dataset check", InvalidArgumentError("--root: " + h.error().message()));
          return;
        }
        want = *h;
      }
      Status st = ledger::CheckDatasetProof(*p, want);
      if (!st.ok()) {
        *exit_code = Fail("dataset check", st);
        return;
      }
      std::printf("verified: record %llu of %llu is in dataset %s\n",
                  static_cast<unsigned long long>(p->index),
                  static_cast<unsigned long long>(p->size), RootText(p->root).c_str());
    });
  }
}

}  // namespace warden::cli
