// The `llm_judge` scanner's client: asks an OpenAI-compatible chat endpoint (for example Llama
// Guard served by llama.cpp or vLLM) whether a conversation is safe, and parses its verdict.
//
// Request: POST <endpoint>/v1/chat/completions (the endpoint may already end in
// /chat/completions) with {"model": <model>, "messages": [...], "temperature": 0,
// "max_tokens": 32}; the messages are the conversation being judged (input phase) or the
// conversation plus the answer as an assistant turn (output phase), which is how Llama Guard's
// chat template expects them. An optional `prompt` template (config) replaces that with one
// user message: "{conversation}" in the template is replaced by the transcript.
//
// Verdict parsing (choices[0].message.content), case-insensitive, surrounding whitespace
// ignored: first line "safe" -> safe; first line "unsafe" -> unsafe, with the second line
// parsed as comma-separated categories ("S1,S10"); Llama Guard's S1..S14 are mapped to their
// names ("S1: violent crimes"). Anything else is a parse error (DataLoss naming what came
// back, truncated to 200 bytes): the chain then fails closed unless the policy allows errors.
//
// Time-outs and HTTP errors are Unavailable (fail closed likewise).
//
// Thread-safety: a Judge is immutable; Ask may run concurrently.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/client.h"

namespace warden::guard {

struct JudgeMessage {
  std::string role;
  std::string content;
};

struct JudgeVerdict {
  bool unsafe = false;
  std::vector<std::string> categories;  // as returned ("S1"), in order
  std::vector<std::string> category_names;  // "violent crimes", or the code when unknown
  std::string raw;  // the model's reply, truncated to 1 KiB
};

struct JudgeOptions {
  std::string endpoint;  // "http://127.0.0.1:8080"
  std::string model;     // request's "model"; may be empty (then not sent)
  std::string api_key;   // sent as "Authorization: Bearer"; may be empty
  std::string prompt;    // optional template with "{conversation}"
  std::chrono::milliseconds timeout{2000};
};

// Parses the reply text. Exposed for tests and fuzzing.
Result<JudgeVerdict> ParseJudgeReply(std::string_view content);

// Parses a whole chat-completions response body: extracts choices[0].message.content and
// hands it to ParseJudgeReply. DataLoss for malformed JSON or a missing/mistyped field.
// Exposed for tests and fuzzing.
Result<JudgeVerdict> ParseJudgeResponse(std::string_view body);

class Judge {
 public:
  static Result<Judge> Create(JudgeOptions options);  // InvalidArgument for a bad endpoint
  Result<JudgeVerdict> Ask(const std::vector<JudgeMessage>& conversation) const;

 private:
  JudgeOptions options_;
  http::Url url_;
};

}  // namespace warden::guard
