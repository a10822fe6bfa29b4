// Policy files: what a warden host allows, in YAML (docs/policy.md documents every field).
//
// A policy names tiers (what each may do: tools with argument constraints, limits), API keys
// (salted hashes, never the keys) mapped to tiers, the input and output scanner chains, and the
// settings the gateway consumes (rate limits per tier, the circuit breaker, the audit log).
//
// Loading validates the whole document once and reports every problem it finds, each with its
// file, line and column: 'policy.yaml:14:7: input.scanners[2].action: must be one of block,
// redact, flag; got "deny"'. Unknown keys are errors (a typo must not silently switch a
// protection off). Scanner options are kept as JSON objects for the scanner factories to
// validate (guard/guard.h, Guard::Create, which reports with the same locations).
//
// Limits: a policy file is at most 4 MiB; YAML anchors/aliases are refused (billion-laughs);
// nesting is capped at 64 levels.
//
// Thread-safety: a Policy is a plain value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace warden::guard {

struct SourceLocation {
  uint32_t line = 0;    // 1-based; 0 when unknown
  uint32_t column = 0;  // 1-based
};

enum class ConfiguredAction { kBlock, kRedact, kFlag };
std::string_view ConfiguredActionName(ConfiguredAction a);  // "block", "redact", "flag"

enum class OnError { kBlock, kAllow };

struct ScannerEntry {
  std::string type;  // registry name: "pii", "injection", ...
  std::string name;  // instance name in verdicts; defaults to `type`
  ConfiguredAction action = ConfiguredAction::kBlock;
  OnError on_error = OnError::kBlock;
  json::object options;  // every other key, YAML scalars typed (plain 12 -> number, "12" -> string)
  std::string path;      // "input.scanners[2]"
  SourceLocation where;  // of the entry
  std::map<std::string, SourceLocation> option_where;  // of each option key
};

struct ChainSpec {
  // Roles whose messages the chain scans. Input default: user, assistant, tool (an attacker can
  // forge assistant turns and controls tool results; the system prompt is the host's). Output:
  // the answer, always.
  std::vector<std::string> roles;
  std::vector<ScannerEntry> scanners;
};

// Tool-call control (guard/tools.h applies it).
enum class ValueType { kAny, kString, kInteger, kNumber, kBoolean, kObject, kArray, kNull };
std::string_view ValueTypeName(ValueType t);
// Whether `v` is of type `t`; an integer is a JSON integer or a number with an integral value
// (1.0: JSON does not tell them apart). Used for enum values (policy) and arguments (tools).
bool ValueHasType(const json::value& v, ValueType t);

struct ArgumentConstraint {
  // A path into the arguments object: "city", "options.days", "items[*].name" ([*] = every
  // element), "items[0]". Keys with dots or brackets are not addressable (documented).
  std::string path;
  ValueType type = ValueType::kAny;
  bool required = false;
  std::vector<json::value> enum_values;  // empty = any
  std::optional<std::string> pattern;    // regex (Hyperscan syntax) the whole string must match
  std::optional<uint64_t> min_length;    // strings: UTF-8 code points; arrays: elements
  std::optional<uint64_t> max_length;
  std::optional<double> minimum;         // numbers
  std::optional<double> maximum;
  SourceLocation where;
};

struct ToolRule {
  std::string name;  // exact tool (function) name
  std::vector<ArgumentConstraint> arguments;
  // Whether argument keys no constraint names are allowed (default false: strict).
  bool allow_unlisted_arguments = false;
  SourceLocation where;
};

enum class OfferedToolAction { kDrop, kBlock };

struct ToolPolicy {
  std::vector<ToolRule> allow;              // tools not listed are refused
  std::vector<std::string> deny_patterns;   // regexes over every string value in the arguments
  OfferedToolAction offered = OfferedToolAction::kDrop;  // a request offering an unlisted tool
  uint32_t max_argument_bytes = 64 * 1024;
  uint32_t max_argument_depth = 32;
  SourceLocation where;
};

struct RateLimit {
  double requests_per_minute = 0;  // 0 = unlimited
  uint64_t tokens_per_minute = 0;  // 0 = unlimited
  uint32_t burst = 0;              // 0 = requests_per_minute / 6, at least 1
  uint32_t max_concurrent = 0;     // 0 = unlimited
};

struct Tier {
  std::string name;
  ToolPolicy tools;
  RateLimit rate_limit;
  uint32_t max_output_tokens = 0;  // 0 = the server's default
  SourceLocation where;
};

struct ApiKey {
  std::string id;    // a label for audit records ("alice-laptop"), never the key
  std::string tier;  // must name a tier
  // "sha256:<salt hex>:<digest hex>", digest = SHA-256(salt || key). API keys are random
  // tokens of >= 128 bits, so a fast salted hash is enough (a slow KDF protects guessable
  // passwords); `warden guard hash-key` makes one.
  std::string hash;
  SourceLocation where;
};

struct CircuitBreakerSettings {
  uint32_t failure_threshold = 5;   // consecutive upstream failures that open the circuit
  double open_seconds = 30;         // how long it stays open before one trial request
  uint32_t half_open_requests = 1;  // trial requests let through while half-open
};

struct AuditSettings {
  bool enabled = true;
  std::string path;                 // audit log file; empty = warden-audit.db next to the policy
  uint32_t checkpoint_every = 1000; // records between ledger checkpoints of the audit root
  double checkpoint_seconds = 60;
  std::string ledger;               // ledger DB for checkpoints; empty = none
  bool record_text = false;         // store request/response text, not only digests
};

struct Limits {
  uint64_t max_input_bytes = 1 << 20;    // a request's scanned text, all messages together
  uint64_t max_output_bytes = 1 << 20;
  uint32_t max_messages = 1024;
  uint32_t max_decode_depth = 3;         // encoding scanner nesting
  uint64_t max_decoded_bytes = 1 << 20;  // all decoded payloads of one scan together
};

struct Policy {
  uint32_t version = 1;
  std::string name;
  std::string description;
  std::string default_tier;  // tier for requests without a key (offline checks); must exist
  std::vector<Tier> tiers;
  std::vector<ApiKey> keys;
  ChainSpec input;
  ChainSpec output;
  CircuitBreakerSettings circuit_breaker;
  AuditSettings audit;
  Limits limits;
  std::string source;    // the file name it was read from, for messages
  std::string base_dir;  // its directory
};

// Parses and validates. DataLoss with every problem, one per line, each
// "<source>:<line>:<column>: <field path>: <what is wrong>".
Result<Policy> ParsePolicy(std::string_view yaml, std::string_view source);
// Reads the file (NotFound / Internal for I/O, DataLoss as above) and sets base_dir.
Result<Policy> LoadPolicy(const std::string& path);

// "<source>:<line>:<column>: " or "<source>: " when the location is unknown.
std::string Where(const Policy& policy, const SourceLocation& where);

const Tier* FindTier(const Policy& policy, std::string_view name);

// API keys: the policy's hash form for `key` with a fresh 16-byte random salt, and a
// constant-time check of a presented key against every configured key (returns its entry).
std::string HashApiKey(std::string_view key);
const ApiKey* MatchApiKey(const Policy& policy, std::string_view presented_key);

}  // namespace warden::guard
