#include "guard/scanner.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace warden::guard {

namespace {
constexpr std::string_view kJoinSeparator = "\n\n";

std::string KeyError(std::string_view key, std::string_view what) {
  return "key \"" + std::string(key) + "\": " + std::string(what);
}
}  // namespace

ScanContext::ScanContext(Phase phase, std::vector<Segment> segments, RequestState* state,
                         const ScanLimits& limits)
    : phase_(phase), segments_(std::move(segments)), state_(state), limits_(limits) {}

ScanContext::JoinedView& ScanContext::View(int32_t view) {
  JoinedView& v = view == Finding::kJoinedUser ? joined_user_ : joined_all_;
  if (v.valid) return v;
  v.text.clear();
  v.starts.clear();
  v.index.clear();
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i].depth != 0) continue;
    if (view == Finding::kJoinedUser && segments_[i].role != "user") continue;
    if (!v.index.empty()) v.text += kJoinSeparator;
    v.starts.push_back(v.text.size());
    v.index.push_back(static_cast<int32_t>(i));
    v.text += segments_[i].text;
  }
  v.valid = true;
  return v;
}

std::string_view ScanContext::joined(int32_t view) { return View(view).text; }

std::pair<int32_t, Span> ScanContext::Locate(Span joined_span, int32_t view) {
  const JoinedView& v = View(view);
  if (v.index.empty()) return {view, joined_span};
  // The last part that starts at or before the span's begin.
  auto it = std::upper_bound(v.starts.begin(), v.starts.end(), joined_span.begin);
  size_t part = it == v.starts.begin() ? 0 : static_cast<size_t>(it - v.starts.begin()) - 1;
  size_t start = v.starts[part];
  size_t length = segments_[v.index[part]].text.size();
  if (joined_span.begin >= start + length && part + 1 < v.index.size()) {
    // Begins on a separator: move to the next part.
    ++part;
    start = v.starts[part];
    length = segments_[v.index[part]].text.size();
    joined_span.begin = std::max(joined_span.begin, start);
    joined_span.end = std::max(joined_span.end, joined_span.begin);
  }
  Span local;
  local.begin = std::min(joined_span.begin - start, length);
  local.end = std::min(joined_span.end > start ? joined_span.end - start : 0, length);
  if (local.end < local.begin) local.end = local.begin;
  return {v.index[part], local};
}

Status ScanContext::ReplaceText(int32_t segment, std::string text) {
  if (segment < 0 || static_cast<size_t>(segment) >= segments_.size()) {
    return InvalidArgumentError("ReplaceText: no segment " + std::to_string(segment));
  }
  segments_[segment].text = std::move(text);
  joined_all_.valid = false;
  joined_user_.valid = false;
  return Status::Ok();
}

bool ScanContext::AddDerived(int32_t parent, Span parent_span, std::string via,
                             std::string text) {
  if (parent < 0 || static_cast<size_t>(parent) >= segments_.size()) return false;
  const uint32_t depth = segments_[parent].depth + 1;
  if (depth > limits_.max_decode_depth) return false;
  if (segments_.size() >= limits_.max_segments) return false;
  if (derived_bytes_ + text.size() > limits_.max_derived_bytes) return false;
  derived_bytes_ += text.size();
  Segment s;
  s.text = std::move(text);
  s.role = segments_[parent].role;
  s.message = segments_[parent].message;
  s.parent = parent;
  s.parent_span = parent_span;
  s.depth = depth;
  s.via = std::move(via);
  segments_.push_back(std::move(s));
  return true;
}

Status ScannerRegistry::Register(std::unique_ptr<ScannerFactory> factory) {
  if (factory == nullptr) return InvalidArgumentError("scanner registry: null factory");
  const std::string_view name = factory->name();
  if (name.empty()) return InvalidArgumentError("scanner registry: empty scanner name");
  if (Find(name) != nullptr) {
    return InvalidArgumentError("scanner registry: \"" + std::string(name) +
                                   "\" is already registered");
  }
  factories_.push_back(std::move(factory));
  return Status::Ok();
}

const ScannerFactory* ScannerRegistry::Find(std::string_view name) const {
  for (const auto& f : factories_) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

Result<std::unique_ptr<Scanner>> ScannerRegistry::Create(std::string_view name,
                                                         const ScannerConfig& config) const {
  const ScannerFactory* factory = Find(name);
  if (factory == nullptr) {
    std::string known;
    for (std::string_view n : Names()) {
      if (!known.empty()) known += ", ";
      known += n;
    }
    return NotFoundError("unknown scanner type \"" + std::string(name) + "\" (known: " +
                            known + ")");
  }
  return factory->Create(config);
}

std::vector<std::string_view> ScannerRegistry::Names() const {
  std::vector<std::string_view> names;
  for (const auto& f : factories_) names.push_back(f->name());
  std::sort(names.begin(), names.end());
  return names;
}

Status CheckKnownKeys(const json::object& options, std::initializer_list<std::string_view> known) {
  for (const auto& kv : options) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string allowed;
    for (std::string_view k : known) {
      if (!allowed.empty()) allowed += ", ";
      allowed += k;
    }
    if (allowed.empty()) allowed = "none";
    return InvalidArgumentError(KeyError(key, "unknown option (allowed: " + allowed + ")"));
  }
  return Status::Ok();
}

Result<std::optional<double>> OptionalNumber(const json::object& options, std::string_view key) {
  const json::value* v = options.if_contains(key);
  if (v == nullptr) return std::optional<double>();
  double d = 0;
  if (v->is_int64()) {
    d = static_cast<double>(v->as_int64());
  } else if (v->is_uint64()) {
    d = static_cast<double>(v->as_uint64());
  } else if (v->is_double()) {
    d = v->as_double();
  } else {
    return InvalidArgumentError(
        KeyError(key, "must be a number, got " + std::string(json::KindName(*v))));
  }
  if (!std::isfinite(d)) return InvalidArgumentError(KeyError(key, "must be finite"));
  return std::optional<double>(d);
}

Result<std::optional<bool>> OptionalBool(const json::object& options, std::string_view key) {
  const json::value* v = options.if_contains(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) {
    return InvalidArgumentError(
        KeyError(key, "must be true or false, got " + std::string(json::KindName(*v))));
  }
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::string>> OptionalString(const json::object& options,
                                                  std::string_view key) {
  const json::value* v = options.if_contains(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) {
    return InvalidArgumentError(
        KeyError(key, "must be a string, got " + std::string(json::KindName(*v))));
  }
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<std::optional<std::vector<std::string>>> OptionalStringList(const json::object& options,
                                                                   std::string_view key) {
  const json::value* v = options.if_contains(key);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) {
    return InvalidArgumentError(
        KeyError(key, "must be a list of strings, got " + std::string(json::KindName(*v))));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const json::value& e = v->as_array()[i];
    if (!e.is_string()) {
      return InvalidArgumentError(KeyError(key, "item " + std::to_string(i) +
                                                       " must be a string, got " +
                                                       std::string(json::KindName(e))));
    }
    out.emplace_back(e.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace warden::guard
