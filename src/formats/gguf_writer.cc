#include "formats/gguf_writer.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "base/encoding.h"
#include "base/files.h"
#include "formats/ggml_types.h"

namespace warden::formats {

namespace {

// Checks that `value` is encodable: the tag agrees with the variant and the number fits the
// tagged width. `path` names the value in messages.
Status CheckValue(const GgufValue& value, const std::string& path) {
  auto mismatch = [&](std::string_view held) {
    return InvalidArgumentError(path + ": type " + std::string(GgufValueTypeName(value.type)) +
                                " holds a " + std::string(held));
  };
  auto range = [&](auto x) {
    return InvalidArgumentError(path + ": " + std::to_string(x) + " does not fit a " +
                                std::string(GgufValueTypeName(value.type)));
  };
  switch (value.type) {
    case GgufValueType::kUint8:
    case GgufValueType::kUint16:
    case GgufValueType::kUint32:
    case GgufValueType::kUint64: {
      auto x = value.AsUint();
      if (!x) return mismatch("value of another kind");
      const uint64_t max = value.type == GgufValueType::kUint8    ? 0xff
                           : value.type == GgufValueType::kUint16 ? 0xffff
                           : value.type == GgufValueType::kUint32
                               ? 0xffffffffu
                               : std::numeric_limits<uint64_t>::max();
      if (*x > max) return range(*x);
      return Status::Ok();
    }
    case GgufValueType::kInt8:
    case GgufValueType::kInt16:
    case GgufValueType::kInt32:
    case GgufValueType::kInt64: {
      auto x = value.AsInt();
      if (!x) return mismatch("value of another kind");
      const int64_t bits = value.type == GgufValueType::kInt8    ? 8
                           : value.type == GgufValueType::kInt16 ? 16
                           : value.type == GgufValueType::kInt32 ? 32
                                                                 : 64;
      if (bits < 64) {
        const int64_t lo = -(int64_t{1} << (bits - 1));
        const int64_t hi = (int64_t{1} << (bits - 1)) - 1;
        if (*x < lo || *x > hi) return range(*x);
      }
      return Status::Ok();
    }
    case GgufValueType::kFloat32: {
      auto x = value.AsFloat();
      if (!x) return mismatch("value of another kind");
      // Narrowing a finite double beyond float's range is undefined behaviour.
      if (std::isfinite(*x) && std::fabs(*x) > std::numeric_limits<float>::max()) {
        return range(*x);
      }
      return Status::Ok();
    }
    case GgufValueType::kFloat64:
      if (!value.AsFloat()) return mismatch("value of another kind");
      return Status::Ok();
    case GgufValueType::kBool:
      if (!value.AsBool()) return mismatch("value of another kind");
      return Status::Ok();
    case GgufValueType::kString:
      if (!value.AsString()) return mismatch("value of another kind");
      return Status::Ok();
    case GgufValueType::kArray: {
      const GgufArray* a = value.AsArray();
      if (a == nullptr) return mismatch("value of another kind");
      if (GgufValueTypeName(a->elem_type) == "unknown") {
        return InvalidArgumentError(path + ": unknown array element type " +
                                    std::to_string(static_cast<uint32_t>(a->elem_type)));
      }
      for (size_t i = 0; i < a->items.size(); ++i) {
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        if (a->items[i].type != a->elem_type) {
          return InvalidArgumentError(
              item_path + ": a " + std::string(GgufValueTypeName(a->items[i].type)) +
              " in an array of " + std::string(GgufValueTypeName(a->elem_type)));
        }
        WARDEN_RETURN_IF_ERROR(CheckValue(a->items[i], item_path));
      }
      return Status::Ok();
    }
  }
  return InvalidArgumentError(path + ": unknown value type " +
                              std::to_string(static_cast<uint32_t>(value.type)));
}

Status CheckName(std::string_view name, std::string_view what) {
  if (name.empty()) return InvalidArgumentError(std::string(what) + " is empty");
  if (!IsValidUtf8(name)) {
    return InvalidArgumentError(std::string(what) + " \"" + HexEncode(name) +
                                "\" (hex) is not valid UTF-8");
  }
  return Status::Ok();
}

template <typename T>
void Put(std::string& out, T x) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((static_cast<uint64_t>(x) >> (8 * i)) & 0xff));
  }
}

void PutString(std::string& out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out.append(s);
}

void PutValue(std::string& out, const GgufValue& value) {
  switch (value.type) {
    case GgufValueType::kUint8:
      Put<uint8_t>(out, static_cast<uint8_t>(*value.AsUint()));
      return;
    case GgufValueType::kUint16:
      Put<uint16_t>(out, static_cast<uint16_t>(*value.AsUint()));
      return;
    case GgufValueType::kUint32:
      Put<uint32_t>(out, static_cast<uint32_t>(*value.AsUint()));
      return;
    case GgufValueType::kUint64:
      Put<uint64_t>(out, *value.AsUint());
      return;
    // Signed values go out as their two's-complement bit patterns.
    case GgufValueType::kInt8:
      Put<uint8_t>(out, static_cast<uint8_t>(*value.AsInt()));
      return;
    case GgufValueType::kInt16:
      Put<uint16_t>(out, static_cast<uint16_t>(*value.AsInt()));
      return;
    case GgufValueType::kInt32:
      Put<uint32_t>(out, static_cast<uint32_t>(*value.AsInt()));
      return;
    case GgufValueType::kInt64:
      Put<uint64_t>(out, static_cast<uint64_t>(*value.AsInt()));
      return;
    case GgufValueType::kFloat32: {
      const float f = static_cast<float>(*value.AsFloat());
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      Put<uint32_t>(out, bits);
      return;
    }
    case GgufValueType::kFloat64: {
      const double d = *value.AsFloat();
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      Put<uint64_t>(out, bits);
      return;
    }
    case GgufValueType::kBool:
      Put<uint8_t>(out, *value.AsBool() ? 1 : 0);
      return;
    case GgufValueType::kString:
      PutString(out, *value.AsString());
      return;
    case GgufValueType::kArray: {
      const GgufArray& a = *value.AsArray();
      Put<uint32_t>(out, static_cast<uint32_t>(a.elem_type));
      Put<uint64_t>(out, a.items.size());
      for (const GgufValue& item : a.items) PutValue(out, item);
      return;
    }
  }
}

