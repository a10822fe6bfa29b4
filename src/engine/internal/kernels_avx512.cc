// AVX-512 (F, BW, VL, DQ, VNNI) kernels. This file alone is compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c -mavx2; the dispatcher in
// engine/kernels.cc calls it only after CpuHasAvx512() said yes.
//
// What is here: the prefill products (kFloatActivationMinTokens or more tokens), and the
// decode products (fewer tokens) for Q8_0 and F16 (see "decode" below: the AVX2 Q8_0 tile
// was bound by instruction count, not memory, at about 8 GB/s per core). The other decode
// types, activation quantization, dequantization and the vector helpers stay on the AVX2 code.
//
// Layout: MatMulInput packs the activations in panels of 16 tokens with one token per vector
// lane, so that one instruction multiplies a weight (broadcast to all lanes) into 16 tokens
// of one row. R rows x V panels of accumulators stay in registers; each step costs V vector
// loads and R broadcasts for R*V multiply-adds, and needs no horizontal sums at the end
// (each lane is one output), which a dot-product layout would pay per output.
//
// Q8_0 and Q4_0 (QuantTile): the activations are quantized to 8 bits as for decode, and
// vpdpbusd multiplies 4 unsigned weight bytes (broadcast) by 4 signed activation bytes per
// lane, 64 multiply-adds per instruction against 16 for an f32 FMA: about twice the float
// tiles' speed even counting the per-block float scaling. The weights enter as w + offset
// (Q4_0's nibbles as stored, Q8_0's quants + 128), which adds offset * sum(q) to each block's
// sum; the integer accumulator starts at minus that (from the activation sums MatMulInput
// packed), so it ends exact: partial sums stay within 32 * 255 * 127 per block.
// Other types (FloatTile): weights as f32 rows (F32 in place, the rest dequantized once per
// row block, shared by every token) times float activations by FMA.
//
// Rounding: FloatTile sums each output's products in column order in chunks of
// kPrefillSumChunk, adding the chunk sums in order (one long sequential float sum would lose
// more bits than the AVX2 path's 8 lanes); QuantTile adds the scaled integer block sums in
// block order. Either sequence depends only on the row and the token, not on the tile, the
// panel or the row range: results do not depend on how rows are split across threads, nor
// on the other tokens of the batch.
//
// AMX (tile registers with bf16 and int8 dot products, present on Sapphire Rapids) could go
// several times further for prefill, but needs the OS to grant the tile state
// (arch_prctl(ARCH_REQ_XCOMP_PERM)) and a tile configuration per thread; not done.
#include "engine/internal/kernels_internal.h"

#if WARDEN_HAVE_AVX512_KERNELS
// GCC 12's AVX-512 intrinsics pass an uninitialized "undefined" vector as the pass-through
// operand of their unmasked forms, which -Wmaybe-uninitialized reports at every use (GCC bug
// 105593, fixed in GCC 13). The warning is attributed to the header's lines, so silencing it
// there leaves it active for this file's own code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

