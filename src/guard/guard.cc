#include "guard/guard.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "guard/builtin_scanners.h"
#include "guard/tools.h"

namespace warden::guard {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kContinue:
      return "continue";
    case Action::kRedact:
      return "redact";
    case Action::kBlock:
      return "block";
  }
  return "continue";
}

// ---------------------------------------------------------------------------------------------
// Parsing a chat request

namespace {

Result<std::string> ContentText(const json::value& content, const std::string& path,
                                size_t* unscanned_parts) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return std::string(content.as_string());
  if (!content.is_array()) {
    return DataLossError(path + ": must be a string, null or an array of parts, got " +
                            std::string(json::KindName(content)));
  }
  std::string text;
  const json::array& parts = content.as_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part_path = json::JoinIndex(path, i);
    WARDEN_ASSIGN_OR_RETURN(const json::object* part, json::AsObject(parts[i], part_path));
    WARDEN_ASSIGN_OR_RETURN(std::string_view type, json::GetString(*part, "type", part_path));
    if (type == "text" || type == "input_text") {
      WARDEN_ASSIGN_OR_RETURN(std::string_view t, json::GetString(*part, "text", part_path));
      if (!text.empty()) text += "\n";
      text += t;
    } else {
      ++*unscanned_parts;  // images, audio, files: not text, reported by CheckInput
    }
  }
  return text;
}

Result<std::vector<ToolCall>> ParseToolCalls(const json::object& message, const std::string& path) {
  std::vector<ToolCall> calls;
  const json::value* v = message.if_contains("tool_calls");
  if (v == nullptr || v->is_null()) return calls;
  const std::string calls_path = json::Join(path, "tool_calls");
  if (!v->is_array()) {
    return DataLossError(calls_path + ": must be an array, got " +
                            std::string(json::KindName(*v)));
  }
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const std::string call_path = json::JoinIndex(calls_path, i);
    WARDEN_ASSIGN_OR_RETURN(const json::object* call, json::AsObject(v->as_array()[i], call_path));
    ToolCall tc;
    if (const json::value* id = call->if_contains("id"); id != nullptr && id->is_string()) {
      tc.id = std::string(id->as_string());
    }
    WARDEN_ASSIGN_OR_RETURN(const json::object* fn, json::GetObject(*call, "function", call_path));
    const std::string fn_path = json::Join(call_path, "function");
    WARDEN_ASSIGN_OR_RETURN(std::string_view name, json::GetString(*fn, "name", fn_path));
    tc.name = std::string(name);
    const json::value* args = fn->if_contains("arguments");
    if (args == nullptr || args->is_null()) {
      tc.arguments = "{}";
    } else if (args->is_string()) {
      tc.arguments = std::string(args->as_string());
    } else {
      // Some clients send the object itself; keep its text so the same checks apply.
      tc.arguments = json::Canonical(*args);
    }
    calls.push_back(std::move(tc));
  }
  return calls;
}

}  // namespace

