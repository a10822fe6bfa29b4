#!/usr/bin/env bash
# Runs every fuzzer in BUILD_DIR for SECONDS each, on a scratch copy of its seed corpus
# (fuzz/corpus/<name>/), so the repo's seeds stay small and reviewed. Fails on any crash.
# FUZZ_SEED (default 1) fixes libFuzzer's random seed so that a CI run replays the trajectory
# the developer ran before submitting; FUZZ_SEED=0 lets libFuzzer pick one (exploration).
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
seed=${FUZZ_SEED:-1}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  if [ -d "$here/corpus/$name" ]; then cp -r "$here/corpus/$name/." "$work/"; fi
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -seed="$seed" -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$build/$name-" "$work" 2>"$build/$name.log"; then
    echo "fuzz: $name FAILED; see $build/$name.log and $build/$name-*" >&2
    tail -40 "$build/$name.log" >&2
    status=1
  else
    grep -E '^(Done|#[0-9]+ +DONE)' "$build/$name.log" | tail -1 || true
  fi
  rm -rf "$work"
done
exit $status