namespace warden::engine::internal {
namespace {

using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;

constexpr size_t kLanes = kTokenPanelWidth;  // 32-bit lanes per __m512, tokens per panel
static_assert(kLanes == 16);
constexpr size_t kGroupBytes = 4;  // bytes per lane of one vpdpbusd
constexpr size_t kGroupsPerBlock = kQ8BlockSize / kGroupBytes;
// Q4_0 stores w + 8 as a nibble; Q8_0's signed quants become unsigned bytes as w + 128.
constexpr int kQ4Offset = 8;
constexpr int kQ8ByteOffset = 128;

// Rows are processed in blocks of about this many bytes of weights as the tiles read them
// (f32, or int8 quants), all tokens of a block before the next, so that a block stays in the
// core's L2 cache while the token panels pass over it: weights then come from memory once
// per call, as in the AVX2 path.
constexpr size_t kRowBlockBytes = 192 << 10;

// Transposes a 16 x 16 matrix of 32-bit elements held as 16 rows (in place).
inline void Transpose16x16(__m512i m[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(m[2 * i], m[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(m[2 * i], m[2 * i + 1]);
  }
  // u[4q + j]: in 128-bit lane L, column 4L + j of rows 4q..4q+3.
  __m512i u[16];
  for (int q = 0; q < 4; ++q) {
    u[4 * q + 0] = _mm512_unpacklo_epi64(t[4 * q], t[4 * q + 2]);
    u[4 * q + 1] = _mm512_unpackhi_epi64(t[4 * q], t[4 * q + 2]);
    u[4 * q + 2] = _mm512_unpacklo_epi64(t[4 * q + 1], t[4 * q + 3]);
    u[4 * q + 3] = _mm512_unpackhi_epi64(t[4 * q + 1], t[4 * q + 3]);
  }
  // Column 4L + j gathers lane L of u[j], u[4 + j], u[8 + j], u[12 + j].
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(u[j], u[4 + j], kEven);
    const __m512i b = _mm512_shuffle_i32x4(u[j], u[4 + j], kOdd);
    const __m512i c = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], kEven);
    const __m512i d = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], kOdd);
    m[j] = _mm512_shuffle_i32x4(a, c, kEven);
    m[4 + j] = _mm512_shuffle_i32x4(b, d, kEven);
    m[8 + j] = _mm512_shuffle_i32x4(a, c, kOdd);
    m[12 + j] = _mm512_shuffle_i32x4(b, d, kOdd);
  }
}

// Packs 16 rows (tokens) of n 32-bit elements into a panel: element k of rows[l] goes to
// element k * 16 + l of out, xor-ed with `bias`; rows[l] == nullptr (padding) reads as zeros.
void PackPanel32(const uint8_t* const rows[kLanes], size_t n, uint32_t bias, uint8_t* out) {
  constexpr size_t kBytes = sizeof(uint32_t);
  const __m512i vbias = _mm512_set1_epi32(static_cast<int>(bias));
  size_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    __m512i m[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      m[l] = rows[l] != nullptr ? _mm512_loadu_si512(rows[l] + k * kBytes) : _mm512_setzero_si512();
    }
    Transpose16x16(m);
    for (size_t c = 0; c < kLanes; ++c) {
      _mm512_storeu_si512(out + (k + c) * kLanes * kBytes, _mm512_xor_si512(m[c], vbias));
    }
  }
  for (; k < n; ++k) {
    for (size_t l = 0; l < kLanes; ++l) {
      uint32_t v = 0;
      if (rows[l] != nullptr) std::memcpy(&v, rows[l] + k * kBytes, kBytes);
      v ^= bias;
      std::memcpy(out + (k * kLanes + l) * kBytes, &v, kBytes);
    }
  }
}

// Writes the R x V accumulators of a tile to y: lane l of acc[r][v] is row r0 + r, token
// 16 (p0 + v) + l; padding tokens (past n_tokens) are dropped.
template <int R, int V>
inline void StoreTile(const __m512 (&acc)[R][V], size_t r0, size_t p0, size_t n_tokens, float* y,
                      size_t y_stride) {
  alignas(64) float lanes[R][kLanes];
#pragma GCC unroll 16
  for (int v = 0; v < V; ++v) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) _mm512_store_ps(lanes[r], acc[r][v]);
    const size_t t0 = (p0 + v) * kLanes;
    const size_t count = std::min(kLanes, n_tokens - t0);
    for (size_t l = 0; l < count; ++l) {
      float* out = y + (t0 + l) * y_stride + r0;
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) out[r] = lanes[r][l];
    }
  }
}

// A table of tile functions: kTable[r - 1][v - 1] is Tile<r, v>, for the body (R x V) and the
// rows and panels left over.
template <class Args>
using TileFn = void (*)(const Args&, size_t r0, size_t p0);

