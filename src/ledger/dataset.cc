#include "ledger/dataset.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "base/thread_pool.h"

namespace warden::ledger {

namespace {

namespace bj = boost::json;

constexpr std::string_view kProofFormat = "warden-dataset-proof/v1";
constexpr std::string_view kDigestPrefix = "sha256:";
// A tree of 2^64 leaves has an audit path of at most 64 hashes.
constexpr size_t kMaxAuditPath = 64;

std::string LineError(const std::string& path, uint64_t line, std::string_view what) {
  return path + ": line " + std::to_string(line) + ": " + std::string(what);
}

bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits [data, data + size) into lines and calls fn(line_number, bytes) for each; the
// terminator ("\n" or "\r\n") is not part of the bytes. The empty piece after a final "\n" is
// not a line.
// `first_line` - 1 is the number of lines before `data` (when it is a block of a larger file).
template <typename Fn>
Status ForEachLine(const char* data, size_t size, uint64_t first_line, Fn&& fn) {
  size_t pos = 0;
  uint64_t line = first_line - 1;
  while (pos < size) {
    const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
    size_t end = nl != nullptr ? static_cast<size_t>(nl - data) : size;
    const size_t next = nl != nullptr ? end + 1 : size;
    if (nl != nullptr && end > pos && data[end - 1] == '\r') --end;
    ++line;
    WARDEN_RETURN_IF_ERROR(fn(line, std::string_view(data + pos, end - pos)));
    pos = next;
  }
  return Status::Ok();
}

// ScanLines and ScanJsonl read whole lines starting at record `first_index` of the file (its
// line first_index + 1): in both formats record i is line i + 1, so a block of a file that
// starts at a line start scans exactly as it would inside the whole file.
template <typename Fn>
Status ScanLines(const std::string&, const char* data, size_t size, uint64_t first_index, Fn&& fn) {
  uint64_t index = first_index;
  return ForEachLine(data, size, first_index + 1,
                     [&](uint64_t, std::string_view rec) { return fn(index++, rec); });
}

template <typename Fn>
Status ScanJsonl(const std::string& path, const char* data, size_t size, uint64_t first_index,
                 Fn&& fn) {
  uint64_t index = first_index;
  std::string canonical;
  return ForEachLine(
      data, size, first_index + 1, [&](uint64_t line, std::string_view text) -> Status {
        if (std::all_of(text.begin(), text.end(), IsJsonWhitespace)) {
          return DataLossError(LineError(
              path, line, "blank line (each line of a JSONL file holds exactly one JSON value)"));
        }
        auto v = json::Parse(text, path);
        if (!v.has_value()) {
          // The parser counts lines within this one line; say which line of the file it was.
          std::string msg = v.error().message();
          const std::string local = path + ": line 1, column ";
          if (msg.compare(0, local.size(), local) == 0) {
            msg = path + ": line " + std::to_string(line) + ", column " + msg.substr(local.size());
          }
          return DataLossError(std::move(msg));
        }
        canonical = json::Canonical(*v);
        return fn(index++, std::string_view(canonical));
      });
}

// RFC 4180 CSV: fields separated by ',', rows ended by "\n" or "\r\n" (a lone '\r' is data),
// a field either unquoted (no '"' in it) or quoted ('"' ... '"', with '""' for a quote, and
// commas and line breaks kept as they are). The first row is the header.
template <typename Fn>
Status ScanCsv(const std::string& path, const char* data, size_t size, Fn&& fn) {
  size_t pos = 0;
  uint64_t line = 1;
  uint64_t index = 0;
  bool have_header = false;
  std::vector<std::string> header;
  std::vector<std::string> fields;
  auto at_row_end = [&](size_t p) {
    return p >= size || data[p] == '\n' || (data[p] == '\r' && p + 1 < size && data[p + 1] == '\n');
  };
  while (pos < size) {
    const uint64_t row_line = line;
    size_t n = 0;  // fields in this row
    for (;;) {
      if (fields.size() <= n) fields.emplace_back();
      std::string& field = fields[n];
      field.clear();
      if (pos < size && data[pos] == '"') {
        const uint64_t open_line = line;
        ++pos;
        for (;;) {
          const char* q = static_cast<const char*>(std::memchr(data + pos, '"', size - pos));
          if (q == nullptr) {
            return DataLossError(LineError(path, open_line,
                                           "field " + std::to_string(n + 1) +
                                               ": quoted field is not closed before the end of "
                                               "the file"));
          }
          const size_t qpos = static_cast<size_t>(q - data);
          line += static_cast<uint64_t>(std::count(data + pos, q, '\n'));
          field.append(data + pos, qpos - pos);
          if (qpos + 1 < size && data[qpos + 1] == '"') {  // "" is one quote
            field += '"';
            pos = qpos + 2;
            continue;
          }
          pos = qpos + 1;
          break;
        }
        if (!at_row_end(pos) && data[pos] != ',') {
          return DataLossError(LineError(path, line,
                                         "field " + std::to_string(n + 1) +
                                             ": unexpected character after the closing quote "
                                             "(expected ',' or the end of the line)"));
        }
      } else {
        const size_t start = pos;
        while (!at_row_end(pos) && data[pos] != ',') {
          if (data[pos] == '"') {
            return DataLossError(LineError(
                path, line,
                "field " + std::to_string(n + 1) +
                    ": quote inside an unquoted field (quote the whole field and write a quote "
                    "as \"\")"));
          }
          ++pos;
        }
        field.assign(data + start, pos - start);
      }
      if (!IsValidUtf8(field)) {
        return DataLossError(
            LineError(path, row_line, "field " + std::to_string(n + 1) + ": not valid UTF-8"));
      }
      ++n;
      if (pos < size && data[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < size) {  // the row's line break
        pos += data[pos] == '\r' ? 2 : 1;
        ++line;
      }
      break;
    }
    if (!have_header) {
      std::set<std::string_view> names;
      for (size_t i = 0; i < n; ++i) {
        if (!names.insert(fields[i]).second) {
          return DataLossError(LineError(
              path, row_line,
              "header: column " + std::to_string(i + 1) + " repeats the name " +
                  bj::serialize(bj::value(bj::string_view(fields[i].data(), fields[i].size())))));
        }
      }
      header.assign(fields.begin(), fields.begin() + static_cast<ptrdiff_t>(n));
      have_header = true;
      continue;
    }
    if (n != header.size()) {
      return DataLossError(LineError(path, row_line,
                                     "row has " + std::to_string(n) + " fields, the header has " +
                                         std::to_string(header.size())));
    }
    bj::object row;
    row.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      row[bj::string_view(header[i].data(), header[i].size())] =
          bj::string_view(fields[i].data(), fields[i].size());
    }
    const std::string canonical = json::Canonical(row);
    WARDEN_RETURN_IF_ERROR(fn(index++, std::string_view(canonical)));
  }
  return Status::Ok();
}

// Maps `path` and calls fn(index, record) for each record; `*bytes` (when given) receives the
// file's size.
template <typename Fn>
Status Scan(const std::string& path, RecordFormat format, Fn&& fn, uint64_t* bytes = nullptr) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
  if (bytes != nullptr) *bytes = file.size();
  WARDEN_ASSIGN_OR_RETURN(MappedRegion region, file.MapAll());
  if (region.size() > 0) {
    // One pass front to back: let the kernel read ahead and drop pages behind us. Advice only.
    (void)madvise(const_cast<uint8_t*>(region.data()), region.size(), MADV_SEQUENTIAL);
  }
  const char* data = reinterpret_cast<const char*>(region.data());
  switch (format) {
    case RecordFormat::kLines:
      return ScanLines(path, data, region.size(), 0, fn);
    case RecordFormat::kJsonl:
      return ScanJsonl(path, data, region.size(), 0, fn);
    case RecordFormat::kCsv:
      return ScanCsv(path, data, region.size(), fn);
  }
  return InternalError("unknown record format");
}

// ---- Parallel commitment (kLines and kJsonl) ----
//
// The file is cut at line starts into K byte ranges ("chunks") of about equal size. A first
// parallel pass counts each chunk's records, which gives the index of each chunk's first record.
// A second parallel pass hashes each chunk's records [i, j) into aligned perfect subtrees of
// the final tree (RangeStack, starting at i). Pushing all chunks' subtrees, left to right, into
// one RangeStack starting at 0 leaves exactly the pieces of Decompose(0, n), which
// HashFromPieces folds into the root: the same root as one TreeBuilder over all records.
// Cutting at line starts keeps every record (and its line number) what it is in one pass.

// Consecutive aligned perfect subtrees from `begin` on, two merged into their parent as soon as
// both are there. Started at 0, it holds the perfect subtrees of Decompose(0, end()) (as
// TreeBuilder does): pushing a level-L subtree at an end that is a multiple of 2^L adds 2^L to
// end, and each merge is one carry.
class RangeStack {
 public:
  explicit RangeStack(uint64_t begin) : end_(begin) {}

