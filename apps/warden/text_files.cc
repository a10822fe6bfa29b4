#include "text_files.h"

#include <string_view>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"

namespace warden::cli {

Result<std::vector<TextRecord>> ReadTextRecords(uint64_t max_bytes, const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path, max_bytes));
  const bool jsonl = path.ends_with(".jsonl");
  std::vector<TextRecord> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string_view line(data.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = path + ": line " + std::to_string(line_no);
    if (const size_t bad = FirstInvalidUtf8(line); bad != std::string_view::npos) {
      return DataLossError(where + ": not UTF-8 (byte " + std::to_string(bad + 1) + ")");
    }
    if (!jsonl) {
      out.push_back({std::string(line), ""});
      continue;
    }
    WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(line, where));
    auto obj = json::AsObject(v, "");
    if (!obj) return DataLossError(where + ": " + obj.error().message());
    auto text = json::GetString(**obj, "text", "");
    if (!text) return DataLossError(where + ": " + text.error().message());
    TextRecord t{std::string(*text), ""};
    if (const json::value* s = (*obj)->if_contains("source")) {
      if (!s->is_string()) return DataLossError(where + ": \"source\" is not a string");
      t.source = std::string(s->as_string());
    }
    out.push_back(std::move(t));
  }
  if (out.empty()) return DataLossError(path + ": no examples in the file");
  return out;
}

}  // namespace warden::cli
