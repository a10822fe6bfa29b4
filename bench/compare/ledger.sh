#!/usr/bin/env bash
# Side-by-side ledger benchmark, in one run:
#   - durable appends in batches of 1000: warden's LogStore (entry + Merkle nodes, leaf
#     hashing, WAL + synchronous=FULL) vs the floor: the sqlite3 shell inserting the same rows
#     into a plain table with the same durability settings and no tree;
#   - single durable appends (one fsync each);
#   - proof generation and verification in a 1M-entry ledger, against the targets of the
#     ledger issue (append >= 20,000/s batched, proof < 100 us, verify < 20 us).
#
#   bash bench/compare/ledger.sh
#   REPS=5 BENCH_DIR=/data BUILD=build-release bash bench/compare/ledger.sh
#
# The 1M-entry ledger is built once (about a minute) and kept at
# BENCH_DIR/warden-ledger-bench-1M.db; delete it to rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$here/build}
bench=${LEDGER_BENCH:-$build/bench/ledger_bench}
reps=${REPS:-3}
dir=${BENCH_DIR:-/tmp}
[ -x "$bench" ] || { echo "build the benchmarks first (cmake --build $build --target ledger_bench): $bench" >&2; exit 4; }
command -v sqlite3 > /dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 4; }
mkdir -p "$dir"

# ---- warden: Google Benchmark, medians of REPS repetitions, CSV ----
csv=$(WARDEN_LEDGER_BENCH_DIR=$dir "$bench" --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true --benchmark_format=csv 2> /dev/null)
# field NAME COLUMN: the median row of benchmark NAME; columns: 3 real_time, 5 unit,
# 7 items_per_second.
field() {
  printf '%s\n' "$csv" | awk -F, -v n="\"$1_median\"" -v c="$2" '$1 == n { gsub(/"/, "", $c); print $c; exit }'
}
to_us() {  # value unit -> microseconds
  awk -v v="$1" -v u="$2" 'BEGIN { f = (u == "ns") ? 0.001 : (u == "us") ? 1 : (u == "ms") ? 1000 : 1e6; printf "%.2f", v * f }'
}
find_name() {  # benchmark names carry suffixes such as /min_time:2.000/real_time
  printf '%s\n' "$csv" | awk -F, -v p="\"$1" 'index($1, p) == 1 && $1 ~ /_median"$/ { n = $1; gsub(/"/, "", n); sub(/_median$/, "", n); print n; exit }'
}

append_name=$(find_name BM_AppendBatch1000)
single_name=$(find_name BM_AppendSingle)
w_batch=$(field "$append_name" 7)
w_single=$(field "$single_name" 7)

# ---- baseline: sqlite3 shell, same rows, same durability, no tree ----
base_db=$dir/warden-ledger-bench-sqlite-$$.db
rm -f "$base_db" "$base_db-wal" "$base_db-shm"
batches=40
{
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
  echo "CREATE TABLE entries(idx INTEGER PRIMARY KEY, type TEXT NOT NULL, body BLOB NOT NULL, appended_at INTEGER NOT NULL);"
} | sqlite3 "$base_db" > /dev/null
sql=$(for ((b = 0; b < batches; b++)); do
  echo "BEGIN IMMEDIATE;"
  echo "WITH RECURSIVE c(i) AS (SELECT $((b * 1000)) UNION ALL SELECT i + 1 FROM c WHERE i < $((b * 1000 + 999)))"
  echo "INSERT INTO entries SELECT i, 'audit-record', CAST(printf('{\"decision\":\"allow\",\"model\":\"llama-3-8b\",\"request\":%d,\"scanners\":[\"pii\",\"prompt-injection\",\"toxicity\"],\"tier\":\"standard\",\"ts\":\"2026-11-29T12:00:00Z\"}', i) AS BLOB), 1764417600 FROM c;"
  echo "COMMIT;"
done)
times=()
for ((r = 0; r < reps; r++)); do
  sqlite3 "$base_db" "DELETE FROM entries;" > /dev/null
  t0=$(date +%s.%N)
  printf 'PRAGMA synchronous=FULL;\n%s\n' "$sql" | sqlite3 "$base_db" > /dev/null
  t1=$(date +%s.%N)
  times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
done
rm -f "$base_db" "$base_db-wal" "$base_db-shm"
base_s=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
b_batch=$(awk -v s="$base_s" -v n=$((batches * 1000)) 'BEGIN { printf "%.0f", n / s }')

echo "warden ledger benchmark: $(nproc) cores, medians of $reps, files under $dir"
echo
printf '  %-44s %14s %14s %8s\n' "durable appends (WAL, synchronous=FULL)" "warden" "sqlite3 shell" "ratio"
awk -v w="$w_batch" -v b="$b_batch" 'BEGIN {
  printf "  %-44s %12.0f/s %12.0f/s %7.2fx\n", "batches of 1000 (target >= 20000/s)", w, b, w / b }'
awk -v w="$w_single" 'BEGIN { printf "  %-44s %12.0f/s %14s\n", "single appends (one fsync each)", w, "-" }'
echo
printf '  %-44s %14s %14s %8s\n' "1M-entry ledger" "warden" "target" "met"
row() {  # label benchmark target_us
  local name unit v us
  name=$(find_name "$2")
  v=$(field "$name" 3)
  unit=$(field "$name" 5)
  us=$(to_us "$v" "$unit")
  awk -v l="$1" -v us="$us" -v t="$3" 'BEGIN {
    printf "  %-44s %11.2f us %11s us %8s\n", l, us, (t > 0 ? t : "-"), (t > 0 ? (us < t ? "yes" : "NO") : "") }'
}
row "inclusion proof (stored nodes)" BM_InclusionProof_1M 100
row "inclusion proof verification" BM_VerifyInclusion_1M 20
row "consistency proof (stored nodes)" BM_ConsistencyProof_1M 100
row "consistency proof verification" BM_VerifyConsistency_1M 20
row "root at an old size" BM_RootAt_1M 0
row "open (load frontier)" BM_OpenLedger_1M 0

# ---- dataset commit vs openssl dgst -sha256 over the same file ----
warden_bin=${WARDEN:-$build/apps/warden/warden}
if [ -x "$warden_bin" ]; then
  lines=$dir/warden-dataset-bench.txt
  if [ ! -s "$lines" ]; then
    # ~200 MB of 200-byte records: hex of a keystream, cut into lines.
    head -c 100000000 /dev/zero | openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:ds 2>/dev/null \
      | od -An -v -tx1 | tr -d ' \n' | fold -w 199 > "$lines"
  fi
  cat "$lines" > /dev/null
  records=$(wc -l < "$lines")
  bytes=$(stat -c %s "$lines")
  med() {
    local ts=() t0 t1 i
    for ((i = 0; i < reps; i++)); do
      t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N)
      ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
    done
    printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
  }
  t_ossl=$(med openssl dgst -sha256 "$lines")
  t_commit=$(med "$warden_bin" dataset commit "$lines")
  echo
  printf '  %-44s %14s %14s %8s\n' "dataset commit, $records records of 200 B" "warden" "openssl dgst" "ratio"
  awk -v w="$t_commit" -v o="$t_ossl" -v b="$bytes" -v r="$records" 'BEGIN {
    printf "  %-44s %9.0f MB/s %9.0f MB/s %7.2fx\n", "throughput (target: within 2x of openssl)", b / w / 1e6, b / o / 1e6, o / w
    printf "  %-44s %12.0f/s\n", "records", r / w }'
fi
