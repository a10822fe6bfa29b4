#!/usr/bin/env bash
# Guard benchmark, in one run, on one core (taskset, when there is one):
#  1. Guard::CheckInput with one user message, tier "default", on benign prompts of 1 KB, 4 KB
#     and 64 KB (e-mails from data/sets/human-text.jsonl; bench/data/guard/README.md says how
#     the texts are built): the default policy's whole input chain as written, and with every
#     `block` turned into `flag` (so that all scanners run whatever they find: the cost of a
#     request that passes), the guard with no scanners (its own work: limits, UTF-8 check,
#     copies), and each scanner of that chain alone (a one-scanner policy per scanner). Median
#     and p99 of many calls after a warm-up, MB/s from the median (MB = 10^6 bytes), and the
#     median CPU time (on a shared machine the wall time includes waits for the core).
#  2. A `patterns` scanner compiled from bench/data/guard/patterns.txt (40 regexes an operator
#     might block) against the baseline `grep -E -c -f patterns.txt` on the same bytes: grep's
#     time is the wall time of one whole run (process start included), so it is also run on
#     16 MB of the same text, where scanning dominates; the scanner scans those 16 MB in one
#     call too (policy limits raised).
#
#   bash bench/compare/guard.sh
#   BUILD=build-lead CPU=0 ITERS=2000,2000,200 GREP_RUNS=200 bash bench/compare/guard.sh
#   POLICY=my-policy.yaml bash bench/compare/guard.sh    (its input chain instead of the default)
#
# Targets (guard issue): the full deterministic input chain's p99 at most 1 ms on a 4 KB
# prompt (checked on the block -> flag chain, which runs every scanner); each classifier
# (injection, jailbreak, harmful) at most 100 us per 4 KB (median of the scanner alone on the
# 4 KB prompt).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$here/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
tool=$build/bench/guard_tool
cpu=${CPU:-$(($(nproc) - 1))}
iters=${ITERS:-2000,2000,200}
grep_runs=${GREP_RUNS:-200}
big=16777216
patterns=$here/bench/data/guard/patterns.txt
policy=${POLICY:-$here/data/policies/default.yaml}
[ -x "$tool" ] || {
  echo "build first (cmake --build $build --target guard_tool): $tool" >&2
  exit 4
}
[ "${BASH_VERSINFO[0]}" -ge 5 ] || { echo "needs bash >= 5 (EPOCHREALTIME)" >&2; exit 4; }

# Everything below (guard_tool, grep, this shell) on one core.
pinned="not pinned (no taskset)"
if command -v taskset >/dev/null; then
  if [ -z "${GUARD_BENCH_PINNED:-}" ]; then
    export GUARD_BENCH_PINNED=$cpu
    exec taskset -c "$cpu" bash "$0" "$@"
  fi
  pinned="pinned to cpu $GUARD_BENCH_PINNED"
fi
# grep in a UTF-8 locale: the same matching rules as the scanner (Hyperscan in UTF-8 mode).
loc=C
for l in C.UTF-8 C.utf8 en_US.UTF-8 en_US.utf8; do
  if locale -a 2>/dev/null | grep -qx "$l"; then loc=$l; break; fi
done
export LC_ALL=$loc

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus=$here/data/sets/human-text.jsonl
sizes=(1024 4096 65536 "$big")
for n in "${sizes[@]}"; do
  "$tool" text --corpus "$corpus" --bytes "$n" --out "$work/text-$n.txt"
done
rc=0
grep -E -c -f "$patterns" /dev/null >/dev/null || rc=$?
[ "$rc" -le 1 ] || { echo "grep -E refuses a line of $patterns" >&2; exit 4; }

label() {
  awk -v n="$1" 'BEGIN { if (n >= 1048576) printf "%d MB", n / 1048576
                         else printf "%d KB", n / 1024 }'
}
# median and nearest-rank p99 of one number a line
stats() {
  sort -g | awk '{ a[NR] = $1 }
    END { r = int((99 * NR + 99) / 100); print a[int(NR / 2) + 1], a[r] }'
}
# `grep -E -c -f patterns.txt FILE` RUNS times after 3 unrecorded runs: the wall time of each
# run in us to OUT (EPOCHREALTIME: no extra process), and the mean user + system CPU time per
# run (bash's `time` over the loop counts the children) as "cpu_us=..." to OUT.cpu. The count
# goes to a file: GNU grep stops at the first match when its output is /dev/null.
grep_times() {
  local f=$1 runs=$2 out=$3 i t0 t1 rc u s
  for ((i = 0; i < 3; i++)); do grep -E -c -f "$patterns" "$f" >"$work/grep.out" || true; done
  : >"$out"
  {
    time for ((i = 0; i < runs; i++)); do
      rc=0
      t0=$EPOCHREALTIME
      grep -E -c -f "$patterns" "$f" >"$work/grep.out" || rc=$?
      t1=$EPOCHREALTIME
      [ "$rc" -le 1 ] || { echo "grep failed ($rc) on $f" >&2; exit 4; }
      echo "$((${t1//[.,]/} - ${t0//[.,]/}))" >>"$out"
    done
  } 2>"$work/cpu"
  read -r u s <"$work/cpu"
  awk -v u="$u" -v s="$s" -v n="$runs" 'BEGIN { printf "cpu_us=%.1f\n", (u + s) * 1e6 / n }' \
    >"$out.cpu"
}
TIMEFORMAT='%3U %3S'

