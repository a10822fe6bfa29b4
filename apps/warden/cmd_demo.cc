// warden demo: the whole story on the bundled tiny model, with no server and no network.
//
// Provenance (make a key, sign the model, verify it, flip one bit inside one tensor, verify
// again and show the precise failure), the ledger (release, data, training run, proofs), and
// the engine (the untouched model writes a story), the watermark (a keyed story is traced
// back to its key), and the guard (the default policy on four shipped examples). Later modules
// extend the story.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "crypto/keys.h"
#include "engine/generate.h"
#include "engine_options.h"
#include "formats/tensor_index.h"
#include "guard/builtin_scanners.h"
#include "guard/guard.h"
#include "guard/policy.h"
#include "guard_print.h"
#include "ledger/dataset.h"
#include "ledger/ledger.h"
#include "provenance/signing.h"
#include "watermark/detector.h"
#include "watermark/key.h"
#include "watermark/samplers.h"

namespace warden::cli {

namespace {

void Step(int n, const char* title, const std::string& command) {
  std::printf("\n[%d] %s\n    $ %s\n", n, title, command.c_str());
}

Status CopyFile(const std::string& from, const std::string& to) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(from, 1ull << 30));
  return WriteFileAtomic(to, bytes, 0644);
}

// Flips one bit in the middle of the named tensor's data; returns its absolute offset.
Result<uint64_t> TamperTensor(const std::string& path, const std::string& tensor) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, 1ull << 30));
  WARDEN_ASSIGN_OR_RETURN(std::vector<formats::TensorRange> tensors,
                          formats::IndexTensors(formats::ModelFormat::kGguf, AsBytes(bytes), path));
  for (const auto& t : tensors) {
    if (t.name != tensor) continue;
    const uint64_t at = t.offset + t.size / 2;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    WARDEN_RETURN_IF_ERROR(WriteFileAtomic(path, bytes, 0644));
    return at;
  }
  return NotFoundError(path + ": no tensor named " + tensor);
}