Result<Conversation> ParseConversation(const json::value& body, std::string_view source) {
  Conversation conv;
  const std::string src(source);
  const json::array* messages = nullptr;
  std::string base;
  if (body.is_array()) {
    messages = &body.as_array();
  } else if (body.is_object()) {
    const json::object& obj = body.as_object();
    Result<const json::array*> m = json::GetArray(obj, "messages", "");
    if (!m.has_value()) return DataLossError(src + ": " + m.error().message());
    messages = m.value();
    base = "messages";
    if (const json::value* tools = obj.if_contains("tools"); tools != nullptr && !tools->is_null()) {
      if (!tools->is_array()) {
        return DataLossError(src + ": tools: must be an array, got " +
                                std::string(json::KindName(*tools)));
      }
      conv.tool_definitions = tools->as_array();
      for (size_t i = 0; i < tools->as_array().size(); ++i) {
        const std::string path = json::JoinIndex("tools", i);
        Result<const json::object*> tool = json::AsObject(tools->as_array()[i], path);
        if (!tool.has_value()) return DataLossError(src + ": " + tool.error().message());
        Result<const json::object*> fn = json::GetObject(*tool.value(), "function", path);
        if (!fn.has_value()) return DataLossError(src + ": " + fn.error().message());
        Result<std::string_view> name =
            json::GetString(*fn.value(), "name", json::Join(path, "function"));
        if (!name.has_value()) return DataLossError(src + ": " + name.error().message());
        conv.tools.emplace_back(name.value());
      }
    }
  } else {
    return DataLossError(src + ": expected a chat request object or an array of messages, got " +
                            std::string(json::KindName(body)));
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const std::string path = base.empty() ? "[" + std::to_string(i) + "]" : json::JoinIndex(base, i);
    auto fail = [&](const Status& s) { return DataLossError(src + ": " + s.message()); };
    Result<const json::object*> obj = json::AsObject((*messages)[i], path);
    if (!obj.has_value()) return fail(obj.error());
    Result<std::string_view> role = json::GetString(*obj.value(), "role", path);
    if (!role.has_value()) return fail(role.error());
    Message m;
    m.role = std::string(role.value());
    if (m.role == "developer") m.role = "system";
    if (m.role == "function") m.role = "tool";
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
      return DataLossError(src + ": " + json::Join(path, "role") +
                              ": must be system, developer, user, assistant or tool, got \"" +
                              std::string(role.value()) + "\"");
    }
    const json::value* content = obj.value()->if_contains("content");
    if (content != nullptr) {
      size_t unscanned = 0;
      Result<std::string> text = ContentText(*content, json::Join(path, "content"), &unscanned);
      if (!text.has_value()) return fail(text.error());
      m.content = std::move(text.value());
      conv.unscanned_parts += unscanned;
    }
    if (const json::value* n = obj.value()->if_contains("name"); n != nullptr && n->is_string()) {
      m.name = std::string(n->as_string());
    }
    if (const json::value* id = obj.value()->if_contains("tool_call_id");
        id != nullptr && id->is_string()) {
      m.tool_call_id = std::string(id->as_string());
    }
    Result<std::vector<ToolCall>> calls = ParseToolCalls(*obj.value(), path);
    if (!calls.has_value()) return fail(calls.error());
    m.tool_calls = std::move(calls.value());
    conv.messages.push_back(std::move(m));
  }
  return conv;
}

// ---------------------------------------------------------------------------------------------
// The guard

struct ChainEntry {
  std::string name;
  ConfiguredAction action;
  OnError on_error;
  std::unique_ptr<Scanner> scanner;
};

struct Guard::Impl {
  Policy policy;
  std::vector<ChainEntry> input;
  std::vector<ChainEntry> output;
  std::vector<std::pair<std::string, ToolGuard>> tools;  // per tier

  const ToolGuard* ToolsFor(std::string_view tier) const {
    for (const auto& [name, g] : tools) {
      if (name == tier) return &g;
    }
    return nullptr;
  }

  ScanLimits Limits() const {
    ScanLimits l;
    l.max_decode_depth = policy.limits.max_decode_depth;
    l.max_derived_bytes = policy.limits.max_decoded_bytes;
    return l;
  }

  // Runs a chain over `ctx`. Returns the verdicts; stops at a block.
  void RunChain(const std::vector<ChainEntry>& chain, ScanContext& ctx, Decision& d) const;
};

Guard::Guard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Guard::Guard(Guard&&) noexcept = default;
Guard& Guard::operator=(Guard&&) noexcept = default;
Guard::~Guard() = default;

const Policy& Guard::policy() const { return impl_->policy; }

