#include "base/encoding.h"

#include <openssl/evp.h>

namespace warden {

namespace {
constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}
}  // namespace

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return out;
}

Result<std::vector<uint8_t>> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return DataLossError("hex string has odd length " + std::to_string(hex.size()));
  }
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return DataLossError("hex string has a non-hex character at position " +
                           std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  // EVP_EncodeBlock takes an int length; encode in chunks that are a multiple of 3 bytes.
  constexpr size_t kChunk = 3 * (1u << 20);
  size_t in = 0, o = 0;
  while (in < bytes.size()) {
    size_t n = std::min(kChunk, bytes.size() - in);
    int w = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + o), bytes.data() + in,
                            static_cast<int>(n));
    in += n;
    o += static_cast<size_t>(w);
  }
  out.resize(o);
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return DataLossError("base64 text length " + std::to_string(text.size()) +
                         " is not a multiple of 4");
  }
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
  for (size_t i = 0; i < text.size() - pad; ++i) {
    if (!IsBase64Char(text[i])) {
      return DataLossError("base64 text has an invalid character at position " + std::to_string(i));
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  constexpr size_t kChunk = 4 * (1u << 20);
  size_t in = 0, o = 0;
  while (in < text.size()) {
    size_t n = std::min(kChunk, text.size() - in);
    int w = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + o),
                            reinterpret_cast<const unsigned char*>(text.data() + in),
                            static_cast<int>(n));
    if (w < 0) return DataLossError("base64 text does not decode");
    in += n;
    o += static_cast<size_t>(w);
  }
  out.resize(o - pad);
  // Canonical form: the unused low bits of the last character must be zero, so that exactly
  // one text decodes to these bytes.
  if (Base64Encode(AsBytes(out)) != text) {
    return DataLossError("base64 text is not in canonical form (non-zero padding bits)");
  }
  return out;
}

size_t DecodeUtf8At(std::string_view s, size_t i, uint32_t* cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  }
  size_t len;
  uint32_t v;
  uint32_t min;
  if ((lead & 0xE0) == 0xC0) {
    len = 2, v = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3, v = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4, v = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    v = v << 6 | (byte(i + k) & 0x3F);
  }
  constexpr uint32_t kMaxCodePoint = 0x10FFFF;
  if (v < min || v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {  // the common case, without a call
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t len = DecodeUtf8At(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsUnicodeWhiteSpace(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

}  // namespace warden