template <class Args, template <int, int> class Tile, int R, int... V>
constexpr auto TileRow(std::integer_sequence<int, V...>) {
  return std::array<TileFn<Args>, sizeof...(V)>{Tile<R, V + 1>::Run...};
}
template <class Args, template <int, int> class Tile, int MaxV, int... R>
constexpr auto TileTable(std::integer_sequence<int, R...>) {
  return std::array<std::array<TileFn<Args>, MaxV>, sizeof...(R)>{
      TileRow<Args, Tile, R + 1>(std::make_integer_sequence<int, MaxV>())...};
}

// Runs the tiles over `rows` rows (relative to the args' pointers) and every token panel.
template <int MaxR, int MaxV, class Args, class Table>
void RunTiles(const Table& table, const Args& a, size_t rows, size_t n_panels) {
  for (size_t p = 0; p < n_panels; p += MaxV) {
    const size_t v = std::min<size_t>(MaxV, n_panels - p);
    size_t r = 0;
    for (; r + MaxR <= rows; r += MaxR) table[MaxR - 1][v - 1](a, r, p);
    if (r < rows) table[rows - r - 1][v - 1](a, r, p);
  }
}

// ---- float panels ----

// What a float tile needs: f32 weight rows (row r at w + r * w_stride floats), the token
// panels, and the output, where y[t * y_stride + r] receives row r, token t. Row indices
// passed to a tile are relative to w and y.
struct FloatArgs {
  const float* w;
  size_t w_stride;
  const MatMulInput* x;
  float* y;
  size_t y_stride;
};

template <int R, int V>
struct FloatTile {
  static void Run(const FloatArgs& a, size_t r0, size_t p0) {
    const size_t n = a.x->cols();
    const float* wr[R];
    const float* xp[V];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) xp[v] = a.x->float_panel(p0 + v);
    __m512 sums[R][V];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) sums[r][v] = _mm512_setzero_ps();
    }
    for (size_t k0 = 0; k0 < n; k0 += kPrefillSumChunk) {
      const size_t k_end = std::min(n, k0 + kPrefillSumChunk);
      __m512 acc[R][V];
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
      }
      for (size_t k = k0; k < k_end; ++k) {
        __m512 xv[V];
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) xv[v] = _mm512_loadu_ps(xp[v] + k * kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const __m512 wb = _mm512_set1_ps(wr[r][k]);
#pragma GCC unroll 16
          for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(wb, xv[v], acc[r][v]);
        }
      }
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) sums[r][v] = _mm512_add_ps(sums[r][v], acc[r][v]);
      }
    }
    StoreTile<R, V>(sums, r0, p0, a.x->n_tokens(), a.y, a.y_stride);
  }
};

// 8 rows x 3 panels: 24 accumulators and 3 activation vectors of the 32 zmm registers
// (measured against 6 x 4, 12 x 2 and 4 x 6: within noise of 6 x 4, the others slower).
constexpr int kFloatRows = 8;
constexpr int kFloatPanels = 3;
constexpr auto kFloatTiles =
    TileTable<FloatArgs, FloatTile, kFloatPanels>(std::make_integer_sequence<int, kFloatRows>());

void MatMulFloatPanels(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                       size_t row_begin, size_t row_end) {
  const bool in_place = w.type == kGgmlTypeF32;
  const size_t block_rows =
      std::max<size_t>(1, kRowBlockBytes / std::max<size_t>(1, w.cols * sizeof(float)));
  thread_local std::vector<float> scratch;
  for (size_t rb = row_begin; rb < row_end; rb += block_rows) {
    const size_t rows = std::min(block_rows, row_end - rb);
    FloatArgs a{nullptr, w.cols, &x, y + rb, y_stride};
    if (in_place) {
      a.w = reinterpret_cast<const float*>(w.data + rb * w.row_bytes);
    } else {
      scratch.resize(rows * w.cols);
      for (size_t r = 0; r < rows; ++r) {
        DequantizeRowAvx2(w.type, w.data + (rb + r) * w.row_bytes, scratch.data() + r * w.cols,
                          w.cols);
      }
      a.w = scratch.data();
    }
    RunTiles<kFloatRows, kFloatPanels>(kFloatTiles, a, rows, x.n_token_panels());
  }
}

// ---- quantized panels (VNNI) ----

