#include "engine/chat.h"

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/encoding.h"

namespace warden::engine {
namespace {

constexpr std::array<std::pair<ChatFormat, std::string_view>, 7> kFormatNames = {{
    {ChatFormat::kPlain, "plain"},
    {ChatFormat::kLlama2, "llama2"},
    {ChatFormat::kLlama3, "llama3"},
    {ChatFormat::kChatml, "chatml"},
    {ChatFormat::kMistral, "mistral"},
    {ChatFormat::kGemma, "gemma"},
    {ChatFormat::kPhi3, "phi3"},
}};

enum class Role { kSystem, kUser, kAssistant, kTool };

std::optional<Role> ParseRole(std::string_view role) {
  if (role == "system") return Role::kSystem;
  if (role == "user") return Role::kUser;
  if (role == "assistant") return Role::kAssistant;
  if (role == "tool") return Role::kTool;
  return std::nullopt;
}

// --- Whitespace trimming as the templates' Jinja does it ------------------------------------
// Jinja's `trim` filter and Python's str.strip() remove the code points for which
// str.isspace() holds: ASCII \t \n \v \f \r, the separators U+001C..U+001F, space, and the
// Unicode spaces below. Content is UTF-8; an invalid sequence counts as non-space (it is
// passed through untouched).

bool IsPythonSpace(uint32_t cp) {
  // str.isspace: Unicode White_Space plus the four ASCII separators U+001C..U+001F.
  return (cp >= 0x1C && cp <= 0x1F) || IsUnicodeWhiteSpace(cp);
}

std::string_view PythonStrip(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    uint32_t cp;
    const size_t len = DecodeUtf8At(s, begin, &cp);
    if (len == 0 || !IsPythonSpace(cp)) break;
    begin += len;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back over continuation bytes to the start of the last sequence (at most 3).
    size_t start = end - 1;
    while (start > begin && end - start < 4 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    uint32_t cp;
    const size_t len = DecodeUtf8At(s, start, &cp);
    if (len != end - start || !IsPythonSpace(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

// --- Validation ------------------------------------------------------------------------------

Status MessageError(size_t index, std::string_view format, std::string_view what) {
  return InvalidArgumentError("chat message " + std::to_string(index) + ": " + std::string(what) +
                              " (format " + std::string(format) + ")");
}

// Parses every role; refuses unknown roles and the tool role where `allow_tool` is false.
Result<std::vector<Role>> ParseRoles(std::span<const ChatMessage> messages, std::string_view format,
                                     bool allow_tool) {
  if (messages.empty()) {
    return InvalidArgumentError("chat: no messages (format " + std::string(format) + ")");
  }
  std::vector<Role> roles;
  roles.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    std::optional<Role> role = ParseRole(messages[i].role);
    if (!role.has_value()) {
      return MessageError(
          i, format,
          "unknown role \"" + messages[i].role + "\" (roles: system, user, assistant, tool)");
    }
    if (*role == Role::kTool && !allow_tool) {
      return MessageError(i, format, "this format has no tool role");
    }
    roles.push_back(*role);
  }
  return roles;
}

// The families whose official templates take an optional leading system message and then
// strictly alternating user/assistant turns starting with user (llama2, mistral, gemma).
// Returns whether messages[0] is that system message.
Result<bool> CheckAlternating(const std::vector<Role>& roles, std::string_view format) {
  const bool has_system = roles[0] == Role::kSystem;
  const size_t first = has_system ? 1 : 0;
  if (first == roles.size()) {
    return MessageError(0, format, "a system message must be followed by a user message");
  }
  for (size_t i = first; i < roles.size(); ++i) {
    const Role expected = (i - first) % 2 == 0 ? Role::kUser : Role::kAssistant;
    if (roles[i] == expected) continue;
    if (roles[i] == Role::kSystem) {
      return MessageError(i, format, "a system message may only come first");
    }
    return MessageError(i, format,
                        expected == Role::kUser
                            ? "expected a user message (turns alternate user/assistant, "
                              "starting with user)"
                            : "expected an assistant message (turns alternate "
                              "user/assistant, starting with user)");
  }
  return has_system;
}

// --- Families --------------------------------------------------------------------------------

// Plain: "System: ...\nUser: ...\nAssistant: ...\n", then "Assistant:" (no trailing space: in
// SentencePiece vocabularies the space belongs to the next word's token).
Result<std::string> FormatPlain(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages, "plain", true));
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    switch (roles[i]) {
      case Role::kSystem:
        out += "System: ";
        break;
      case Role::kUser:
        out += "User: ";
        break;
      case Role::kAssistant:
        out += "Assistant: ";
        break;
      case Role::kTool:
        out += "Tool: ";
        break;
    }
    out += messages[i].content;
    out += '\n';
  }
  if (add_generation_prompt) out += "Assistant:";
  return out;
}

// Llama 2 chat (Meta's reference and the Hugging Face template):
//   [INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]
// Contents are stripped (the system block is part of the first user content, stripped as a
// whole). A user turn already ends with the cue for the model, so add_generation_prompt adds
// nothing.
Result<std::string> FormatLlama2(std::span<const ChatMessage> messages, std::string_view bos,
                                 std::string_view eos) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages, "llama2", false));
  WARDEN_ASSIGN_OR_RETURN(bool has_system, CheckAlternating(roles, "llama2"));
  const size_t first = has_system ? 1 : 0;
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    std::string content;
    if (i == first && has_system) {
      content = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + messages[i].content;
    } else {
      content = messages[i].content;
    }
    if (roles[i] == Role::kUser) {
      if (i != first) out += bos;
      out += "[INST] ";
      out += PythonStrip(content);
      out += " [/INST]";
    } else {
      out += ' ';
      out += PythonStrip(content);
      out += ' ';
      out += eos;
    }
  }
  return out;
}

