#include "watermark/key.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "crypto/keys.h"
#include "crypto/sha256.h"

namespace warden::watermark {
namespace {

constexpr std::string_view kKeyIdLabel = "warden-watermark-key-id/v1";
constexpr int64_t kKeyFileVersion = 1;
constexpr uint64_t kMaxKeyFileBytes = 64 * 1024;
constexpr double kMaxDelta = 20.0;

std::string Num(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

Status ParamError(Scheme scheme, std::string_view field, std::string_view what) {
  return InvalidArgumentError("watermark " + std::string(SchemeName(scheme)) + ": \"" +
                              std::string(field) + "\" " + std::string(what));
}

// A JSON number as a double (integers included); nullopt for other kinds.
std::optional<double> AsNumber(const boost::json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// A JSON integer in [0, 2^32) (an integral double is accepted); nullopt otherwise.
std::optional<uint32_t> AsUint32(const boost::json::value& v) {
  std::optional<double> d = AsNumber(v);
  if (!d || !(*d >= 0) || *d > 4294967295.0 || std::floor(*d) != *d) return std::nullopt;
  return static_cast<uint32_t>(*d);
}

}  // namespace

std::string_view SchemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kKgw:
      return "kgw";
    case Scheme::kTournament:
      return "tournament";
    case Scheme::kGumbel:
      return "gumbel";
  }
  return "unknown";
}

Result<Scheme> ParseScheme(std::string_view name) {
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    if (name == SchemeName(s)) return s;
  }
  return InvalidArgumentError("unknown watermark scheme \"" + std::string(name) +
                              "\"; the schemes are kgw, tournament, gumbel");
}

SchemeParams DefaultParams(Scheme scheme) {
  SchemeParams p;
  p.context = scheme == Scheme::kKgw ? 1 : 4;
  return p;
}

Status ValidateParams(Scheme scheme, const SchemeParams& p) {
  if (p.context < 1 || p.context > kMaxContext) {
    return ParamError(scheme, "context",
                      "must be in [1, " + std::to_string(kMaxContext) + "], got " +
                          std::to_string(p.context));
  }
  switch (scheme) {
    case Scheme::kKgw:
      if (!(p.gamma > 0 && p.gamma < 1)) {
        return ParamError(scheme, "gamma", "must be in (0, 1), got " + Num(p.gamma));
      }
      if (!(p.delta > 0 && p.delta <= kMaxDelta)) {
        return ParamError(scheme, "delta", "must be in (0, 20], got " + Num(p.delta));
      }
      break;
    case Scheme::kTournament:
      if (p.layers < 1 || p.layers > kMaxLayers) {
        return ParamError(scheme, "layers",
                          "must be in [1, " + std::to_string(kMaxLayers) + "], got " +
                              std::to_string(p.layers));
      }
      break;
    case Scheme::kGumbel:
      break;
  }
  return Status::Ok();
}

boost::json::object ParamsToJson(Scheme scheme, const SchemeParams& p) {
  boost::json::object o;
  o["context"] = p.context;
  if (scheme == Scheme::kKgw) {
    o["gamma"] = p.gamma;
    o["delta"] = p.delta;
  } else if (scheme == Scheme::kTournament) {
    o["layers"] = p.layers;
  }
  return o;
}

Result<SchemeParams> ParamsFromJson(Scheme scheme, const boost::json::object& json) {
  SchemeParams p = DefaultParams(scheme);
  for (const auto& [key, value] : json) {
    if (key == "context") {
      std::optional<uint32_t> v = AsUint32(value);
      if (!v) return ParamError(scheme, key, "must be a non-negative integer");
      p.context = *v;
    } else if (scheme == Scheme::kKgw && (key == "gamma" || key == "delta")) {
      std::optional<double> v = AsNumber(value);
      if (!v) return ParamError(scheme, key, "must be a number");
      (key == "gamma" ? p.gamma : p.delta) = *v;
    } else if (scheme == Scheme::kTournament && key == "layers") {
      std::optional<uint32_t> v = AsUint32(value);
      if (!v) return ParamError(scheme, key, "must be a non-negative integer");
      p.layers = *v;
    } else {
      std::string known = scheme == Scheme::kKgw          ? "context, gamma, delta"
                          : scheme == Scheme::kTournament ? "context, layers"
                                                          : "context";
      return ParamError(scheme, key, "is not a parameter of this scheme (it has: " + known + ")");
    }
  }
  WARDEN_RETURN_IF_ERROR(ValidateParams(scheme, p));
  return p;
}

std::string KeyIdOf(const std::array<uint8_t, kSecretBytes>& secret) {
  crypto::Sha256Hasher h;
  h.Update(kKeyIdLabel);
  h.Update(std::span<const uint8_t>(secret));
  return crypto::DigestHex(h.Finish());
}