// 6 rows x 2 panels: 12 integer and 12 float accumulators and 2 activation vectors; two
// panels of one block row of activations (2 x 16 x 768 bytes at n_embd 768) stay in L1.
// Measured against 4 x 3, 5 x 2, 7 x 2, 3 x 4, 2 x 6 and 12 x 1: 5-7 x 2 best, within noise.
constexpr int kQuantRows = 6;
constexpr int kQuantPanels = 2;

// Where block b of row r of a row block sits in the weight copy the quantized tiles read:
// rows in groups of kQuantRows (as the tiles take them), each group's blocks in order, each
// block's rows together, so that a tile reads one sequential stream.
inline size_t PackedBlockIndex(size_t r, size_t b, size_t blocks) {
  return ((r / kQuantRows) * blocks + b) * kQuantRows + r % kQuantRows;
}

// What a quantized tile needs: the weights as unsigned bytes w + offset, 32 per block at
// w + PackedBlockIndex(r, b) * 32, their scales at scales[PackedBlockIndex(r, b)], and the
// output as for FloatArgs.
struct QuantArgs {
  const uint8_t* w;
  const float* scales;
  const MatMulInput* x;
  float* y;
  size_t y_stride;
};

template <int R, int V>
struct QuantTile {
  static void Run(const QuantArgs& a, size_t r0, size_t p0) {
    const size_t blocks = a.x->cols() / kQ8BlockSize;
    const int8_t* xq[V];
    const float* xd[V];
    const int32_t* xc[V];
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) {
      xq[v] = a.x->quant_panel(p0 + v);
      xd[v] = a.x->quant_panel_scales(p0 + v);
      xc[v] = a.x->quant_panel_corrections(p0 + v);
    }
    __m512 acc[R][V];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
    }
    static_assert(R <= kQuantRows);  // r0 starts a group (RunTiles steps by kQuantRows)
    for (size_t b = 0; b < blocks; ++b) {
      const size_t first = PackedBlockIndex(r0, b, blocks);
      const uint8_t* wb = a.w + first * kQ8BlockSize;
      const float* wd = a.scales + first;
      __m512i dot[R][V];
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        const __m512i correction = _mm512_loadu_si512(xc[v] + b * kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) dot[r][v] = correction;
      }
#pragma GCC unroll 8
      for (size_t g = 0; g < kGroupsPerBlock; ++g) {
        __m512i xv[V];
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) {
          xv[v] = _mm512_loadu_si512(xq[v] + ((b * kGroupsPerBlock + g) * kLanes) * kGroupBytes);
        }
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          int32_t four;
          std::memcpy(&four, wb + r * kQ8BlockSize + g * kGroupBytes, sizeof(four));
          const __m512i w4 = _mm512_set1_epi32(four);
#pragma GCC unroll 16
          for (int v = 0; v < V; ++v) dot[r][v] = _mm512_dpbusd_epi32(dot[r][v], w4, xv[v]);
        }
      }
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) {
        const __m512 dx = _mm512_loadu_ps(xd[v] + b * kLanes);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const __m512 scale = _mm512_mul_ps(dx, _mm512_set1_ps(wd[r]));
          acc[r][v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[r][v]), scale, acc[r][v]);
        }
      }
    }
    StoreTile<R, V>(acc, r0, p0, a.x->n_tokens(), a.y, a.y_stride);
  }
};

constexpr auto kQuantTiles =
    TileTable<QuantArgs, QuantTile, kQuantPanels>(std::make_integer_sequence<int, kQuantRows>());

inline float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _cvtsh_ss(h);
}

// The weight offset that makes a type's quants unsigned bytes (see QuantArgs).
int WeightOffset(uint32_t weight_type) {
  return weight_type == kGgmlTypeQ8_0 ? kQ8ByteOffset : kQ4Offset;
}

