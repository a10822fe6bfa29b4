// The guard: a compiled policy that decides, per request, what may reach the model and what may
// leave it. The gateway calls it once per request (input), per answer (output), and per tool
// call; `warden guard check` calls it offline.
//
// Input (CheckInput): the conversation's messages of the policy's input roles become segments
// (guard/scanner.h); the chain runs the scanners in policy order. Each finding becomes a
// verdict with the scanner's configured action:
//   block  -> the chain stops, the request is refused;
//   redact -> the span is replaced (the finding's placeholder or "[REDACTED]"; a finding in a
//             decoded payload redacts the whole encoded span of the message), applied in
//             order, so later scanners see the redacted text;
//   flag   -> recorded, the request goes on.
// A scanner that returns an error blocks (fail closed) unless its entry says
// `on_error: allow`, in which case the error is recorded as a flag. Then tool control: tools
// the request offers that the tier does not allow are dropped (or the request blocked), and
// tool calls already in the conversation (assistant turns) are checked like emitted ones.
// The conversation is rewritten in place: normalised and redacted text, the canary in the
// system prompt, refused tools removed: that is what the backend should receive.
//
// Output (CheckOutput): the answer text as one segment through the output chain (the canary
// planted by the input chain of the same request is looked for here), then each tool call the
// model emitted against the tier's allowlist.
//
// Limits (policy `limits`): more text or messages than allowed, or text that is not UTF-8, is
// blocked before any scanner runs, with a verdict saying why (never truncated silently).
//
// Thread-safety: a Guard is immutable after Create; the checks may run concurrently; a
// RequestState belongs to one request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "guard/policy.h"
#include "guard/scanner.h"

namespace warden::guard {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

struct Message {
  std::string role;     // system, user, assistant, tool (developer is read as system)
  std::string content;  // text parts joined by "\n"
  std::string name;
  std::string tool_call_id;
  std::vector<ToolCall> tool_calls;
};

struct Conversation {
  std::vector<Message> messages;
  std::vector<std::string> tools;  // names of the functions the request offers
  json::array tool_definitions;    // the request's "tools" array as given (for rewriting)
  size_t unscanned_parts = 0;      // non-text content parts (images, audio): not scanned
};

// An OpenAI chat-completions request body ({"messages": [...], "tools": [...]}) or a bare
// array of messages. DataLoss naming the JSON path for anything malformed (a message without a
// role, content that is neither a string nor an array of text parts, ...).
Result<Conversation> ParseConversation(const json::value& body, std::string_view source);

enum class Action { kContinue, kRedact, kBlock };
std::string_view ActionName(Action a);  // "continue", "redact", "block"

struct Verdict {
  std::string scanner;     // instance name ("pii", "tools", "limits")
  Action action = Action::kContinue;
  bool flagged = false;    // the policy said flag (or an allowed error)
  double score = 1.0;
  std::string reason;
  std::string category;
  int32_t message = -1;    // message index; -1 for the answer or the whole request
  Span span;               // bytes of that message's text as the scanner saw it
  std::string via;         // decoding path of a finding inside a payload: "base64", "base64>hex"
  std::string tool;        // tool-control verdicts: the tool name
};

struct Decision {
  bool allowed = true;
  std::string blocked_by;  // the scanner that blocked, when !allowed
  std::vector<Verdict> verdicts;  // in the order they were made
  std::chrono::nanoseconds elapsed{0};
};

class Guard {
 public:
  // Builds every scanner of both chains and every tier's tool guard. Reports every problem
  // (DataLoss, one per line, each located like the policy loader's messages).
  static Result<Guard> Create(const Policy& policy, const ScannerRegistry& registry,
                              std::string data_dir);

  Decision CheckInput(Conversation& conversation, std::string_view tier,
                      RequestState& state) const;
  Decision CheckOutput(std::string& answer, const std::vector<ToolCall>& tool_calls,
                       std::string_view tier, RequestState& state) const;

  const Policy& policy() const;

  Guard(Guard&&) noexcept;
  Guard& operator=(Guard&&) noexcept;
  ~Guard();

 private:
  struct Impl;
  explicit Guard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::guard
