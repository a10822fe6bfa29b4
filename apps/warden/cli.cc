#include "cli.h"

#include <cerrno>
#include <cstdio>

#include "base/files.h"
#include <cstdlib>

namespace warden::cli {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kVerificationFailed:
      return kExitCheckFailed;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    case StatusCode::kDataLoss:
      return kExitMalformed;
    default:
      return kExitEnvironment;
  }
}

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "warden %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               s.message().c_str());
  return ExitCodeFor(s);
}

std::string DataDir() {
  if (const char* env = std::getenv("WARDEN_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::string(WARDEN_SOURCE_DIR) + "/data";
}

CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& summary) {
  CLI::App* cmd = parent->add_subcommand(name, summary);
  cmd->footer("");
  return cmd;
}

void LongHelp(CLI::App* cmd, const std::string& text) {
  const std::string old = cmd->get_footer();
  cmd->footer(old.empty() ? text : text + "\n\n" + old);
}

void AddFooter(CLI::App* cmd, const std::string& text) {
  const std::string old = cmd->get_footer();
  cmd->footer(old.empty() ? text : old + "\n\n" + text);
}

Result<std::string> ReadStandardInput(uint64_t max_bytes) {
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) {
    out.append(buf, n);
    if (out.size() > max_bytes) {
      return DataLossError("standard input: more than " + FormatBytes(static_cast<double>(max_bytes)));
    }
  }
  if (std::ferror(stdin)) return ErrnoStatus(errno, "read", "standard input");
  return out;
}

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

}  // namespace warden::cli