void MatMulQuantPanels(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                       size_t row_begin, size_t row_end) {
  const size_t blocks = w.cols / kQ8BlockSize;
  const size_t block_rows = std::max<size_t>(1, kRowBlockBytes / std::max<size_t>(1, w.cols));
  thread_local std::vector<uint8_t> quants;
  thread_local std::vector<float> scales;
  const __m256i low_nibble = _mm256_set1_epi8(0x0F);
  // Q8_0's signed quants + 128 as unsigned bytes: the sign bit flipped.
  const __m256i flip_signs = _mm256_set1_epi8(static_cast<char>(0x80));
  for (size_t rb = row_begin; rb < row_end; rb += block_rows) {
    const size_t rows = std::min(block_rows, row_end - rb);
    // Whole groups, the last one partly unused.
    const size_t groups = (rows + kQuantRows - 1) / kQuantRows;
    quants.resize(groups * kQuantRows * w.cols);
    scales.resize(groups * kQuantRows * blocks);
    for (size_t r = 0; r < rows; ++r) {
      const uint8_t* row = w.data + (rb + r) * w.row_bytes;
      for (size_t b = 0; b < blocks; ++b) {
        __m256i q;
        if (w.type == kGgmlTypeQ8_0) {
          const uint8_t* block = row + b * kQ8_0BlockBytes;
          scales[PackedBlockIndex(r, b, blocks)] = LoadF16(block);
          q = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2)),
                               flip_signs);
        } else {
          const uint8_t* block = row + b * kQ4_0BlockBytes;
          scales[PackedBlockIndex(r, b, blocks)] = LoadF16(block);
          const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
          // Low nibbles are elements 0..15, high nibbles 16..31.
          q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), low_nibble);
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(
                                quants.data() + PackedBlockIndex(r, b, blocks) * kQ8BlockSize),
                            q);
      }
    }
    const QuantArgs a{quants.data(), scales.data(), &x, y + rb, y_stride};
    RunTiles<kQuantRows, kQuantPanels>(kQuantTiles, a, rows, x.n_token_panels());
  }
}


// ---- decode: few tokens (kQuants for Q8_0, kFloats for F16), one dot product per output ----
// Fewer than kFloatActivationMinTokens tokens: each (row, token) output is a dot product of a
// weight row with one token. The AVX2 tiles spend about a dozen instructions per Q8_0 block
// (sign tricks, a float scale product and broadcast per block), which one core cannot issue
// as fast as the weights stream in; here a chunk of 16 blocks of a row costs 8 vpdpbusd (two
// blocks per instruction), a shuffle tree that reduces them to 16 exact block sums, one
// gather of the 16 weight scales and one multiply-add. The weights enter as unsigned bytes
// w + 128 (a xor), so each block sum is corrected by -128 * sum(q) from MatMulInput::sums.
// Every output runs the same operation sequence whatever the tile, the row range or the
// other tokens, so short batches equal single tokens bit for bit; the sequence differs from
// the AVX2 one (16 float lanes, one term per block, instead of 8 lanes per block).

constexpr size_t kDecodeChunkBlocks = 16;  // blocks per chunk: one lane per block
constexpr size_t kDecodeMaxTokens = 4;     // tokens per tile
// Bytes ahead of the current chunk at which the weight rows are prefetched.
constexpr size_t kDecodePrefetchBytes = 1024;

struct DecodeArgs {
  const uint8_t* w;  // row r at w + r * w_stride
  size_t w_stride;
  const MatMulInput* x;
  size_t cols;
  float* y;  // y[t * y_stride + r]
  size_t y_stride;
};