void PadTo(std::string& out, uint64_t alignment) {
  const uint64_t rem = out.size() % alignment;
  if (rem != 0) out.append(alignment - rem, '\0');
}

uint64_t AlignUp(uint64_t x, uint64_t alignment) {
  const uint64_t rem = x % alignment;
  return rem == 0 ? x : x + (alignment - rem);
}

}  // namespace

Status GgufWriter::SetVersion(uint32_t version) {
  if (version != 2 && version != 3) {
    return InvalidArgumentError("GGUF version " + std::to_string(version) +
                                " cannot be written (2 or 3)");
  }
  version_ = version;
  return Status::Ok();
}

Status GgufWriter::SetAlignment(uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > 0xffffffffu) {
    return InvalidArgumentError("alignment " + std::to_string(alignment) +
                                " is not a power of two that fits a uint32");
  }
  alignment_ = alignment;
  const GgufValue value = GgufValue::U32(static_cast<uint32_t>(alignment));
  for (auto& [key, v] : metadata_) {
    if (key == kGgufAlignmentKey) {
      v = value;
      return Status::Ok();
    }
  }
  keys_.insert(std::string(kGgufAlignmentKey));
  metadata_.emplace_back(std::string(kGgufAlignmentKey), value);
  return Status::Ok();
}

Status GgufWriter::AddMetadata(std::string_view key, GgufValue value) {
  WARDEN_RETURN_IF_ERROR(CheckName(key, "metadata key"));
  if (keys_.count(std::string(key)) != 0) {
    return InvalidArgumentError("duplicate metadata key \"" + std::string(key) + "\"");
  }
  WARDEN_RETURN_IF_ERROR(CheckValue(value, std::string(key)));
  if (key == kGgufAlignmentKey) {
    if (value.type != GgufValueType::kUint32) {
      return InvalidArgumentError(std::string(kGgufAlignmentKey) + " must be a uint32, not a " +
                                  std::string(GgufValueTypeName(value.type)));
    }
    return SetAlignment(*value.AsUint());
  }
  keys_.insert(std::string(key));
  metadata_.emplace_back(std::string(key), std::move(value));
  return Status::Ok();
}

Status GgufWriter::AddStringArray(std::string_view key, const std::vector<std::string>& values) {
  std::vector<GgufValue> items;
  items.reserve(values.size());
  for (const std::string& s : values) items.push_back(GgufValue::String(s));
  return AddMetadata(key, GgufValue::Array(GgufValueType::kString, std::move(items)));
}

Status GgufWriter::AddTensor(std::string_view name, uint32_t type, std::vector<uint64_t> dims,
                             std::string data) {
  WARDEN_RETURN_IF_ERROR(CheckName(name, "tensor name"));
  if (names_.count(std::string(name)) != 0) {
    return InvalidArgumentError("duplicate tensor name \"" + std::string(name) + "\"");
  }
  Result<uint64_t> bytes = TensorBytes(type, dims);
  if (!bytes.has_value()) {
    return InvalidArgumentError("tensor \"" + std::string(name) + "\": " + bytes.error().message());
  }
  if (*bytes != data.size()) {
    return InvalidArgumentError("tensor \"" + std::string(name) + "\": " + GgmlTypeName(type) +
                                " data of these dimensions is " + std::to_string(*bytes) +
                                " bytes, got " + std::to_string(data.size()));
  }
  names_.insert(std::string(name));
  tensors_.push_back(Tensor{std::string(name), type, std::move(dims), std::move(data)});
  return Status::Ok();
}

std::string GgufWriter::WriteToString() const {
  std::string out;
  out.append(kGgufMagic, 4);
  Put<uint32_t>(out, version_);
  Put<uint64_t>(out, tensors_.size());
  Put<uint64_t>(out, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    PutString(out, key);
    Put<uint32_t>(out, static_cast<uint32_t>(value.type));
    PutValue(out, value);
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    PutString(out, t.name);
    Put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) Put<uint64_t>(out, d);
    Put<uint32_t>(out, t.type);
    Put<uint64_t>(out, offset);
    offset = AlignUp(offset + t.data.size(), alignment_);
  }
  if (!tensors_.empty()) {
    PadTo(out, alignment_);
    out.reserve(out.size() + offset);
    for (const Tensor& t : tensors_) {
      out.append(t.data);
      PadTo(out, alignment_);
    }
  }
  return out;
}

Status GgufWriter::WriteToFile(const std::string& path, unsigned mode) const {
  return WriteFileAtomic(path, WriteToString(), mode);
}

}  // namespace warden::formats