namespace {

// The location of a scanner option named in a factory's message ('key "threshold": ...').
SourceLocation LocateOption(const ScannerEntry& entry, std::string_view message) {
  const std::string_view prefix = "key \"";
  if (message.substr(0, prefix.size()) == prefix) {
    const size_t end = message.find('"', prefix.size());
    if (end != std::string_view::npos) {
      auto it = entry.option_where.find(std::string(message.substr(prefix.size(), end - prefix.size())));
      if (it != entry.option_where.end()) return it->second;
    }
  }
  return entry.where;
}

void BuildChain(const Policy& policy, const ChainSpec& spec, const ScannerRegistry& registry,
                const std::string& data_dir, std::vector<ChainEntry>* chain,
                std::vector<std::string>* errors) {
  for (const ScannerEntry& entry : spec.scanners) {
    ScannerConfig config;
    config.options = entry.options;
    config.path = entry.path;
    config.base_dir = policy.base_dir;
    config.data_dir = data_dir;
    const ScannerFactory* factory = registry.Find(entry.type);
    Result<std::unique_ptr<Scanner>> scanner = registry.Create(entry.type, config);
    if (!scanner.has_value()) {
      errors->push_back(Where(policy, LocateOption(entry, scanner.error().message())) +
                        entry.path + " (" + entry.type + "): " + scanner.error().message());
      continue;
    }
    if (entry.action == ConfiguredAction::kRedact && factory != nullptr &&
        !factory->metadata().can_redact) {
      errors->push_back(Where(policy, entry.where) + entry.path + " (" + entry.type +
                        "): action redact is not supported by this scanner (use block or flag)");
      continue;
    }
    chain->push_back({entry.name.empty() ? entry.type : entry.name, entry.action, entry.on_error,
                      std::move(scanner.value())});
  }
}

// Applies replacements (sorted, non-overlapping after merging) to `text`; returns the spans
// replaced, in the original text's offsets, with the length change each made.
struct Replacement {
  Span span;
  std::string with;
};

std::string ApplyReplacements(const std::string& text, std::vector<Replacement>& reps) {
  std::sort(reps.begin(), reps.end(), [](const Replacement& a, const Replacement& b) {
    return a.span.begin != b.span.begin ? a.span.begin < b.span.begin : a.span.end > b.span.end;
  });
  // Merge overlaps: the first (longest at a position) placeholder covers the union.
  std::vector<Replacement> merged;
  for (Replacement& r : reps) {
    r.span.end = std::min(r.span.end, text.size());
    r.span.begin = std::min(r.span.begin, r.span.end);
    if (!merged.empty() && r.span.begin < merged.back().span.end) {
      merged.back().span.end = std::max(merged.back().span.end, r.span.end);
      continue;
    }
    merged.push_back(std::move(r));
  }
  reps = std::move(merged);
  std::string out;
  size_t at = 0;
  for (const Replacement& r : reps) {
    out.append(text, at, r.span.begin - at);
    out += r.with;
    at = r.span.end;
  }
  out.append(text, at, std::string::npos);
  return out;
}

// The top-level ancestor of `segment`, the span of that ancestor it came from, and the decoding
// path ("base64>hex").
int32_t Ancestor(const std::vector<Segment>& segments, int32_t segment, Span* span,
                 std::string* via) {
  std::vector<std::string> path;
  while (segment >= 0 && segments[segment].depth > 0) {
    path.push_back(segments[segment].via);
    *span = segments[segment].parent_span;
    segment = segments[segment].parent;
  }
  via->clear();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (!via->empty()) *via += ">";
    *via += *it;
  }
  return segment;
}

}  // namespace

Result<Guard> Guard::Create(const Policy& policy, const ScannerRegistry& registry,
                            std::string data_dir) {
  auto impl = std::make_unique<Impl>();
  impl->policy = policy;
  std::vector<std::string> errors;
  BuildChain(policy, policy.input, registry, data_dir, &impl->input, &errors);
  BuildChain(policy, policy.output, registry, data_dir, &impl->output, &errors);
  for (const Tier& tier : policy.tiers) {
    Result<ToolGuard> g = ToolGuard::Create(tier.tools, tier.name);
    if (!g.has_value()) {
      errors.push_back(Where(policy, tier.tools.where) + "tiers." + tier.name +
                       ".tools: " + g.error().message());
      continue;
    }
    impl->tools.emplace_back(tier.name, std::move(g.value()));
  }
  if (!errors.empty()) {
    std::string all;
    for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
    return DataLossError(all);
  }
  return Guard(std::move(impl));
}

