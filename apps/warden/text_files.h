// Text files of one record a line, read by the commands that take example or prompt files
// (guard train, watermark eval).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace warden::cli {

struct TextRecord {
  std::string text;
  std::string source;
};

// Plain text: every non-blank line is one example (a trailing CR is dropped). A file whose name
// ends in .jsonl: every non-blank line is a JSON object with a string "text" (and optionally a
// string "source"). The choice is by name, not by content, so that a plain-text example that
// happens to start with '{' is still plain text.
// Errors: those of ReadFileToString (NotFound, ResourceExhausted over `max_bytes`, ...), and
// DataLoss naming the file and line for text that is not UTF-8, a bad JSON line, or a file
// with no records.
Result<std::vector<TextRecord>> ReadTextRecords(uint64_t max_bytes, const std::string& path);

}  // namespace warden::cli