Result<WatermarkKey> GenerateKey(Scheme scheme, std::optional<SchemeParams> params) {
  WatermarkKey key;
  key.scheme = scheme;
  key.params = params.value_or(DefaultParams(scheme));
  WARDEN_RETURN_IF_ERROR(ValidateParams(scheme, key.params));
  std::string bytes = crypto::RandomBytes(kSecretBytes);
  std::memcpy(key.secret.data(), bytes.data(), kSecretBytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  key.key_id = KeyIdOf(key.secret);
  return key;
}

std::string SerializeKey(const WatermarkKey& key) {
  boost::json::object o;
  o["warden_watermark_key"] = kKeyFileVersion;
  o["key_id"] = key.key_id;
  o["secret"] = HexEncode(std::span<const uint8_t>(key.secret));
  o["scheme"] = SchemeName(key.scheme);
  o["params"] = ParamsToJson(key.scheme, key.params);
  return boost::json::serialize(o) + "\n";
}

Result<WatermarkKey> ParseKey(std::string_view text, std::string_view source) {
  const std::string src(source);
  auto fail = [&](std::string_view field, std::string_view what) {
    return DataLossError(src + ": field \"" + std::string(field) + "\": " + std::string(what));
  };
  WARDEN_ASSIGN_OR_RETURN(json::value doc, json::Parse(text, source, 8));
  if (!doc.is_object()) {
    return DataLossError(src + ": a watermark key file is a JSON object, found " +
                         std::string(json::KindName(doc)));
  }
  const json::object& o = doc.get_object();
  for (const auto& [k, v] : o) {
    if (k != "warden_watermark_key" && k != "key_id" && k != "secret" && k != "scheme" &&
        k != "params") {
      return fail(k, "unknown field (a key file has warden_watermark_key, key_id, secret, "
                     "scheme, params)");
    }
  }
  const json::value* version = o.if_contains("warden_watermark_key");
  if (version == nullptr) {
    return DataLossError(src + ": not a warden watermark key file (no \"warden_watermark_key\")");
  }
  if (!version->is_int64() || version->get_int64() != kKeyFileVersion) {
    return fail("warden_watermark_key", "unsupported version " + boost::json::serialize(*version) +
                                            " (this warden reads version 1)");
  }
  WatermarkKey key;
  auto secret_hex = json::GetString(o, "secret", "");
  if (!secret_hex) return DataLossError(src + ": " + secret_hex.error().message());
  auto secret = HexDecode(*secret_hex);
  if (secret_hex->size() != 2 * kSecretBytes || !secret || secret->size() != kSecretBytes) {
    return fail("secret", "must be 64 hex digits (32 bytes)");
  }
  std::memcpy(key.secret.data(), secret->data(), kSecretBytes);
  OPENSSL_cleanse(secret->data(), secret->size());
  auto key_id = json::GetString(o, "key_id", "");
  if (!key_id) return DataLossError(src + ": " + key_id.error().message());
  key.key_id = KeyIdOf(key.secret);
  if (*key_id != key.key_id) {
    return fail("key_id", "does not match the secret (expected " + key.key_id + ", found \"" +
                              std::string(*key_id) + "\"): the file is corrupted or was edited");
  }
  auto scheme_name = json::GetString(o, "scheme", "");
  if (!scheme_name) return DataLossError(src + ": " + scheme_name.error().message());
  auto scheme = ParseScheme(*scheme_name);
  if (!scheme) return fail("scheme", scheme.error().message());
  key.scheme = *scheme;
  auto params_obj = json::GetObject(o, "params", "");
  if (!params_obj) return DataLossError(src + ": " + params_obj.error().message());
  auto params = ParamsFromJson(key.scheme, **params_obj);
  if (!params) return fail("params", params.error().message());
  key.params = *params;
  return key;
}

Status WriteKeyFile(const WatermarkKey& key, const std::string& path, bool overwrite) {
  if (!overwrite && access(path.c_str(), F_OK) == 0) {
    return FailedPreconditionError(path + " already exists (pass --force to replace it)");
  }
  std::string text = SerializeKey(key);
  Status s = WriteFileAtomic(path, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  return s;
}

Result<WatermarkKey> LoadKeyFile(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
  WARDEN_RETURN_IF_ERROR(crypto::CheckSecretFileMode(file.fd(), path, "a watermark key"));
  if (file.size() > kMaxKeyFileBytes) {
    return ResourceExhaustedError(path + ": " + std::to_string(file.size()) +
                                  " bytes is more than the limit of " +
                                  std::to_string(kMaxKeyFileBytes) +
                                  " bytes for a watermark key file");
  }
  WARDEN_ASSIGN_OR_RETURN(MappedRegion region, file.MapAll());
  return ParseKey(AsChars(region.bytes()), path);
}

}  // namespace warden::watermark