void Guard::Impl::RunChain(const std::vector<ChainEntry>& chain, ScanContext& ctx,
                           Decision& d) const {
  for (const ChainEntry& entry : chain) {
    Status status = entry.scanner->Scan(ctx);
    std::vector<Finding> findings = ctx.TakeFindings();
    if (!status.ok()) {
      Verdict v;
      v.scanner = entry.name;
      v.score = 1.0;
      v.category = "error";
      if (entry.on_error == OnError::kAllow) {
        v.flagged = true;
        v.reason = "scanner error (allowed by policy): " + status.message();
        d.verdicts.push_back(std::move(v));
        continue;
      }
      v.action = Action::kBlock;
      v.reason = "scanner error (fail closed): " + status.message();
      d.verdicts.push_back(std::move(v));
      d.allowed = false;
      d.blocked_by = entry.name;
      return;
    }
    std::vector<std::vector<Replacement>> redactions(ctx.segments().size());
    bool blocked = false;
    for (Finding& f : findings) {
      Verdict v;
      v.scanner = entry.name;
      v.score = f.score;
      v.reason = f.reason;
      v.category = f.category;
      int32_t seg = f.segment;
      Span span = f.span;
      if (seg == Finding::kJoined || seg == Finding::kJoinedUser) {
        std::tie(seg, span) = ctx.Locate(span, seg);
      }
      if (seg >= 0 && static_cast<size_t>(seg) < ctx.segments().size()) {
        seg = Ancestor(ctx.segments(), seg, &span, &v.via);
        v.message = ctx.segments()[seg].message;
      }
      v.span = span;
      switch (entry.action) {
        case ConfiguredAction::kBlock:
          v.action = Action::kBlock;
          blocked = true;
          break;
        case ConfiguredAction::kRedact:
          v.action = Action::kRedact;
          if (seg >= 0 && span.end > span.begin) {
            redactions[seg].push_back(
                {span, f.replacement.empty() ? std::string("[REDACTED]") : f.replacement});
          }
          break;
        case ConfiguredAction::kFlag:
          v.flagged = true;
          break;
      }
      d.verdicts.push_back(std::move(v));
    }
    if (blocked) {
      d.allowed = false;
      d.blocked_by = entry.name;
      return;
    }
    // Apply this scanner's redactions before the next scanner runs. Decoded payloads taken from
    // a redacted span are dropped (their text is gone from the request); the others move with
    // the text.
    for (size_t s = 0; s < redactions.size(); ++s) {
      if (redactions[s].empty()) continue;
      std::vector<Replacement>& reps = redactions[s];
      std::string text = ApplyReplacements(ctx.segments()[s].text, reps);
      std::vector<Segment>& segments = ctx.mutable_segments();
      for (size_t k = 0; k < segments.size(); ++k) {
        Segment& child = segments[k];
        if (child.depth == 0) continue;
        if (child.parent >= 0 && segments[child.parent].depth > 0 &&
            segments[child.parent].text.empty()) {
          child.text.clear();  // its parent was dropped
          continue;
        }
        if (child.parent != static_cast<int32_t>(s)) continue;
        int64_t shift = 0;
        bool overlaps = false;
        for (const Replacement& r : reps) {
          if (r.span.end <= child.parent_span.begin) {
            shift += static_cast<int64_t>(r.with.size()) -
                     static_cast<int64_t>(r.span.end - r.span.begin);
          } else if (r.span.begin < child.parent_span.end) {
            overlaps = true;
          }
        }
        if (overlaps) {
          child.text.clear();
          child.parent_span = Span{0, 0};
        } else {
          child.parent_span.begin = static_cast<size_t>(static_cast<int64_t>(child.parent_span.begin) + shift);
          child.parent_span.end = static_cast<size_t>(static_cast<int64_t>(child.parent_span.end) + shift);
        }
      }
      Status replaced = ctx.ReplaceText(static_cast<int32_t>(s), std::move(text));
      (void)replaced;  // s is a valid index
    }
  }
}

