// warden: one command for the host of an open-weight model. This file only wires the
// subcommands together; each lives in cmd_<name>.cc and calls the library.
#include <cstdio>

#include "cli.h"

int main(int argc, char** argv) {
  CLI::App app{
      "warden: a safety runtime for self-hosted open-weight language models.\n"
      "Prove what a model is (hash, sign, verify) and record its history in a transparency\n"
      "ledger (ledger, dataset); run GGUF models with the embedded engine (tokenize,\n"
      "generate); more to come: watermarks, a guarded gateway and red-team campaigns.",
      "warden"};
  app.set_version_flag("--version", "warden " WARDEN_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success; 1 a check did not pass (verification failed, tampering found);\n"
      "2 usage error; 3 malformed input (file, signature, config); 4 I/O or environment error.\n"
      "\nExamples:\n"
      "  warden demo                                   # the whole story, offline\n"
      "  warden keygen --out release.key\n"
      "  warden sign ./my-model --key release.key       # writes ./my-model.sig\n"
      "  warden verify ./my-model --key release.key.pub --tensors\n"
      "Start with `warden demo`, then `warden <command> --help`.");
  int exit_code = 0;
  warden::cli::RegisterKeygen(app, &exit_code);
  warden::cli::RegisterHash(app, &exit_code);
  warden::cli::RegisterSign(app, &exit_code);
  warden::cli::RegisterVerify(app, &exit_code);
  warden::cli::RegisterLedger(app, &exit_code);
  warden::cli::RegisterDataset(app, &exit_code);
  warden::cli::RegisterConvert(app, &exit_code);
  warden::cli::RegisterTokenize(app, &exit_code);
  warden::cli::RegisterGenerate(app, &exit_code);
  warden::cli::RegisterWatermark(app, &exit_code);
  warden::cli::RegisterGuard(app, &exit_code);
  warden::cli::RegisterDemo(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // --help and --version are successes; every other parse error is a usage error.
    return rc == 0 ? 0 : warden::cli::kExitUsage;
  }
  return exit_code;
}
