#include "guard/llm_judge.h"

#include <array>
#include <cstdint>
#include <exception>
#include <utility>

#include "base/encoding.h"
#include "base/json.h"

namespace warden::guard {

namespace {

// The reply we keep for the audit trail; Llama Guard answers in a few tokens, so more than this
// is not a verdict anyway.
constexpr size_t kMaxRawBytes = 1024;
// How much of an unparseable reply or an error body an error message quotes.
constexpr size_t kMaxQuoteBytes = 200;
// Llama Guard 3 has 14 categories; a reply listing more is noise, kept only up to this many.
constexpr size_t kMaxCategories = 32;
constexpr size_t kMaxCategoryBytes = 64;
// A chat-completions answer to a 32-token request is a few hundred bytes; a megabyte means the
// endpoint is not what the policy thinks it is.
constexpr uint64_t kMaxResponseBytes = 1 << 20;
constexpr size_t kMaxResponseJsonDepth = 32;
// Llama Guard answers "safe" or "unsafe\nS1,S10": a handful of tokens.
constexpr int kMaxTokens = 32;
constexpr std::string_view kConversationPlaceholder = "{conversation}";
constexpr std::string_view kChatCompletionsPath = "/chat/completions";

// Llama Guard 3's hazard taxonomy (its model card, after MLCommons' AI safety taxonomy).
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kLlamaGuardCategories = {{
    {"S1", "violent crimes"},
    {"S2", "non-violent crimes"},
    {"S3", "sex-related crimes"},
    {"S4", "child sexual exploitation"},
    {"S5", "defamation"},
    {"S6", "specialized advice"},
    {"S7", "privacy"},
    {"S8", "intellectual property"},
    {"S9", "indiscriminate weapons"},
    {"S10", "hate"},
    {"S11", "suicide & self-harm"},
    {"S12", "sexual content"},
    {"S13", "elections"},
    {"S14", "code interpreter abuse"},
}};

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The first line of `s` (without its '\n'); `*rest` gets what follows it.
std::string_view FirstLine(std::string_view s, std::string_view* rest) {
  const size_t eol = s.find('\n');
  if (eol == std::string_view::npos) {
    *rest = {};
    return s;
  }
  *rest = s.substr(eol + 1);
  return s.substr(0, eol);
}

// At most `max` bytes of `s`, cut before a UTF-8 sequence rather than through it, so that the
// result stays valid UTF-8 when `s` was (it goes into JSON audit records).
std::string TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t end = max;
  // Back up over continuation bytes (10xxxxxx) to the start of the sequence that crosses.
  for (int i = 0; i < 3 && end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80; ++i) --end;
  return std::string(s.substr(0, end));
}

// Text from a model or a server, made safe to put in an error message: at most
// kMaxQuoteBytes of it, with every byte outside printable ASCII written as \xNN.
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool truncated = s.size() > kMaxQuoteBytes;
  s = s.substr(0, kMaxQuoteBytes);
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b < 0x7f && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
    }
  }
  if (truncated) out += "...";
  return out;
}

// Conversation text comes from users and tools and need not be UTF-8; a JSON parser on the
// other end would reject the request, and if the policy lets judge errors pass, invalid bytes
// would switch the judge off. Each byte that starts no well-formed sequence becomes U+FFFD.
std::string ValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8At(s, i, &cp);
    if (n == 0) {
      AppendUtf8(0xFFFD, out);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string CategoryName(std::string_view code) {
  for (const auto& [known, name] : kLlamaGuardCategories) {
    if (EqualsIgnoreCase(code, known)) return std::string(name);
  }
  return std::string(code);
}

// "user" -> "User", "assistant" -> "Agent" (Llama Guard's word for the model), others
// capitalized as they are.
std::string TranscriptRole(std::string_view role) {
  if (EqualsIgnoreCase(role, "assistant")) return "Agent";
  std::string out(role.empty() ? std::string_view("user") : role);
  if (out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string Transcript(const std::vector<JudgeMessage>& conversation) {
  std::string out;
  for (const JudgeMessage& m : conversation) {
    if (!out.empty()) out += "\n\n";
    out += TranscriptRole(m.role) + ": " + m.content;
  }
  return out;
}

// Replaces every "{conversation}" in `tmpl` in one pass, so a transcript that itself contains
// the placeholder is not expanded again.
std::string FillTemplate(std::string_view tmpl, std::string_view transcript) {
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = tmpl.find(kConversationPlaceholder, at)) != std::string_view::npos;) {
    out.append(tmpl.substr(at, hit - at));
    out.append(transcript);
    at = hit + kConversationPlaceholder.size();
  }
  out.append(tmpl.substr(at));
  return out;
}

// Chat templates of safety models (Llama Guard's among them) reject a conversation whose roles
// do not alternate user/assistant starting with user. Every non-assistant turn (system, tool,
// ...) is therefore sent as user text, consecutive turns of one role are joined, and a leading
// assistant turn gets an empty user turn before it. Nothing is dropped: the judge sees every
// word the chain saw.
boost::json::array ChatMessages(const std::vector<JudgeMessage>& conversation) {
  struct Turn {
    bool assistant;
    std::string text;
  };
  std::vector<Turn> turns;
  for (const JudgeMessage& m : conversation) {
    const bool assistant = EqualsIgnoreCase(m.role, "assistant");
    if (turns.empty() && assistant) turns.push_back({false, ""});
    if (!turns.empty() && turns.back().assistant == assistant) {
      turns.back().text += "\n\n";
      turns.back().text += m.content;
    } else {
      turns.push_back({assistant, m.content});
    }
  }
  boost::json::array messages;
  for (Turn& t : turns) {
    boost::json::object message;
    message["role"] = t.assistant ? "assistant" : "user";
    message["content"] = ValidUtf8(t.text);
    messages.push_back(std::move(message));
  }
  return messages;
}

}  // namespace

