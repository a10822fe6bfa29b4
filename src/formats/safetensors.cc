#include "formats/safetensors.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>

#include "base/encoding.h"
#include "base/json.h"

namespace warden::formats {

namespace {

constexpr SafetensorsDtype kDtypes[] = {
    {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
};

std::string KnownDtypes() {
  std::string out;
  for (const SafetensorsDtype& d : kDtypes) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

// Quotes a name from the file for a message (JSON escaping, so control bytes stay visible),
// cut to a readable length.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string shown(s.substr(0, kMax));
  std::string out = boost::json::serialize(boost::json::value(shown));
  if (s.size() > kMax) out.insert(out.size() - 1, "...");
  return out;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A JSON integer in [0, 2^64). Boost.JSON gives int64 for values that fit it, uint64 above;
// fractions and exponents come as double and are refused (as serde refuses them for usize).
bool AsU64(const boost::json::value& v, uint64_t* out) {
  if (v.is_int64()) {
    if (v.get_int64() < 0) return false;
    *out = static_cast<uint64_t>(v.get_int64());
    return true;
  }
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return true;
  }
  return false;
}

class Parser {
 public:
  Parser(std::span<const uint8_t> file, std::string_view source, const SafetensorsLimits& limits)
      : file_(file), source_(source), limits_(limits) {}

  Result<SafetensorsFile> Parse();

 private:
  Status AtOffset(uint64_t offset, std::string_view what) const {
    return DataLossError(std::string(source_) + ": offset " + std::to_string(offset) + ": " +
                         std::string(what));
  }
  Status AtField(std::string_view path, std::string_view what) const {
    return DataLossError(std::string(source_) + ": header field " + std::string(path) + ": " +
                         std::string(what));
  }
  Status CheckDuplicates(std::string_view header) const;
  Result<SafetensorsTensor> ReadTensor(std::string_view name, const boost::json::value& v,
                                       uint64_t data_size) const;

  std::span<const uint8_t> file_;
  std::string_view source_;
  const SafetensorsLimits& limits_;
};

Status Parser::CheckDuplicates(std::string_view header) const {
  size_t used = 0;
  std::optional<json::DuplicateKey> dup;
  Status syntax = json::FindDuplicateKey(header, limits_.max_json_depth, &dup, &used);
  const uint64_t at = 8 + used;
  if (dup) {
    std::string path;
    for (const auto& k : dup->path) path += (path.empty() ? "" : ".") + Quote(k);
    return AtOffset(at,
                    "duplicate key " + Quote(dup->key) + " in " +
                        (path.empty() ? std::string("the header object") : "the object " + path) +
                        " (JSON readers disagree on which one wins)");
  }
  if (!syntax.ok()) return AtOffset(at, "header JSON: " + syntax.message());
  for (size_t i = used; i < header.size(); ++i) {
    if (!IsJsonSpace(header[i])) {
      return AtOffset(8 + i, "header JSON: data after the header object");
    }
  }
  return Status::Ok();
}

Result<SafetensorsTensor> Parser::ReadTensor(std::string_view name, const boost::json::value& v,
                                             uint64_t data_size) const {
  const std::string path = Quote(name);
  if (name.empty()) return AtField(path, "empty tensor name");
  if (!v.is_object()) {
    return AtField(path, "expected an object, found " + std::string(json::KindName(v)));
  }
  const boost::json::object& o = v.get_object();
  for (const auto& kv : o) {
    const std::string_view k(kv.key().data(), kv.key().size());
    if (k != "dtype" && k != "shape" && k != "data_offsets") {
      return AtField(
          path, "unknown field " + Quote(k) + " (a tensor has only dtype, shape and data_offsets)");
    }
  }
  SafetensorsTensor t;
  t.name = std::string(name);

  const std::string dtype_path = path + ".dtype";
  const boost::json::value* dtype = o.if_contains("dtype");
  if (dtype == nullptr) return AtField(dtype_path, "missing");
  if (!dtype->is_string()) {
    return AtField(dtype_path, "expected a string, found " + std::string(json::KindName(*dtype)));
  }
  t.dtype = std::string(dtype->get_string().data(), dtype->get_string().size());
  const SafetensorsDtype* d = FindSafetensorsDtype(t.dtype);
  if (d == nullptr) {
    return AtField(dtype_path,
                   "unknown dtype " + Quote(t.dtype) + " (known: " + KnownDtypes() + ")");
  }

  const std::string shape_path = path + ".shape";
  const boost::json::value* shape = o.if_contains("shape");
  if (shape == nullptr) return AtField(shape_path, "missing");
  if (!shape->is_array()) {
    return AtField(shape_path, "expected an array, found " + std::string(json::KindName(*shape)));
  }
  // Each dimension is at least one byte of JSON, so this is bounded by the header size.
  t.shape.reserve(shape->get_array().size());
  uint64_t elements = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape->get_array().size(); ++i) {
    uint64_t dim = 0;
    if (!AsU64(shape->get_array()[i], &dim)) {
      return AtField(
          shape_path + "[" + std::to_string(i) + "]",
          "expected an integer >= 0, found " + boost::json::serialize(shape->get_array()[i]));
    }
    t.shape.push_back(dim);
    if (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
    elements *= dim;  // wraps on overflow; only used when !overflow
  }
  if (std::find(t.shape.begin(), t.shape.end(), uint64_t{0}) != t.shape.end()) {
    elements = 0;
    overflow = false;
  }

  const std::string offsets_path = path + ".data_offsets";
  const boost::json::value* offsets = o.if_contains("data_offsets");
  if (offsets == nullptr) return AtField(offsets_path, "missing");
  if (!offsets->is_array() || offsets->get_array().size() != 2) {
    return AtField(
        offsets_path,
        "expected an array of two integers [begin, end], found " +
            (offsets->is_array() ? "an array of " + std::to_string(offsets->get_array().size())
                                 : std::string(json::KindName(*offsets))));
  }
  for (size_t i = 0; i < 2; ++i) {
    uint64_t x = 0;
    if (!AsU64(offsets->get_array()[i], &x)) {
      return AtField(
          offsets_path + "[" + std::to_string(i) + "]",
          "expected an integer >= 0, found " + boost::json::serialize(offsets->get_array()[i]));
    }
    (i == 0 ? t.begin : t.end) = x;
  }
  const std::string range = "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
  if (t.begin > t.end) return AtField(offsets_path, range + ": begin is after end");
  if (t.end > data_size) {
    return AtField(offsets_path, range + ": end is past the data section (" +
                                     std::to_string(data_size) + " bytes)");
  }
  if (overflow || elements > std::numeric_limits<uint64_t>::max() / d->bits) {
    return AtField(shape_path,
                   "element count x " + std::to_string(d->bits) + " bits overflows 64 bits");
  }
  const uint64_t bits = elements * d->bits;
  if (bits % 8 != 0) {
    return AtField(shape_path, std::to_string(elements) + " elements of " + t.dtype + " are " +
                                   std::to_string(bits) + " bits, not whole bytes");
  }
  if (bits / 8 != t.end - t.begin) {
    return AtField(offsets_path, range + " holds " + std::to_string(t.end - t.begin) +
                                     " bytes, but " + std::to_string(elements) + " elements of " +
                                     t.dtype + " take " + std::to_string(bits / 8));
  }
  return t;
}

Result<SafetensorsFile> Parser::Parse() {
  SafetensorsFile out;
  if (file_.size() < 8) {
    return AtOffset(0, "truncated: the header length needs 8 bytes, the file has " +
                           std::to_string(file_.size()));
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file_[static_cast<size_t>(i)];
  if (n > limits_.max_header_bytes) {
    return AtOffset(0, "header length " + std::to_string(n) + " exceeds the limit of " +
                           std::to_string(limits_.max_header_bytes) + " bytes");
  }
  if (n > file_.size() - 8) {
    return AtOffset(0, "header length " + std::to_string(n) + " exceeds the " +
                           std::to_string(file_.size() - 8) + " bytes after it");
  }
  out.header_size = n;
  out.data_offset = 8 + n;
  const std::string_view header(reinterpret_cast<const char*>(file_.data() + 8), n);
  if (n == 0 || header[0] != '{') {
    return AtOffset(8, "the header does not start with '{'");
  }
  if (!IsValidUtf8(header)) return AtOffset(8, "the header is not valid UTF-8");
  WARDEN_RETURN_IF_ERROR(CheckDuplicates(header));

  WARDEN_ASSIGN_OR_RETURN(
      boost::json::value root,
      json::Parse(header, std::string(source_) + ": header JSON", limits_.max_json_depth));
  if (!root.is_object()) {
    return AtOffset(8, "the header is " + std::string(json::KindName(root)) + ", not an object");
  }
  const uint64_t data_size = file_.size() - out.data_offset;
  for (const auto& kv : root.get_object()) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (key == kSafetensorsMetadataKey) {
      const std::string path = Quote(key);
      if (!kv.value().is_object()) {
        return AtField(path, "expected an object of strings, found " +
                                 std::string(json::KindName(kv.value())));
      }
      for (const auto& m : kv.value().get_object()) {
        const std::string_view mk(m.key().data(), m.key().size());
        if (!m.value().is_string()) {
          return AtField(path + "." + Quote(mk),
                         "expected a string, found " + std::string(json::KindName(m.value())));
        }
        const auto& s = m.value().get_string();
        out.metadata.emplace_back(std::string(mk), std::string(s.data(), s.size()));
      }
      continue;
    }
    WARDEN_ASSIGN_OR_RETURN(SafetensorsTensor t, ReadTensor(key, kv.value(), data_size));
    out.tensors.push_back(std::move(t));
  }

  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const SafetensorsTensor& a, const SafetensorsTensor& b) {
              if (a.begin != b.begin) return a.begin < b.begin;
              if (a.end != b.end) return a.end < b.end;
              return a.name < b.name;
            });
  uint64_t expected = 0;
  const SafetensorsTensor* prev = nullptr;
  for (const SafetensorsTensor& t : out.tensors) {
    const std::string path = Quote(t.name) + ".data_offsets";
    const std::string range = "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin < expected) {
      return AtField(path, range + " overlaps tensor " + Quote(prev->name) + " [" +
                               std::to_string(prev->begin) + ", " + std::to_string(prev->end) +
                               "]");
    }
    if (t.begin > expected) {
      return AtField(path, range + " leaves bytes [" + std::to_string(expected) + ", " +
                               std::to_string(t.begin) +
                               ") of the data section in no tensor (a hole)");
    }
    expected = t.end;
    prev = &t;
  }
  if (expected != data_size) {
    return AtOffset(out.data_offset + expected,
                    "the tensors end " + std::to_string(data_size - expected) +
                        " bytes before the end of the file (data section [0, " +
                        std::to_string(expected) + ") of " + std::to_string(data_size) +
                        " bytes covered)");
  }
  return out;
}

}  // namespace

const SafetensorsDtype* FindSafetensorsDtype(std::string_view name) {
  for (const SafetensorsDtype& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::span<const SafetensorsDtype> AllSafetensorsDtypes() { return kDtypes; }

const SafetensorsTensor* SafetensorsFile::Find(std::string_view name) const {
  for (const SafetensorsTensor& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const std::string* SafetensorsFile::FindMetadata(std::string_view key) const {
  for (const auto& [k, v] : metadata) {
    if (k == key) return &v;
  }
  return nullptr;
}

Result<SafetensorsFile> ParseSafetensors(std::span<const uint8_t> file, std::string_view source,
                                         const SafetensorsLimits& limits) {
  return Parser(file, source, limits).Parse();
}

}  // namespace warden::formats