  uint64_t end() const { return end_; }

  // Appends the perfect subtree of `level` with hash `h` at end(), a multiple of 2^level.
  void Push(uint8_t level, const Hash& h) {
    Perfect p{level, end_ >> level};
    end_ += uint64_t{1} << level;
    Hash cur = h;
    // An odd index has its left sibling just before it: the top, when the top is that level.
    while (!pieces_.empty() && pieces_.back().first.level == p.level && (p.index & 1) == 1) {
      cur = NodeHash(pieces_.back().second, cur);
      pieces_.pop_back();
      p = Perfect{static_cast<uint8_t>(p.level + 1), p.index >> 1};
    }
    pieces_.emplace_back(p, cur);
  }

  const std::vector<std::pair<Perfect, Hash>>& pieces() const { return pieces_; }

 private:
  uint64_t end_;
  std::vector<std::pair<Perfect, Hash>> pieces_;  // left to right
};

// With the number of chunks chosen automatically: this many per thread, at most kMaxChunks.
constexpr size_t kChunksPerThread = 8;
constexpr size_t kMaxChunks = 64;
// With the number of chunks chosen automatically, smaller files are hashed by the caller alone.
constexpr uint64_t kMinParallelBytes = uint64_t{1} << 20;

// Lines in data[0, size): its '\n's, and one more for an unterminated last line.
uint64_t CountLines(const char* data, size_t size) {
  uint64_t n = 0;
  size_t pos = 0;
  while (pos < size) {
    ++n;
    const void* nl = std::memchr(data + pos, '\n', size - pos);
    pos = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - data) + 1 : size;
  }
  return n;
}