// The ledger part: the signed model becomes a model-release, its (stand-in) training data a
// dataset entry, a training-run joins them, a checkpoint is signed, and lineage prints it.
int LedgerStory(const std::string& work, const std::string& model_dir,
                const provenance::SignResult& signed_model) {
  const std::string db = work + "/models.ledger";
  const std::string log_key = work + "/log.key";
  const std::string data = DataDir() + "/sets/demo-stories.jsonl";
  std::remove(db.c_str());

  Step(6, "Create a transparency ledger with its own Ed25519 checkpoint key",
       "warden keygen --type ed25519 --out " + log_key + " && warden ledger init --db " + db +
           " --key " + log_key + " --origin warden.demo/models");
  auto lk = crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  if (!lk) return Fail("demo", lk.error());
  Status st = crypto::WriteKeyPair(*lk, log_key, true);
  if (!st.ok()) return Fail("demo", st);
  ledger::LedgerConfig cfg;
  cfg.origin = "warden.demo/models";
  auto l = ledger::Ledger::Init(db, lk->Public(), cfg);
  if (!l) return Fail("demo", l.error());
  std::printf("    log key %s\n", l->config().log_vkey.c_str());

  Step(7, "Record the release (what `warden sign --ledger` does)",
       "warden sign " + model_dir + " --key ... --ledger " + db + " --release-version 1.0");
  const std::string model_digest = "sha256:" + signed_model.statement.subject_digest;
  auto a = l->Append(
      "model-release",
      ledger::ModelReleaseJson("stories260K", "1.0", signed_model.statement.subject_digest,
                               signed_model.bundle_json),
      "demo");
  if (!a) return Fail("demo", a.error());
  std::printf("    model-release at index %llu\n", static_cast<unsigned long long>(a->index));

  Step(8, "Commit to the training data (a stand-in: TinyStories is not bundled)",
       "warden dataset commit " + data + " --ledger " + db + " --license ... --source ...");
  auto commit = ledger::CommitDataset(data, ledger::RecordFormat::kJsonl);
  if (!commit) return Fail("demo", commit.error());
  const std::string root = "sha256:" + crypto::DigestHex(commit->root);
  a = l->Append("dataset",
                ledger::DatasetEntryJson(commit->root, commit->count, "same as warden",
                                         "data/sets/demo-stories.jsonl",
                                         "demo-stories (stand-in for TinyStories)", "jsonl"),
                "demo");
  if (!a) return Fail("demo", a.error());
  std::printf("    %llu records, root %s, dataset entry at index %llu\n",
              static_cast<unsigned long long>(commit->count), root.c_str(),
              static_cast<unsigned long long>(a->index));
  auto proof = ledger::ProveRecord(data, ledger::RecordFormat::kJsonl, 2);
  if (!proof) return Fail("demo", proof.error());
  st = ledger::CheckDatasetProof(*proof, commit->root);
  std::printf("    record 2 proven to be in the data with %zu hashes: %s\n", proof->path.size(),
              st.ok() ? "verified" : st.message().c_str());

  Step(9, "Record the training run that joined them", "warden ledger append training-run run.json");
  json::object run;
  run["dataset_roots"] = json::array{json::value(root)};
  run["config_digest"] = "sha256:" + crypto::DigestHex(crypto::Sha256("dim=64 layers=5 heads=8"));
  run["output_model_digest"] = model_digest;
  run["code_revision"] = "llama2.c";
  run["hardware"] = "unknown (stand-in record)";
  run["started"] = "2023-08-01T00:00:00Z";
  run["finished"] = "2023-08-01T01:00:00Z";
  a = l->Append("training-run", json::Canonical(run), "demo");
  if (!a) return Fail("demo", a.error());

  Step(10, "Sign a checkpoint and prove the release is in the log",
       "warden ledger checkpoint --db " + db + " --key " + log_key + " && warden ledger prove 0");
  auto note = l->Checkpoint(*lk);
  if (!note) return Fail("demo", note.error());
  for (size_t pos = 0; pos < note->size();) {
    size_t nl = note->find('\n', pos);
    if (nl == std::string::npos) nl = note->size();
    std::printf("    | %s\n", note->substr(pos, nl - pos).c_str());
    pos = nl + 1;
  }
  auto tlog = l->ProveInclusion(0);
  if (!tlog) return Fail("demo", tlog.error());
  std::printf("    inclusion proof for entry 0: %zu bytes (c2sp.org/tlog-proof@v1)\n",
              tlog->size());
  st = l->Audit();
  std::printf("    ledger audit: %s\n", st.ok() ? "passed" : st.message().c_str());
  if (!st.ok()) return kExitCheckFailed;

  Step(11, "The model's lineage", "warden ledger lineage " + model_digest + " --db " + db);
  auto lin = l->Lineage(model_digest);
  if (!lin) return Fail("demo", lin.error());
  std::printf("    model %s\n", lin->model_digest.c_str());
  std::printf("      released as stories260K 1.0 (#%llu)\n",
              static_cast<unsigned long long>(lin->releases.empty() ? 0 : lin->releases[0]));
  std::printf("      made by training run #%llu from %zu dataset%s:\n",
              static_cast<unsigned long long>(lin->produced_by.empty() ? 0 : lin->produced_by[0]),
              lin->datasets.size(), lin->datasets.size() == 1 ? "" : "s");
  for (const auto& d : lin->datasets) std::printf("        %s\n", d.c_str());
  return kExitOk;
}

// Prints generated text under a step, wrapped at word boundaries; `column` is where the cursor
// is on the current line.
constexpr const char* kStoryPrompt = "Once upon a time";

bool PrintWrapped(std::string_view text, size_t& column) {
  for (char c : text) {
    if (c == '\n' || (c == ' ' && column > 90)) {
      std::printf("\n    ");
      column = 4;
      continue;
    }
    std::fputc(c, stdout);
    ++column;
  }
  std::fflush(stdout);
  return true;
}

