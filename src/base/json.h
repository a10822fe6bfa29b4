// JSON helpers over Boost.JSON: parsing with positions in errors, typed field access whose
// errors name the field's path, and two writers (indented for people, canonical for hashing).
//
// Every accessor returns DataLoss naming the JSON path ("predicate.resources[3].digest") and
// what was expected, so a malformed bundle or config gets a message a person can act on.
// Canonical() writes objects with keys sorted by their UTF-8 bytes and no whitespace; numbers
// are written as Boost.JSON writes them (integers exactly).
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace warden::json {

using boost::json::array;
using boost::json::object;
using boost::json::value;

// Parses exactly one JSON text (trailing whitespace only). `source` names the input in errors,
// e.g. "model.sig: line 3, column 14 (offset 57): syntax error". Nesting deeper than
// `max_depth` is refused, and so is a key repeated within one object (readers disagree on
// which one wins, so a signed document with duplicates could mean two things).
Result<value> Parse(std::string_view text, std::string_view source, size_t max_depth = 64);

struct DuplicateKey {
  std::string key;                // decoded (escapes resolved)
  std::vector<std::string> path;  // keys of the enclosing objects, outermost first
};

// Scans `text` (no value is built) for the first key repeated within one object; sets
// `*duplicate` when it finds one and `*used` to the bytes consumed (where it stopped). Returns
// a DataLoss status for a syntax error (without position; the caller knows its offsets) or OK.
// Trailing bytes after the first value are left for the caller to judge.
Status FindDuplicateKey(std::string_view text, size_t max_depth,
                        std::optional<DuplicateKey>* duplicate, size_t* used);

// Two-space indented text with a final newline; key order is kept as stored.
std::string Pretty(const value& v);
// Sorted keys, no insignificant whitespace.
std::string Canonical(const value& v);

// Joins a path and a key: ("a.b", "c") -> "a.b.c"; ("", "c") -> "c".
std::string Join(std::string_view path, std::string_view key);
std::string JoinIndex(std::string_view path, size_t index);

// Typed access. `path` is the path of `obj` itself, used in messages. A missing field is
// DataLoss "missing field <path.key>"; a field of another type says what it found.
Result<const object*> GetObject(const object& obj, std::string_view key, std::string_view path);
Result<const array*> GetArray(const object& obj, std::string_view key, std::string_view path);
Result<std::string_view> GetString(const object& obj, std::string_view key, std::string_view path);
Result<bool> GetBool(const object& obj, std::string_view key, std::string_view path);
// Accepts a JSON integer, or a float with an integral value (1000000000.0), in [0, 2^63).
Result<uint64_t> GetUint(const object& obj, std::string_view key, std::string_view path);

Result<const object*> AsObject(const value& v, std::string_view path);
Result<std::string_view> AsString(const value& v, std::string_view path);

// "string", "number", "object", ... for messages.
std::string_view KindName(const value& v);

}  // namespace warden::json
