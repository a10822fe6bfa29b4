// libFuzzer target for the GGUF tokenizer (engine/tokenizer.h).
//
// The first input byte picks a mode; the rest is either text for one of a few tiny
// vocabularies built in memory (SentencePiece, byte-level BPE under each supported
// pre-tokenizer family, WordPiece), or, in the remaining modes, a whole GGUF file whose
// vocabulary is loaded and then used.
//
// Beyond "no crash, no leak, no UB" it checks what the tokenizer promises: Encode fails
// exactly when the text is not UTF-8 and then with InvalidArgument; every id is in range;
// Decode(Encode(text)) == text for BPE, and for SPM when the text holds nothing that
// decoding cannot give back (U+2581, which SPM shows as a space, or a special token); a
// vocabulary that FromGguf accepts never makes Encode or Decode misbehave.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "engine/tokenizer.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace {

using warden::engine::EncodeOptions;
using warden::engine::Token;
using warden::engine::Tokenizer;
using warden::engine::TokenizerKind;
using warden::formats::GgufValue;
using warden::formats::GgufValueType;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

GgufValue Strings(const std::vector<std::string>& items) {
  std::vector<GgufValue> v;
  for (const auto& s : items) v.push_back(GgufValue::String(s));
  return GgufValue::Array(GgufValueType::kString, std::move(v));
}

GgufValue Int32s(const std::vector<int32_t>& items) {
  std::vector<GgufValue> v;
  for (const int32_t i : items) v.push_back(GgufValue::I32(i));
  return GgufValue::Array(GgufValueType::kInt32, std::move(v));
}

GgufValue Floats(const std::vector<float>& items) {
  std::vector<GgufValue> v;
  for (const float f : items) v.push_back(GgufValue::F32(f));
  return GgufValue::Array(GgufValueType::kFloat32, std::move(v));
}

Tokenizer FromWriter(const warden::formats::GgufWriter& w) {
  const std::string bytes = w.WriteToString();
  auto gguf = warden::formats::ParseGguf(warden::AsBytes(bytes), "fuzz-vocab.gguf");
  Check(gguf.has_value());
  auto tok = Tokenizer::FromGguf(*gguf, "fuzz-vocab.gguf");
  Check(tok.has_value());
  return std::move(*tok);
}

const std::string kSpace = "\xE2\x96\x81";  // U+2581

Tokenizer BuildSpm() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  std::vector<float> scores = {0, 0, 0};
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    types.push_back(6);
    scores.push_back(0);
  }
  const char* pieces[] = {"a",  "b",  "e",   "h",     "l",  "o",   "t",        "ab",
                          "he", "ll", "llo", "hello", "th", "the", "\xC3\xA9", "\xE2\x82\xAC"};
  float score = -1;
  for (const char* p : pieces) {
    tokens.push_back(p);
    types.push_back(1);
    scores.push_back(score);
    tokens.push_back(kSpace + p);
    types.push_back(1);
    scores.push_back(score - 0.5f);
    score -= 1;
  }
  tokens.push_back(kSpace);
  types.push_back(1);
  scores.push_back(-0.25f);
  tokens.push_back(kSpace + kSpace);
  types.push_back(1);
  scores.push_back(-0.3f);
  tokens.push_back("<|c|>");
  types.push_back(3);
  scores.push_back(0);
  tokens.push_back("<u>");
  types.push_back(4);
  scores.push_back(0);
  warden::formats::GgufWriter w;
  Check(w.AddString("tokenizer.ggml.model", "llama").ok());
  Check(w.AddMetadata("tokenizer.ggml.tokens", Strings(tokens)).ok());
  Check(w.AddMetadata("tokenizer.ggml.scores", Floats(scores)).ok());
  Check(w.AddMetadata("tokenizer.ggml.token_type", Int32s(types)).ok());
  return FromWriter(w);
}

std::string ByteChar(uint32_t b) {
  uint32_t next = 256;
  for (uint32_t x = 0; x < 256; ++x) {
    const bool printable =
        (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
    const uint32_t cp = printable ? x : next++;
    if (x == b) {
      std::string s;
      if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
      } else {
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      return s;
    }
  }
  return "";
}

Tokenizer BuildBpe(const char* pre) {
  std::vector<std::string> tokens;
  for (uint32_t b = 0; b < 256; ++b) tokens.push_back(ByteChar(b));
  const std::string sp = ByteChar(' ');
  const std::string nl = ByteChar('\n');
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"},    {"l", "l"},
      {"he", "ll"},  {"hell", "o"},
      {sp, "hello"}, {"t", "h"},
      {"th", "e"},   {sp, "the"},
      {"1", "2"},    {"12", "3"},
      {nl, nl},      {sp, sp},
      {"'", "s"},    {"\xC3\x83", "\xC2\xA9"}};  // byte-level "é"
  std::vector<std::string> merge_texts;
  for (const auto& [l, r] : merges) {
    merge_texts.push_back(l + " " + r);
    const std::string joined = l + r;
    bool known = false;
    for (const auto& t : tokens) known = known || t == joined;
    if (!known) tokens.push_back(joined);
  }
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  warden::formats::GgufWriter w;
  Check(w.AddString("tokenizer.ggml.model", "gpt2").ok());
  Check(w.AddString("tokenizer.ggml.pre", pre).ok());
  Check(w.AddMetadata("tokenizer.ggml.tokens", Strings(tokens)).ok());
  Check(w.AddMetadata("tokenizer.ggml.token_type", Int32s(types)).ok());
  Check(w.AddMetadata("tokenizer.ggml.merges", Strings(merge_texts)).ok());
  Check(w.AddUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tokens.size() - 1)).ok());
  Check(w.AddUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 1)).ok());
  return FromWriter(w);
}