// Continues "Once upon a time" with the bundled model and the standard chain (plus `ext`, the
// watermark's stages, when given), streaming the text wrapped under the current step.
Result<engine::GenerateResult> StreamStory(const LoadedModel& m, uint64_t seed, uint32_t tokens,
                                           engine::ChainExtensions ext = {}) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<engine::Token> prompt, m.tokenizer->Encode(kStoryPrompt));
  engine::SamplerRegistry registry;
  engine::RegisterBuiltinSamplers(registry);
  engine::SamplingParams params;
  params.seed = seed;
  WARDEN_ASSIGN_OR_RETURN(auto chain, engine::BuildSamplerChain(params, registry, std::move(ext)));
  WARDEN_ASSIGN_OR_RETURN(auto generator, engine::Generator::Create(m.model, m.tokenizer));
  engine::GenerateRequest request;
  request.prompt = std::move(prompt);
  request.max_tokens = tokens;
  request.sampler = std::move(chain);
  std::printf("    %s", kStoryPrompt);
  size_t column = 4 + std::string_view(kStoryPrompt).size();
  request.on_token = [&column](const engine::GeneratedToken& t) {
    return PrintWrapped(t.text, column);
  };
  return generator->Generate(request);
}

// The engine step: the embedded engine runs the bundled (untouched) model, streaming a story.
// Leaves the story in `*story` for the watermark steps.
int GenerateStory(const LoadedModel& m, std::string* story) {
  constexpr uint64_t kSeed = 42;
  constexpr uint32_t kTokens = 96;
  Step(12, "Run the untouched model with the embedded engine (no server)",
       "warden generate --prompt 'Once upon a time' -n " + std::to_string(kTokens) +
           " --seed " + std::to_string(kSeed));
  auto result = StreamStory(m, kSeed, kTokens);
  if (!result) return Fail("demo", result.error());
  *story = result->text;
  std::printf("\n    (%zu tokens at %.0f tokens/s; stop: %s)\n", result->tokens.size(),
              result->generate_seconds > 0 ? result->tokens.size() / result->generate_seconds
                                           : 0.0,
              std::string(engine::FinishReasonName(result->finish)).c_str());
  return kExitOk;
}

// Detects `key`'s watermark in `text` and prints one line about it.
Result<watermark::Detection> DetectAndPrint(const engine::Tokenizer& tok,
                                            const watermark::WatermarkKey& key,
                                            std::string_view text, const char* label) {
  WARDEN_ASSIGN_OR_RETURN(auto detector, watermark::Detector::Create(key, key.scheme, key.params));
  engine::EncodeOptions encode;
  encode.add_special = false;
  WARDEN_ASSIGN_OR_RETURN(std::vector<engine::Token> ids, tok.Encode(text, encode));
  detector.Push(ids);
  const watermark::Detection d = detector.Current();
  std::printf("    %-34s %4llu tokens scored, p-value %-9.3g -> %s\n", label,
              static_cast<unsigned long long>(d.tokens_scored), d.p_value,
              std::string(watermark::VerdictName(d.verdict)).c_str());
  return d;
}