namespace {

Verdict LimitVerdict(std::string reason, int32_t message = -1) {
  Verdict v;
  v.scanner = "limits";
  v.action = Action::kBlock;
  v.reason = std::move(reason);
  v.category = "limit";
  v.message = message;
  return v;
}

void Block(Decision& d, Verdict v) {
  d.allowed = false;
  d.blocked_by = v.scanner;
  d.verdicts.push_back(std::move(v));
}

Decision Finish(Decision& d, std::chrono::steady_clock::time_point start) {
  d.elapsed = std::chrono::steady_clock::now() - start;
  return std::move(d);
}

// Blocks `d` for a tier the policy does not name.
bool TierKnown(const Policy& p, std::string_view tier, Decision& d) {
  if (FindTier(p, tier) != nullptr) return true;
  Block(d, LimitVerdict("unknown tier \"" + std::string(tier) + "\""));
  return false;
}

bool RoleScanned(const ChainSpec& spec, std::string_view role) {
  return std::find(spec.roles.begin(), spec.roles.end(), role) != spec.roles.end();
}

void CheckCalls(const ToolGuard* tools, std::string_view tier,
                const std::vector<ToolCall>& calls, int32_t message, Decision& d) {
  for (const ToolCall& call : calls) {
    if (tools == nullptr) {
      Verdict v;
      v.scanner = "tools";
      v.action = Action::kBlock;
      v.reason = "tool \"" + call.name + "\" called but tier \"" + std::string(tier) +
                 "\" allows no tools";
      v.category = "tool_not_allowed";
      v.tool = call.name;
      v.message = message;
      Block(d, std::move(v));
      continue;
    }
    for (const ToolViolation& tv : tools->CheckCall(call.name, call.arguments)) {
      Verdict v;
      v.scanner = "tools";
      v.action = Action::kBlock;
      v.reason = tv.path.empty() ? tv.reason : tv.path + ": " + tv.reason;
      v.category = "tool_call";
      v.tool = tv.tool;
      v.message = message;
      Block(d, std::move(v));
    }
  }
}

}  // namespace

