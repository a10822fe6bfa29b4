// warden hash: per-file, per-shard and per-tensor SHA-256 digests of a model.
#include <chrono>
#include <cstdio>

#include "base/json.h"
#include "cli.h"
#include "model_options.h"
#include "provenance/manifest.h"

namespace warden::cli {

namespace {

int RunHash(const ModelOptions& o, bool tensors, bool tensors_only, bool as_json) {
  auto tree = provenance::WalkModel(o.model, o.Walk());
  if (!tree) return Fail("hash", tree.error());
  provenance::HashOptions hash = o.Hash(tensors || tensors_only);
  hash.file_digests = !tensors_only;
  const auto t0 = std::chrono::steady_clock::now();
  auto digests = provenance::HashModel(*tree, hash);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!digests) return Fail("hash", digests.error());
  uint64_t total = 0;
  for (const auto& fd : *digests) {
    if (!fd.status.ok()) return Fail("hash", fd.status);
    if (hash.tensors && !fd.tensor_status.ok()) return Fail("hash", fd.tensor_status);
    total += fd.size;
  }

  if (as_json) {
    json::object root;
    root["model"] = tree->subject_name;
    root["method"] = provenance::MethodName(hash.method);
    if (hash.method == provenance::Method::kShards) root["shard_size"] = hash.shard_size;
    if (!tensors_only) {
      root["subject_sha256"] =
          provenance::BuildStatement(*tree, *digests, hash, o.allow_symlinks).subject_digest;
    }
    json::array files;
    for (const auto& fd : *digests) {
      json::object f;
      f["name"] = fd.name;
      f["size"] = fd.size;
      if (!fd.has_file_digest) {
        // --tensors-only: the tensors below are this file's digests.
      } else if (hash.method == provenance::Method::kFiles) {
        f["sha256"] = crypto::DigestHex(fd.digest);
      } else {
        json::array shards;
        for (const auto& sh : fd.shards) {
          json::object so;
          so["start"] = sh.start;
          so["end"] = sh.end;
          so["sha256"] = crypto::DigestHex(sh.digest);
          shards.push_back(std::move(so));
        }
        f["shards"] = std::move(shards);
      }
      if (hash.tensors && fd.format != formats::ModelFormat::kUnknown) {
        f["format"] = fd.format == formats::ModelFormat::kGguf ? "gguf" : "safetensors";
        json::array ts;
        for (const auto& t : fd.tensors) {
          json::object to;
          to["name"] = t.name;
          to["offset"] = t.offset;
          to["size"] = t.size;
          to["sha256"] = crypto::DigestHex(t.digest);
          ts.push_back(std::move(to));
        }
        f["tensors"] = std::move(ts);
      }
      files.push_back(std::move(f));
    }
    root["files"] = std::move(files);
    std::fputs(json::Pretty(root).c_str(), stdout);
  } else {
    for (const auto& fd : *digests) {
      const std::string name = fd.name == "." ? o.model : fd.name;
      if (!fd.has_file_digest) {
        std::printf("%s:\n", name.c_str());
      } else if (hash.method == provenance::Method::kFiles) {
        std::printf("%s  %s\n", crypto::DigestHex(fd.digest).c_str(), name.c_str());
      } else {
        for (const auto& sh : fd.shards) {
          std::printf("%s  %s:%llu:%llu\n", crypto::DigestHex(sh.digest).c_str(), name.c_str(),
                      static_cast<unsigned long long>(sh.start),
                      static_cast<unsigned long long>(sh.end));
        }
      }
      for (const auto& t : fd.tensors) {
        std::printf("  %s  %s  (offset %llu, %llu bytes)\n", crypto::DigestHex(t.digest).c_str(),
                    t.name.c_str(), static_cast<unsigned long long>(t.offset),
                    static_cast<unsigned long long>(t.size));
      }
    }
  }
  std::fprintf(stderr, "hashed %zu file%s, %s in %.3f s (%s/s), method %s\n", digests->size(),
               digests->size() == 1 ? "" : "s", FormatBytes(static_cast<double>(total)).c_str(),
               secs, FormatBytes(secs > 0 ? total / secs : 0).c_str(),
               std::string(provenance::MethodName(hash.method)).c_str());
  return kExitOk;
}

}  // namespace

void RegisterHash(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "hash", "SHA-256 digests of a model's files, shards or tensors");
  LongHelp(
      cmd,
      "Print SHA-256 digests of a model: one per file (sha256sum format), or one per shard with\n"
      "--method shards, and with --tensors one per tensor of every GGUF or safetensors file\n"
      "(the tensor's data bytes only, so metadata edits do not change it). Files are mapped\n"
      "in windows and hashed on every core. The digests are exactly what `warden sign` signs.");
  AddFooter(
      cmd,
      "Examples:\n"
      "  warden hash data/models/stories260K.gguf\n"
      "  warden hash ./llama-3-8b --tensors --json > manifest.json\n"
      "  warden hash big.gguf --method shards --shard-size 67108864   # all cores on one file");
  auto o = std::make_shared<ModelOptions>();
  auto tensors = std::make_shared<bool>(false);
  auto tensors_only = std::make_shared<bool>(false);
  auto as_json = std::make_shared<bool>(false);
  AddModelOptions(cmd, *o);
  cmd->add_flag("--tensors", *tensors, "Also print a digest per tensor (GGUF, safetensors)");
  cmd->add_flag("--tensors-only", *tensors_only,
                "Per-tensor digests without the whole-file digests of GGUF/safetensors files "
                "(each byte hashed once; for diffing models tensor by tensor)");
  cmd->add_flag("--json", *as_json, "Print one JSON object instead of text");
  cmd->callback([=] { *exit_code = RunHash(*o, *tensors, *tensors_only, *as_json); });
}

}  // namespace warden::cli
