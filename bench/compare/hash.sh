#!/usr/bin/env bash
# Side-by-side hashing benchmark: warden vs openssl dgst -sha256 (one core, SHA-NI) and
# sha256sum, on the same warm files, in one run. Prints medians of REPS runs and ratios.
#
#   bash bench/compare/hash.sh            # needs ~5.5 GB free under BENCH_DIR (default /tmp)
#   REPS=7 BENCH_DIR=/data bash bench/compare/hash.sh
#
# Data: one 2 GiB file of pseudo-random bytes, and a model directory of three 1 GiB
# safetensors shards (64 tensors of 16 MiB each) plus a config file. Files are kept between
# runs (delete BENCH_DIR/warden-bench to regenerate).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
warden=${WARDEN:-$here/build/apps/warden/warden}
reps=${REPS:-5}
dir=${BENCH_DIR:-/tmp}/warden-bench
[ -x "$warden" ] || { echo "build warden first (make build): $warden" >&2; exit 4; }
mkdir -p "$dir"

gib=$((1 << 30))
# Pseudo-random bytes fast: AES-CTR keystream over zeros.
rand_bytes() { head -c "$1" /dev/zero | openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$2" 2>/dev/null; }

big=$dir/big-2GiB.bin
if [ ! -s "$big" ] || [ "$(stat -c %s "$big")" -ne $((2 * gib)) ]; then
  echo "creating $big" >&2
  rand_bytes $((2 * gib)) big > "$big"
fi

# A safetensors shard: 8-byte little-endian header length, JSON header, tensor data.
make_shard() {
  local out=$1 seed=$2 n=64 tsize=$((16 << 20)) json="{" i
  for ((i = 0; i < n; i++)); do
    [ $i -gt 0 ] && json+=","
    json+="\"layers.$i.weight\":{\"dtype\":\"F32\",\"shape\":[$((tsize / 4))],\"data_offsets\":[$((i * tsize)),$(((i + 1) * tsize))]}"
  done
  json+="}"
  # Pad the header with spaces to a multiple of 8 bytes, as writers do.
  while [ $(( ${#json} % 8 )) -ne 0 ]; do json+=" "; done
  local len=${#json}
  {
    printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x' \
      $((len & 255)) $(((len >> 8) & 255)) $(((len >> 16) & 255)) $(((len >> 24) & 255)) 0 0 0 0)"
    printf '%s' "$json"
    rand_bytes $((n * tsize)) "$seed"
  } > "$out"
}
model=$dir/model
if [ ! -s "$model/model-00003-of-00003.safetensors" ]; then
  echo "creating $model (3 x 1 GiB safetensors)" >&2
  mkdir -p "$model"
  for s in 1 2 3; do make_shard "$model/model-0000$s-of-00003.safetensors" "shard$s"; done
  echo '{"architectures": ["Bench"], "hidden_size": 4096}' > "$model/config.json"
fi

# Warm the page cache so that every tool reads from memory.
cat "$big" "$model"/* > /dev/null

# median_seconds CMD...: runs CMD reps times (output discarded), prints the median seconds.
median_seconds() {
  local times=() t0 t1 i
  for ((i = 0; i < reps; i++)); do
    t0=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

bytes_big=$(stat -c %s "$big")
bytes_model=$(cat "$model"/* | wc -c)
row() {  # label seconds bytes baseline_seconds
  awk -v l="$1" -v s="$2" -v b="$3" -v base="$4" 'BEGIN {
    printf "  %-52s %8.3f s %8.2f GB/s", l, s, b / s / 1e9
    if (base > 0) printf "   %5.2fx", base / s
    printf "\n" }'
}

echo "warden hash benchmark: $(nproc) cores, median of $reps runs, page cache warm"
echo "  $(openssl version), $("$warden" --version)"
echo
echo "Single file, $(numfmt --to=iec "$bytes_big") (ratio: throughput vs openssl dgst -sha256)"
t_ossl=$(median_seconds openssl dgst -sha256 "$big")
t_sum=$(median_seconds sha256sum "$big")
t_files=$(median_seconds "$warden" hash "$big")
t_shards=$(median_seconds "$warden" hash "$big" --method shards --shard-size $((64 << 20)))
t_shards1=$(median_seconds "$warden" hash "$big" --method shards --shard-size $((64 << 20)) --threads 1)
row "openssl dgst -sha256 (1 core, SHA-NI)" "$t_ossl" "$bytes_big" "$t_ossl"
row "sha256sum" "$t_sum" "$bytes_big" "$t_ossl"
row "warden hash (files: one SHA-256 stream, 1 core)" "$t_files" "$bytes_big" "$t_ossl"
row "warden hash --method shards (64 MiB, 1 thread)" "$t_shards1" "$bytes_big" "$t_ossl"
row "warden hash --method shards (64 MiB, all cores)" "$t_shards" "$bytes_big" "$t_ossl"

echo
shard=$model/model-00001-of-00003.safetensors
bytes_shard=$(stat -c %s "$shard")
echo "One safetensors file, 64 tensors, $(numfmt --to=iec "$bytes_shard") (ratio: vs whole-file warden hash)"
t_s_file=$(median_seconds "$warden" hash "$shard")
t_s_tonly=$(median_seconds "$warden" hash "$shard" --tensors-only)
t_s_both=$(median_seconds "$warden" hash "$shard" --tensors)
row "warden hash (whole file)" "$t_s_file" "$bytes_shard" "$t_s_file"
row "warden hash --tensors-only (per-tensor digests)" "$t_s_tonly" "$bytes_shard" "$t_s_file"
row "warden hash --tensors (whole file + per tensor)" "$t_s_both" "$bytes_shard" "$t_s_file"

echo
echo "Model directory, 3 safetensors shards + config, $(numfmt --to=iec "$bytes_model")"
t_ossl_m=$(median_seconds openssl dgst -sha256 "$model"/*)
t_m_files=$(median_seconds "$warden" hash "$model")
t_m_tensors=$(median_seconds "$warden" hash "$model" --tensors)
t_m_tonly=$(median_seconds "$warden" hash "$model" --tensors-only)
key=$dir/bench.key
[ -f "$key" ] || "$warden" keygen --out "$key" --force > /dev/null
"$warden" sign "$model" --key "$key" --out "$dir/model.sig" > /dev/null
t_verify=$(median_seconds "$warden" verify "$model" --signature "$dir/model.sig" --key "$key.pub")
t_verify_t=$(median_seconds "$warden" verify "$model" --signature "$dir/model.sig" --key "$key.pub" --tensors)
row "openssl dgst -sha256 on every file (1 core)" "$t_ossl_m" "$bytes_model" "$t_ossl_m"
row "warden hash (files, all cores)" "$t_m_files" "$bytes_model" "$t_ossl_m"
row "warden hash --tensors-only (192 tensor digests)" "$t_m_tonly" "$bytes_model" "$t_ossl_m"
row "warden hash --tensors (files + 192 tensor digests)" "$t_m_tensors" "$bytes_model" "$t_ossl_m"
row "warden verify (signature + re-hash)" "$t_verify" "$bytes_model" "$t_ossl_m"
row "warden verify --tensors" "$t_verify_t" "$bytes_model" "$t_ossl_m"
awk -v a="$t_m_tonly" -v b="$t_m_files" -v c="$t_m_tensors" -v d="$t_s_tonly" -v e="$t_s_file" -v f="$t_s_both" 'BEGIN {
  printf "  per-tensor vs whole-file hashing (same bytes once): %+.1f%% (model), %+.1f%% (one file)\n", (a / b - 1) * 100, (d / e - 1) * 100
  printf "  both digests at once vs whole-file only:           %+.1f%% (model), %+.1f%% (one file)\n", (c / b - 1) * 100, (f / e - 1) * 100 }'

echo
echo "Peak RSS (/usr/bin/time -v, mapped file pages included)"
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {printf "%.1f MiB", $6 / 1024}'; }
echo "  warden hash 2 GiB file, shards:        $(rss "$warden" hash "$big" --method shards --shard-size $((64 << 20)))"
echo "  warden hash model --tensors:           $(rss "$warden" hash "$model" --tensors)"
echo "  warden verify model --tensors:         $(rss "$warden" verify "$model" --signature "$dir/model.sig" --key "$key.pub" --tensors)"
