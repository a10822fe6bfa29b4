#include "base/json.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <unordered_set>
#include <vector>

namespace warden::json {

namespace {

// SAX handler for boost::json::basic_parser that stops at the first key repeated within one
// object. Keys arrive decoded (escapes resolved), possibly in several parts.
class DuplicateKeyHandler {
 public:
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  using ec_t = boost::system::error_code;
  using sv = boost::json::string_view;

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) {
    frames_.push_back(Frame{false, {}, {}});
    return true;
  }
  bool on_array_end(std::size_t, ec_t&) {
    Pop();
    return true;
  }
  bool on_object_begin(ec_t&) {
    frames_.push_back(Frame{true, {}, {}});
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    Pop();
    return true;
  }
  bool on_string_part(sv, std::size_t, ec_t&) { return true; }
  bool on_string(sv, std::size_t, ec_t&) { return Value(); }
  bool on_key_part(sv s, std::size_t, ec_t&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(sv s, std::size_t, ec_t& ec) {
    key_.append(s.data(), s.size());
    Frame& f = frames_.back();
    if (!f.keys.insert(key_).second) {
      duplicate_ = key_;
      duplicate_path_ = Path();
      ec = boost::json::error::syntax;  // any error stops the parser; duplicate_ says why
      return false;
    }
    f.current_key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(sv, ec_t&) { return true; }
  bool on_int64(int64_t, sv, ec_t&) { return Value(); }
  bool on_uint64(uint64_t, sv, ec_t&) { return Value(); }
  bool on_double(double, sv, ec_t&) { return Value(); }
  bool on_bool(bool, ec_t&) { return Value(); }
  bool on_null(ec_t&) { return Value(); }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }

  const std::string& duplicate() const { return duplicate_; }
  const std::vector<std::string>& duplicate_path() const { return duplicate_path_; }
  bool found_duplicate() const { return found_; }

 private:
  struct Frame {
    bool is_object;
    std::unordered_set<std::string> keys;
    std::string current_key;
  };
  bool Value() { return true; }
  void Pop() {
    if (!frames_.empty()) frames_.pop_back();
  }
  // Where the duplicate is: the keys of the enclosing objects, "" for the top level.
  std::vector<std::string> Path() {
    found_ = true;
    std::vector<std::string> out;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      if (!frames_[i].is_object) continue;
      out.push_back(frames_[i].current_key);
    }
    return out;
  }

  std::vector<Frame> frames_;
  std::string key_;
  std::string duplicate_;
  std::vector<std::string> duplicate_path_;
  bool found_ = false;
};

void LineColumn(std::string_view text, size_t offset, size_t* line, size_t* column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
  }
}

void WriteString(std::string& out, std::string_view s) { out += boost::json::serialize(value(s)); }

void WritePretty(std::string& out, const value& v, int indent) {
  auto pad = [&](int n) { out.append(static_cast<size_t>(n) * 2, ' '); };
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      size_t i = 0;
      for (const auto& kv : o) {
        pad(indent + 1);
        WriteString(out, kv.key());
        out += ": ";
        WritePretty(out, kv.value(), indent + 1);
        out += ++i < o.size() ? ",\n" : "\n";
      }
      pad(indent);
      out += "}";
      return;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (size_t i = 0; i < a.size(); ++i) {
        pad(indent + 1);
        WritePretty(out, a[i], indent + 1);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      pad(indent);
      out += "]";
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

void WriteCanonical(std::string& out, const value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const boost::json::key_value_pair*> items;
      items.reserve(o.size());
      for (const auto& kv : o) items.push_back(&kv);
      std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        WriteString(out, items[i]->key());
        out += ':';
        WriteCanonical(out, items[i]->value());
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        WriteCanonical(out, a[i]);
      }
      out += ']';
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

Status WrongKind(std::string_view path, std::string_view want, const value& got) {
  return DataLossError("field " + std::string(path) + ": expected " + std::string(want) +
                       ", found " + std::string(KindName(got)));
}

Result<const value*> Find(const object& obj, std::string_view key, std::string_view path) {
  const value* v = obj.if_contains(key);
  if (v == nullptr) return DataLossError("missing field " + Join(path, key));
  return v;
}

}  // namespace

std::string_view KindName(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "unknown";
}

Result<value> Parse(std::string_view text, std::string_view source, size_t max_depth) {
  boost::json::parse_options opt;
  opt.max_depth = max_depth;
  boost::json::stream_parser p({}, opt);
  boost::system::error_code ec;
  size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec && used == text.size()) p.finish(ec);
  if (!ec && used != text.size()) ec = boost::json::error::extra_data;
  std::optional<DuplicateKey> dup;
  size_t dup_at = 0;
  if (!ec) {
    // The text is valid JSON here; only the duplicate matters.
    FindDuplicateKey(text, max_depth, &dup, &dup_at).IgnoreError();
    if (dup) used = dup_at;
  }
  if (ec || dup) {
    size_t line, column;
    LineColumn(text, used, &line, &column);
    std::string what = ec.message();
    if (text.empty()) what = "empty input, expected a JSON value";
    if (dup) {
      std::string where;
      for (const auto& k : dup->path) where += (where.empty() ? "" : ".") + k;
      what = "duplicate key " + boost::json::serialize(value(dup->key)) +
             (where.empty() ? std::string(" in the top-level object") : " in object " + where);
    }
    return DataLossError(std::string(source) + ": line " + std::to_string(line) + ", column " +
                         std::to_string(column) + " (offset " + std::to_string(used) +
                         "): " + what);
  }
  return p.release();
}

