#include "provenance/manifest.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "base/encoding.h"
#include "base/json.h"

namespace warden::provenance {

namespace {

std::string ShardAlgorithm(uint64_t shard_size) {
  return "sha256-sharded-" + std::to_string(shard_size);
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// A resource name must stay inside the model: relative, no "..", no empty or "." components
// (except the single-file model's name ".").
Status CheckResourcePath(std::string_view name, std::string_view field) {
  auto bad = [&](std::string_view why) {
    return DataLossError("field " + std::string(field) + ": resource name '" + std::string(name) +
                         "' " + std::string(why));
  };
  if (name.empty()) return bad("is empty");
  if (name == ".") return Status::Ok();
  if (name.front() == '/') return bad("is an absolute path");
  if (!IsValidUtf8(name)) return bad("is not valid UTF-8");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view comp = name.substr(start, end - start);
    if (comp == "..") return bad("climbs out of the model with '..'");
    if (comp.empty() || comp == ".") return bad("has an empty or '.' path component");
    start = end + 1;
  }
  return Status::Ok();
}

Status CheckDigestHex(std::string_view hex, std::string_view field) {
  if (hex.size() != 64) {
    return DataLossError("field " + std::string(field) +
                         ": a sha256 digest has 64 hex digits, "
                         "found " +
                         std::to_string(hex.size()) + " characters");
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return DataLossError("field " + std::string(field) +
                           ": digest is not lowercase hex: " + std::string(hex));
    }
  }
  return Status::Ok();
}

// Splits "path:start:end" from the right (a path may itself contain ':').
Status ParseShardName(Resource& r, std::string_view field) {
  auto bad = [&]() {
    return DataLossError("field " + std::string(field) + ": shard name '" + r.name +
                         "' is not path:start:end");
  };
  size_t c2 = r.name.rfind(':');
  if (c2 == std::string::npos || c2 == 0) return bad();
  size_t c1 = r.name.rfind(':', c2 - 1);
  if (c1 == std::string::npos) return bad();
  r.path = r.name.substr(0, c1);
  if (!ParseU64(std::string_view(r.name).substr(c1 + 1, c2 - c1 - 1), &r.start) ||
      !ParseU64(std::string_view(r.name).substr(c2 + 1), &r.end) || r.end <= r.start) {
    return bad();
  }
  return CheckResourcePath(r.path, field);
}

json::object ResourceToJson(const Resource& r) {
  json::object o;
  o["name"] = r.name;
  o["algorithm"] = r.algorithm;
  o["digest"] = r.digest;
  if (!r.tensors.empty()) {
    json::array ts;
    for (const auto& t : r.tensors) {
      json::object to;
      to["name"] = t.name;
      to["offset"] = t.offset;
      to["size"] = t.size;
      to["digest"] = t.digest;
      ts.push_back(std::move(to));
    }
    o["tensors"] = std::move(ts);
  }
  return o;
}

Result<std::vector<TensorEntry>> ParseTensors(const json::object& r, std::string_view path) {
  std::vector<TensorEntry> out;
  if (!r.contains("tensors")) return out;
  WARDEN_ASSIGN_OR_RETURN(const json::array* ts, json::GetArray(r, "tensors", path));
  const std::string tpath = json::Join(path, "tensors");
  std::set<std::string> seen;
  for (size_t i = 0; i < ts->size(); ++i) {
    const std::string p = json::JoinIndex(tpath, i);
    WARDEN_ASSIGN_OR_RETURN(const json::object* t, json::AsObject((*ts)[i], p));
    TensorEntry e;
    WARDEN_ASSIGN_OR_RETURN(std::string_view name, json::GetString(*t, "name", p));
    e.name = std::string(name);
    WARDEN_ASSIGN_OR_RETURN(e.offset, json::GetUint(*t, "offset", p));
    WARDEN_ASSIGN_OR_RETURN(e.size, json::GetUint(*t, "size", p));
    WARDEN_ASSIGN_OR_RETURN(std::string_view digest, json::GetString(*t, "digest", p));
    WARDEN_RETURN_IF_ERROR(CheckDigestHex(digest, json::Join(p, "digest")));
    e.digest = std::string(digest);
    if (!seen.insert(e.name).second) {
      return DataLossError("field " + p + ": duplicate tensor name " + e.name);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Statement BuildStatement(const ModelTree& tree, const std::vector<FileDigest>& digests,
                         const HashOptions& hash, bool allow_symlinks) {
  Statement s;
  s.subject_name = tree.subject_name;
  s.serialization.method = hash.method;
  s.serialization.allow_symlinks = allow_symlinks;
  if (hash.method == Method::kShards) s.serialization.shard_size = hash.shard_size;
  s.serialization.ignore_paths = tree.ignore_paths;
  for (const FileDigest& fd : digests) {
    if (!fd.status.ok()) continue;
    std::vector<TensorEntry> tensors;
    for (const auto& t : fd.tensors) {
      tensors.push_back({t.name, t.offset, t.size, crypto::DigestHex(t.digest)});
    }
    if (hash.method == Method::kFiles) {
      s.resources.push_back(
          {fd.name, "sha256", crypto::DigestHex(fd.digest), std::move(tensors), fd.name, 0, 0});
    } else {
      for (size_t i = 0; i < fd.shards.size(); ++i) {
        const ShardDigest& sh = fd.shards[i];
        Resource r;
        r.name = fd.name + ":" + std::to_string(sh.start) + ":" + std::to_string(sh.end);
        r.algorithm = ShardAlgorithm(hash.shard_size);
        r.digest = crypto::DigestHex(sh.digest);
        r.path = fd.name;
        r.start = sh.start;
        r.end = sh.end;
        if (i == 0) r.tensors = std::move(tensors);  // tensors ride on a file's first shard
        s.resources.push_back(std::move(r));
      }
    }
  }
  auto subject = SubjectDigest(s.resources);
  s.subject_digest = subject ? crypto::DigestHex(*subject) : std::string();
  return s;
}

Result<crypto::Sha256Digest> SubjectDigest(const std::vector<Resource>& resources) {
  crypto::Sha256Hasher h;
  for (const auto& r : resources) {
    WARDEN_ASSIGN_OR_RETURN(crypto::Sha256Digest d, crypto::ParseDigestHex(r.digest));
    h.Update(std::span<const uint8_t>(d.data(), d.size()));
  }
  return h.Finish();
}

std::string StatementToJson(const Statement& s) {
  json::object root;
  root["_type"] = kStatementType;
  json::object digest;
  digest["sha256"] = s.subject_digest;
  json::object subject;
  subject["name"] = s.subject_name;
  subject["digest"] = std::move(digest);
  root["subject"] = json::array{std::move(subject)};
  root["predicateType"] = kOmsPredicateType;
  json::object ser;
  ser["method"] = MethodName(s.serialization.method);
  ser["hash_type"] = s.serialization.hash_type;
  ser["allow_symlinks"] = s.serialization.allow_symlinks;
  if (s.serialization.method == Method::kShards) ser["shard_size"] = s.serialization.shard_size;
  if (!s.serialization.ignore_paths.empty()) {
    json::array ig;
    for (const auto& p : s.serialization.ignore_paths) ig.push_back(json::value(p));
    ser["ignore_paths"] = std::move(ig);
  }
  json::array resources;
  for (const auto& r : s.resources) resources.push_back(ResourceToJson(r));
  json::object predicate;
  predicate["serialization"] = std::move(ser);
  predicate["resources"] = std::move(resources);
  root["predicate"] = std::move(predicate);
  return json::Pretty(root);
}

Result<Statement> ParseStatement(std::string_view payload, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(payload, source));
  auto in = [&](Status st) { return st.WithContext(source); };
  auto root_or = json::AsObject(v, "statement");
  if (!root_or) return in(root_or.error());
  const json::object& root = **root_or;
  Statement s;

  auto type = json::GetString(root, "_type", "");
  if (!type) return in(type.error());
  if (*type != kStatementType) {
    return in(DataLossError("field _type: expected " + std::string(kStatementType) + ", found " +
                            std::string(*type)));
  }
  auto ptype = json::GetString(root, "predicateType", "");
  if (!ptype) return in(ptype.error());
  if (*ptype != kOmsPredicateType) {
    return in(DataLossError("field predicateType: " + std::string(*ptype) +
                            " is not an OMS v1.0 signature (expected " +
                            std::string(kOmsPredicateType) + ")"));
  }
  auto subjects = json::GetArray(root, "subject", "");
  if (!subjects) return in(subjects.error());
  if ((*subjects)->size() != 1) {
    return in(DataLossError("field subject: expected exactly one subject, found " +
                            std::to_string((*subjects)->size())));
  }
  {
    auto subj = json::AsObject((**subjects)[0], "subject[0]");
    if (!subj) return in(subj.error());
    auto name = json::GetString(**subj, "name", "subject[0]");
    if (!name) return in(name.error());
    s.subject_name = std::string(*name);
    auto dig = json::GetObject(**subj, "digest", "subject[0]");
    if (!dig) return in(dig.error());
    auto sha = json::GetString(**dig, "sha256", "subject[0].digest");
    if (!sha) return in(sha.error());
    Status st = CheckDigestHex(*sha, "subject[0].digest.sha256");
    if (!st.ok()) return in(st);
    s.subject_digest = std::string(*sha);
  }

  auto pred = json::GetObject(root, "predicate", "");
  if (!pred) return in(pred.error());
  auto ser = json::GetObject(**pred, "serialization", "predicate");
  if (!ser) return in(ser.error());
  const std::string sp = "predicate.serialization";
  auto method = json::GetString(**ser, "method", sp);
  if (!method) return in(method.error());
  if (*method == "files") {
    s.serialization.method = Method::kFiles;
  } else if (*method == "shards") {
    s.serialization.method = Method::kShards;
  } else {
    return in(DataLossError("field " + sp + ".method: unknown method '" + std::string(*method) +
                            "' (expected files or shards)"));
  }
  auto hash_type = json::GetString(**ser, "hash_type", sp);
  if (!hash_type) return in(hash_type.error());
  if (*hash_type != "sha256") {
    return in(DataLossError("field " + sp + ".hash_type: '" + std::string(*hash_type) +
                            "' is not supported (warden verifies sha256 signatures)"));
  }
  auto allow = json::GetBool(**ser, "allow_symlinks", sp);
  if (!allow) return in(allow.error());
  s.serialization.allow_symlinks = *allow;
  if (s.serialization.method == Method::kShards) {
    auto size = json::GetUint(**ser, "shard_size", sp);
    if (!size) return in(size.error());
    if (*size == 0) return in(DataLossError("field " + sp + ".shard_size: must be positive"));
    s.serialization.shard_size = *size;
  }
  if ((*ser)->contains("ignore_paths")) {
    auto ig = json::GetArray(**ser, "ignore_paths", sp);
    if (!ig) return in(ig.error());
    for (size_t i = 0; i < (*ig)->size(); ++i) {
      auto p = json::AsString((**ig)[i], json::JoinIndex(sp + ".ignore_paths", i));
      if (!p) return in(p.error());
      s.serialization.ignore_paths.emplace_back(*p);
    }
  }

  auto resources = json::GetArray(**pred, "resources", "predicate");
  if (!resources) return in(resources.error());
  std::set<std::string> names;
  for (size_t i = 0; i < (*resources)->size(); ++i) {
    const std::string p = json::JoinIndex("predicate.resources", i);
    auto ro = json::AsObject((**resources)[i], p);
    if (!ro) return in(ro.error());
    Resource r;
    auto name = json::GetString(**ro, "name", p);
    if (!name) return in(name.error());
    r.name = std::string(*name);
    auto alg = json::GetString(**ro, "algorithm", p);
    if (!alg) return in(alg.error());
    r.algorithm = std::string(*alg);
    auto dig = json::GetString(**ro, "digest", p);
    if (!dig) return in(dig.error());
    Status st = CheckDigestHex(*dig, p + ".digest");
    if (!st.ok()) return in(st);
    r.digest = std::string(*dig);
    if (s.serialization.method == Method::kFiles) {
      if (r.algorithm != "sha256") {
        return in(
            DataLossError("field " + p + ".algorithm: expected sha256, found " + r.algorithm));
      }
      st = CheckResourcePath(r.name, p + ".name");
      if (!st.ok()) return in(st);
      r.path = r.name;
    } else {
      if (r.algorithm != "sha256" && r.algorithm != ShardAlgorithm(s.serialization.shard_size)) {
        return in(DataLossError("field " + p + ".algorithm: expected sha256 or " +
                                ShardAlgorithm(s.serialization.shard_size) + ", found " +
                                r.algorithm));
      }
      st = ParseShardName(r, p + ".name");
      if (!st.ok()) return in(st);
      if (r.end - r.start > s.serialization.shard_size || r.start % s.serialization.shard_size) {
        return in(DataLossError("field " + p + ".name: shard " + r.name +
                                " does not fit shard size " +
                                std::to_string(s.serialization.shard_size)));
      }
    }
    auto tensors = ParseTensors(**ro, p);
    if (!tensors) return in(tensors.error());
    r.tensors = std::move(*tensors);
    if (!names.insert(r.name).second) {
      return in(DataLossError("field " + p + ".name: duplicate resource " + r.name));
    }
    s.resources.push_back(std::move(r));
  }
  return s;
}

std::string_view FileChangeKindName(FileChange::Kind k) {
  switch (k) {
    case FileChange::Kind::kModified:
      return "modified";
    case FileChange::Kind::kAdded:
      return "added";
    case FileChange::Kind::kRemoved:
      return "removed";
    case FileChange::Kind::kRenamed:
      return "renamed";
    case FileChange::Kind::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

std::string_view TensorChangeKindName(TensorChange::Kind k) {
  switch (k) {
    case TensorChange::Kind::kModified:
      return "modified";
    case TensorChange::Kind::kAdded:
      return "added";
    case TensorChange::Kind::kRemoved:
      return "removed";
  }
  return "unknown";
}

namespace {

// Per file: its digests (one for files, the shard list for shards) and its tensors.
struct FileView {
  std::string fingerprint;  // the digests joined; equal fingerprints mean equal content
  std::map<std::pair<uint64_t, uint64_t>, std::string> shards;  // (start,end) -> digest
  const std::vector<TensorEntry>* tensors = nullptr;
};

std::map<std::string, FileView> ViewByFile(const Statement& s) {
  std::map<std::string, FileView> out;
  for (const auto& r : s.resources) {
    FileView& v = out[r.path];
    v.fingerprint += r.name.substr(r.path.size()) + "=" + r.digest + ";";
    v.shards[{r.start, r.end}] = r.digest;
    if (!r.tensors.empty()) v.tensors = &r.tensors;
  }
  return out;
}

std::string ShardDetail(const FileView& want, const FileView& got) {
  std::vector<std::string> differ;
  for (const auto& [range, digest] : want.shards) {
    auto it = got.shards.find(range);
    if (it == got.shards.end() || it->second != digest) {
      differ.push_back(std::to_string(range.first) + ":" + std::to_string(range.second));
    }
  }
  if (want.shards.size() != got.shards.size()) {
    return "size changed (" + std::to_string(want.shards.size()) + " shards signed, " +
           std::to_string(got.shards.size()) + " now)";
  }
  std::string d = "bytes differ in shard";
  d += differ.size() == 1 ? " " : "s ";
  for (size_t i = 0; i < differ.size() && i < 8; ++i) d += (i ? ", " : "") + differ[i];
  if (differ.size() > 8) d += ", ... (" + std::to_string(differ.size()) + " in all)";
  return d;
}

void TensorDiff(const std::vector<TensorEntry>& want, const std::vector<TensorEntry>& got,
                FileChange& change) {
  std::map<std::string, const TensorEntry*> got_by_name;
  for (const auto& t : got) got_by_name[t.name] = &t;
  std::set<std::string> want_names;
  for (const auto& t : want) {
    want_names.insert(t.name);
    auto it = got_by_name.find(t.name);
    if (it == got_by_name.end()) {
      change.tensors.push_back({TensorChange::Kind::kRemoved, t.name});
    } else if (it->second->digest != t.digest) {
      change.tensors.push_back({TensorChange::Kind::kModified, t.name});
    }
  }
  for (const auto& t : got) {
    if (!want_names.count(t.name)) change.tensors.push_back({TensorChange::Kind::kAdded, t.name});
  }
  if (change.tensors.empty()) {
    change.tensor_note =
        "every tensor's data is unchanged: the header, metadata or padding "
        "was edited";
  }
}

}  // namespace

VerifyReport CompareStatements(const Statement& expected, const Statement& actual,
                               const std::vector<FileDigest>& digests, bool tensors) {
  VerifyReport rep;
  rep.subject_name = expected.subject_name;
  std::map<std::string, FileView> want = ViewByFile(expected);
  std::map<std::string, FileView> got = ViewByFile(actual);
  rep.files_signed = want.size();

  std::map<std::string, const FileDigest*> disk;
  for (const auto& fd : digests) disk[fd.name] = &fd;
  // In the shards method an empty file has no resources; it exists on disk all the same.
  std::set<std::string> unreadable;
  for (const auto& fd : digests) {
    if (!fd.status.ok()) {
      unreadable.insert(fd.name);
      rep.changes.push_back(
          {FileChange::Kind::kUnreadable, fd.name, "", fd.status.message(), {}, ""});
    }
  }

  std::vector<std::string> removed, added;
  for (const auto& [name, w] : want) {
    if (unreadable.count(name)) continue;
    auto it = got.find(name);
    if (it == got.end()) {
      removed.push_back(name);
      continue;
    }
    ++rep.files_checked;
    const FileView& g = it->second;
    if (g.fingerprint == w.fingerprint) {
      if (w.tensors) rep.tensors_checked += w.tensors->size();
      continue;
    }
    FileChange c{FileChange::Kind::kModified, name, "", "", {}, ""};
    if (expected.serialization.method == Method::kShards) c.detail = ShardDetail(w, g);
    if (tensors) {
      if (w.tensors == nullptr) {
        c.tensor_note = "the signature has no per-tensor digests for this file";
      } else if (g.tensors == nullptr) {
        auto d = disk.find(name);
        c.tensor_note = (d != disk.end() && !d->second->tensor_status.ok())
                            ? "tensors cannot be listed now: " + d->second->tensor_status.message()
                            : "the file no longer holds tensors in a format warden reads";
      } else {
        TensorDiff(*w.tensors, *g.tensors, c);
      }
    }
    rep.changes.push_back(std::move(c));
  }
  for (const auto& [name, g] : got) {
    if (!want.count(name)) added.push_back(name);
  }
  // A removed file whose content reappears under a new name was renamed.
  std::vector<bool> added_used(added.size(), false);
  for (const auto& r : removed) {
    bool renamed = false;
    for (size_t a = 0; a < added.size(); ++a) {
      if (!added_used[a] && got[added[a]].fingerprint.size() > 0 &&
          want[r].shards == got[added[a]].shards) {
        added_used[a] = true;
        rep.changes.push_back({FileChange::Kind::kRenamed, r, added[a], "", {}, ""});
        renamed = true;
        break;
      }
    }
    if (!renamed) rep.changes.push_back({FileChange::Kind::kRemoved, r, "", "", {}, ""});
  }
  for (size_t a = 0; a < added.size(); ++a) {
    if (!added_used[a]) {
      rep.changes.push_back({FileChange::Kind::kAdded, added[a], "", "", {}, ""});
    }
  }
  std::stable_sort(rep.changes.begin(), rep.changes.end(),
                   [](const FileChange& a, const FileChange& b) { return a.name < b.name; });
  return rep;
}

}  // namespace warden::provenance
