#include "ledger/entries.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <set>

#include "base/encoding.h"
#include "base/json.h"

namespace warden::ledger {

namespace {

namespace bj = boost::json;

constexpr std::string_view kDigestPrefix = "sha256:";
constexpr size_t kDigestHexChars = 64;
// SHA-256 of the empty string: the RFC 9162 root of an empty tree.
constexpr std::string_view kEmptyRoot =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

constexpr size_t kMaxLabelBytes = 256;
constexpr size_t kMaxTextBytes = 8192;
constexpr size_t kMaxLocationBytes = 2048;
constexpr size_t kMaxListItems = 1024;
constexpr size_t kMaxSignatureBytes = 512;  // decoded; Ed25519 is 64, ECDSA P-256 DER <= 72
// Entries are flat: an object holding strings, numbers, one array or one object of numbers.
constexpr size_t kMaxDepth = 8;
// Integral doubles up to 2^53 are written as integers, where every double is exact.
constexpr double kMaxExactInteger = 9007199254740992.0;

constexpr std::array<std::string_view, 9> kTypes = {
    "model-release", "training-run", "fine-tune",        "dataset",     "eval-report",
    "policy",        "approval",     "audit-checkpoint", "key-rotation"};

enum class Kind {
  kDigest,      // "sha256:" + 64 lower-case hex
  kDigestList,  // non-empty array of distinct digests
  kTime,        // "YYYY-MM-DDTHH:MM:SSZ"
  kLabel,       // short single-line text
  kText,        // free text, may hold newlines and tabs
  kUri,         // absolute URI: scheme ":" rest, no whitespace
  kLocation,    // a URI or a path: single-line text
  kCount,       // integer in [0, 2^63)
  kKeyId,       // 64 lower-case hex: SHA-256 of the key's SPKI DER (crypto::PublicKey)
  kSignature,   // canonical base64 of 1..512 bytes
  kBool,
  kScores,         // non-empty object: label -> finite number
  kPurpose,        // key purpose enum
  kDatasetFormat,  // "lines" | "jsonl" | "csv"
};

struct Field {
  std::string_view name;
  Kind kind;
  bool required;
};

struct Schema {
  std::string_view type;
  std::vector<Field> fields;
};

const std::vector<Schema>& Schemas() {
  static const std::vector<Schema>* schemas = new std::vector<Schema>{
      {"model-release",
       {{"name", Kind::kLabel, true},
        {"version", Kind::kLabel, true},
        {"model_digest", Kind::kDigest, true},
        {"bundle_digest", Kind::kDigest, true},
        {"publisher", Kind::kLabel, false},
        {"license", Kind::kLabel, false},
        {"uri", Kind::kUri, false},
        {"notes", Kind::kText, false}}},
      {"training-run",
       {{"base_model_digest", Kind::kDigest, false},
        {"dataset_roots", Kind::kDigestList, true},
        {"config_digest", Kind::kDigest, true},
        {"output_model_digest", Kind::kDigest, true},
        {"code_revision", Kind::kLabel, true},
        {"hardware", Kind::kLabel, true},
        {"started", Kind::kTime, true},
        {"finished", Kind::kTime, true}}},
      {"fine-tune",
       {{"parent_digest", Kind::kDigest, true},
        {"child_digest", Kind::kDigest, true},
        {"method", Kind::kLabel, false},
        {"dataset_roots", Kind::kDigestList, false}}},
      {"dataset",
       {{"root", Kind::kDigest, true},
        {"count", Kind::kCount, true},
        {"license", Kind::kLabel, true},
        {"source", Kind::kLocation, true},
        {"name", Kind::kLabel, false},
        {"format", Kind::kDatasetFormat, false}}},
      {"eval-report",
       {{"model_digest", Kind::kDigest, true},
        {"report_digest", Kind::kDigest, true},
        {"summary", Kind::kScores, true},
        {"suite", Kind::kLabel, false},
        {"date", Kind::kTime, false}}},
      {"policy",
       {{"policy_digest", Kind::kDigest, true},
        {"location", Kind::kLocation, true},
        {"name", Kind::kLabel, false},
        {"version", Kind::kLabel, false}}},
      {"approval",
       {{"policy_digest", Kind::kDigest, true},
        {"approver", Kind::kKeyId, true},
        {"signature", Kind::kSignature, true},
        {"revokes", Kind::kBool, false}}},
      {"audit-checkpoint",
       {{"root", Kind::kDigest, true},
        {"size", Kind::kCount, true},
        {"source", Kind::kLabel, true},
        {"time", Kind::kTime, false}}},
      {"key-rotation",
       {{"old_key", Kind::kKeyId, true},
        {"new_key", Kind::kKeyId, true},
        {"purpose", Kind::kPurpose, true},
        {"reason", Kind::kText, false},
        {"effective", Kind::kTime, false}}},
  };
  return *schemas;
}

constexpr std::array<std::string_view, 5> kPurposes = {"approval", "ledger", "signing", "watermark",
                                                       "witness"};
constexpr std::array<std::string_view, 3> kDatasetFormats = {"lines", "jsonl", "csv"};

const Schema* FindSchema(std::string_view type) {
  for (const Schema& s : Schemas()) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

std::string TypeList() {
  std::string out;
  for (std::string_view t : kTypes) {
    if (!out.empty()) out += ", ";
    out += t;
  }
  return out;
}

// A value for a message: JSON-quoted (so control characters and quotes are visible), and cut
// to a readable length.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  if (s.size() <= kMaxShown) return bj::serialize(bj::value(bj::string_view(s.data(), s.size())));
  // Cut on a UTF-8 boundary so the quoted text stays valid.
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return bj::serialize(bj::value(bj::string_view(s.data(), cut))) + "...";
}

// A key as it appears in "field <path>": bare when it is a plain identifier, else quoted.
std::string DisplayKey(std::string_view key) {
  bool plain = !key.empty();
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) plain = false;
  }
  return plain ? std::string(key) : Quote(key);
}

