#!/usr/bin/env bash
# Engine benchmark, in one run: this machine's memory bandwidth (STREAM-like copy and a plain
# read), then prefill and decode speed of warden's engine on synthetic Llama models with random
# weights (~110M parameters) in F32, F16, Q8_0 and Q4_0, and the fraction of the bandwidth
# bound that decode reaches (a decode step must read every weight once).
#
#   bash bench/compare/engine.sh
#   THREADS=2 REPS=5 TYPES="q8_0 f16" BENCH_DIR=/data bash bench/compare/engine.sh
#
# Targets (engine issue): decode >= 60% of the bandwidth bound for Q8_0 and F16 on 2 threads;
# prefill of a 128-token prompt >= 10x decode throughput; peak RSS <= mapped weights + KV cache
# + 10%. The models are written once to BENCH_DIR and kept (delete them to rebuild).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$here/build}
tool=${ENGINE_TOOL:-$build/bench/engine_tool}
threads=${THREADS:-2}
reps=${REPS:-5}
types=${TYPES:-"f32 f16 q8_0 q4_0"}
dir=${BENCH_DIR:-/tmp}
prompt=${PROMPT_TOKENS:-128}
decode=${DECODE_TOKENS:-64}
[ -x "$tool" ] || { echo "build the benchmarks first (cmake --build $build --target engine_tool): $tool" >&2; exit 4; }
mkdir -p "$dir"

get() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { print $2; exit }'; }

bw=$("$tool" bandwidth --threads "$threads" --reps "$reps")
copy=$(get "$bw" copy_gbs)
read_bw=$(get "$bw" read_gbs)

echo "warden engine benchmark: $(nproc) cores, $threads threads, median of $reps runs"
echo "  machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
printf '  memory bandwidth (%s threads, 512 MiB arrays): STREAM-like copy %.2f GB/s, read-only %.2f GB/s\n' \
  "$threads" "$copy" "$read_bw"
echo "  last-level cache: $(lscpu | awk -F': *' '/^L3 cache/ { print $2 }')"
echo "  model: llama, 768 embd, 12 layers, 12 heads, 2048 ff, 16000 vocab; prompt $prompt tokens, decode $decode tokens"
echo
printf '  %-5s %8s %9s %12s %11s %10s %10s %11s %s\n' type params weights "prefill t/s" \
  "decode t/s" "GB/s read" "% copy" "prefill/dec" "peak RSS / weights+KV"
for t in $types; do
  model=$dir/warden-engine-bench-$t.gguf
  [ -s "$model" ] || "$tool" write-model --type "$t" --out "$model"
  out=$("$tool" run --model "$model" --threads "$threads" --prompt "$prompt" --decode "$decode" --reps "$reps")
  # The bound at the model's own size: on a CPU whose last-level cache holds the model (this
  # one has a large L3), decode reads from the cache, not DRAM, and must be compared with
  # the bandwidth of the same working set.
  mib=$(awk -v b="$(get "$out" weight_bytes)" 'BEGIN { printf "%d", b / 1048576 + 1 }')
  bw_model=$("$tool" bandwidth --threads "$threads" --reps "$reps" --mib "$mib")
  awk -v t="$t" -v copy="$(get "$bw_model" copy_gbs)" \
      -v params="$(get "$out" params)" -v wb="$(get "$out" weight_bytes)" \
      -v sb="$(get "$out" step_bytes)" -v kv="$(get "$out" kv_cache_bytes)" \
      -v pf="$(get "$out" prefill_tps)" -v dc="$(get "$out" decode_tps)" \
      -v rss="$(get "$out" peak_rss_mib)" 'BEGIN {
    got = dc * sb / 1e9;
    limit = (wb + kv) / 1048576;
    printf "  %-5s %8s %7.0f MB %12.1f %11.2f %10.1f %9.0f%% %10.1fx %7.0f / %.0f MiB (%+.0f%%)   copy bw at %.0f MB: %.1f GB/s\n",
      t, params, wb / 1e6, pf, dc, got, 100 * got / copy, pf / dc, rss, limit,
      100 * (rss - limit) / limit, wb / 1e6, copy }'
done
echo
echo "  GB/s read = bytes one decode step reads (all weights but the embedding table, plus the"
echo "  KV cache so far) x decode tokens/s; '% copy' compares it with a STREAM-like copy over a"
echo "  working set of the model's size, run right after (the bandwidth bound for those bytes)."
