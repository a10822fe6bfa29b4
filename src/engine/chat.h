// Chat formatting: turns a list of chat messages into the prompt text a chat model was tuned
// on, for the common template families, without a Jinja interpreter.
//
// A GGUF model names its format only as a Jinja program (`tokenizer.chat_template`). Running
// arbitrary Jinja from a downloaded file is a large attack surface, so warden recognises the
// family by its marker strings (DetectChatFormat) and renders that family with fixed code
// (FormatChat) that reproduces the official template's output byte for byte, except that the
// leading BOS is left out (see FormatChat). A model without a recognised template gets the
// documented plain format, or the caller picks a format by name (--chat-format).
//
// Thread-safety: pure functions. Ownership: results own their strings.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::engine {

// One message. Roles: "system", "user", "assistant", "tool" (a tool's result); nothing else.
struct ChatMessage {
  std::string role;
  std::string content;
};

enum class ChatFormat { kPlain, kLlama2, kLlama3, kChatml, kMistral, kGemma, kPhi3 };

// "plain", "llama2", "llama3", "chatml", "mistral", "gemma", "phi3".
std::string_view ChatFormatName(ChatFormat format);
// The inverse of ChatFormatName (exact, lower case), for a --chat-format flag. InvalidArgument
// listing the known names otherwise.
Result<ChatFormat> ParseChatFormatName(std::string_view name);

// Recognises the family of a `tokenizer.chat_template` Jinja string by its markers, checked in
// this order (the first match wins):
//   "<|start_header_id|>"                    -> llama3
//   "<|im_start|>"                           -> chatml
//   "<start_of_turn>"                        -> gemma
//   "<|user|>" and "<|end|>"                 -> phi3
//   "[INST]" and "<<SYS>>"                   -> llama2
//   "[INST]"                                 -> mistral
// nullopt for anything else (including an empty string): the caller decides (plain format, or
// refuse).
std::optional<ChatFormat> DetectChatFormat(std::string_view jinja_template);

// Renders `messages` in `format`; with `add_generation_prompt`, ends with the opening of an
// assistant turn so that the model's continuation is the reply. `bos_text` / `eos_text` are the
// vocabulary's BOS / EOS token strings ("<s>", "</s>"), used where a format puts them between
// turns (llama2, mistral, phi3).
//
// The leading BOS is never emitted: the tokenizer adds it (GGUF tokenizer.ggml.add_bos_token),
// as for any prompt, so a chat prompt cannot end up with two. Tokenize the result with special
// tokens recognised (so "<|im_start|>" is one token, not text).
//
// Errors (InvalidArgument, naming the message index): an empty list; an unknown role; a role
// the format cannot express (tool in llama2/mistral/gemma/phi3; system after the first message
// in llama2/mistral/gemma); turns that do not alternate user/assistant starting with user where
// the official template requires it (llama2, mistral, gemma).
Result<std::string> FormatChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, std::string_view bos_text,
                               std::string_view eos_text);

}  // namespace warden::engine
