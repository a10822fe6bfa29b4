#include "engine/chat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warden::engine {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kBos = "<s>";
constexpr std::string_view kEos = "</s>";

// The conversation every family renders below: system, user, assistant, user.
const std::vector<ChatMessage>& Conversation() {
  static const std::vector<ChatMessage> messages = {
      {"system", "You are terse."},
      {"user", "Hi!"},
      {"assistant", "Hello."},
      {"user", "How are you?"},
  };
  return messages;
}

std::string Render(ChatFormat format, const std::vector<ChatMessage>& messages,
                   bool add_generation_prompt = true) {
  auto r = FormatChat(format, messages, add_generation_prompt, kBos, kEos);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.has_value() ? *r : std::string();
}

// ---------------------------------------------------------------------------------------------
// Names

TEST(ChatFormatNames, RoundTrip) {
  for (ChatFormat f :
       {ChatFormat::kPlain, ChatFormat::kLlama2, ChatFormat::kLlama3, ChatFormat::kChatml,
        ChatFormat::kMistral, ChatFormat::kGemma, ChatFormat::kPhi3}) {
    auto parsed = ParseChatFormatName(ChatFormatName(f));
    ASSERT_TRUE(parsed.has_value()) << ChatFormatName(f);
    EXPECT_EQ(*parsed, f);
  }
  EXPECT_EQ(ChatFormatName(ChatFormat::kChatml), "chatml");
}

TEST(ChatFormatNames, UnknownNameListsTheKnownOnes) {
  auto parsed = ParseChatFormatName("Llama3");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.error().message(),
            "unknown chat format \"Llama3\" (known: plain, llama2, llama3, chatml, mistral, "
            "gemma, phi3)");
}

// ---------------------------------------------------------------------------------------------
// Detection on short templates written for these tests (shaped like each family's, not copies)

struct DetectCase {
  const char* test_name;
  const char* jinja;
  std::optional<ChatFormat> expected;
};

class ChatDetect : public ::testing::TestWithParam<DetectCase> {};

