// A slow, obviously correct Llama forward pass for tests: plain loops in double precision,
// one token at a time, over weights decoded by the plain ggml decoders below (written from
// the format description, not shared with the kernels). Hyper-parameters come from a
// SyntheticModelSpec (the test says what the model is; the loader under test is not asked).
//
// Used by forward_test.cc (synthetic models) and reference_logprobs_test.cc (stories260K).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "engine/synthetic_model.h"
#include "engine/types.h"
#include "formats/ggml_types.h"
#include "formats/gguf.h"

namespace warden::engine::testing_reference {

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ4_K;
using formats::kGgmlTypeQ8_0;
inline constexpr uint32_t kGgmlTypeQ6_K = 14;  // ggml's id (formats names only some)

// ---------------------------------------------------------------------------------------
// Reference decoders of the ggml types, straight from the format description.

inline double HalfToDouble(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);  // zero and subnormals
  if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

inline uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Decodes n elements of `type` starting at p.
inline std::vector<double> Dequantize(uint32_t type, const uint8_t* p, size_t n) {
  std::vector<double> out(n);
  switch (type) {
    case kGgmlTypeF32:
      for (size_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out[i] = f;
      }
      break;
    case kGgmlTypeF16:
      for (size_t i = 0; i < n; ++i) out[i] = HalfToDouble(LoadU16(p + 2 * i));
      break;
    case kGgmlTypeQ8_0:  // blocks of 32: f16 scale, 32 x int8
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = p + b * 34;
        const double d = HalfToDouble(LoadU16(block));
        for (size_t j = 0; j < 32; ++j) {
          out[b * 32 + j] = d * static_cast<int8_t>(block[2 + j]);
        }
      }
      break;
    case kGgmlTypeQ4_0:  // blocks of 32: f16 scale, 16 bytes; low nibbles first, offset 8
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = p + b * 18;
        const double d = HalfToDouble(LoadU16(block));
        for (size_t j = 0; j < 16; ++j) {
          out[b * 32 + j] = d * ((block[2 + j] & 0x0f) - 8);
          out[b * 32 + j + 16] = d * ((block[2 + j] >> 4) - 8);
        }
      }
      break;
    case kGgmlTypeQ4_K:  // blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins,
                         // 128 bytes of nibbles (64 elements per 32 bytes: low, then high)
      for (size_t b = 0; b < n / 256; ++b) {
        const uint8_t* block = p + b * 144;
        const double d = HalfToDouble(LoadU16(block));
        const double dmin = HalfToDouble(LoadU16(block + 2));
        const uint8_t* sc = block + 4;
        const uint8_t* qs = block + 16;
        // Sub-block j (of 32): scale and min, 6 bits each, packed as ggml's get_scale_min_k4.
        auto scale_min = [&](size_t j, int* scale, int* min) {
          if (j < 4) {
            *scale = sc[j] & 63;
            *min = sc[j + 4] & 63;
          } else {
            *scale = (sc[j + 4] & 0x0f) | ((sc[j - 4] >> 6) << 4);
            *min = (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
          }
        };
        for (size_t chunk = 0; chunk < 4; ++chunk) {
          int s0, m0, s1, m1;
          scale_min(2 * chunk, &s0, &m0);
          scale_min(2 * chunk + 1, &s1, &m1);
          for (size_t l = 0; l < 32; ++l) {
            const uint8_t q = qs[chunk * 32 + l];
            out[b * 256 + chunk * 64 + l] = d * s0 * (q & 0x0f) - dmin * m0;
            out[b * 256 + chunk * 64 + 32 + l] = d * s1 * (q >> 4) - dmin * m1;
          }
        }
      }
      break;
    case kGgmlTypeQ6_K:  // blocks of 256: 128 bytes low nibbles, 64 bytes high 2-bit pairs,
                         // 16 int8 scales (one per 16 elements), f16 d; offset 32
      for (size_t b = 0; b < n / 256; ++b) {
        const uint8_t* block = p + b * 210;
        const double d = HalfToDouble(LoadU16(block + 208));
        for (size_t half = 0; half < 2; ++half) {
          const uint8_t* ql = block + 64 * half;
          const uint8_t* qh = block + 128 + 32 * half;
          const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192 + 8 * half);
          double* y = &out[b * 256 + 128 * half];
          for (size_t l = 0; l < 32; ++l) {
            const size_t is = l / 16;
            const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
          }
        }
      }
      break;
    default:
      ADD_FAILURE() << "reference cannot decode type " << type;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Reference model: hyper-parameters from the spec that generated the file (not from our
// loader), weights read with formats::ParseGguf and decoded above.

struct RefMatrix {
  size_t rows = 0, cols = 0;
  std::vector<double> w;  // row-major

  std::vector<double> Apply(const std::vector<double>& x) const {
    std::vector<double> y(rows, 0.0);
    for (size_t r = 0; r < rows; ++r) {
      double s = 0;
      for (size_t c = 0; c < cols; ++c) s += w[r * cols + c] * x[c];
      y[r] = s;
    }
    return y;
  }
};

struct RefLayer {
  std::vector<double> attn_norm, ffn_norm;
  RefMatrix wq, wk, wv, wo, gate, up, down;
};

class ReferenceModel {
 public:
  ReferenceModel(const SyntheticModelSpec& spec, const std::string& file) : s_(spec) {
    auto parsed = formats::ParseGguf(
        std::span(reinterpret_cast<const uint8_t*>(file.data()), file.size()), "ref");
    EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
    if (!parsed.has_value()) return;
    gguf_ = *parsed;
    bytes_ = &file;
    head_dim_ = s_.n_embd / s_.n_head;
    n_rot_ = s_.n_rot == 0 ? head_dim_ : s_.n_rot;
    const size_t q_dim = s_.n_head * head_dim_, kv_dim = s_.n_head_kv * head_dim_;
    embd_ = Matrix("token_embd.weight", s_.n_vocab, s_.n_embd);
    out_ = s_.tied_output ? embd_ : Matrix("output.weight", s_.n_vocab, s_.n_embd);
    out_norm_ = Vector("output_norm.weight", s_.n_embd);
    for (uint32_t i = 0; i < s_.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      RefLayer l;
      l.attn_norm = Vector(p + "attn_norm.weight", s_.n_embd);
      l.ffn_norm = Vector(p + "ffn_norm.weight", s_.n_embd);
      l.wq = Matrix(p + "attn_q.weight", q_dim, s_.n_embd);
      l.wk = Matrix(p + "attn_k.weight", kv_dim, s_.n_embd);
      l.wv = Matrix(p + "attn_v.weight", kv_dim, s_.n_embd);
      l.wo = Matrix(p + "attn_output.weight", s_.n_embd, q_dim);
      l.gate = Matrix(p + "ffn_gate.weight", s_.n_ff, s_.n_embd);
      l.up = Matrix(p + "ffn_up.weight", s_.n_ff, s_.n_embd);
      l.down = Matrix(p + "ffn_down.weight", s_.n_embd, s_.n_ff);
      layers_.push_back(std::move(l));
    }
    k_cache_.resize(s_.n_layer);
    v_cache_.resize(s_.n_layer);
  }

  // Logits of each token, fed one at a time after everything fed before.
  std::vector<std::vector<double>> Feed(const std::vector<Token>& tokens) {
    std::vector<std::vector<double>> all;
    if (layers_.size() != s_.n_layer) return all;  // the file did not parse
    for (Token t : tokens) all.push_back(Step(t));
    return all;
  }

 private:
  const uint8_t* Data(const std::string& name) {
    const formats::GgufTensorInfo* t = gguf_.FindTensor(name);
    EXPECT_NE(t, nullptr) << name;
    return reinterpret_cast<const uint8_t*>(bytes_->data()) + t->AbsoluteOffset(gguf_.data_offset);
  }
  RefMatrix Matrix(const std::string& name, size_t rows, size_t cols) {
    const formats::GgufTensorInfo* t = gguf_.FindTensor(name);
    EXPECT_NE(t, nullptr) << name;
    return {rows, cols, Dequantize(t->type, Data(name), rows * cols)};
  }
  std::vector<double> Vector(const std::string& name, size_t n) {
    return Dequantize(kGgmlTypeF32, Data(name), n);
  }

  std::vector<double> Norm(const std::vector<double>& x, const std::vector<double>& w) const {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + s_.rms_eps);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * inv * w[i];
    return y;
  }

  // Rotates adjacent pairs of the first n_rot dimensions of every head.
  void Rope(std::vector<double>& v, size_t pos) const {
    for (size_t h = 0; h < v.size() / head_dim_; ++h) {
      for (size_t i = 0; i < n_rot_ / 2; ++i) {
        const double theta =
            static_cast<double>(pos) *
            std::pow(double{s_.rope_freq_base}, -2.0 * static_cast<double>(i) / n_rot_);
        double& a = v[h * head_dim_ + 2 * i];
        double& b = v[h * head_dim_ + 2 * i + 1];
        const double a0 = a, b0 = b;
        a = a0 * std::cos(theta) - b0 * std::sin(theta);
        b = a0 * std::sin(theta) + b0 * std::cos(theta);
      }
    }
  }

  std::vector<double> Step(Token token) {
    const size_t pos = pos_++;
    std::vector<double> x(embd_.w.begin() + token * s_.n_embd,
                          embd_.w.begin() + (token + 1) * s_.n_embd);
    for (size_t l = 0; l < layers_.size(); ++l) {
      const RefLayer& L = layers_[l];
      const std::vector<double> n = Norm(x, L.attn_norm);
      std::vector<double> q = L.wq.Apply(n), k = L.wk.Apply(n);
      Rope(q, pos);
      Rope(k, pos);
      k_cache_[l].push_back(k);
      v_cache_[l].push_back(L.wv.Apply(n));
      std::vector<double> attn(q.size(), 0.0);
      const size_t group = s_.n_head / s_.n_head_kv;
      for (size_t h = 0; h < s_.n_head; ++h) {
        const size_t kvh = h / group;
        std::vector<double> scores(pos + 1);
        double max = -INFINITY;
        for (size_t j = 0; j <= pos; ++j) {
          double dot = 0;
          for (size_t d = 0; d < head_dim_; ++d) {
            dot += q[h * head_dim_ + d] * k_cache_[l][j][kvh * head_dim_ + d];
          }
          scores[j] = dot / std::sqrt(static_cast<double>(head_dim_));
          max = std::max(max, scores[j]);
        }
        double sum = 0;
        for (double& sc : scores) sum += (sc = std::exp(sc - max));
        for (size_t j = 0; j <= pos; ++j) {
          for (size_t d = 0; d < head_dim_; ++d) {
            attn[h * head_dim_ + d] += scores[j] / sum * v_cache_[l][j][kvh * head_dim_ + d];
          }
        }
      }
      const std::vector<double> o = L.wo.Apply(attn);
      for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];
      const std::vector<double> m = Norm(x, L.ffn_norm);
      const std::vector<double> g = L.gate.Apply(m), u = L.up.Apply(m);
      std::vector<double> a(g.size());
      for (size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const std::vector<double> dn = L.down.Apply(a);
      for (size_t i = 0; i < x.size(); ++i) x[i] += dn[i];
    }
    return out_.Apply(Norm(x, out_norm_));
  }

  SyntheticModelSpec s_;
  formats::GgufFile gguf_;
  const std::string* bytes_ = nullptr;
  size_t head_dim_ = 0, n_rot_ = 0;
  RefMatrix embd_, out_;
  std::vector<double> out_norm_;
  std::vector<RefLayer> layers_;
  std::vector<std::vector<std::vector<double>>> k_cache_, v_cache_;  // [layer][pos][kv_dim]
  size_t pos_ = 0;
};

}  // namespace warden::engine::testing_reference