// The root of the records of data[0, size) (a kLines or kJsonl file) hashed in `chunks` chunks
// on `threads` threads. `*count` receives the number of records.
Result<Hash> ChunkedRoot(const std::string& path, RecordFormat format, const char* data,
                         size_t size, size_t threads, size_t chunks, uint64_t* count) {
  // Chunk c is [starts[c], starts[c + 1]): starts[c] is the first line start at or after
  // c * size / chunks (size when there is none), so chunks may be empty.
  std::vector<size_t> starts(chunks + 1, size);
  starts[0] = 0;
  for (size_t c = 1; c < chunks; ++c) {
    const size_t nominal = size / chunks * c + size % chunks * c / chunks;
    if (nominal == 0) {
      starts[c] = 0;
      continue;
    }
    const void* nl = std::memchr(data + nominal - 1, '\n', size - (nominal - 1));
    starts[c] = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - data) + 1 : size;
  }
  ThreadPool pool(std::min(threads, chunks) - 1);

  std::vector<uint64_t> first(chunks + 1, 0);  // index of each chunk's first record
  pool.ParallelFor(chunks, [&](size_t c) {
    first[c + 1] = CountLines(data + starts[c], starts[c + 1] - starts[c]);
  });
  for (size_t c = 0; c < chunks; ++c) first[c + 1] += first[c];
  *count = first[chunks];

  std::vector<std::vector<std::pair<Perfect, Hash>>> pieces(chunks);
  std::vector<Status> errors(chunks);
  std::atomic<size_t> first_error{chunks};  // lowest chunk that failed
  pool.ParallelFor(chunks, [&](size_t c) {
    // A later chunk's error would not be reported; an earlier chunk's must still be looked for.
    if (c > first_error.load(std::memory_order_relaxed)) return;
    RangeStack stack(first[c]);
    auto append = [&](uint64_t, std::string_view record) {
      stack.Push(0, LeafHash(record));
      return Status::Ok();
    };
    const char* begin = data + starts[c];
    const size_t len = starts[c + 1] - starts[c];
    Status s = format == RecordFormat::kJsonl ? ScanJsonl(path, begin, len, first[c], append)
                                              : ScanLines(path, begin, len, first[c], append);
    if (s.ok() && stack.end() != first[c + 1]) {
      s = InternalError(path + ": chunk " + std::to_string(c) + " ends at record " +
                        std::to_string(stack.end()) + ", expected " + std::to_string(first[c + 1]));
    }
    if (!s.ok()) {
      errors[c] = std::move(s);
      size_t cur = first_error.load();
      while (c < cur && !first_error.compare_exchange_weak(cur, c)) {
      }
      return;
    }
    pieces[c] = stack.pieces();
  });
  if (const size_t e = first_error.load(); e < chunks) return errors[e];

  RangeStack all(0);
  for (const auto& chunk : pieces) {
    for (const auto& [p, h] : chunk) all.Push(p.level, h);
  }
  std::vector<Hash> frontier;
  frontier.reserve(all.pieces().size());
  for (const auto& [p, h] : all.pieces()) frontier.push_back(h);
  return HashFromPieces(frontier);
}