// Validation errors carry the JSON path; Entry() puts "<source>: field " in front.
struct FieldError {
  std::string path;
  std::string what;
};

Status FieldStatus(std::string_view source, const FieldError& e) {
  return DataLossError(std::string(source) + ": field " + e.path + ": " + e.what);
}

std::optional<std::string> CheckDigest(std::string_view s) {
  if (s.substr(0, kDigestPrefix.size()) != kDigestPrefix) {
    return "expected a digest \"sha256:<64 lower-case hex digits>\", found " + Quote(s) +
           " (missing the \"sha256:\" prefix)";
  }
  std::string_view hex = s.substr(kDigestPrefix.size());
  if (hex.size() != kDigestHexChars) {
    return "expected 64 hex digits after \"sha256:\", found " + std::to_string(hex.size());
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    const char c = hex[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    if (c >= 'A' && c <= 'F') {
      return "upper-case hex digit at position " + std::to_string(kDigestPrefix.size() + i) +
             "; digests are written in lower case";
    }
    return "non-hex character at position " + std::to_string(kDigestPrefix.size() + i) + " of " +
           Quote(s);
  }
  return std::nullopt;
}

std::optional<std::string> CheckKeyId(std::string_view s) {
  if (s.size() != kDigestHexChars) {
    return "expected a key id of 64 lower-case hex digits, found " + std::to_string(s.size()) +
           " characters";
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    if (c >= 'A' && c <= 'F') {
      return "upper-case hex digit at position " + std::to_string(i) +
             "; key ids are written in lower case";
    }
    return "non-hex character at position " + std::to_string(i) + " of the key id";
  }
  return std::nullopt;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::optional<std::string> CheckTime(std::string_view s) {
  const std::string bad =
      "expected an RFC 3339 UTC time like \"2026-11-29T12:00:00Z\", found " + Quote(s);
  // YYYY-MM-DDTHH:MM:SSZ
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kShape.size()) return bad;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != kShape[i]) return bad;
  }
  auto num = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
    return v;
  };
  const int year = num(0, 4), month = num(5, 2), day = num(8, 2);
  const int hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return bad + " (month out of range)";
  const int days = kDays[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  if (day < 1 || day > days) return bad + " (day out of range)";
  if (hour > 23 || minute > 59 || second > 59) return bad + " (time of day out of range)";
  return std::nullopt;
}

