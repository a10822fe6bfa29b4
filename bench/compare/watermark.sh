#!/usr/bin/env bash
# Watermark benchmark, in one run:
#  1. `warden generate` tokens/s without a watermark and with each scheme, same model, prompt,
#     seed and sampling, runs interleaved (none, kgw, tournament, gumbel, none, ...), median of
#     REPS; on the bundled stories260K (vocabulary 512) and on a synthetic Q8_0 Llama with a
#     32000-token vocabulary (where kgw's per-step bias over the whole vocabulary costs most).
#  2. Detection throughput after tokenization: the detector on 4M token ids on one core
#     (bench/watermark_bench.cc), and `warden watermark detect` end to end on a large text.
#
#   bash bench/compare/watermark.sh
#   BUILD=build-lead REPS=9 TOKENS=256 bash bench/compare/watermark.sh
#
# Targets (watermark issue): generation with a watermark >= 0.98x the speed without;
# detection >= 5M tokens/s per core after tokenization.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$here/build}
warden=$build/apps/warden/warden
bench=$build/bench/watermark_bench
tool=$build/bench/engine_tool
reps=${REPS:-7}
tokens=${TOKENS:-256}
threads=${THREADS:-1}
dir=${BENCH_DIR:-/tmp}
for b in "$warden" "$bench" "$tool"; do
  [ -x "$b" ] || { echo "build first (cmake --build $build --target warden watermark_bench engine_tool): $b" >&2; exit 4; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for s in kgw tournament gumbel; do "$warden" watermark keygen --out "$work/$s.key" --scheme "$s" >/dev/null; done
# Two synthetic Q8_0 Llamas with a Llama-2-sized vocabulary (32000): a small one (512 embd, 8
# layers, ~30M parameters) where a decode step is short and the watermark's per-step cost shows
# most, and one of engine.sh's shape (768 embd, 12 layers, ~110M parameters). Written once to
# BENCH_DIR and kept.
small=$dir/warden-watermark-bench-q8_0-v32000.gguf
[ -s "$small" ] || "$tool" write-model --type q8_0 --vocab 32000 --embd 512 --layers 8 --ff 1408 \
  --heads 8 --kv-heads 8 --out "$small" >/dev/null
big=$dir/warden-watermark-bench-q8_0-v32000-110m.gguf
[ -s "$big" ] || "$tool" write-model --type q8_0 --vocab 32000 --out "$big" >/dev/null

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
tps() {  # model, scheme ("none" or a scheme), sampling flags...
  local model=$1 scheme=$2 wm=()
  shift 2
  [ "$scheme" = none ] || wm=(--watermark "$work/$scheme.key")
  "$warden" generate --model "$model" --prompt 'Once upon a time' -n "$tokens" --seed "$seed" \
    --threads "$threads" --json "$@" "${wm[@]}" |
    awk -F': ' '/"tokens_per_s"/ { gsub(/[ ,]/, "", $2); print $2 }'
}

echo "warden watermark benchmark: $(nproc) cores, generate on $threads thread(s), median of $reps interleaved runs"
echo "  machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "  watermark kernels: ${WARDEN_KERNELS:-best available} (WARDEN_KERNELS=scalar|avx2|avx512 to compare)"
echo
echo "1. generate tokens/s, $tokens tokens (ratio: vs no watermark, same model, seed and sampling)"
# Two samplings: generate's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05: the
# selectors see the few candidates truncation leaves, kgw biases the whole vocabulary), and
# the model's untruncated distribution at temperature 1 (every scheme sees every token: the
# worst case, and what `watermark eval` uses).
for sampling in defaults untruncated; do
  flags=()
  [ "$sampling" = defaults ] || flags=(--temperature 1 --top-k 0 --top-p 1 --min-p 0)
  echo "  sampling: $sampling"
  for model in "$here/data/models/stories260K.gguf" "$small" "$big"; do
    name=$(basename "$model" .gguf)
    for s in none kgw tournament gumbel; do : > "$work/$s.tps"; done
    # Rep r uses seed 7 + r for every scheme: a watermark changes the text, and the cost of a
    # decode step depends a little on the text (+-3% between seeds on stories260K), so one
    # seed would compare different texts; the median over the same seeds evens that out.
    for ((r = 0; r < reps; r++)); do
      seed=$((7 + r))
      for s in none kgw tournament gumbel; do tps "$model" "$s" "${flags[@]}" >> "$work/$s.tps"; done
    done
    base=$(median < "$work/none.tps")
    echo "$name $sampling $base" >> "$work/base.tps"
    for s in none kgw tournament gumbel; do
      m=$(median < "$work/$s.tps")
      awk -v n="$name" -v s="$s" -v m="$m" -v b="$base" \
        'BEGIN { printf "    %-36s %-11s %10.1f tok/s   %.3fx\n", n, s, m, m / b }'
    done
  done
done

echo
echo "2. detection after tokenization, one core (4M random token ids, vocabulary 32000)"
"$bench" --benchmark_filter='BM_Detect' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null |
  awk -F'"' '/"name":/ { name = $4 } /"label":/ { label = $4 }
    /"items_per_second":/ { split($0, a, ":"); gsub(/[ ,]/, "", a[2]);
      if (name ~ /median/) printf "  detector %-11s %8.2f M tokens/s\n", label, a[2] / 1e6 }'
echo "  per sampling step (the watermark's sampler alone; candidates-only baseline first):"
"$bench" --benchmark_filter='BM_CandidatesOnly|BM_SamplerStep' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null |
  awk -F'"' '/"name":/ { name = $4 } /"label":/ { label = $4 }
    /"real_time":/ { split($0, a, ":"); gsub(/[ ,]/, "", a[2]); t = a[2] }
    /"aggregate_name": "median"/ { med = 1 }
    /^    }/ { if (med) printf "    %-44s %9.2f us\n", (label != "" ? label : name), t; med = 0; label = "" }' |
  tee "$work/steps.txt"
