// libFuzzer target for the model loader and the forward pass (engine/model.h, context.h).
//
// Input: a whole GGUF file image. It is written to an in-memory file (memfd) and loaded
// with Model::Load exactly as a file on disk would be; if it loads, a Context of 8 positions
// decodes 2 tokens. Beyond "no crash, no leak, no UB, no giant allocation" (ASan's allocation
// limit catches the last), it checks the loader's promises: errors are DataLoss or
// InvalidArgument; a loaded model has consistent hyper-parameters; a small context can
// always be created and decodes.
//
// Seeds (fuzz/corpus/model_fuzz/, each < 64 KB) were written by WriteSyntheticModel:
//   f32_gqa.gguf   n_vocab 259, n_embd 16, n_layer 1, n_head 4, n_head_kv 2, n_ff 24, n_rot 2
//   q8_0_mha.gguf  n_vocab 259, n_embd 32, n_layer 2, n_head 2, n_head_kv 2, n_ff 32, tied
//   q4_0_mqa.gguf  n_vocab 260, n_embd 32, n_layer 1, n_head 4, n_head_kv 1, n_ff 64
//   f16_tiny.gguf  n_vocab 259, n_embd 8,  n_layer 2, n_head 2, n_head_kv 1, n_ff 12, tied
// (the stories260K shape in miniature: GQA, partial rotary, tied and untied classifiers).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/model.h"

namespace {

using warden::StatusCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = memfd_create("model_fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  if (written != size) {
    close(fd);
    return 0;
  }
  auto model = warden::engine::Model::Load("/proc/self/fd/" + std::to_string(fd));
  close(fd);  // the mapping outlives the descriptor
  if (!model.has_value()) {
    const StatusCode code = model.error().code();
    Check(code == StatusCode::kDataLoss || code == StatusCode::kInvalidArgument);
    return 0;
  }
  const warden::engine::ModelConfig& c = (*model)->config();
  Check(c.n_vocab >= 1 && c.n_layer >= 1 && c.n_embd >= 1 && c.n_ff >= 1);
  Check(c.n_head_kv >= 1 && c.n_head % c.n_head_kv == 0);
  Check(c.head_dim % 2 == 0 && c.n_rot % 2 == 0 && c.n_rot <= c.head_dim);

  auto ctx = warden::engine::Context::Create(*model, {.n_ctx = 8, .threads = 1});
  Check(ctx.has_value());
  const std::vector<warden::engine::Token> tokens = {
      static_cast<warden::engine::Token>(1 % c.n_vocab), 0};
  auto logits = (*ctx)->Decode(tokens);
  Check(logits.has_value() && logits->size() == c.n_vocab);
  auto next = (*ctx)->Decode(std::span(tokens.data(), 1), /*all_logits=*/true);
  Check(next.has_value() && (*ctx)->n_past() == 3);
  return 0;
}