// Sum of the 16 lanes (not _mm512_reduce_add_ps: GCC 12's version trips -Wuninitialized).
inline float SumLanes(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_mask_extractf32x8_ps(_mm256_setzero_ps(), 0xFF, v, 0),
                                 _mm512_mask_extractf32x8_ps(_mm256_setzero_ps(), 0xFF, v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Sums the 8 lanes of each block in v[0..7] (v[j] holds block 2j in lanes 0..7 and block
// 2j+1 in lanes 8..15) into one vector of 16 block sums, block i in lane i. Exact (int32).
inline __m512i ReduceBlockSums(const __m512i v[8]) {
  __m512i t[4];
  for (int i = 0; i < 4; ++i) {
    // Per 128-bit lane: (a0+a2, b0+b2, a1+a3, b1+b3) of a = v[2i], b = v[2i+1].
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                            _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  }
  // Per 128-bit lane L: the sums over that lane of v[0..3] (u0) and v[4..7] (u1).
  const __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[0], t[1]),
                                      _mm512_unpackhi_epi64(t[0], t[1]));
  const __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2], t[3]),
                                      _mm512_unpackhi_epi64(t[2], t[3]));
  // Block 2j is 128-bit lanes 0 and 1 of v[j], block 2j+1 lanes 2 and 3.
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, kEven),
                                     _mm512_shuffle_i32x4(u0, u1, kOdd));
  // s holds blocks (0 2 4 6 | 1 3 5 7 | 8 10 12 14 | 9 11 13 15); back to block order.
  const __m512i order =
      _mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
  return _mm512_permutexvar_epi32(order, s);
}

// One chunk of `k` (1..16) blocks starting at block b of R rows and T tokens; kFull: k == 16.
template <int R, int T, bool kFull>
inline void Q8_0DecodeChunk(const uint8_t* const (&wr)[R], const int8_t* const (&xq)[T],
                            const float* const (&xd)[T], const int32_t* const (&xs)[T], size_t b,
                            size_t k, __m512 (&acc)[R][T]) {
  const __mmask16 block_mask = kFull ? __mmask16(0xFFFF) : __mmask16((1u << k) - 1);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const __m512i scale_offsets =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(kQ8_0BlockBytes)));
  __m512 dx[T];
  __m512i corr[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    dx[t] = _mm512_maskz_loadu_ps(block_mask, xd[t] + b);
    corr[t] = _mm512_slli_epi32(_mm512_maskz_loadu_epi32(block_mask, xs[t] + b), 7);
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const uint8_t* base = wr[r] + b * kQ8_0BlockBytes;
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 64), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 128), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 192), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 256), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 320), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 384), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 448), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(base + kDecodePrefetchBytes + 512), _MM_HINT_T0);
    __m512i wv[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const uint8_t* lo = base + 2 * j * kQ8_0BlockBytes + 2;
      const uint8_t* hi = lo + kQ8_0BlockBytes;
      if (kFull) {
        wv[j] = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi)), 1);
      } else {
        const __m256i l = 2 * static_cast<size_t>(j) < k
                              ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))
                              : _mm256_set1_epi8(static_cast<char>(0x80));
        const __m256i h = 2 * static_cast<size_t>(j) + 1 < k
                              ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi))
                              : _mm256_set1_epi8(static_cast<char>(0x80));
        wv[j] = _mm512_inserti64x4(_mm512_castsi256_si512(l), h, 1);
      }
      wv[j] = _mm512_xor_si512(wv[j], flip);  // w + 128 (missing blocks: 0)
    }
    const __m512i wd_half =
        _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), block_mask, scale_offsets, base, 1);
    const __m512 wd = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(wd_half));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m512i v[8];
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) {
        const int8_t* xp = xq[t] + (b + 2 * j) * kQ8BlockSize;
        __m512i xv;
        if (kFull) {
          xv = _mm512_loadu_si512(xp);
        } else {
          const size_t left = k > 2 * static_cast<size_t>(j) ? k - 2 * static_cast<size_t>(j) : 0;
          const __mmask64 m = left >= 2 ? ~__mmask64(0) : left == 1 ? __mmask64(0xFFFFFFFFu) : 0;
          xv = _mm512_maskz_loadu_epi8(m, xp);
        }
        v[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv[j], xv);
      }
      const __m512i sums = _mm512_sub_epi32(ReduceBlockSums(v), corr[t]);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(wd, dx[t]), acc[r][t]);
    }
  }
}