# What those per-step costs imply for untruncated generation (every scheme sees the whole
# vocabulary), from the unwatermarked speed measured above: 1 / (1 + cost * tokens/s). This
# isolates the watermark's own cost from the text-dependence of the end-to-end runs.
echo "  implied generation ratio, untruncated sampling (1 / (1 + step cost x tokens/s without)):"
while read -r name sampling base; do
  [ "$sampling" = untruncated ] || continue
  vocab=32000
  [ "$name" = stories260K ] && vocab=512
  for s in kgw tournament gumbel; do
    cost=$(awk -v s="$s" -v v="$vocab" '$1 == s && $3 == v { print $4 }' "$work/steps.txt")
    awk -v n="$name" -v s="$s" -v c="$cost" -v b="$base" \
      'BEGIN { printf "    %-36s %-11s %8.2f us/step at %7.1f tok/s -> %.3fx\n", n, s, c, b, 1 / (1 + c * b / 1e6) }'
  done
done < "$work/base.tps"

# A large text of human words in random order: few repeated contexts, as in real prose.
text=$work/big.txt
awk 'BEGIN { srand(1) } { n = split($0, w, /[^A-Za-z]+/); for (i = 1; i <= n; i++) if (w[i] != "") words[++k] = w[i] }
  END { for (j = 0; j < 4000000; j++) { printf "%s%s", words[int(rand() * k) + 1], (j % 20 == 19) ? ".\n" : " " } }' \
  "$here/tests/testdata/watermark/human.txt" > "$text"
echo
echo "  warden watermark detect end to end on $(du -h "$text" | cut -f1) of text (kgw, bundled tokenizer):"
"$warden" watermark detect --key "$work/kgw.key" --json "$text" | awk -F': ' '
  /"tokens":/ { gsub(/[ ,]/, "", $2); n = $2 } /"tokenize_ms"/ { gsub(/[ ,]/, "", $2); tk = $2 }
  /"score_ms"/ { gsub(/[ ,]/, "", $2); sc = $2 } /"verdict"/ { v = $2 }
  END { printf "    %d tokens; tokenize %.0f ms (%.2f M tokens/s), score %.0f ms (%.2f M tokens/s); verdict %s\n",
        n, tk, n / tk / 1e3, sc, n / sc / 1e3, v }'
