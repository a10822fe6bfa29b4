// warden convert: other model formats into GGUF. `convert llama2c` turns a llama2.c
// checkpoint and tokenizer into a llama GGUF with an SPM vocabulary.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "base/files.h"
#include "cli.h"
#include "formats/llama2c.h"

namespace warden::cli {

namespace {

struct Llama2cArgs {
  std::string model;
  std::string tokenizer;
  std::string out;
  std::string name = "llama";
  uint32_t context_length = 0;
  bool force = false;
};

int RunLlama2c(const Llama2cArgs& a) {
  constexpr std::string_view kCmd = "convert llama2c";
  struct stat st {};
  if (::lstat(a.out.c_str(), &st) == 0) {
    if (!a.force) {
      return Fail(kCmd,
                  FailedPreconditionError(a.out + " already exists (pass --force to replace it)"));
    }
    if (!S_ISREG(st.st_mode)) {
      return Fail(kCmd, FailedPreconditionError(a.out + " exists and is not a regular file"));
    }
  } else if (errno != ENOENT) {
    return Fail(kCmd, ErrnoStatus(errno, "stat", a.out));
  }
  auto model_file = ReadOnlyFile::Open(a.model);
  if (!model_file) return Fail(kCmd, model_file.error());
  auto tok_file = ReadOnlyFile::Open(a.tokenizer);
  if (!tok_file) return Fail(kCmd, tok_file.error());
  auto model_map = model_file->MapAll();
  if (!model_map) return Fail(kCmd, model_map.error());
  auto tok_map = tok_file->MapAll();
  if (!tok_map) return Fail(kCmd, tok_map.error());

  formats::ConvertOptions options;
  options.name = a.name;
  options.context_length = a.context_length;
  auto gguf = formats::ConvertLlama2cToGguf(model_map->bytes(), a.model, tok_map->bytes(),
                                            a.tokenizer, options);
  if (!gguf) return Fail(kCmd, gguf.error());
  auto parsed = formats::ParseLlama2cModel(model_map->bytes(), a.model, options.limits);
  if (!parsed) return Fail(kCmd, parsed.error());  // unreachable: the conversion parsed it
  if (Status s = WriteFileAtomic(a.out, *gguf); !s.ok()) return Fail(kCmd, s);
  const auto& c = parsed->config;
  std::printf(
      "wrote %s (%s): GGUF v3, %zu F32 tensors; dim %u, hidden %u, %u layers, %u heads "
      "(%u kv), vocab %u%s, context %u\n",
      a.out.c_str(), FormatBytes(static_cast<double>(gguf->size())).c_str(), parsed->tensors.size(),
      c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size,
      c.shared_classifier ? " (shared classifier)" : "",
      a.context_length != 0 ? a.context_length : c.seq_len);
  return kExitOk;
}

}  // namespace

void RegisterConvert(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "convert", "Convert other model formats to GGUF");
  LongHelp(cmd,
           "Convert a model from another format into GGUF, so that warden's engine and other\n"
           "GGUF tools (llama.cpp, ...) can load it. One source format so far: llama2c.");
  cmd->require_subcommand(1);

  auto* sub = AddCommand(cmd, "llama2c", "A llama2.c checkpoint + tokenizer into a llama GGUF");
  LongHelp(sub,
           "Convert Karpathy's llama2.c legacy checkpoint (MODEL.bin: 7 int32 header, float32\n"
           "weights) and its tokenizer (TOKENIZER.bin) into a GGUF v3 file with the standard\n"
           "llama metadata and a SentencePiece vocabulary. Tensors are F32, copied unchanged;\n"
           "the layout follows llama.cpp's convert-llama2c-to-ggml, which with\n"
           "--context-length 2048 it reproduces byte for byte. Both inputs are checked\n"
           "strictly: a malformed file is refused (exit 3) with its name and the offset at\n"
           "fault. --out is never overwritten unless --force is given.");
  AddFooter(sub,
            "Example:\n"
            "  warden convert llama2c stories260K.bin tok512.bin --out stories260K.gguf\n"
            "  warden hash --tensors-only stories260K.gguf     # compare tensor digests");
  auto a = std::make_shared<Llama2cArgs>();
  sub->add_option("MODEL", a->model, "llama2.c checkpoint (.bin)")->required();
  sub->add_option("TOKENIZER", a->tokenizer, "llama2.c tokenizer (.bin)")->required();
  sub->add_option("--out,-o", a->out, "GGUF file to write")->required();
  sub->add_option("--name", a->name, "general.name")->capture_default_str();
  sub->add_option("--context-length", a->context_length,
                  "llama.context_length (default: the checkpoint's seq_len; llama.cpp's "
                  "converter writes 2048)")
      ->check(CLI::Range(1u, 1u << 24));
  sub->add_flag("--force", a->force, "Overwrite an existing --out");
  sub->callback([=] { *exit_code = RunLlama2c(*a); });
}

}  // namespace warden::cli
