// Options shared by `hash` and `sign`: how a model is walked and hashed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "provenance/hashing.h"
#include "provenance/model_tree.h"

namespace warden::cli {

struct ModelOptions {
  std::string model;
  std::string method = "files";
  uint64_t shard_size = provenance::kDefaultShardSize;
  size_t threads = 0;
  bool allow_symlinks = false;
  bool include_git = false;
  std::vector<std::string> ignore_paths;

  provenance::WalkOptions Walk() const {
    provenance::WalkOptions w;
    w.allow_symlinks = allow_symlinks;
    w.include_git = include_git;
    w.ignore_paths = ignore_paths;
    return w;
  }
  provenance::HashOptions Hash(bool tensors) const {
    provenance::HashOptions h;
    h.method = method == "shards" ? provenance::Method::kShards : provenance::Method::kFiles;
    h.shard_size = shard_size;
    h.threads = threads;
    h.tensors = tensors;
    return h;
  }
};

inline void AddModelOptions(CLI::App* cmd, ModelOptions& o) {
  cmd->add_option("MODEL", o.model, "A model file, or a directory holding the model's files")
      ->required();
  cmd->add_option("--method", o.method,
                  "files: one SHA-256 per file (sha256sum-compatible). shards: one per "
                  "--shard-size byte range, hashed in parallel even within one file")
      ->check(CLI::IsMember({"files", "shards"}))
      ->capture_default_str();
  cmd->add_option("--shard-size", o.shard_size, "Shard size in bytes for --method shards")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 62))
      ->capture_default_str();
  cmd->add_option("--threads,-j", o.threads, "Hashing threads (default: every core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->add_flag("--allow-symlinks", o.allow_symlinks,
                "Follow symbolic links that resolve inside MODEL (refused by default)");
  cmd->add_option("--ignore-paths", o.ignore_paths,
                  "Paths relative to MODEL to leave out (a directory leaves out all below it)");
  cmd->add_flag("--include-git", o.include_git,
                "Do not skip .git, .gitattributes, .github, .gitignore and other .git* paths");
}

}  // namespace warden::cli