Decision Guard::CheckInput(Conversation& conversation, std::string_view tier,
                           RequestState& state) const {
  const auto start = std::chrono::steady_clock::now();
  Decision d;
  auto finish = [&]() { return Finish(d, start); };
  const Policy& p = impl_->policy;
  if (!TierKnown(p, tier, d)) return finish();
  if (conversation.messages.size() > p.limits.max_messages) {
    Block(d, LimitVerdict(std::to_string(conversation.messages.size()) +
                          " messages; the policy allows at most " +
                          std::to_string(p.limits.max_messages)));
    return finish();
  }
  uint64_t total = 0;
  std::vector<Segment> segments;
  for (size_t i = 0; i < conversation.messages.size(); ++i) {
    const Message& m = conversation.messages[i];
    total += m.content.size();
    if (const size_t bad = FirstInvalidUtf8(m.content); bad != std::string::npos) {
      Block(d, LimitVerdict("message " + std::to_string(i) + " is not valid UTF-8 at byte " +
                                std::to_string(bad),
                            static_cast<int32_t>(i)));
      return finish();
    }
    if (!RoleScanned(p.input, m.role)) continue;
    Segment s;
    s.text = m.content;
    s.role = m.role;
    s.message = static_cast<int32_t>(i);
    segments.push_back(std::move(s));
  }
  if (total > p.limits.max_input_bytes) {
    Block(d, LimitVerdict(std::to_string(total) + " bytes of input; the policy allows at most " +
                          std::to_string(p.limits.max_input_bytes)));
    return finish();
  }
  if (conversation.unscanned_parts > 0) {
    Verdict v;
    v.scanner = "limits";
    v.flagged = true;
    v.category = "unscanned";
    v.reason = std::to_string(conversation.unscanned_parts) +
               " non-text content parts (images, audio, files) were not scanned";
    d.verdicts.push_back(std::move(v));
  }
  ScanContext ctx(Phase::kInput, std::move(segments), &state, impl_->Limits());
  impl_->RunChain(impl_->input, ctx, d);
  if (!d.allowed) return finish();

  // What the backend receives: normalised and redacted text.
  for (const Segment& s : ctx.segments()) {
    if (s.depth == 0 && s.message >= 0) conversation.messages[s.message].content = s.text;
  }
  if (!state.canary.empty()) {
    const std::string line = CanaryInstruction(state.canary);
    auto sys = std::find_if(conversation.messages.begin(), conversation.messages.end(),
                            [](const Message& m) { return m.role == "system"; });
    if (sys == conversation.messages.end()) {
      Message m;
      m.role = "system";
      m.content = line;
      conversation.messages.insert(conversation.messages.begin(), std::move(m));
    } else {
      sys->content += (sys->content.empty() ? "" : "\n\n") + line;
    }
  }

  // Tools offered and tool calls already in the conversation.
  const ToolGuard* tools = impl_->ToolsFor(tier);
  const Tier* t = FindTier(p, tier);
  std::vector<std::string> refused =
      tools != nullptr ? tools->RefusedOffers(conversation.tools) : conversation.tools;
  for (const std::string& name : refused) {
    Verdict v;
    v.scanner = "tools";
    v.tool = name;
    v.category = "tool_offer";
    if (t->tools.offered == OfferedToolAction::kBlock) {
      v.reason = "the request offers tool \"" + name + "\", which tier \"" + std::string(tier) +
                 "\" may not use";
      Block(d, std::move(v));
    } else {
      v.action = Action::kRedact;
      v.reason = "tool \"" + name + "\" removed from the request: not allowed for tier \"" +
                 std::string(tier) + "\"";
      d.verdicts.push_back(std::move(v));
    }
  }
  if (!d.allowed) return finish();
  if (!refused.empty()) {
    auto is_refused = [&](std::string_view n) {
      return std::find(refused.begin(), refused.end(), n) != refused.end();
    };
    std::erase_if(conversation.tools, is_refused);
    json::array kept;
    for (const json::value& def : conversation.tool_definitions) {
      const json::value* fn = def.is_object() ? def.as_object().if_contains("function") : nullptr;
      const json::value* name =
          fn != nullptr && fn->is_object() ? fn->as_object().if_contains("name") : nullptr;
      if (name != nullptr && name->is_string() && is_refused(name->as_string())) continue;
      kept.push_back(def);
    }
    conversation.tool_definitions = std::move(kept);
  }
  for (size_t i = 0; i < conversation.messages.size(); ++i) {
    CheckCalls(tools, tier, conversation.messages[i].tool_calls, static_cast<int32_t>(i), d);
  }
  if (!d.allowed) return finish();

  state.transcript.clear();
  for (const Message& m : conversation.messages) {
    if (RoleScanned(p.input, m.role)) state.transcript.emplace_back(m.role, m.content);
  }
  return finish();
}

Decision Guard::CheckOutput(std::string& answer, const std::vector<ToolCall>& tool_calls,
                            std::string_view tier, RequestState& state) const {
  const auto start = std::chrono::steady_clock::now();
  Decision d;
  auto finish = [&]() { return Finish(d, start); };
  const Policy& p = impl_->policy;
  if (!TierKnown(p, tier, d)) return finish();
  if (answer.size() > p.limits.max_output_bytes) {
    Block(d, LimitVerdict(std::to_string(answer.size()) +
                          " bytes of output; the policy allows at most " +
                          std::to_string(p.limits.max_output_bytes)));
    return finish();
  }
  if (const size_t bad = FirstInvalidUtf8(answer); bad != std::string::npos) {
    Block(d, LimitVerdict("the answer is not valid UTF-8 at byte " + std::to_string(bad)));
    return finish();
  }
  std::vector<Segment> segments(1);
  segments[0].text = answer;
  segments[0].role = "output";
  ScanContext ctx(Phase::kOutput, std::move(segments), &state, impl_->Limits());
  impl_->RunChain(impl_->output, ctx, d);
  if (!d.allowed) return finish();
  answer = ctx.segments()[0].text;
  CheckCalls(impl_->ToolsFor(tier), tier, tool_calls, -1, d);
  return finish();
}

}  // namespace warden::guard
