#!/usr/bin/env bash
# Check that every file in testdata/corpus/ is valid input for the real sops:
# `sops --config /dev/null encrypt --age <R1> FILE` must exit 0, and decrypting the
# result with keys/age1.txt must exit 0. (sops's output is reformatted, so this
# does not compare bytes; the byte-for-byte round trip is sealant's job.)
#
# Usage: scripts/check-corpus-with-sops.sh [FILE...]   (default: all corpus files)
# SOPS_BIN overrides the sops binary (default: from target/reference-tools.env,
# else `sops` on PATH).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=$repo_root/testdata/vectors/keys
if [ -z "${SOPS_BIN:-}" ] && [ -f "$repo_root/target/reference-tools.env" ]; then
    # shellcheck source=/dev/null
    . "$repo_root/target/reference-tools.env"
fi
SOPS_BIN=${SOPS_BIN:-$(command -v sops)}
recipient=$(cat "$keys/age1.pub")

if [ "$#" -eq 0 ]; then
    set -- "$repo_root"/testdata/corpus/*.yaml "$repo_root"/testdata/corpus/*.json
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
for f in "$@"; do
    name=$(basename "$f")
    cp "$f" "$work/$name"
    # Run from an empty temp dir with a clean environment so no .sops.yaml or SOPS_* leaks in.
    if ! (cd "$work" && env -i PATH=/usr/bin:/bin HOME="$work" SOPS_DISABLE_VERSION_CHECK=1 \
            "$SOPS_BIN" --config /dev/null encrypt --age "$recipient" "$name" \
            >"$work/enc.$name" 2>"$work/err"); then
        echo "FAIL  encrypt $name: $(head -c 300 "$work/err")"
        fail=$((fail + 1))
        continue
    fi
    if ! env -i PATH=/usr/bin:/bin HOME="$work" SOPS_DISABLE_VERSION_CHECK=1 \
            SOPS_AGE_KEY_FILE="$keys/age1.txt" "$SOPS_BIN" decrypt "$work/enc.$name" \
            >/dev/null 2>"$work/err"; then
        echo "FAIL  decrypt $name: $(head -c 300 "$work/err")"
        fail=$((fail + 1))
        continue
    fi
    echo "ok    $name"
    pass=$((pass + 1))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