Result<JudgeVerdict> ParseJudgeReply(std::string_view content) {
  const std::string_view trimmed = Trim(content);
  if (trimmed.empty()) return DataLossError("llm_judge: empty reply");
  std::string_view rest;
  const std::string_view verdict = Trim(FirstLine(trimmed, &rest));
  JudgeVerdict result;
  result.raw = TruncateUtf8(content, kMaxRawBytes);
  if (EqualsIgnoreCase(verdict, "safe")) return result;
  if (!EqualsIgnoreCase(verdict, "unsafe")) {
    return DataLossError("llm_judge: unrecognized reply \"" + Quote(trimmed) +
                         "\" (expected \"safe\" or \"unsafe\" on the first line)");
  }
  result.unsafe = true;
  // The categories are informative; the verdict is already unsafe, so a messy list is trimmed
  // and capped rather than turned into an error.
  std::string_view ignored;
  std::string_view list = FirstLine(rest, &ignored);
  while (!list.empty() && result.categories.size() < kMaxCategories) {
    const size_t comma = list.find(',');
    const std::string_view item = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    result.categories.push_back(TruncateUtf8(item, kMaxCategoryBytes));
    result.category_names.push_back(CategoryName(result.categories.back()));
  }
  return result;
}

Result<JudgeVerdict> ParseJudgeResponse(std::string_view body) {
  try {
    WARDEN_ASSIGN_OR_RETURN(const json::value root,
                            json::Parse(body, "llm_judge response", kMaxResponseJsonDepth));
    WARDEN_ASSIGN_OR_RETURN(const json::object* object, json::AsObject(root, "response"));
    WARDEN_ASSIGN_OR_RETURN(const json::array* choices,
                            json::GetArray(*object, "choices", "response"));
    if (choices->empty()) return DataLossError("llm_judge response: choices is empty");
    WARDEN_ASSIGN_OR_RETURN(const json::object* choice,
                            json::AsObject((*choices)[0], "response.choices[0]"));
    WARDEN_ASSIGN_OR_RETURN(const json::object* message,
                            json::GetObject(*choice, "message", "response.choices[0]"));
    WARDEN_ASSIGN_OR_RETURN(const std::string_view content,
                            json::GetString(*message, "content", "response.choices[0].message"));
    return ParseJudgeReply(content);
  } catch (const std::exception& e) {
    return InternalError(std::string("llm_judge: reading the response: ") + e.what());
  }
}

Result<Judge> Judge::Create(JudgeOptions options) {
  auto url = http::ParseUrl(options.endpoint);
  if (!url) return url.error().WithContext("llm_judge endpoint");
  if (options.timeout <= std::chrono::milliseconds(0) || options.timeout > std::chrono::hours(24)) {
    return InvalidArgumentError("llm_judge: timeout must be in (0, 24 h]");
  }
  for (char c : options.api_key) {
    // Checked here so that a bad key is a configuration error, not a failure on every call.
    if (c == '\r' || c == '\n' || c == '\0') {
      return InvalidArgumentError("llm_judge: api key contains a line break or NUL");
    }
  }
  if (!options.prompt.empty() &&
      options.prompt.find(kConversationPlaceholder) == std::string::npos) {
    return InvalidArgumentError("llm_judge: prompt template must contain {conversation}");
  }
  // <endpoint>/v1/chat/completions, unless the endpoint names the route itself or is an
  // OpenAI-style base URL that already ends in /v1.
  std::string target = url->target;
  const size_t query_at = target.find('?');
  std::string query = query_at == std::string::npos ? "" : target.substr(query_at);
  std::string path = target.substr(0, query_at);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!path.ends_with(kChatCompletionsPath)) {
    path += path.ends_with("/v1") ? std::string(kChatCompletionsPath)
                                  : "/v1" + std::string(kChatCompletionsPath);
  }
  url->target = path + query;

  Judge judge;
  judge.options_ = std::move(options);
  judge.url_ = *std::move(url);
  return judge;
}

Result<JudgeVerdict> Judge::Ask(const std::vector<JudgeMessage>& conversation) const {
  if (conversation.empty()) return InvalidArgumentError("llm_judge: empty conversation");
  std::string body;
  try {
    boost::json::object request;
    if (!options_.model.empty()) request["model"] = options_.model;
    if (options_.prompt.empty()) {
      request["messages"] = ChatMessages(conversation);
    } else {
      boost::json::object message;
      message["role"] = "user";
      message["content"] = ValidUtf8(FillTemplate(options_.prompt, Transcript(conversation)));
      request["messages"] = boost::json::array{std::move(message)};
    }
    // Integer zero: Boost.JSON would write 0.0 as "0E0", which some servers' parsers dislike.
    request["temperature"] = 0;
    request["max_tokens"] = kMaxTokens;
    body = boost::json::serialize(request);
  } catch (const std::exception& e) {
    return InternalError(std::string("llm_judge: building the request: ") + e.what());
  }

  http::RequestOptions request_options;
  request_options.timeout = options_.timeout;
  request_options.max_response_bytes = kMaxResponseBytes;
  request_options.headers.emplace_back("Accept", "application/json");
  if (!options_.api_key.empty()) {
    request_options.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }
  auto response = http::Post(url_, "application/json", body, request_options);
  if (!response) return response.error().WithContext("llm_judge");
  if (response->status != 200) {
    return UnavailableError("llm_judge: endpoint answered HTTP " +
                            std::to_string(response->status) + ": " + Quote(response->body));
  }
  return ParseJudgeResponse(response->body);
}

}  // namespace warden::guard