// Control characters are refused so that an entry prints safely on a terminal; `multiline`
// lets newlines and tabs through.
std::optional<std::string> CheckText(std::string_view s, size_t max_bytes, bool multiline) {
  if (s.empty()) return std::string("empty string");
  if (s.size() > max_bytes) {
    return std::to_string(s.size()) + " bytes, more than the limit of " + std::to_string(max_bytes);
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (multiline && (c == '\n' || c == '\t')) continue;
    if (c < 0x20 || c == 0x7f) {
      return "control character at byte " + std::to_string(i) +
             (multiline ? "" : " (this field is a single line)");
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckUri(std::string_view s) {
  if (auto e = CheckText(s, kMaxLocationBytes, false)) return e;
  size_t colon = s.find(':');
  bool scheme_ok = colon != std::string_view::npos && colon > 0 &&
                   ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
  for (size_t i = 1; scheme_ok && i < colon; ++i) {
    const char c = s[i];
    scheme_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '+' || c == '-' || c == '.';
  }
  if (!scheme_ok || colon + 1 == s.size()) {
    return "expected an absolute URI (scheme:rest, e.g. \"https://...\"), found " + Quote(s);
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') return "space at byte " + std::to_string(i) + " of a URI (write %20)";
  }
  return std::nullopt;
}

std::optional<std::string> CheckEnum(std::string_view s,
                                     std::span<const std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (s == a) return std::nullopt;
  }
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return "expected one of " + list + ", found " + Quote(s);
}

std::string Expected(std::string_view want, const bj::value& got) {
  return "expected " + std::string(want) + ", found " + std::string(json::KindName(got));
}

// Rewrites a number so that equal numbers have equal bytes: integral values within 2^53 become
// integers (1.0, 1e0 and 1 all give "1"; -0.0 gives "0"). Returns an error for non-finite
// values (not expected from a parser, but cheap to refuse).
//
// Boost.JSON 1.81 does not parse every number correctly rounded (long mantissas, large
// exponents), so the text written for a double can parse back to a neighbouring double and
// canonicalizing twice would give different bytes. The value is therefore moved to a fixed
// point: a double whose written form parses back to itself (found by the entry fuzzer).
std::optional<std::string> NormalizeNumber(bj::value& v) {
  if (!v.is_double()) return std::nullopt;
  double d = v.get_double();
  if (!std::isfinite(d)) return std::string("number is not finite");
  bool settled = false;
  for (int round = 0; round < 8 && !settled; ++round) {
    boost::system::error_code ec;
    bj::value back = bj::parse(bj::serialize(bj::value(d)), ec);
    if (ec || !back.is_double() || !std::isfinite(back.get_double())) break;
    settled = back.get_double() == d;
    d = back.get_double();
  }
  if (!settled) return std::string("number cannot be stored exactly; use fewer digits");
  if (std::floor(d) == d && std::fabs(d) <= kMaxExactInteger) {
    v = static_cast<int64_t>(d);
  } else {
    v = d;
  }
  return std::nullopt;
}

// Checks (and normalizes in place) one field value. Returns the error, if any.
std::optional<FieldError> CheckField(const Field& f, bj::value& v) {
  const std::string path = std::string(f.name);
  auto fail = [&](std::string what) { return FieldError{path, std::move(what)}; };
  auto as_string = [&]() -> std::optional<std::string_view> {
    if (!v.is_string()) return std::nullopt;
    const auto& s = v.get_string();
    return std::string_view(s.data(), s.size());
  };
  std::optional<std::string> err;
  switch (f.kind) {
    case Kind::kDigest:
    case Kind::kTime:
    case Kind::kLabel:
    case Kind::kText:
    case Kind::kUri:
    case Kind::kLocation:
    case Kind::kKeyId:
    case Kind::kSignature:
    case Kind::kPurpose:
    case Kind::kDatasetFormat: {
      auto s = as_string();
      if (!s) return fail(Expected("a string", v));
      switch (f.kind) {
        case Kind::kDigest:
          err = CheckDigest(*s);
          break;
        case Kind::kTime:
          err = CheckTime(*s);
          break;
        case Kind::kLabel:
          err = CheckText(*s, kMaxLabelBytes, false);
          break;
        case Kind::kText:
          err = CheckText(*s, kMaxTextBytes, true);
          break;
        case Kind::kUri:
          err = CheckUri(*s);
          break;
        case Kind::kLocation:
          err = CheckText(*s, kMaxLocationBytes, false);
          break;
        case Kind::kKeyId:
          err = CheckKeyId(*s);
          break;
        case Kind::kSignature: {
          auto raw = Base64Decode(*s);
          if (!raw.has_value()) {
            err = "expected base64 (RFC 4648, padded): " + raw.error().message();
          } else if (raw->empty() || raw->size() > kMaxSignatureBytes) {
            err = "signature of " + std::to_string(raw->size()) + " bytes; expected 1 to " +
                  std::to_string(kMaxSignatureBytes);
          }
          break;
        }
        case Kind::kPurpose:
          err = CheckEnum(*s, kPurposes);
          break;
        case Kind::kDatasetFormat:
          err = CheckEnum(*s, kDatasetFormats);
          break;
        default:
          break;
      }
      if (err) return fail(*std::move(err));
      return std::nullopt;
    }
    case Kind::kDigestList: {
      if (!v.is_array()) return fail(Expected("an array of digests", v));
      const bj::array& a = v.get_array();
      if (a.empty()) return fail("empty array; at least one digest is required");
      if (a.size() > kMaxListItems) {
        return fail(std::to_string(a.size()) + " items, more than the limit of " +
                    std::to_string(kMaxListItems));
      }
      std::set<std::string_view> seen;
      for (size_t i = 0; i < a.size(); ++i) {
        const std::string item_path = json::JoinIndex(path, i);
        if (!a[i].is_string()) return FieldError{item_path, Expected("a string", a[i])};
        const std::string_view s(a[i].get_string().data(), a[i].get_string().size());
        if (auto e = CheckDigest(s)) return FieldError{item_path, *e};
        if (!seen.insert(s).second) return FieldError{item_path, "repeats an earlier digest"};
      }
      return std::nullopt;
    }
    case Kind::kCount: {
      if (!v.is_number()) return fail(Expected("a non-negative integer", v));
      if (auto e = NormalizeNumber(v)) return fail(*e);
      if (v.is_double()) {
        return fail("expected a non-negative integer, found " + bj::serialize(v));
      }
      if (v.is_int64() && v.get_int64() < 0) {
        return fail("negative value " + std::to_string(v.get_int64()));
      }
      if (v.is_uint64() && v.get_uint64() >= (uint64_t{1} << 63)) {
        return fail("value too large (the limit is 2^63 - 1)");
      }
      return std::nullopt;
    }
    case Kind::kBool:
      if (!v.is_bool()) return fail(Expected("a boolean", v));
      return std::nullopt;
    case Kind::kScores: {
      if (!v.is_object()) return fail(Expected("an object of metric name -> number", v));
      bj::object& o = v.get_object();
      if (o.empty()) return fail("empty object; at least one metric is required");
      if (o.size() > kMaxListItems) {
        return fail(std::to_string(o.size()) + " metrics, more than the limit of " +
                    std::to_string(kMaxListItems));
      }
      for (auto& kv : o) {
        const std::string_view key(kv.key().data(), kv.key().size());
        const std::string item_path = json::Join(path, DisplayKey(key));
        if (auto e = CheckText(key, kMaxLabelBytes, false)) {
          return FieldError{item_path, "metric name: " + *e};
        }
        if (!kv.value().is_number()) return FieldError{item_path, Expected("a number", kv.value())};
        if (auto e = NormalizeNumber(kv.value())) return FieldError{item_path, *e};
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string_view StringField(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string_view(v->get_string().data(), v->get_string().size());
}

uint64_t CountField(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return static_cast<uint64_t>(v->get_int64());
  if (v->is_uint64()) return v->get_uint64();
  return 0;
}

// Rules that involve more than one field. Runs after every field has passed CheckField.
std::optional<FieldError> CheckCrossFields(std::string_view type, const bj::object& o) {
  if (type == "training-run") {
    // Fixed-width UTC times compare as strings.
    if (StringField(o, "finished") < StringField(o, "started")) {
      return FieldError{"finished", Quote(StringField(o, "finished")) + " is before started " +
                                        Quote(StringField(o, "started"))};
    }
    if (StringField(o, "base_model_digest") == StringField(o, "output_model_digest")) {
      return FieldError{"output_model_digest",
                        "equals base_model_digest; a training run that "
                        "changes nothing is not a training run"};
    }
  } else if (type == "fine-tune") {
    if (StringField(o, "parent_digest") == StringField(o, "child_digest")) {
      return FieldError{"child_digest", "equals parent_digest; a model cannot be its own parent"};
    }
  } else if (type == "dataset") {
    if (CountField(o, "count") == 0 && StringField(o, "root") != kEmptyRoot) {
      return FieldError{
          "root", "count is 0 but root is not the empty-tree root " + std::string(kEmptyRoot)};
    }
  } else if (type == "audit-checkpoint") {
    if (CountField(o, "size") == 0 && StringField(o, "root") != kEmptyRoot) {
      return FieldError{"root",
                        "size is 0 but root is not the empty-tree root " + std::string(kEmptyRoot)};
    }
  } else if (type == "key-rotation") {
    if (StringField(o, "old_key") == StringField(o, "new_key")) {
      return FieldError{"new_key", "equals old_key; a rotation must change the key"};
    }
  }
  return std::nullopt;
}

struct Validated {
  std::string type;
  bj::value value;  // normalized, with "type" set
};

Result<Validated> Validate(std::string_view type, std::string_view json_text,
                           std::string_view source) {
  if (!type.empty() && !IsEntryType(type)) {
    return InvalidArgumentError("unknown entry type " + Quote(type) + " (known: " + TypeList() +
                                ")");
  }
  if (json_text.size() > kMaxEntryBytes) {
    return DataLossError(std::string(source) + ": entry of " + std::to_string(json_text.size()) +
                         " bytes is larger than the limit of " + std::to_string(kMaxEntryBytes));
  }
  WARDEN_ASSIGN_OR_RETURN(bj::value v, json::Parse(json_text, source, kMaxDepth));
  if (!v.is_object()) {
    return DataLossError(std::string(source) + ": expected a JSON object, found " +
                         std::string(json::KindName(v)));
  }
  bj::object& o = v.get_object();

  std::string resolved(type);
  if (const bj::value* t = o.if_contains("type")) {
    if (!t->is_string()) {
      return FieldStatus(source, {"type", Expected("a string", *t)});
    }
    const std::string_view named(t->get_string().data(), t->get_string().size());
    if (!IsEntryType(named)) {
      return FieldStatus(
          source, {"type", "unknown entry type " + Quote(named) + " (known: " + TypeList() + ")"});
    }
    if (!resolved.empty() && named != resolved) {
      return FieldStatus(source, {"type", Quote(named) + " does not match the entry type " +
                                              Quote(resolved) + " it was given as"});
    }
    resolved = std::string(named);
  }
  if (resolved.empty()) {
    return FieldStatus(source, {"type", "missing, and no entry type was given"});
  }
  const Schema& schema = *FindSchema(resolved);

  // Unknown fields first: a misspelt field name explains the "missing field" that follows.
  for (const auto& kv : o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (key == "type") continue;
    const bool known = std::any_of(schema.fields.begin(), schema.fields.end(),
                                   [&](const Field& f) { return f.name == key; });
    if (!known) {
      std::string list;
      for (const Field& f : schema.fields) list += (list.empty() ? "" : ", ") + std::string(f.name);
      return FieldStatus(source, {DisplayKey(key), "unknown field for a " + resolved +
                                                       " entry (known: " + list + ")"});
    }
  }
  for (const Field& f : schema.fields) {
    bj::value* fv = o.if_contains(f.name);
    if (fv == nullptr) {
      if (f.required) {
        return FieldStatus(source,
                           {std::string(f.name), "missing (required in a " + resolved + " entry)"});
      }
      continue;
    }
    if (auto e = CheckField(f, *fv)) return FieldStatus(source, *e);
  }
  if (auto e = CheckCrossFields(resolved, o)) return FieldStatus(source, *e);

  o["type"] = resolved;
  return Validated{std::move(resolved), std::move(v)};
}

void AddString(std::vector<std::string>& out, const bj::object& o, std::string_view key) {
  std::string_view s = StringField(o, key);
  if (!s.empty()) out.emplace_back(s);
}

void AddList(std::vector<std::string>& out, const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return;
  for (const bj::value& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string().data(), item.get_string().size());
  }
}

}  // namespace

std::span<const std::string_view> EntryTypes() { return kTypes; }

bool IsEntryType(std::string_view type) {
  return std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
}

Result<CanonicalEntry> CanonicalizeEntry(std::string_view type, std::string_view json_text,
                                         std::string_view source) {
  WARDEN_ASSIGN_OR_RETURN(Validated checked, Validate(type, json_text, source));
  CanonicalEntry out{std::move(checked.type), json::Canonical(checked.value)};
  if (out.canonical_json.size() > kMaxEntryBytes) {
    return DataLossError(std::string(source) + ": canonical entry of " +
                         std::to_string(out.canonical_json.size()) +
                         " bytes is larger than the limit of " + std::to_string(kMaxEntryBytes));
  }
  return out;
}

Result<EntryLinks> LinksOf(std::string_view type, std::string_view canonical_json) {
  const std::string source = (type.empty() ? std::string("ledger") : std::string(type)) + " entry";
  WARDEN_ASSIGN_OR_RETURN(Validated checked, Validate(type, canonical_json, source));
  const bj::object& o = checked.value.get_object();
  const std::string& t = checked.type;
  EntryLinks links;
  if (t == "model-release") {
    AddString(links.model_digests_out, o, "model_digest");
  } else if (t == "training-run") {
    AddString(links.model_digests_in, o, "base_model_digest");
    AddString(links.model_digests_out, o, "output_model_digest");
    AddList(links.dataset_roots, o, "dataset_roots");
  } else if (t == "fine-tune") {
    AddString(links.model_digests_in, o, "parent_digest");
    AddString(links.model_digests_out, o, "child_digest");
    AddList(links.dataset_roots, o, "dataset_roots");
  } else if (t == "dataset") {
    AddString(links.dataset_roots, o, "root");
  } else if (t == "eval-report") {
    AddString(links.model_digests_in, o, "model_digest");
  } else if (t == "policy" || t == "approval") {
    AddString(links.policy_digests, o, "policy_digest");
  }
  return links;
}

}  // namespace warden::ledger
