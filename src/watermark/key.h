// Watermark keys and scheme parameters.
//
// A key is 32 secret bytes, a public key id, and a default scheme with its parameters, stored
// as one small JSON file (docs/formats/watermark.md), mode 0600:
//   {"warden_watermark_key": 1, "key_id": "<64 hex>", "secret": "<64 hex>",
//    "scheme": "kgw", "params": {"context": 1, "gamma": 0.25, "delta": 2.0}}
// key_id = hex(SHA-256("warden-watermark-key-id/v1" || secret)): it names the key (ledger
// `key-rotation` entries use the same 64-hex form) without revealing it.
//
// Thread-safety: values. Ownership: plain data.
#pragma once

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden::watermark {

enum class Scheme { kKgw, kTournament, kGumbel };

std::string_view SchemeName(Scheme scheme);  // "kgw", "tournament", "gumbel"
// InvalidArgument listing the schemes for anything else.
Result<Scheme> ParseScheme(std::string_view name);

// Parameters of every scheme; each scheme reads only its own.
struct SchemeParams {
  // Number of preceding tokens the PRF is keyed on (h). All schemes. [1, kMaxContext].
  // 0 means unset: DefaultParams fills it, and Detector::Create and MakeWatermarkExtensions
  // take 0 as the scheme's default; ValidateParams and key files refuse it.
  uint32_t context = 0;
  // kgw: fraction of the vocabulary that is green, (0, 1); logit bias of green tokens, (0, 20].
  double gamma = 0.25;
  double delta = 2.0;
  // tournament: number of tournament layers m, [1, 64].
  uint32_t layers = 30;
};

inline constexpr uint32_t kMaxContext = 16;
inline constexpr uint32_t kMaxLayers = 64;

// Defaults: kgw {context 1, gamma 0.25, delta 2.0}; tournament {context 4, layers 30};
// gumbel {context 4}.
SchemeParams DefaultParams(Scheme scheme);

// Checks the fields `scheme` uses. InvalidArgument naming the field:
// 'watermark kgw: "gamma" must be in (0, 1), got 1.5'.
Status ValidateParams(Scheme scheme, const SchemeParams& params);

// The parameters of `scheme` as a JSON object (only the fields it uses), and back. FromJson
// starts from DefaultParams(scheme), refuses unknown keys and wrong types (InvalidArgument
// naming the key), and validates.
boost::json::object ParamsToJson(Scheme scheme, const SchemeParams& params);
Result<SchemeParams> ParamsFromJson(Scheme scheme, const boost::json::object& json);

inline constexpr size_t kSecretBytes = 32;

struct WatermarkKey {
  std::array<uint8_t, kSecretBytes> secret{};
  std::string key_id;  // 64 lower-case hex
  Scheme scheme = Scheme::kKgw;
  SchemeParams params;  // for `scheme`, validated
};

// The key id of a secret (see the header comment).
std::string KeyIdOf(const std::array<uint8_t, kSecretBytes>& secret);

// A new key with 32 bytes from the CSPRNG and DefaultParams(scheme) (or `params` if given,
// which must validate: InvalidArgument otherwise).
Result<WatermarkKey> GenerateKey(Scheme scheme, std::optional<SchemeParams> params = {});

// The JSON text of a key file (ends with a newline).
std::string SerializeKey(const WatermarkKey& key);
// Parses a key file's text. DataLoss naming `source` and the field for anything malformed:
// not JSON, wrong version, missing or extra fields, a secret that is not 64 hex digits, a
// key_id that does not match the secret (a corrupted or edited file), bad params.
Result<WatermarkKey> ParseKey(std::string_view text, std::string_view source);

// Writes `path` with mode 0600 atomically. FailedPrecondition when it exists and !overwrite.
Status WriteKeyFile(const WatermarkKey& key, const std::string& path, bool overwrite);
// Reads and parses a key file (at most 64 KiB). NotFound, PermissionDenied (group or others
// may read it, as for signing keys: chmod 600), ResourceExhausted, DataLoss.
Result<WatermarkKey> LoadKeyFile(const std::string& path);

}  // namespace warden::watermark