Tokenizer BuildWpm() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  std::vector<int32_t> types = {3, 1, 3, 3};
  for (const char* p : {"a", "b", "he", "llo", "hello", "the", "!", ",", "'", "s", "1", "2"}) {
    tokens.push_back(kSpace + p);
    tokens.push_back(p);
    types.push_back(1);
    types.push_back(1);
  }
  warden::formats::GgufWriter w;
  Check(w.AddString("tokenizer.ggml.model", "bert").ok());
  Check(w.AddMetadata("tokenizer.ggml.tokens", Strings(tokens)).ok());
  Check(w.AddMetadata("tokenizer.ggml.token_type", Int32s(types)).ok());
  Check(w.AddUint32("tokenizer.ggml.unknown_token_id", 1).ok());
  Check(w.AddUint32("tokenizer.ggml.bos_token_id", 2).ok());
  Check(w.AddUint32("tokenizer.ggml.seperator_token_id", 3).ok());
  return FromWriter(w);
}

struct Vocabs {
  std::vector<Tokenizer> all;
};

const Vocabs& GetVocabs() {
  static const Vocabs* v = [] {
    auto* out = new Vocabs;
    out->all.push_back(BuildSpm());
    for (const char* pre : {"default", "gpt-2", "falcon", "starcoder", "llama-bpe", "qwen2"}) {
      out->all.push_back(BuildBpe(pre));
    }
    out->all.push_back(BuildWpm());
    return out;
  }();
  return *v;
}

// Encodes `text` and checks every promise that holds for any vocabulary.
void Exercise(const Tokenizer& tok, std::string_view text, EncodeOptions opts) {
  auto ids = tok.Encode(text, opts);
  Check(ids.has_value() == warden::IsValidUtf8(text));
  if (!ids.has_value()) {
    Check(ids.error().code() == warden::StatusCode::kInvalidArgument);
    return;
  }
  for (const Token id : *ids) {
    Check(id >= 0 && static_cast<size_t>(id) < tok.vocab_size());
    (void)tok.TokenToPiece(id, true);
  }
  // The text's own ids: without the BOS/EOS that add_special put around them.
  std::span<const Token> own(*ids);
  if (opts.add_special && tok.add_bos() && !own.empty()) own = own.subspan(1);
  if (opts.add_special && tok.add_eos() && !own.empty()) own = own.first(own.size() - 1);
  const std::string plain = tok.Decode(own);
  const std::string rendered = tok.Decode(own, /*render_special=*/true);
  Check(rendered.size() >= plain.size());
  if (tok.kind() == TokenizerKind::kWpm) return;
  if (tok.kind() == TokenizerKind::kBpe) {
    // Every byte has a token, so BPE always gives the text back; a control token cut out
    // with parse_special comes back when rendered.
    Check(rendered == text);
    if (!opts.parse_special) Check(plain == text);
    return;
  }
  // SPM: a special token puts a space prefix after it, so only plain text round-trips: no
  // parse_special, no user-defined token text, no U+2581 (which decodes as a space).
  if (!opts.parse_special && text.find("<u>") == std::string_view::npos &&
      text.find(kSpace) == std::string_view::npos) {
    Check(plain == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Vocabs& vocabs = GetVocabs();
  const uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const EncodeOptions opts{.add_special = (mode & 0x40) != 0, .parse_special = (mode & 0x80) != 0};
  const size_t pick = mode & 0x3F;
  if (pick < vocabs.all.size()) {
    Exercise(vocabs.all[pick], rest, opts);
    return 0;
  }
  // Any other mode: the rest is a GGUF file; whatever vocabulary it holds must either be
  // refused with DataLoss/InvalidArgument or work.
  auto gguf = warden::formats::ParseGguf(warden::AsBytes(rest), "fuzz.gguf");
  if (!gguf.has_value()) return 0;
  auto tok = Tokenizer::FromGguf(*gguf, "fuzz.gguf");
  if (!tok.has_value()) {
    Check(tok.error().code() == warden::StatusCode::kDataLoss ||
          tok.error().code() == warden::StatusCode::kInvalidArgument);
    return 0;
  }
  for (const char* text : {"", "Hello world", "  it's 123 \xC3\xA9\n\n<|c|><u>", "\xFF"}) {
    auto ids = tok->Encode(text, opts);
    if (!ids.has_value()) continue;
    for (const Token id : *ids) Check(id >= 0 && static_cast<size_t>(id) < tok->vocab_size());
    (void)tok->Decode(*ids, true);
  }
  return 0;
}
