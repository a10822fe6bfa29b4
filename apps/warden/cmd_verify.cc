// warden verify: check a model against its OMS signature and say precisely what differs.
#include <cstdio>

#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "crypto/keys.h"
#include "provenance/signing.h"

namespace warden::cli {

std::string DefaultSignaturePath(std::string model);

namespace {

// A signature is a few kB plus per-tensor digests; anything this large is not one.
constexpr uint64_t kMaxSignatureBytes = 64ull << 20;

void PrintReport(const provenance::VerifyReport& r) {
  for (const auto& c : r.changes) {
    using K = provenance::FileChange::Kind;
    switch (c.kind) {
      case K::kRenamed:
        std::printf("  renamed     %s -> %s\n", c.name.c_str(), c.new_name.c_str());
        break;
      default:
        std::printf("  %-10s  %s%s%s%s\n", std::string(FileChangeKindName(c.kind)).c_str(),
                    c.name.c_str(), c.detail.empty() ? "" : " (", c.detail.c_str(),
                    c.detail.empty() ? "" : ")");
    }
    for (const auto& t : c.tensors) {
      std::printf("      tensor %-8s %s\n", std::string(TensorChangeKindName(t.kind)).c_str(),
                  t.name.c_str());
    }
    if (!c.tensor_note.empty()) std::printf("      %s\n", c.tensor_note.c_str());
  }
}

json::object ReportJson(const provenance::VerifyReport& r) {
  json::object root;
  root["verified"] = r.ok();
  root["subject"] = r.subject_name;
  root["files_signed"] = r.files_signed;
  root["files_checked"] = r.files_checked;
  json::array changes;
  for (const auto& c : r.changes) {
    json::object o;
    o["kind"] = FileChangeKindName(c.kind);
    o["name"] = c.name;
    if (!c.new_name.empty()) o["new_name"] = c.new_name;
    if (!c.detail.empty()) o["detail"] = c.detail;
    if (!c.tensors.empty()) {
      json::array ts;
      for (const auto& t : c.tensors) {
        json::object to;
        to["kind"] = TensorChangeKindName(t.kind);
        to["name"] = t.name;
        ts.push_back(std::move(to));
      }
      o["tensors"] = std::move(ts);
    }
    if (!c.tensor_note.empty()) o["tensor_note"] = c.tensor_note;
    changes.push_back(std::move(o));
  }
  root["changes"] = std::move(changes);
  return root;
}

int RunVerify(const std::string& model, std::string sig, const std::string& key_path,
              const provenance::VerifyOptions& base, bool as_json) {
  if (sig.empty()) sig = DefaultSignaturePath(model);
  auto key = crypto::LoadPublicKey(key_path);
  if (!key) return Fail("verify", key.error());
  auto text = ReadFileToString(sig, kMaxSignatureBytes);
  if (!text) {
    Status e = text.error();
    if (e.code() == StatusCode::kResourceExhausted) e = DataLossError(e.message());
    return Fail("verify", e);
  }
  provenance::VerifyOptions vo = base;
  vo.exclude_files.push_back(sig);
  auto report = provenance::VerifyModel(model, *text, sig, *key, vo);
  if (!report) {
    if (as_json && report.error().code() == StatusCode::kVerificationFailed) {
      json::object o;
      o["verified"] = false;
      o["error"] = report.error().message();
      std::fputs(json::Pretty(o).c_str(), stdout);
    }
    return Fail("verify", report.error());
  }
  if (as_json) {
    std::fputs(json::Pretty(ReportJson(*report)).c_str(), stdout);
  } else if (report->ok()) {
    std::printf("verified: %s matches %s (%zu file%s", report->subject_name.c_str(), sig.c_str(),
                report->files_checked, report->files_checked == 1 ? "" : "s");
    if (report->tensors_checked > 0 && vo.tensors) {
      std::printf(", %zu tensors", report->tensors_checked);
    }
    std::printf(", key %s...)\n", key->Fingerprint().substr(0, 16).c_str());
  } else {
    std::printf("verification FAILED: %s does not match %s (%zu difference%s)\n",
                report->subject_name.c_str(), sig.c_str(), report->changes.size(),
                report->changes.size() == 1 ? "" : "s");
    PrintReport(*report);
  }
  return report->ok() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void RegisterVerify(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "verify", "Verify a model against its signature");
  LongHelp(
      cmd,
      "Check that MODEL is exactly what SIG signed: the DSSE signature must verify with KEY,\n"
      "then every file is re-hashed the way the signature says it was (files or shards,\n"
      "symlink policy, ignored paths). Exit 0 when everything matches; exit 1 with a list of\n"
      "files modified, added, removed or renamed, and with --tensors, which tensors of a\n"
      "modified GGUF/safetensors file changed. Reads signatures from the OMS reference tool\n"
      "too (key-based; certificate and Sigstore bundles are checked against the key you give).");
  AddFooter(
      cmd,
      "Examples:\n"
      "  warden verify ./my-model --key release.key.pub                # uses ./my-model.sig\n"
      "  warden verify model.gguf --signature model.sig --key k.pub --tensors --json");
  auto model = std::make_shared<std::string>();
  auto sig = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto vo = std::make_shared<provenance::VerifyOptions>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("MODEL", *model, "The model file or directory")->required();
  cmd->add_option("--signature,-s", *sig, "Signature bundle (default: MODEL.sig)");
  cmd->add_option("--key,-k", *key, "Public key (PEM) the model was signed with")->required();
  cmd->add_flag("--tensors", vo->tensors, "Name the tensors that changed in modified files");
  cmd->add_option("--ignore-paths", vo->ignore_paths,
                  "Extra paths relative to MODEL to leave out (beyond those the signature "
                  "records)");
  cmd->add_option("--threads,-j", vo->threads, "Hashing threads (default: every core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->add_flag("--json", *as_json, "Print the report as one JSON object");
  cmd->callback([=] { *exit_code = RunVerify(*model, *sig, *key, *vo, *as_json); });
}

}  // namespace warden::cli
