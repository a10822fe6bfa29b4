#!/usr/bin/env bash
# Runs every fuzzer in BUILD_DIR for SECONDS each, on a scratch copy of its seed corpus
# (fuzz/corpus/<name>/), so the repo's seeds stay small and reviewed. Fails on any crash.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  if [ -d "$here/corpus/$name" ]; then cp -r "$here/corpus/$name/." "$work/"; fi
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
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