echo "warden guard benchmark: $(nproc --all) cores, $pinned, one thread"
echo "  machine: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
chain=$(awk '/^input:/ { on = 1 } /^output:/ { on = 0 }
  on && /- type:/ { printf "%s%s", sep, $3; sep = ", " }' "$policy")
echo "  policy: ${policy#"$here"/}; input chain: $chain"
echo "  guard: $iters calls (1 KB, 4 KB, 64 KB) after a 10% warm-up, 10 on 16 MB;" \
  "grep: $grep_runs runs per size, 7 on 16 MB; locale $loc"
echo "  times are wall-clock; 'cpu us': the median CPU time of the call (grep: the mean CPU time"
echo "  of the process); on a busy machine the wall time includes waits for the core"
echo

"$tool" run --policy "$policy" --data-dir "$here/data" --corpus "$corpus" \
  --patterns "$patterns" --sizes 1024,4096,65536 --iters "$iters" --big "$big" --big-iters 10 \
  >"$work/guard.txt"

for n in "${sizes[@]}"; do
  runs=$grep_runs
  [ "$n" -lt "$big" ] || runs=7
  grep_times "$work/text-$n.txt" "$runs" "$work/grep-$n.txt"
  read -r med p99 < <(stats <"$work/grep-$n.txt")
  bytes=$(stat -c %s "$work/text-$n.txt")
  lines=$(grep -E -c -f "$patterns" "$work/text-$n.txt" || true)
  mbs=$(awk -v b="$bytes" -v m="$med" 'BEGIN { printf "%.2f", b / m }')
  cpu=$(cat "$work/grep-$n.txt.cpu")
  echo "$n grep $med $p99 $mbs bytes=$bytes $cpu iters=$runs lines=$lines" >>"$work/grep.txt"
done

printf '  %-6s %-36s %10s %10s %9s %10s   %s\n' \
  size what "median us" "p99 us" "MB/s" "cpu us" notes
for n in "${sizes[@]}"; do
  cat "$work/guard.txt" "$work/grep.txt" | awk -v n="$n" -v lab="$(label "$n")" '
    $1 == n {
      what = $2
      for (i = 6; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      cpu = sprintf("%10.1f", f["cpu_us"])
      if (what == "grep") {
        what = "grep -E -c -f patterns.txt (process)"
        note = f["lines"] " matching lines; cpu: mean of the runs"
      } else {
        if (what == "full_chain") what = "full input chain (as written)"
        else if (what == "full_chain_to_end") what = "full input chain, block -> flag"
        else if (what == "deterministic_chain") what = "  ... without llm_judge"
        else if (what == "no_scanners") what = "no scanners (the guard alone)"
        else if (what ~ /^patterns_/) {
          split(what, p, "_")
          what = "patterns, " p[2] " regexes"
        } else what = "  " what " alone"
        note = (f["allowed"] ? "allowed" : "BLOCKED by " f["blocked_by"]) ", " \
          f["verdicts"] " verdicts"
      }
      printf "  %-6s %-36s %10.1f %10.1f %9.1f %s   %s\n", lab, what, $3, $4, $5, cpu, note
      delete f
    }'
done
grep '^note ' "$work/guard.txt" | sed 's/^note /  note: /' || true
cat "$work/guard.txt" "$work/grep.txt" | awk -v big="$big" '
  { delete f; for (i = 6; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
  $2 == "grep" && $1 == 1024 { small = $3; small_cpu = f["cpu_us"] }
  $2 == "grep" && $1 == big { t = $3; b = f["bytes"]; cpu = f["cpu_us"] }
  $2 ~ /^patterns_/ && $1 == big { scan_t = $3; scan_cpu = f["cpu_us"] }
  END {
    printf "  16 MB in MB/s by CPU time: patterns scanner %.1f; grep %.1f for the whole run,", \
      b / scan_cpu, b / cpu
    printf " %.1f\n  without the CPU time of a 1 KB run (%.0f us: process start, compiling the", \
      b / (cpu - small_cpu), small_cpu
    printf " patterns)\n  16 MB in MB/s by wall time: patterns scanner %.1f; grep %.1f, %.1f", \
      b / scan_t, b / t, b / (t - small)
    printf " without a 1 KB run (%.0f us)\n", small
  }'

echo
echo "targets:"
# The target is about a prompt that passes, so it is checked on the chain that runs every
# scanner (block -> flag), without llm_judge entries if the policy has any.
det=full_chain
grep -q '^4096 full_chain_to_end ' "$work/guard.txt" && det=full_chain_to_end
grep -q '^4096 deterministic_chain ' "$work/guard.txt" && det=deterministic_chain
awk -v det="$det" '$1 == 4096 && $2 == det {
  for (i = 6; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  ok = $4 <= 1000 && f["allowed"]
  name = det == "full_chain" ? "" : det == "full_chain_to_end" ? ", block -> flag" : \
    ", block -> flag, no llm_judge"
  printf "  full deterministic input chain%s, 4 KB: p99 %.1f us <= 1000 us: %s\n", name, $4,
    ok ? "met" : "NOT met"
  if (!f["allowed"]) printf "    (the chain blocked: not a full run)\n"
  else if (!ok && f["cpu_p99_us"] <= 1000)
    printf "    (its CPU-time p99, %.1f us, meets it: the wall time includes waits for a busy core)\n",
      f["cpu_p99_us"]
}' "$work/guard.txt"
for c in injection jailbreak harmful; do
  awk -v c="$c" '$2 == c && $1 == 65536 { big = $3 * 4096 / 65536 }
    $2 == c && $1 == 4096 { found = 1; m = $3 }
    END {
      if (!found) { printf "  %-9s classifier: not in the input chain, NOT measured\n", c; exit }
      printf "  %-9s classifier, 4 KB: median %.1f us <= 100 us: %s   (at 64 KB: %.1f us per 4 KB)\n", \
        c, m, m <= 100 ? "met" : "NOT met", big
    }' "$work/guard.txt"
done
