#include "base/json.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace warden::json {

namespace {

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
      std::sort(items.begin(), items.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
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
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
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
  if (ec) {
    size_t line, column;
    LineColumn(text, used, &line, &column);
    std::string what = ec.message();
    if (text.empty()) what = "empty input, expected a JSON value";
    return DataLossError(std::string(source) + ": line " + std::to_string(line) + ", column " +
                         std::to_string(column) + " (offset " + std::to_string(used) +
                         "): " + what);
  }
  return p.release();
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

Result<std::string_view> GetString(const object& obj, std::string_view key,
                                   std::string_view path) {
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
