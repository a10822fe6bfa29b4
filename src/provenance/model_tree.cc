#include "provenance/model_tree.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "base/files.h"

namespace warden::provenance {

namespace {

// Names OMS's reference implementation ignores by default; recorded so that its verifier
// leaves out what we left out.
const std::vector<std::string> kDefaultGitNames = {".git", ".gitattributes", ".github",
                                                   ".gitignore"};

Result<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) {
    int err = errno;
    if (err == ELOOP) return DataLossError(path + ": symbolic link loop");
    return ErrnoStatus(err, "cannot resolve", path);
  }
  return std::string(buf);
}

bool HasGitComponent(std::string_view rel) {
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    if (rel.substr(start, end - start).starts_with(".git")) return true;
    start = end + 1;
  }
  return false;
}

class Walker {
 public:
  Walker(const WalkOptions& opt, std::string root) : opt_(opt), root_(std::move(root)) {}

  Status Run(ModelTree* tree) {
    for (const auto& ex : opt_.exclude_files) {
      struct stat st;
      if (stat(ex.c_str(), &st) == 0) excluded_.insert({st.st_dev, st.st_ino});
    }
    WARDEN_RETURN_IF_ERROR(WalkDir(root_, "", tree));
    std::sort(tree->files.begin(), tree->files.end(),
              [](const ModelFile& a, const ModelFile& b) { return a.name < b.name; });
    for (size_t i = 1; i < tree->files.size(); ++i) {
      if (tree->files[i].name == tree->files[i - 1].name) {
        return DataLossError("two files map to the same name " + tree->files[i].name);
      }
    }
    std::set<std::string> ignored(opt_.ignore_paths.begin(), opt_.ignore_paths.end());
    if (!opt_.include_git) {
      ignored.insert(kDefaultGitNames.begin(), kDefaultGitNames.end());
      ignored.insert(git_skipped_.begin(), git_skipped_.end());
    }
    tree->ignore_paths.assign(ignored.begin(), ignored.end());
    return Status::Ok();
  }

 private:
  bool Ignored(const std::string& rel) {
    for (const auto& ig : opt_.ignore_paths) {
      if (PathIsUnder(rel, ig)) return true;
    }
    if (!opt_.include_git && HasGitComponent(rel)) {
      if (rel.find('/') != std::string::npos) git_skipped_.insert(rel);
      return true;
    }
    return false;
  }

  Status WalkDir(const std::string& dir_path, const std::string& rel_dir, ModelTree* tree) {
    struct stat dst;
    if (stat(dir_path.c_str(), &dst) != 0) return ErrnoStatus(errno, "cannot stat", dir_path);
    auto key = std::make_pair(dst.st_dev, dst.st_ino);
    if (!on_stack_.insert(key).second) {
      return DataLossError(dir_path + ": directory loop through a symbolic link");
    }
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(dir_path.c_str()), closedir);
    if (!dir) return ErrnoStatus(errno, "cannot read directory", dir_path);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = readdir(dir.get())) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    if (errno != 0) return ErrnoStatus(errno, "cannot read directory", dir_path);
    dir.reset();
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      const std::string rel = rel_dir.empty() ? n : rel_dir + "/" + n;
      const std::string path = dir_path + "/" + n;
      if (!IsValidUtf8(n)) {
        return DataLossError(dir_path + ": a file name is not valid UTF-8 (hex " + HexEncode(n) +
                             "); OMS names travel in JSON and must be UTF-8");
      }
      if (n.find('\n') != std::string::npos || n.find('\r') != std::string::npos) {
        return DataLossError(path + ": file names with line breaks are refused");
      }
      if (Ignored(rel)) continue;
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
      std::string open_path = path;
      if (S_ISLNK(st.st_mode)) {
        if (!opt_.allow_symlinks) {
          return DataLossError(path +
                               ": symbolic link refused (pass --allow-symlinks to follow links "
                               "that stay inside the model)");
        }
        WARDEN_ASSIGN_OR_RETURN(std::string target, RealPath(path));
        if (target != root_ && !target.starts_with(root_ + "/")) {
          return DataLossError(path + ": symbolic link points outside the model, to " + target);
        }
        if (stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
        open_path = target;
      }
      if (excluded_.count({st.st_dev, st.st_ino})) continue;
      if (S_ISDIR(st.st_mode)) {
        WARDEN_RETURN_IF_ERROR(WalkDir(open_path, rel, tree));
      } else if (S_ISREG(st.st_mode)) {
        tree->files.push_back({rel, open_path, static_cast<uint64_t>(st.st_size)});
      } else {
        return DataLossError(path +
                             ": not a regular file, directory or link (a device, pipe "
                             "or socket cannot be part of a model)");
      }
    }
    on_stack_.erase(key);
    return Status::Ok();
  }

  const WalkOptions& opt_;
  std::string root_;
  std::set<std::pair<dev_t, ino_t>> on_stack_;
  std::set<std::pair<dev_t, ino_t>> excluded_;
  std::set<std::string> git_skipped_;
};

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool PathIsUnder(std::string_view name, std::string_view ignore) {
  while (ignore.size() > 1 && ignore.back() == '/') ignore.remove_suffix(1);
  if (ignore.starts_with("./")) ignore.remove_prefix(2);
  if (ignore.empty()) return false;
  return name == ignore ||
         (name.size() > ignore.size() && name.starts_with(ignore) && name[ignore.size()] == '/');
}

Result<ModelTree> WalkModel(const std::string& model_path, const WalkOptions& options) {
  for (const auto& ig : options.ignore_paths) {
    if (ig.empty() || ig.starts_with("/") || ig == ".." || ig.starts_with("../") ||
        ig.find("/../") != std::string::npos || ig.ends_with("/..")) {
      return InvalidArgumentError("ignore path '" + ig +
                                  "' must be relative to the model and stay inside it");
    }
  }
  struct stat st;
  if (stat(model_path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, "cannot open model", model_path);
  }
  ModelTree tree;
  WARDEN_ASSIGN_OR_RETURN(tree.root, RealPath(model_path));
  tree.subject_name = BaseName(tree.root);
  if (S_ISREG(st.st_mode)) {
    tree.is_file = true;
    tree.files.push_back({".", tree.root, static_cast<uint64_t>(st.st_size)});
    tree.ignore_paths = options.ignore_paths;
    std::sort(tree.ignore_paths.begin(), tree.ignore_paths.end());
    return tree;
  }
  if (!S_ISDIR(st.st_mode)) {
    return DataLossError(model_path + ": a model must be a regular file or a directory");
  }
  Walker walker(options, tree.root);
  WARDEN_RETURN_IF_ERROR(walker.Run(&tree));
  return tree;
}

}  // namespace warden::provenance