std::string DigestText(const Hash& h) { return std::string(kDigestPrefix) + crypto::DigestHex(h); }

// Lower-case hex only, so that one proof has one spelling.
Result<Hash> ParseLowerHex(std::string_view hex, std::string_view source, std::string_view field) {
  auto fail = [&](std::string what) {
    return DataLossError(std::string(source) + ": field " + std::string(field) + ": " + what);
  };
  if (hex.size() != 2 * crypto::kSha256Size) {
    return fail("expected 64 lower-case hex digits, found " + std::to_string(hex.size()) +
                " characters");
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return fail("character " + std::to_string(i) + " is not a lower-case hex digit");
    }
  }
  auto h = crypto::ParseDigestHex(hex);
  if (!h.has_value()) return fail(h.error().message());
  return *h;
}

}  // namespace

std::string_view RecordFormatName(RecordFormat format) {
  switch (format) {
    case RecordFormat::kLines:
      return "lines";
    case RecordFormat::kJsonl:
      return "jsonl";
    case RecordFormat::kCsv:
      return "csv";
  }
  return "unknown";
}

Result<RecordFormat> ParseRecordFormat(std::string_view name) {
  if (name == "lines") return RecordFormat::kLines;
  if (name == "jsonl" || name == "ndjson") return RecordFormat::kJsonl;
  if (name == "csv") return RecordFormat::kCsv;
  return InvalidArgumentError("unknown dataset format \"" + std::string(name) +
                              "\" (known: lines, jsonl, csv)");
}