template <int R, int T>
void Q8_0DecodeTile(const DecodeArgs& a, size_t r0, size_t t0) {
  const size_t blocks = a.cols / kQ8BlockSize;
  const uint8_t* wr[R];
  const int8_t* xq[T];
  const float* xd[T];
  const int32_t* xs[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) wr[r] = a.w + (r0 + r) * a.w_stride;
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    xq[t] = a.x->quants(t0 + t);
    xd[t] = a.x->scales(t0 + t);
    xs[t] = a.x->sums(t0 + t);
  }
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  size_t b = 0;
  for (; b + kDecodeChunkBlocks <= blocks; b += kDecodeChunkBlocks) {
    Q8_0DecodeChunk<R, T, true>(wr, xq, xd, xs, b, kDecodeChunkBlocks, acc);
  }
  if (b < blocks) Q8_0DecodeChunk<R, T, false>(wr, xq, xd, xs, b, blocks - b, acc);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      a.y[(t0 + t) * a.y_stride + r0 + r] = SumLanes(acc[r][t]);
    }
  }
}

// F16 weights times float activations: 16 columns per step, the last step masked, so every
// output sums 16 lanes the same way whatever the tile.
template <int R, int T>
void F16DecodeTile(const DecodeArgs& a, size_t r0, size_t t0) {
  const size_t n = a.cols;
  const uint16_t* wr[R];
  const float* xt[T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    wr[r] = reinterpret_cast<const uint16_t*>(a.w + (r0 + r) * a.w_stride);
  }
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) xt[t] = a.x->floats(t0 + t);
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __m512 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(wr[r] + i) + kDecodePrefetchBytes, _MM_HINT_T0);
      wv[r] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[r] + i)));
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(xt[t] + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, wr[r] + i));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, xt[t] + i);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      a.y[(t0 + t) * a.y_stride + r0 + r] = SumLanes(acc[r][t]);
    }
  }
}

using DecodeTileFn = void (*)(const DecodeArgs&, size_t r0, size_t t0);
// Indexed by token count - 1: rows[k] x (k+1) tokens for the body, 1 x (k+1) for the rest.
struct DecodeTiles {
  size_t rows[kDecodeMaxTokens];
  DecodeTileFn wide[kDecodeMaxTokens];
  DecodeTileFn narrow[kDecodeMaxTokens];
};
constexpr DecodeTiles kQ8_0DecodeTiles = {
    {4, 2, 2, 2},
    {Q8_0DecodeTile<4, 1>, Q8_0DecodeTile<2, 2>, Q8_0DecodeTile<2, 3>, Q8_0DecodeTile<2, 4>},
    {Q8_0DecodeTile<1, 1>, Q8_0DecodeTile<1, 2>, Q8_0DecodeTile<1, 3>, Q8_0DecodeTile<1, 4>}};
constexpr DecodeTiles kF16DecodeTiles = {
    {4, 4, 4, 3},
    {F16DecodeTile<4, 1>, F16DecodeTile<4, 2>, F16DecodeTile<4, 3>, F16DecodeTile<3, 4>},
    {F16DecodeTile<1, 1>, F16DecodeTile<1, 2>, F16DecodeTile<1, 3>, F16DecodeTile<1, 4>}};

// Rows in blocks that stay in L2 while every group of tokens passes over them.
constexpr size_t kDecodeRowBlockBytes = 192 << 10;

void MatMulDecode(const DecodeTiles& tiles, const WeightView& w, const MatMulInput& x, float* y,
                  size_t y_stride, size_t row_begin, size_t row_end) {
  const size_t block_rows = std::max<size_t>(1, kDecodeRowBlockBytes / std::max<size_t>(1, w.row_bytes));
  const size_t n_tokens = x.n_tokens();
  for (size_t rb = row_begin; rb < row_end; rb += block_rows) {
    const size_t rows = std::min(block_rows, row_end - rb);
    const DecodeArgs a{w.data + rb * w.row_bytes, w.row_bytes, &x, w.cols, y + rb, y_stride};
    for (size_t t0 = 0; t0 < n_tokens; t0 += kDecodeMaxTokens) {
      const size_t tokens = std::min(kDecodeMaxTokens, n_tokens - t0);
      const size_t step = tiles.rows[tokens - 1];
      size_t r = 0;
      for (; r + step <= rows; r += step) tiles.wide[tokens - 1](a, r, t0);
      for (; r < rows; ++r) tiles.narrow[tokens - 1](a, r, t0);
    }
  }
}

}  // namespace

