// ModelTree: the files that make up a model, as OMS serializes them.
//
// A model is a single file (one entry named ".") or a directory (every regular file below
// it, named by its POSIX path relative to the root, sorted by bytes). Entries are left out
// when they match an ignore path (the path itself or anything below it) or when a path
// component starts with ".git" (unless include_git); the signature file itself is left out
// when it lies inside the model.
//
// Symbolic links are refused unless allow_symlinks; when allowed, a link is followed only if
// its target resolves inside the model root, and directory loops are refused. Names must be
// valid UTF-8 (they travel in JSON) and may not contain newlines.
//
// Thread-safety: WalkModel is reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace warden::provenance {

struct ModelFile {
  std::string name;  // relative POSIX path, or "." for a single-file model
  std::string path;  // a path that opens the file
  uint64_t size = 0;
};

struct WalkOptions {
  bool allow_symlinks = false;
  bool include_git = false;                // false: skip every ".git*" path component
  std::vector<std::string> ignore_paths;   // relative to the model root
  std::vector<std::string> exclude_files;  // absolute or relative paths (e.g. the signature)
};

struct ModelTree {
  std::string root;          // the canonical path of the model
  bool is_file = false;      // a single-file model
  std::string subject_name;  // the model's file or directory name
  std::vector<ModelFile> files;
  // What was left out and should be recorded as serialization.ignore_paths: the caller's
  // ignore paths plus the default ".git*" names, sorted.
  std::vector<std::string> ignore_paths;
};

// Errors: NotFound (no such model), DataLoss (a refused symlink, a link outside the model, a
// loop, a non-UTF-8 name, a special file), PermissionDenied (unreadable directory).
Result<ModelTree> WalkModel(const std::string& model_path, const WalkOptions& options);

// True when `name` (a relative path) is `ignore` or lies below it.
bool PathIsUnder(std::string_view name, std::string_view ignore);

}  // namespace warden::provenance