Status FindDuplicateKey(std::string_view text, size_t max_depth,
                        std::optional<DuplicateKey>* duplicate, size_t* used) {
  boost::json::parse_options opt;
  opt.max_depth = max_depth;
  boost::json::basic_parser<DuplicateKeyHandler> p(opt);
  boost::system::error_code ec;
  *used = p.write_some(false, text.data(), text.size(), ec);
  duplicate->reset();
  if (p.handler().found_duplicate()) {
    *duplicate = DuplicateKey{p.handler().duplicate(), p.handler().duplicate_path()};
    return Status::Ok();
  }
  if (ec) return DataLossError(ec.message());
  return Status::Ok();
}

std::string Pretty(const value& v) {
  std::string out;
  WritePretty(out, v, 0);
  out += '\n';
  return out;
}

std::string Canonical(const value& v) {
  std::string out;
  WriteCanonical(out, v);
  return out;
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string JoinIndex(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

Result<const object*> AsObject(const value& v, std::string_view path) {
  if (!v.is_object()) return WrongKind(path, "an object", v);
  return &v.get_object();
}

Result<std::string_view> AsString(const value& v, std::string_view path) {
  if (!v.is_string()) return WrongKind(path, "a string", v);
  const auto& s = v.get_string();
  return std::string_view(s.data(), s.size());
}

Result<const object*> GetObject(const object& obj, std::string_view key, std::string_view path) {
  WARDEN_ASSIGN_OR_RETURN(const value* v, Find(obj, key, path));
  return AsObject(*v, Join(path, key));
}

Result<const array*> GetArray(const object& obj, std::string_view key, std::string_view path) {
  WARDEN_ASSIGN_OR_RETURN(const value* v, Find(obj, key, path));
  if (!v->is_array()) return WrongKind(Join(path, key), "an array", *v);
  return &v->get_array();
}

Result<std::string_view> GetString(const object& obj, std::string_view key, std::string_view path) {
  WARDEN_ASSIGN_OR_RETURN(const value* v, Find(obj, key, path));
  return AsString(*v, Join(path, key));
}

Result<bool> GetBool(const object& obj, std::string_view key, std::string_view path) {
  WARDEN_ASSIGN_OR_RETURN(const value* v, Find(obj, key, path));
  if (!v->is_bool()) return WrongKind(Join(path, key), "a boolean", *v);
  return v->get_bool();
}

Result<uint64_t> GetUint(const object& obj, std::string_view key, std::string_view path) {
  WARDEN_ASSIGN_OR_RETURN(const value* v, Find(obj, key, path));
  const std::string full = Join(path, key);
  constexpr double kTwo63 = 9223372036854775808.0;
  switch (v->kind()) {
    case boost::json::kind::int64:
      if (v->get_int64() < 0) return DataLossError("field " + full + ": negative value");
      return static_cast<uint64_t>(v->get_int64());
    case boost::json::kind::uint64:
      if (v->get_uint64() >= (uint64_t{1} << 63)) {
        return DataLossError("field " + full + ": value too large");
      }
      return v->get_uint64();
    case boost::json::kind::double_: {
      double d = v->get_double();
      if (!(d >= 0) || d >= kTwo63 || std::floor(d) != d) {
        return DataLossError("field " + full + ": expected a non-negative integer, found " +
                             boost::json::serialize(*v));
      }
      return static_cast<uint64_t>(d);
    }
    default:
      return WrongKind(full, "an integer", *v);
  }
}

}  // namespace warden::json