// The watermark steps: a key, a watermarked story, and detection on it, on the unwatermarked
// story of the engine step, and with a wrong key.
int WatermarkStory(const std::string& work, const LoadedModel& m, const std::string& plain_story) {
  constexpr uint64_t kSeed = 42;
  // gumbel: distortion-free (each token is still a sample from the model's distribution) and,
  // on this small and rather predictable model, the strongest signal per token; 256 tokens
  // reach the 1e-6 false-positive rate for practically every key (60 of 60 keys tried).
  constexpr uint32_t kTokens = 256;
  const std::string key_path = work + "/wm.key";
  Step(13, "Create a watermark key (32 secret bytes, mode 0600)",
       "warden watermark keygen --out " + key_path + " --scheme gumbel --force");
  auto key = watermark::GenerateKey(watermark::Scheme::kGumbel);
  if (!key) return Fail("demo", key.error());
  Status st = watermark::WriteKeyFile(*key, key_path, true);
  if (!st.ok()) return Fail("demo", st);
  std::printf("    key id %s, scheme gumbel (context %u)\n", key->key_id.c_str(),
              key->params.context);

  const std::string story_path = work + "/story-watermarked.txt";
  Step(14, "Generate with the watermark: the text is still a sample of the model",
       "warden generate --watermark " + key_path + " -p 'Once upon a time' -n " +
           std::to_string(kTokens) + " --seed " + std::to_string(kSeed) + " > " + story_path);
  auto ext = watermark::MakeWatermarkExtensions(*key, key->scheme, key->params, kSeed);
  if (!ext) return Fail("demo", ext.error());
  auto result = StreamStory(m, kSeed, kTokens, std::move(*ext));
  if (!result) return Fail("demo", result.error());
  std::printf("\n");
  st = WriteFileAtomic(story_path, result->text, 0644);
  if (!st.ok()) return Fail("demo", st);

  Step(15, "Detect: the watermark is found; the plain story and a wrong key find nothing",
       "warden watermark detect --key " + key_path + " " + story_path);
  const engine::Tokenizer& tok = *m.tokenizer;
  auto marked = DetectAndPrint(tok, *key, result->text, "watermarked story, right key:");
  if (!marked) return Fail("demo", marked.error());
  auto plain = DetectAndPrint(tok, *key, plain_story, "story of step 12, right key:");
  if (!plain) return Fail("demo", plain.error());
  auto other = watermark::GenerateKey(watermark::Scheme::kGumbel);
  if (!other) return Fail("demo", other.error());
  auto wrong = DetectAndPrint(tok, *other, result->text, "watermarked story, wrong key:");
  if (!wrong) return Fail("demo", wrong.error());
  if (plain->verdict == watermark::Verdict::kWatermarked ||
      wrong->verdict == watermark::Verdict::kWatermarked) {
    std::printf("    a false positive: chance allows it at most once in a million runs; please report "
                "it\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

// The guard: the default policy on four shipped examples (data/guard/examples), each with the
// decision it must get; a different decision fails the demo.
int GuardStory() {
  const std::string policy_path = DataDir() + "/policies/default.yaml";
  const std::string examples = DataDir() + "/guard/examples/";
  auto policy = guard::LoadPolicy(policy_path);
  if (!policy) return Fail("demo", policy.error());
  guard::ScannerRegistry registry;
  guard::RegisterBuiltinScanners(registry);
  auto g = guard::Guard::Create(*policy, registry, DataDir());
  if (!g) return Fail("demo", g.error());
  struct Case {
    const char* title;
    const char* file;
    bool output;
    const char* blocked_by;  // empty: must be allowed; "*": blocked by any attack detector
    const char* via;         // the blocking verdict must be inside this encoding
  };
  const Case cases[] = {
      {"Guard a plain question with the default policy: it passes", "question.txt", false, "",
       ""},
      {"A prompt injection hidden in an e-mail to summarise: blocked", "injection.txt", false,
       "injection", ""},
      // Both the jailbreak and the injection detector recognise a decoded DAN prompt; which one
      // blocks depends on their order and thresholds, what matters is that it is the payload.
      {"A jailbreak wrapped in base64: decoded, scanned, blocked", "jailbreak-base64.txt", false,
       "*", "base64"},
      {"A model answer that leaks personal data (output chain): redacted", "pii-answer.txt", true,
       "", ""},
  };
  int step = 16;
  for (const Case& c : cases) {
    const std::string path = examples + c.file;
    Step(step++, c.title,
         std::string("warden guard check --policy data/policies/default.yaml") +
             (c.output ? " --output" : "") + " - < data/guard/examples/" + c.file);
    auto text = ReadFileToString(path, 1 << 20);
    if (!text) return Fail("demo", text.error());
    std::string body = *text;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    std::printf("    %s\n", body.size() > 160 ? (body.substr(0, 157) + "...").c_str() : body.c_str());
    guard::RequestState state;
    guard::Decision d;
    guard::Conversation conv;
    if (c.output) {
      d = g->CheckOutput(body, {}, policy->default_tier, state);
    } else {
      conv.messages.push_back(guard::Message{"user", body, "", "", {}});
      d = g->CheckInput(conv, policy->default_tier, state);
    }
    std::printf("    %s (%.0f us)\n", d.allowed ? "allowed" : ("blocked by " + d.blocked_by).c_str(),
                static_cast<double>(d.elapsed.count()) / 1000.0);
    for (const auto& v : d.verdicts) std::printf("  %s\n", VerdictLine(v).c_str());
    if (c.output && d.allowed) std::printf("    answer after the guard: %s\n", body.c_str());
    const bool want_allowed = std::string_view(c.blocked_by).empty();
    const std::string_view want_by = c.blocked_by;
    const bool by_ok = want_by == "*" ? (d.blocked_by == "injection" || d.blocked_by == "jailbreak" ||
                                        d.blocked_by == "harmful")
                                     : d.blocked_by == want_by;
    const bool via_ok = std::string_view(c.via).empty() ||
                        (!d.verdicts.empty() && d.verdicts.back().via == c.via);
    if (d.allowed != want_allowed || (!want_allowed && (!by_ok || !via_ok))) {
      std::printf("    UNEXPECTED: expected %s\n",
                  want_allowed ? "allowed" : "blocked by an attack detector, inside the payload");
      return kExitCheckFailed;
    }
  }
  return kExitOk;
}

int RunDemo(const std::string& workdir_arg) {
  const std::string model_src = DataDir() + "/models/stories260K.gguf";
  std::error_code ec;
  std::string work = workdir_arg;
  if (work.empty()) {
    char tmpl[] = "/tmp/warden-demo-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Fail("demo", ErrnoStatus(errno, "mkdtemp", "/tmp"));
    work = tmpl;
  } else {
    std::filesystem::create_directories(work, ec);
    if (ec) return Fail("demo", UnavailableError("cannot create " + work + ": " + ec.message()));
  }
  const std::string model_dir = work + "/stories260K";
  const std::string model = model_dir + "/stories260K.gguf";
  const std::string key = work + "/release.key";
  const std::string sig = model_dir + ".sig";
  std::filesystem::create_directories(model_dir, ec);
  Status st = CopyFile(model_src, model);
  if (!st.ok()) return Fail("demo", st.WithContext("bundled model"));

  std::printf(
      "warden demo: model provenance on the bundled tiny Llama model (stories260K, GGUF)\n");
  std::printf("working in %s\n", work.c_str());

  Step(1, "Create a release key (ECDSA P-256)", "warden keygen --out " + key);
  auto priv = crypto::PrivateKey::Generate(crypto::KeyType::kEcdsaP256);
  if (!priv) return Fail("demo", priv.error());
  st = crypto::WriteKeyPair(*priv, key, true);
  if (!st.ok()) return Fail("demo", st);
  std::printf("    key fingerprint %s\n", priv->Public().Fingerprint().c_str());

  Step(2, "Sign the model: per-file and per-tensor SHA-256 in an OMS v1.0 bundle",
       "warden sign " + model_dir + " --key " + key);
  provenance::SignOptions so;
  so.hash.tensors = true;
  auto signed_model = provenance::SignModel(model_dir, *priv, so);
  if (!signed_model) return Fail("demo", signed_model.error());
  st = WriteFileAtomic(sig, signed_model->bundle_json, 0644);
  if (!st.ok()) return Fail("demo", st);
  const auto& res = signed_model->statement.resources;
  std::printf("    %zu file, %zu tensor digests, subject sha256 %s\n    wrote %s\n", res.size(),
              res.empty() ? size_t{0} : res[0].tensors.size(),
              signed_model->statement.subject_digest.c_str(), sig.c_str());

  Step(3, "Verify the untouched model",
       "warden verify " + model_dir + " --key " + key + ".pub --tensors");
  provenance::VerifyOptions vo;
  vo.tensors = true;
  auto bundle_text = ReadFileToString(sig, 64ull << 20);
  if (!bundle_text) return Fail("demo", bundle_text.error());
  auto report = provenance::VerifyModel(model_dir, *bundle_text, sig, priv->Public(), vo);
  if (!report) return Fail("demo", report.error());
  std::printf("    %s: %zu file, %zu tensors match\n", report->ok() ? "verified" : "FAILED",
              report->files_checked, report->tensors_checked);
  if (!report->ok()) return kExitCheckFailed;

  const std::string victim = "blk.2.attn_q.weight";
  Step(4, "Tamper: flip one bit in the middle of one tensor", "(edit " + victim + ")");
  auto at = TamperTensor(model, victim);
  if (!at) return Fail("demo", at.error());
  std::printf("    flipped bit 0 of the byte at offset %llu of %s\n",
              static_cast<unsigned long long>(*at), model.c_str());

  Step(5, "Verify again: the failure names the file and the tensor",
       "warden verify " + model_dir + " --key " + key + ".pub --tensors");
  report = provenance::VerifyModel(model_dir, *bundle_text, sig, priv->Public(), vo);
  if (!report) return Fail("demo", report.error());
  if (report->ok()) {
    std::printf("    NOT DETECTED: this is a bug\n");
    return kExitCheckFailed;
  }
  for (const auto& c : report->changes) {
    std::printf("    %s %s\n", std::string(provenance::FileChangeKindName(c.kind)).c_str(),
                c.name.c_str());
    for (const auto& t : c.tensors) {
      std::printf("      tensor %s %s\n",
                  std::string(provenance::TensorChangeKindName(t.kind)).c_str(), t.name.c_str());
    }
  }
  std::printf("    (the real command exits 1 here)\n");

  const int rc = LedgerStory(work, model_dir, *signed_model);
  if (rc != kExitOk) return rc;
  auto loaded = LoadModel(model_src);
  if (!loaded) return Fail("demo", loaded.error());
  std::string plain_story;
  const int story = GenerateStory(*loaded, &plain_story);
  if (story != kExitOk) return story;
  const int marked = WatermarkStory(work, *loaded, plain_story);
  if (marked != kExitOk) return marked;
  const int guarded = GuardStory();
  if (guarded != kExitOk) return guarded;
  std::printf(
      "\nDone: the tampered tensor was found, the release, its (stand-in) training data and\n"
      "the run that joined them are on record, the untouched model ran with no server, its\n"
      "watermarked text was traced back to the key, and the guard let a question through,\n"
      "stopped an injection and a wrapped jailbreak and redacted a leak. Try the commands\n"
      "yourself in %s.\n",
      work.c_str());
  return kExitOk;
}

}  // namespace

void RegisterDemo(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "demo", "The whole story on bundled defaults, offline");
  LongHelp(cmd,
           "Run warden's story on the bundled tiny model (data/models/stories260K.gguf) with no\n"
           "server and no network: create a key, sign the model, verify it, tamper with one\n"
           "tensor, and verify again to see the failure named down to the tensor; record the\n"
           "release, its data and training run in a transparency ledger; run the untouched\n"
           "model with the embedded engine to write a short story; write a watermarked story,\n"
           "then detect the watermark (and find none with a wrong key); and run the default\n"
           "guard policy on a question, a prompt injection, a base64-wrapped jailbreak and an\n"
           "answer that leaks personal data (data/guard/examples).");
  AddFooter(
      cmd, "Example:\n  warden demo --dir /tmp/story   # then rerun the printed commands yourself");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("--dir", *dir, "Working directory (default: a new one under /tmp)");
  cmd->callback([=] { *exit_code = RunDemo(*dir); });
}

}  // namespace warden::cli
