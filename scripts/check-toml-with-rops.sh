#!/usr/bin/env bash
# Check which TOML corpus files rops (gibbz00/rops, the library mise embeds) can read
# once sealant encrypted them: `rops decrypt` must exit 0 (it checks the MAC) and print
# the same values as the clear file (compared with Python's tomllib).
#
# Usage: ROPS_BIN=/path/to/rops scripts/check-toml-with-rops.sh [FILE...]
# (default: testdata/corpus/toml/*.toml). rops is not a reference tool of the test
# suite (building it takes minutes); install it with `cargo install rops-cli`.
# Expected with rops-cli 0.1.7: 14 of the 20 corpus files pass; the others hold an
# offset date-time (`type:time`), an empty string or `inf`, which rops 0.1.7 cannot
# read in any sops file (docs/FORMAT.md, "TOML").
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keys=$repo_root/testdata/vectors/keys
ROPS_BIN=${ROPS_BIN:-$(command -v rops)}
SEALANT_BIN=${SEALANT_BIN:-$repo_root/target/release/sealant}
recipient=$(cat "$keys/age1.pub")
secret=$(grep '^AGE-SECRET-KEY-' "$keys/age1.txt")

if [ "$#" -eq 0 ]; then
    set -- "$repo_root"/testdata/corpus/toml/*.toml
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
for f in "$@"; do
    name=$(basename "$f")
    "$SEALANT_BIN" encrypt --age "$recipient" "$f" >"$work/enc.toml"
    # rops reads stdin only when stdin is not a terminal and no file is given.
    if ! env -i PATH=/usr/bin:/bin HOME="$work" ROPS_AGE="$secret" \
            "$ROPS_BIN" decrypt -f toml <"$work/enc.toml" >"$work/out.toml" 2>"$work/err"; then
        echo "FAIL  $name: $(head -n 1 "$work/err" | head -c 200)"
        fail=$((fail + 1))
        continue
    fi
    if python3 - "$f" "$work/out.toml" <<'PY'
import sys, tomllib
a = tomllib.loads(open(sys.argv[1], encoding="utf-8-sig").read())
b = tomllib.loads(open(sys.argv[2], encoding="utf-8").read())
sys.exit(0 if a == b else 1)
PY
    then
        echo "ok    $name"
        pass=$((pass + 1))
    else
        echo "FAIL  $name: rops decrypted other values"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
