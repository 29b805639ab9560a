#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs the reference tools (the real
# sops and age, which the interop tests run), then builds and runs every test.
#
#   scripts/test.sh            # everything
#   scripts/test.sh corpus     # extra arguments go to `cargo test` as a filter
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-reference-tools.sh >/dev/null
# shellcheck disable=SC1091
. target/reference-tools.env
export SOPS_BIN AGE_BIN AGE_KEYGEN_BIN

cargo test --locked --all-targets "$@"