// Llama 3 instruct: <|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>
// per message; a tool result uses Llama 3.1's "ipython" role.
Result<std::string> FormatLlama3(std::span<const ChatMessage> messages,
                                 bool add_generation_prompt) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages, "llama3", true));
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    out += "<|start_header_id|>";
    out += roles[i] == Role::kTool ? std::string_view("ipython") : messages[i].role;
    out += "<|end_header_id|>\n\n";
    out += PythonStrip(messages[i].content);
    out += "<|eot_id|>";
  }
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// ChatML: <|im_start|>{role}\n{content}<|im_end|>\n per message, content as is.
Result<std::string> FormatChatml(std::span<const ChatMessage> messages,
                                 bool add_generation_prompt) {
  WARDEN_RETURN_IF_ERROR(ParseRoles(messages, "chatml", true).status());
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|im_start|>";
    out += m.role;
    out += '\n';
    out += m.content;
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Mistral instruct (v0.1 template): [INST] {user} [/INST]{assistant}</s>[INST] {user} [/INST]
// Contents as is. The format has no system role: a leading system message is put before the
// first user message, separated by a blank line (as Mistral's later templates do). A user turn
// already cues the model, so add_generation_prompt adds nothing.
Result<std::string> FormatMistral(std::span<const ChatMessage> messages, std::string_view eos) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages, "mistral", false));
  WARDEN_ASSIGN_OR_RETURN(bool has_system, CheckAlternating(roles, "mistral"));
  const size_t first = has_system ? 1 : 0;
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    if (roles[i] == Role::kUser) {
      out += "[INST] ";
      if (i == first && has_system) {
        out += messages[0].content;
        out += "\n\n";
      }
      out += messages[i].content;
      out += " [/INST]";
    } else {
      out += messages[i].content;
      out += eos;
    }
  }
  return out;
}

// Gemma: <start_of_turn>{user|model}\n{content, trimmed}<end_of_turn>\n per turn, then
// <start_of_turn>model\n. No system role: as in Gemma 3's template, a leading system message
// followed by a blank line opens the first user turn.
Result<std::string> FormatGemma(std::span<const ChatMessage> messages, bool add_generation_prompt) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<Role> roles, ParseRoles(messages, "gemma", false));
  WARDEN_ASSIGN_OR_RETURN(bool has_system, CheckAlternating(roles, "gemma"));
  const size_t first = has_system ? 1 : 0;
  std::string out;
  for (size_t i = first; i < messages.size(); ++i) {
    out += roles[i] == Role::kUser ? "<start_of_turn>user\n" : "<start_of_turn>model\n";
    if (i == first && has_system) {
      out += messages[0].content;
      out += "\n\n";
    }
    out += PythonStrip(messages[i].content);
    out += "<end_of_turn>\n";
  }
  if (add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Phi-3 (Phi-3 / 3.5 mini template): <|{role}|>\n{content}<|end|>\n per message, then
// <|assistant|>\n, or EOS when no generation prompt is wanted.
Result<std::string> FormatPhi3(std::span<const ChatMessage> messages, bool add_generation_prompt,
                               std::string_view eos) {
  WARDEN_RETURN_IF_ERROR(ParseRoles(messages, "phi3", false).status());
  std::string out;
  for (const ChatMessage& m : messages) {
    out += "<|";
    out += m.role;
    out += "|>\n";
    out += m.content;
    out += "<|end|>\n";
  }
  if (add_generation_prompt) {
    out += "<|assistant|>\n";
  } else {
    out += eos;
  }
  return out;
}

}  // namespace

std::string_view ChatFormatName(ChatFormat format) {
  for (const auto& [f, name] : kFormatNames) {
    if (f == format) return name;
  }
  return "unknown";
}

Result<ChatFormat> ParseChatFormatName(std::string_view name) {
  std::string known;
  for (const auto& [f, n] : kFormatNames) {
    if (n == name) return f;
    if (!known.empty()) known += ", ";
    known += n;
  }
  return InvalidArgumentError("unknown chat format \"" + std::string(name) + "\" (known: " + known +
                              ")");
}

std::optional<ChatFormat> DetectChatFormat(std::string_view t) {
  const auto has = [&](std::string_view marker) { return t.find(marker) != t.npos; };
  if (has("<|start_header_id|>")) return ChatFormat::kLlama3;
  if (has("<|im_start|>")) return ChatFormat::kChatml;
  if (has("<start_of_turn>")) return ChatFormat::kGemma;
  if (has("<|user|>") && has("<|end|>")) return ChatFormat::kPhi3;
  if (has("[INST]")) return has("<<SYS>>") ? ChatFormat::kLlama2 : ChatFormat::kMistral;
  return std::nullopt;
}

Result<std::string> FormatChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, std::string_view bos_text,
                               std::string_view eos_text) {
  switch (format) {
    case ChatFormat::kPlain:
      return FormatPlain(messages, add_generation_prompt);
    case ChatFormat::kLlama2:
      return FormatLlama2(messages, bos_text, eos_text);
    case ChatFormat::kLlama3:
      return FormatLlama3(messages, add_generation_prompt);
    case ChatFormat::kChatml:
      return FormatChatml(messages, add_generation_prompt);
    case ChatFormat::kMistral:
      return FormatMistral(messages, eos_text);
    case ChatFormat::kGemma:
      return FormatGemma(messages, add_generation_prompt);
    case ChatFormat::kPhi3:
      return FormatPhi3(messages, add_generation_prompt, eos_text);
  }
  return InvalidArgumentError("chat: unknown format value " +
                              std::to_string(static_cast<int>(format)));
}

}  // namespace warden::engine