Result<RecordFormat> FormatFor(std::string_view path, std::string_view override_name) {
  if (!override_name.empty()) return ParseRecordFormat(override_name);
  const size_t slash = path.find_last_of('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  if (dot == std::string_view::npos) return RecordFormat::kLines;
  std::string ext(base.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  if (ext == "jsonl" || ext == "ndjson") return RecordFormat::kJsonl;
  if (ext == "csv") return RecordFormat::kCsv;
  return RecordFormat::kLines;
}

Status ForEachRecord(const std::string& path, RecordFormat format,
                     const std::function<Status(uint64_t index, std::string_view record)>& fn) {
  return Scan(path, format, fn);
}

Result<DatasetCommitment> CommitDataset(const std::string& path, RecordFormat format) {
  return CommitDataset(path, format, CommitOptions{});
}

Result<DatasetCommitment> CommitDataset(const std::string& path, RecordFormat format,
                                        const CommitOptions& options) {
  const size_t threads = options.threads != 0 ? options.threads : ThreadPool::HardwareThreads();
  DatasetCommitment out;
  out.format = format;
  if (format != RecordFormat::kCsv) {
    WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
    out.bytes = file.size();
    size_t chunks = options.chunks;
    if (chunks == 0 && threads > 1 && out.bytes >= kMinParallelBytes) {
      chunks = std::min(kMaxChunks, kChunksPerThread * threads);
    }
    if (chunks != 0) {
      WARDEN_ASSIGN_OR_RETURN(MappedRegion region, file.MapAll());
      WARDEN_ASSIGN_OR_RETURN(
          out.root, ChunkedRoot(path, format, reinterpret_cast<const char*>(region.data()),
                                region.size(), threads, chunks, &out.count));
      return out;
    }
  }
  TreeBuilder tree;
  WARDEN_RETURN_IF_ERROR(Scan(
      path, format,
      [&](uint64_t, std::string_view record) {
        tree.Append(LeafHash(record));
        return Status::Ok();
      },
      &out.bytes));
  out.root = tree.Root();
  out.count = tree.size();
  return out;
}

Result<DatasetProof> ProveRecord(const std::string& path, RecordFormat format, uint64_t index) {
  std::vector<Hash> leaves;
  TreeBuilder tree;
  DatasetProof proof;
  proof.format = format;
  WARDEN_RETURN_IF_ERROR(Scan(path, format, [&](uint64_t i, std::string_view record) {
    if (i == index) proof.record = std::string(record);
    leaves.push_back(LeafHash(record));
    tree.Append(leaves.back());
    return Status::Ok();
  }));
  if (index >= leaves.size()) {
    return InvalidArgumentError("record " + std::to_string(index) + " is past the end of " + path +
                                " (" + std::to_string(leaves.size()) + " records)");
  }
  proof.index = index;
  proof.size = leaves.size();
  proof.root = tree.Root();
  proof.path = InclusionProof(leaves, index);
  return proof;
}

std::string DatasetProofToJson(const DatasetProof& proof) {
  bj::object o;
  o["format"] = kProofFormat;
  o["record_format"] = RecordFormatName(proof.format);
  if (IsValidUtf8(proof.record)) {
    o["record"] = bj::string_view(proof.record.data(), proof.record.size());
  } else {
    o["record_base64"] = Base64Encode(proof.record);
  }
  o["index"] = proof.index;
  o["tree_size"] = proof.size;
  o["root"] = DigestText(proof.root);
  bj::array path;
  for (const Hash& h : proof.path) path.emplace_back(crypto::DigestHex(h));
  o["audit_path"] = std::move(path);
  return json::Pretty(o);
}

Result<DatasetProof> ParseDatasetProof(std::string_view text, std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(bj::value v, json::Parse(text, source));
  const std::string src(source);
  auto with_source = [&](const Status& s) { return DataLossError(src + ": " + s.message()); };
  if (!v.is_object()) {
    return DataLossError(src + ": expected a JSON object, found " + std::string(json::KindName(v)));
  }
  const bj::object& o = v.get_object();
  static constexpr std::string_view kKnown[] = {"format",        "record_format", "record",
                                                "record_base64", "index",         "tree_size",
                                                "root",          "audit_path"};
  for (const auto& kv : o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return DataLossError(src + ": field " +
                           bj::serialize(bj::value(bj::string_view(key.data(), key.size()))) +
                           ": unknown field in a dataset proof");
    }
  }
  auto format = json::GetString(o, "format", "");
  if (!format.has_value()) return with_source(format.error());
  if (*format != kProofFormat) {
    return DataLossError(src + ": field format: expected \"" + std::string(kProofFormat) +
                         "\", found " + bj::serialize(bj::value(bj::string_view(*format))));
  }
  DatasetProof proof;
  auto record_format = json::GetString(o, "record_format", "");
  if (!record_format.has_value()) return with_source(record_format.error());
  auto rf = ParseRecordFormat(*record_format);
  if (!rf.has_value()) return DataLossError(src + ": field record_format: " + rf.error().message());
  proof.format = *rf;

  const bool has_text = o.contains("record");
  const bool has_b64 = o.contains("record_base64");
  if (has_text == has_b64) {
    return DataLossError(src + ": field record: expected exactly one of record and record_base64");
  }
  if (has_text) {
    auto r = json::GetString(o, "record", "");
    if (!r.has_value()) return with_source(r.error());
    proof.record = std::string(*r);
  } else {
    auto r = json::GetString(o, "record_base64", "");
    if (!r.has_value()) return with_source(r.error());
    auto raw = Base64Decode(*r);
    if (!raw.has_value()) {
      return DataLossError(src + ": field record_base64: " + raw.error().message());
    }
    proof.record = std::move(*raw);
  }

  auto index = json::GetUint(o, "index", "");
  if (!index.has_value()) return with_source(index.error());
  auto size = json::GetUint(o, "tree_size", "");
  if (!size.has_value()) return with_source(size.error());
  if (*index >= *size) {
    return DataLossError(src + ": field index: " + std::to_string(*index) +
                         " is not inside a tree of " + std::to_string(*size) + " records");
  }
  proof.index = *index;
  proof.size = *size;

  auto root = json::GetString(o, "root", "");
  if (!root.has_value()) return with_source(root.error());
  if (root->substr(0, kDigestPrefix.size()) != kDigestPrefix) {
    return DataLossError(src + ": field root: expected \"sha256:<64 lower-case hex digits>\"");
  }
  WARDEN_ASSIGN_OR_RETURN(proof.root,
                          ParseLowerHex(root->substr(kDigestPrefix.size()), source, "root"));

  auto path = json::GetArray(o, "audit_path", "");
  if (!path.has_value()) return with_source(path.error());
  if ((*path)->size() > kMaxAuditPath) {
    return DataLossError(src + ": field audit_path: " + std::to_string((*path)->size()) +
                         " hashes; a tree of at most 2^64 records needs at most 64");
  }
  for (size_t i = 0; i < (*path)->size(); ++i) {
    const std::string name = json::JoinIndex("audit_path", i);
    auto s = json::AsString((**path)[i], name);
    if (!s.has_value()) return with_source(s.error());
    WARDEN_ASSIGN_OR_RETURN(Hash h, ParseLowerHex(*s, source, name));
    proof.path.push_back(h);
  }
  return proof;
}

Status CheckDatasetProof(const DatasetProof& proof, const std::optional<Hash>& expected_root) {
  WARDEN_RETURN_IF_ERROR(
      VerifyInclusion(proof.index, proof.size, LeafHash(proof.record), proof.path, proof.root)
          .WithContext("record " + std::to_string(proof.index) + " of " +
                       std::to_string(proof.size)));
  if (expected_root.has_value() && *expected_root != proof.root) {
    return VerificationFailedError("dataset root: expected " + DigestText(*expected_root) +
                                   ", the proof is for " + DigestText(proof.root));
  }
  return Status::Ok();
}

}  // namespace warden::ledger