bool HasQuantPanelKernel(uint32_t weight_type) {
  return weight_type == kGgmlTypeQ8_0 || weight_type == kGgmlTypeQ4_0;
}

void PackFloatPanelsAvx512(const float* x, size_t n_tokens, size_t cols, float* panels) {
  const size_t n_panels = (n_tokens + kLanes - 1) / kLanes;
  for (size_t p = 0; p < n_panels; ++p) {
    const uint8_t* rows[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t t = p * kLanes + l;
      rows[l] = t < n_tokens ? reinterpret_cast<const uint8_t*>(x + t * cols) : nullptr;
    }
    // Bit patterns move unchanged; the padding is +0.0f (all bits clear).
    PackPanel32(rows, cols, 0, reinterpret_cast<uint8_t*>(panels + p * cols * kLanes));
  }
}

void PackQuantPanelsAvx512(uint32_t weight_type, const int8_t* quants, const float* scales,
                           const int32_t* sums, size_t n_tokens, size_t cols, int8_t* panels,
                           float* panel_scales, int32_t* panel_corrections) {
  const size_t n_panels = (n_tokens + kLanes - 1) / kLanes;
  const size_t blocks = cols / kQ8BlockSize;
  for (size_t p = 0; p < n_panels; ++p) {
    const uint8_t* rows[kLanes];
    const uint8_t* scale_rows[kLanes];
    const uint8_t* correction_rows[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      const size_t t = p * kLanes + l;
      const bool real = t < n_tokens;  // padding lanes: quants, scales and corrections 0
      rows[l] = real ? reinterpret_cast<const uint8_t*>(quants + t * cols) : nullptr;
      scale_rows[l] = real ? reinterpret_cast<const uint8_t*>(scales + t * blocks) : nullptr;
      correction_rows[l] = real ? reinterpret_cast<const uint8_t*>(sums + t * blocks) : nullptr;
    }
    PackPanel32(rows, cols / kGroupBytes, 0,
                reinterpret_cast<uint8_t*>(panels + p * cols * kLanes));
    PackPanel32(scale_rows, blocks, 0,
                reinterpret_cast<uint8_t*>(panel_scales + p * blocks * kLanes));
    PackPanel32(correction_rows, blocks, 0,
                reinterpret_cast<uint8_t*>(panel_corrections + p * blocks * kLanes));
  }
  // The packed sums become the corrections -offset * sum(q).
  const int32_t offset = WeightOffset(weight_type);
  for (size_t i = 0; i < n_panels * blocks * kLanes; ++i) panel_corrections[i] *= -offset;
}

void MatMulAvx512(const WeightView& w, const MatMulInput& x, float* y, size_t y_stride,
                  size_t row_begin, size_t row_end) {
  switch (x.layout()) {
    case MatMulInput::Layout::kFloatPanels:
      return MatMulFloatPanels(w, x, y, y_stride, row_begin, row_end);
    case MatMulInput::Layout::kQuantPanels:
      return MatMulQuantPanels(w, x, y, y_stride, row_begin, row_end);
    case MatMulInput::Layout::kQuants:
      if (w.type == kGgmlTypeQ8_0) {
        return MatMulDecode(kQ8_0DecodeTiles, w, x, y, y_stride, row_begin, row_end);
      }
      return MatMulAvx2(w, x, y, y_stride, row_begin, row_end);
    case MatMulInput::Layout::kFloats:
      if (w.type == formats::kGgmlTypeF16) {
        return MatMulDecode(kF16DecodeTiles, w, x, y, y_stride, row_begin, row_end);
      }
      return MatMulAvx2(w, x, y, y_stride, row_begin, row_end);
    default:
      return MatMulAvx2(w, x, y, y_stride, row_begin, row_end);
  }
}

}  // namespace warden::engine::internal

#endif  // WARDEN_HAVE_AVX512_KERNELS
