// Shared pieces of the warden command line: exit codes, error printing, subcommand hooks.
//
// Exit codes, everywhere: 0 success; 1 a check did not pass; 2 usage error; 3 malformed
// input; 4 I/O or environment error.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "base/status.h"

namespace warden::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitMalformed = 3;
inline constexpr int kExitEnvironment = 4;

int ExitCodeFor(const Status& s);

// Prints "warden <command>: <message>" to stderr and returns the exit code for `s`.
int Fail(std::string_view command, const Status& s);

// Each subcommand registers itself on the root app and stores the code to exit with.
using Register = void (*)(CLI::App& app, int* exit_code);
void RegisterKeygen(CLI::App& app, int* exit_code);
void RegisterHash(CLI::App& app, int* exit_code);
void RegisterSign(CLI::App& app, int* exit_code);
void RegisterVerify(CLI::App& app, int* exit_code);
void RegisterDemo(CLI::App& app, int* exit_code);
void RegisterLedger(CLI::App& app, int* exit_code);
void RegisterDataset(CLI::App& app, int* exit_code);
void RegisterConvert(CLI::App& app, int* exit_code);
void RegisterTokenize(CLI::App& app, int* exit_code);
void RegisterGenerate(CLI::App& app, int* exit_code);
void RegisterWatermark(CLI::App& app, int* exit_code);
void RegisterGuard(CLI::App& app, int* exit_code);
// guard check / eval / hash-key (cmd_guard_check.cc), added under `guard` by RegisterGuard.
void AddGuardPolicyCommands(CLI::App* guard, int* exit_code);

// Where the bundled data (data/models, ...) lives: $WARDEN_DATA_DIR, else the source tree's
// data/ this binary was built from.
std::string DataDir();

// add_subcommand without inheriting the parent's footer (CLI11 copies it to children).
CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& summary);

// A subcommand's long explanation goes into its own --help (after the options), so that the
// list of subcommands in the parent's --help stays one short line each.
void LongHelp(CLI::App* cmd, const std::string& text);
// Appends a paragraph (usually examples) to a subcommand's --help.
void AddFooter(CLI::App* cmd, const std::string& text);

// Reads standard input to the end, refusing more than `max_bytes` (DataLoss).
Result<std::string> ReadStandardInput(uint64_t max_bytes);

// Human-readable byte count and rate ("1.07 GB/s"), decimal units.
std::string FormatBytes(double bytes);

}  // namespace warden::cli