TEST_P(ChatDetect, RecognisesTheFamily) {
  EXPECT_EQ(DetectChatFormat(GetParam().jinja), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    ChatTable, ChatDetect,
    ::testing::Values(
        DetectCase{"llama3",
                   "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
                   "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
                   "{% if add_generation_prompt %}<|start_header_id|>assistant"
                   "<|end_header_id|>\n\n{% endif %}",
                   ChatFormat::kLlama3},
        DetectCase{"chatml",
                   "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + "
                   "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
                   "<|im_start|>assistant\n{% endif %}",
                   ChatFormat::kChatml},
        DetectCase{"gemma",
                   "{{ bos_token }}{% for m in messages %}{% set r = 'model' if m.role == "
                   "'assistant' else m.role %}<start_of_turn>{{ r }}\n{{ m.content | trim }}"
                   "<end_of_turn>\n{% endfor %}",
                   ChatFormat::kGemma},
        DetectCase{"phi3",
                   "{% for m in messages %}{% if m.role == 'user' %}<|user|>\n{{ m.content }}"
                   "<|end|>\n{% elif m.role == 'assistant' %}<|assistant|>\n{{ m.content }}"
                   "<|end|>\n{% endif %}{% endfor %}",
                   ChatFormat::kPhi3},
        DetectCase{"llama2",
                   "{% if messages[0].role == 'system' %}{% set sys = '<<SYS>>\\n' + "
                   "messages[0].content + '\\n<</SYS>>\\n\\n' %}{% endif %}{% for m in messages "
                   "%}{% if m.role == 'user' %}{{ bos_token + '[INST] ' + m.content.strip() + "
                   "' [/INST]' }}{% endif %}{% endfor %}",
                   ChatFormat::kLlama2},
        DetectCase{"mistral",
                   "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}"
                   "{{ '[INST] ' + m.content + ' [/INST]' }}{% else %}{{ m.content + eos_token "
                   "}}{% endif %}{% endfor %}",
                   ChatFormat::kMistral},
        DetectCase{"user_marker_without_end_is_not_phi3",
                   "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>\n{% endfor %}",
                   std::nullopt},
        DetectCase{"chatml_wins_over_inst", "<|im_start|>user [INST] <|im_end|>",
                   ChatFormat::kChatml},
        DetectCase{"unknown_family",
                   "{% for m in messages %}### {{ m.role }}: {{ m.content }}"
                   "{% endfor %}",
                   std::nullopt},
        DetectCase{"empty", "", std::nullopt}),
    [](const ::testing::TestParamInfo<DetectCase>& info) { return info.param.test_name; });

// ---------------------------------------------------------------------------------------------
// Rendering known answers: system + user + assistant + user, with the generation prompt

TEST(ChatRender, Plain) {
  EXPECT_EQ(Render(ChatFormat::kPlain, Conversation()),
            "System: You are terse.\nUser: Hi!\nAssistant: Hello.\nUser: How are you?\n"
            "Assistant:");
}

TEST(ChatRender, Llama2) {
  EXPECT_EQ(Render(ChatFormat::kLlama2, Conversation()),
            "[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi! [/INST] Hello. </s>"
            "<s>[INST] How are you? [/INST]");
}

TEST(ChatRender, Llama3) {
  EXPECT_EQ(Render(ChatFormat::kLlama3, Conversation()),
            "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatRender, Chatml) {
  EXPECT_EQ(Render(ChatFormat::kChatml, Conversation()),
            "<|im_start|>system\nYou are terse.<|im_end|>\n"
            "<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\nHello.<|im_end|>\n"
            "<|im_start|>user\nHow are you?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatRender, Mistral) {
  EXPECT_EQ(Render(ChatFormat::kMistral, Conversation()),
            "[INST] You are terse.\n\nHi! [/INST]Hello.</s>[INST] How are you? [/INST]");
}

TEST(ChatRender, Gemma) {
  EXPECT_EQ(Render(ChatFormat::kGemma, Conversation()),
            "<start_of_turn>user\nYou are terse.\n\nHi!<end_of_turn>\n"
            "<start_of_turn>model\nHello.<end_of_turn>\n"
            "<start_of_turn>user\nHow are you?<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(ChatRender, Phi3) {
  EXPECT_EQ(Render(ChatFormat::kPhi3, Conversation()),
            "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi!<|end|>\n"
            "<|assistant|>\nHello.<|end|>\n<|user|>\nHow are you?<|end|>\n<|assistant|>\n");
}

// ---------------------------------------------------------------------------------------------
// Variants

TEST(ChatRender, WithoutGenerationPrompt) {
  const std::vector<ChatMessage> m = {{"user", "Hi!"}};
  EXPECT_EQ(Render(ChatFormat::kPlain, m, false), "User: Hi!\n");
  EXPECT_EQ(Render(ChatFormat::kChatml, m, false), "<|im_start|>user\nHi!<|im_end|>\n");
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>");
  EXPECT_EQ(Render(ChatFormat::kGemma, m, false), "<start_of_turn>user\nHi!<end_of_turn>\n");
  // Phi-3's template closes a conversation that is not continued with EOS.
  EXPECT_EQ(Render(ChatFormat::kPhi3, m, false), "<|user|>\nHi!<|end|>\n</s>");
}

TEST(ChatRender, InstFormatsAlreadyEndWithTheCue) {
  const std::vector<ChatMessage> m = {{"user", "Hi!"}};
  EXPECT_EQ(Render(ChatFormat::kLlama2, m, true), "[INST] Hi! [/INST]");
  EXPECT_EQ(Render(ChatFormat::kLlama2, m, false), "[INST] Hi! [/INST]");
  EXPECT_EQ(Render(ChatFormat::kMistral, m, true), "[INST] Hi! [/INST]");
}

TEST(ChatRender, Llama2EndingWithAnAnswerClosesIt) {
  const std::vector<ChatMessage> m = {{"user", "Q"}, {"assistant", "A"}};
  EXPECT_EQ(Render(ChatFormat::kLlama2, m), "[INST] Q [/INST] A </s>");
}

TEST(ChatRender, BosAndEosComeFromTheVocabulary) {
  const std::vector<ChatMessage> m = {{"user", "Q"}, {"assistant", "A"}, {"user", "R"}};
  auto r = FormatChat(ChatFormat::kLlama2, m, true, "<BOS>", "<EOS>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "[INST] Q [/INST] A <EOS><BOS>[INST] R [/INST]");
  r = FormatChat(ChatFormat::kMistral, m, true, "<BOS>", "<EOS>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "[INST] Q [/INST]A<EOS>[INST] R [/INST]");
}

TEST(ChatRender, TrimmingFollowsEachTemplate) {
  // Llama 2 strips, Llama 3 and Gemma trim; ChatML, Mistral and Phi-3 keep content as is.
  const std::vector<ChatMessage> m = {{"user", "  Hi!\n"}};
  EXPECT_EQ(Render(ChatFormat::kLlama2, m), "[INST] Hi! [/INST]");
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>");
  EXPECT_EQ(Render(ChatFormat::kGemma, m, false), "<start_of_turn>user\nHi!<end_of_turn>\n");
  EXPECT_EQ(Render(ChatFormat::kChatml, m, false), "<|im_start|>user\n  Hi!\n<|im_end|>\n");
  EXPECT_EQ(Render(ChatFormat::kMistral, m), "[INST]   Hi!\n [/INST]");
  EXPECT_EQ(Render(ChatFormat::kPhi3, m, false), "<|user|>\n  Hi!\n<|end|>\n</s>");
}

TEST(ChatRender, TrimRemovesUnicodeSpacesLikePython) {
  // U+3000 ideographic space, U+00A0 no-break space, U+2003 em space, U+001F unit separator.
  const std::vector<ChatMessage> m = {{"user", "\xE3\x80\x80\xC2\xA0x y\xE2\x80\x83\x1F"}};
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\nx y<|eot_id|>");
}

TEST(ChatRender, TrimKeepsInvalidUtf8AndNonSpaces) {
  // A lone continuation byte and a truncated sequence are not spaces: nothing is removed.
  const std::vector<ChatMessage> m = {{"user", "\x80 x \xE3\x80"}};
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\n\x80 x \xE3\x80<|eot_id|>");
  // U+200B zero width space is not whitespace for Python either.
  const std::vector<ChatMessage> zwsp = {{"user", "\xE2\x80\x8Bx"}};
  EXPECT_EQ(Render(ChatFormat::kGemma, zwsp, false),
            "<start_of_turn>user\n\xE2\x80\x8Bx<end_of_turn>\n");
}

TEST(ChatRender, AllWhitespaceContentTrimsToNothing) {
  const std::vector<ChatMessage> m = {{"user", " \t\n "}};
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\n<|eot_id|>");
}

TEST(ChatRender, ToolResults) {
  const std::vector<ChatMessage> m = {{"user", "Weather?"}, {"tool", "{\"temp\": 20}"}};
  EXPECT_EQ(Render(ChatFormat::kLlama3, m, false),
            "<|start_header_id|>user<|end_header_id|>\n\nWeather?<|eot_id|>"
            "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 20}<|eot_id|>");
  EXPECT_EQ(Render(ChatFormat::kChatml, m, false),
            "<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>tool\n{\"temp\": 20}<|im_end|>\n");
  EXPECT_EQ(Render(ChatFormat::kPlain, m, false), "User: Weather?\nTool: {\"temp\": 20}\n");
}

TEST(ChatRender, SystemMayAppearLaterWhereTheFormatAllowsIt) {
  const std::vector<ChatMessage> m = {{"user", "a"}, {"system", "b"}};
  EXPECT_EQ(Render(ChatFormat::kChatml, m, false),
            "<|im_start|>user\na<|im_end|>\n<|im_start|>system\nb<|im_end|>\n");
  EXPECT_EQ(Render(ChatFormat::kPhi3, m, true),
            "<|user|>\na<|end|>\n<|system|>\nb<|end|>\n<|assistant|>\n");
}

// ---------------------------------------------------------------------------------------------
// Errors

struct ErrorCase {
  const char* test_name;
  ChatFormat format;
  std::vector<ChatMessage> messages;
  const char* message;
};

class ChatErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ChatErrors, AreInvalidArgumentNamingTheMessage) {
  const ErrorCase& c = GetParam();
  auto r = FormatChat(c.format, c.messages, true, kBos, kEos);
  ASSERT_FALSE(r.has_value()) << *r;
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    ChatTable, ChatErrors,
    ::testing::Values(
        ErrorCase{"empty_plain", ChatFormat::kPlain, {}, "chat: no messages (format plain)"},
        ErrorCase{"empty_llama3", ChatFormat::kLlama3, {}, "chat: no messages (format llama3)"},
        ErrorCase{"empty_llama2", ChatFormat::kLlama2, {}, "chat: no messages (format llama2)"},
        ErrorCase{"unknown_role",
                  ChatFormat::kChatml,
                  {{"user", "a"}, {"bot", "b"}},
                  "chat message 1: unknown role \"bot\" (roles: system, user, assistant, tool) "
                  "(format chatml)"},
        ErrorCase{"role_is_case_sensitive",
                  ChatFormat::kLlama3,
                  {{"User", "a"}},
                  "chat message 0: unknown role \"User\" (roles: system, user, assistant, tool) "
                  "(format llama3)"},
        ErrorCase{"tool_in_llama2",
                  ChatFormat::kLlama2,
                  {{"user", "a"}, {"tool", "b"}},
                  "chat message 1: this format has no tool role (format llama2)"},
        ErrorCase{"tool_in_mistral",
                  ChatFormat::kMistral,
                  {{"tool", "b"}},
                  "chat message 0: this format has no tool role (format mistral)"},
        ErrorCase{"tool_in_gemma",
                  ChatFormat::kGemma,
                  {{"user", "a"}, {"assistant", "b"}, {"tool", "c"}},
                  "chat message 2: this format has no tool role (format gemma)"},
        ErrorCase{"tool_in_phi3",
                  ChatFormat::kPhi3,
                  {{"tool", "c"}},
                  "chat message 0: this format has no tool role (format phi3)"},
        ErrorCase{"late_system_in_llama2",
                  ChatFormat::kLlama2,
                  {{"user", "a"}, {"assistant", "b"}, {"system", "c"}},
                  "chat message 2: a system message may only come first (format llama2)"},
        ErrorCase{"late_system_in_gemma",
                  ChatFormat::kGemma,
                  {{"user", "a"}, {"system", "c"}},
                  "chat message 1: a system message may only come first (format gemma)"},
        ErrorCase{"only_system_in_mistral",
                  ChatFormat::kMistral,
                  {{"system", "s"}},
                  "chat message 0: a system message must be followed by a user message (format "
                  "mistral)"},
        ErrorCase{"two_users_in_llama2",
                  ChatFormat::kLlama2,
                  {{"system", "s"}, {"user", "a"}, {"user", "b"}},
                  "chat message 2: expected an assistant message (turns alternate "
                  "user/assistant, starting with user) (format llama2)"},
        ErrorCase{"assistant_first_in_gemma",
                  ChatFormat::kGemma,
                  {{"assistant", "a"}},
                  "chat message 0: expected a user message (turns alternate user/assistant, "
                  "starting with user) (format gemma)"},
        ErrorCase{"two_assistants_in_mistral",
                  ChatFormat::kMistral,
                  {{"user", "a"}, {"assistant", "b"}, {"assistant", "c"}},
                  "chat message 2: expected a user message (turns alternate user/assistant, "
                  "starting with user) (format mistral)"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.test_name; });

TEST(ChatFormatValue, UnknownIsRefused) {
  auto r = FormatChat(static_cast<ChatFormat>(99), Conversation(), true, kBos, kEos);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("unknown format value 99"));
  EXPECT_EQ(ChatFormatName(static_cast<ChatFormat>(99)), "unknown");
}

}  // namespace
}  // namespace warden::engine
