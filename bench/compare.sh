#!/usr/bin/env bash
# Compare two sops-compatible binaries (e.g. sops and sealant) through the sops 3.x CLI.
#
#   bench/compare.sh BIN_A [BIN_B]
#
# For each workload x format x op it times `BIN encrypt FILE` (recipient in
# SOPS_AGE_RECIPIENTS) and `BIN decrypt FILE` (identity in SOPS_AGE_KEY_FILE) with
# `hyperfine -N` (output to /dev/null), alternating A and B in rounds and swapping the
# order every round, and measures peak RSS with GNU `/usr/bin/time -f %M`.
# Both binaries decrypt the file that A encrypted (the compatibility case).
# Prints a markdown table and writes it, plus raw hyperfine JSON, to $BENCH_OUT.
#
# Environment knobs:
#   WORKLOADS   tiny small medium large blob   (QUICK=1 default: tiny small medium)
#   FORMATS     yaml json env                  (blob is always its one "bin" file)
#   OPS         encrypt decrypt
#   ROUNDS      rounds per case (default per workload: tiny/small/medium 5, blob 3, large 2;
#               QUICK=1: 2)
#   RUNS        timed runs per binary per round (default: tiny/small 6, medium 2, blob 2,
#               large 1; QUICK=1: tiny/small 3, others 1)
#   QUICK=1     smoke run: fewer rounds and runs
#   BENCH_DATA  input files from bench/gen.py (default bench/out/data; generated if missing)
#   BENCH_SEED  seed for generating BENCH_DATA (default 1)
#   BENCH_OUT   results directory (default bench/out/run-<timestamp>)
#   BENCH_KEY_FILE  age identity file (default testdata/vectors/keys/age1.txt, TEST-ONLY)
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then usage; fi
case $1 in -h | --help) usage ;; esac

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

resolve_bin() {
    local p
    p=$(command -v -- "$1" 2>/dev/null) || { echo "compare.sh: not found: $1" >&2; exit 2; }
    p=$(realpath -- "$p")
    [ -x "$p" ] || { echo "compare.sh: not executable: $p" >&2; exit 2; }
    case $p in *[[:space:]]*) echo "compare.sh: path must not contain spaces: $p" >&2; exit 2 ;; esac
    if [ "$(head -c 2 "$p")" = "#!" ]; then
        echo "compare.sh: WARNING: $p is a script wrapper; its times include the interpreter's start-up" >&2
    fi
    printf '%s\n' "$p"
}

BIN_A=$(resolve_bin "$1")
BIN_B=""
if [ "$#" -eq 2 ]; then BIN_B=$(resolve_bin "$2"); fi

for tool in hyperfine python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "compare.sh: needs $tool" >&2; exit 2; }
done
TIME_BIN=/usr/bin/time
[ -x "$TIME_BIN" ] || { echo "compare.sh: needs GNU time at $TIME_BIN (apt-get install time)" >&2; exit 2; }

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    WORKLOADS=${WORKLOADS:-tiny small medium}
else
    WORKLOADS=${WORKLOADS:-tiny small medium large blob}
fi
FORMATS=${FORMATS:-yaml json env}
FORMATS=${FORMATS//dotenv/env}
OPS=${OPS:-encrypt decrypt}
BENCH_DATA=${BENCH_DATA:-$repo_root/bench/out/data}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_OUT=${BENCH_OUT:-$repo_root/bench/out/run-$(date -u +%Y%m%dT%H%M%SZ)}
BENCH_KEY_FILE=${BENCH_KEY_FILE:-$repo_root/testdata/vectors/keys/age1.txt}
BENCH_KEY_FILE=$(realpath -- "$BENCH_KEY_FILE")
recipient=$(sed -n 's/^# public key: //p' "$BENCH_KEY_FILE" | head -n 1)
[ -n "$recipient" ] || { echo "compare.sh: no '# public key:' line in $BENCH_KEY_FILE" >&2; exit 2; }

# --- inputs ---------------------------------------------------------------------
file_for() { # workload format -> file name
    if [ "$1" = blob ]; then echo blob.bin; else echo "$1.$2"; fi
}
need_gen=0
for w in $WORKLOADS; do
    case $w in tiny | small | medium | large | blob) ;; *) echo "compare.sh: unknown workload $w" >&2; exit 2 ;; esac
    if [ "$w" = blob ]; then fmts=bin; else fmts=$FORMATS; fi
    for f in $fmts; do
        case $f in yaml | json | env | bin) ;; *) echo "compare.sh: unknown format $f" >&2; exit 2 ;; esac
        [ -f "$BENCH_DATA/$(file_for "$w" "$f")" ] || need_gen=1
    done
done
if [ "$need_gen" = 1 ]; then
    echo "compare.sh: generating inputs in $BENCH_DATA (seed $BENCH_SEED)" >&2
    python3 "$script_dir/gen.py" --seed "$BENCH_SEED" --out "$BENCH_DATA"
fi
BENCH_DATA=$(realpath -- "$BENCH_DATA")

mkdir -p "$BENCH_OUT/raw"
BENCH_OUT=$(realpath -- "$BENCH_OUT")
work=$(mktemp -d /tmp/sealant-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
if [ -e /tmp/.sops.yaml ] || [ -e /.sops.yaml ]; then
    echo "compare.sh: WARNING: a .sops.yaml above $work may influence sops" >&2
fi

# Every command runs from $work with a clean environment: no inherited SOPS_* variables,
# a throw-away HOME (no ~/.config/sops/age/keys.txt), the recipient and the identity in
# the environment, and no command-line options that one of the binaries might not accept.
clean_env=(env -i "PATH=/usr/local/bin:/usr/bin:/bin" "HOME=$work/home" "XDG_CONFIG_HOME=$work/home/.config"
    "TMPDIR=$work" "SOPS_DISABLE_VERSION_CHECK=1"
    "SOPS_AGE_RECIPIENTS=$recipient" "SOPS_AGE_KEY_FILE=$BENCH_KEY_FILE")

# run_once OUTFILE RSSFILE BIN OP FILE: one untimed run; stdout to OUTFILE, peak RSS (KiB)
# to RSSFILE. Returns the binary's exit code.
run_once() {
    local out=$1 rss=$2 bin=$3 op=$4 file=$5
    (cd "$work" && "${clean_env[@]}" "$TIME_BIN" -f %M -o "$rss" "$bin" "$op" "$file" >"$out" 2>"$work/stderr")
}

# hf_round TAG BIN OP FILE RUNS WARMUP ROUND: one hyperfine batch, raw JSON kept.
hf_round() {
    local tag=$1 bin=$2 op=$3 file=$4 runs=$5 warmup=$6 round=$7
    (cd "$work" && "${clean_env[@]}" "$(command -v hyperfine)" -N --style=none --output=null \
        --runs "$runs" --warmup "$warmup" \
        --export-json "$BENCH_OUT/raw/$tag.r$round.json" "$bin $op $file" >/dev/null 2>>"$BENCH_OUT/hyperfine.log")
}

median_ms() { # files... -> median of all "times", in ms
    python3 - "$@" <<'PY'
import json, statistics, sys
t = []
for p in sys.argv[1:]:
    with open(p) as fh:
        t += json.load(fh)["results"][0]["times"]
print(f"{statistics.median(t) * 1000:.6f} {len(t)}" if t else "- 0")
PY
}

median_mib() { # KiB values... -> median in MiB
    python3 -c 'import statistics,sys; v=[int(x) for x in sys.argv[1:] if x.strip().isdigit()]; print(f"{statistics.median(v)/1024:.1f}" if v else "-")' "$@"
}

fmt_ms() {
    python3 -c 'import sys
x=sys.argv[1]
if x=="-": print("-"); sys.exit()
v=float(x); print(f"{v:.1f}" if v<100 else f"{v:,.0f}")' "$1"
}

ratio() {
    python3 -c 'import sys
a,b=sys.argv[1:3]
print("-" if "-" in (a,b) or float(b)==0 else f"{float(a)/float(b):.2f}")' "$1" "$2"
}

sysinfo() {
    local v
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
    v=$("${clean_env[@]}" "$BIN_A" --version 2>/dev/null | head -n 1 || true)
    echo "- A: \`$BIN_A\` (${v:-version unknown})"
    if [ -n "$BIN_B" ]; then
        v=$("${clean_env[@]}" "$BIN_B" --version 2>/dev/null | head -n 1 || true)
        echo "- B: \`$BIN_B\` (${v:-version unknown})"
    fi
    echo "- inputs: \`$BENCH_DATA\`; QUICK=$QUICK; hyperfine -N, output to /dev/null; A and B alternate, order swapped each round"
    echo "- decrypt: both read the file A encrypted. checks: out=same = B's decrypt output is byte-identical to A's; A-reads-B = A decrypts B's encryption to the same output"
}

table="$BENCH_OUT/results.md"
{
    echo "# compare.sh results"
    echo
    sysinfo
    echo
    echo "| workload | format | op | n | A median ms | B median ms | A/B | A peak RSS MiB | B peak RSS MiB | checks |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|"
} >"$table"
cat "$table"

row() { echo "$*" | tee -a "$table"; }

for w in $WORKLOADS; do
    case $w in
        tiny | small) rounds=5 runs=6 warmup=2 rss_n=3 ;;
        medium) rounds=5 runs=2 warmup=1 rss_n=3 ;;
        blob) rounds=3 runs=2 warmup=1 rss_n=3 ;;
        large) rounds=2 runs=1 warmup=0 rss_n=1 ;;
    esac
    if [ "$QUICK" = 1 ]; then
        rounds=2 rss_n=1
        case $w in tiny | small) runs=3 warmup=1 ;; *) runs=1 warmup=0 ;; esac
    fi
    rounds=${ROUNDS:-$rounds}
    runs=${RUNS:-$runs}
    if [ "$w" = blob ]; then fmts=bin; else fmts=$FORMATS; fi

    for f in $fmts; do
        name=$(file_for "$w" "$f")
        c="$work/$w-$f"
        mkdir -p "$c/in" "$c/a" "$c/b" "$c/out"
        cp "$BENCH_DATA/$name" "$c/in/$name"
        echo "compare.sh: $w $f: preparing" >&2

        # Untimed preparation, which also gives the correctness checks and one RSS sample each.
        declare -A ok=() rss=()
        for op in encrypt decrypt; do for x in A B; do ok[$x$op]=0; rss[$x$op]=""; done; done
        if run_once "$c/a/$name" "$c/rss" "$BIN_A" encrypt "$c/in/$name"; then
            ok[Aencrypt]=1; rss[Aencrypt]=$(tail -n 1 "$c/rss")
        else
            rc=$?
            row "| $w | $f | - | - | - | - | - | - | - | A encrypt failed (exit $rc): $(head -c 120 "$work/stderr" | tr '\n|' '  ') |"
            continue
        fi
        enc_check="" dec_check=""
        if run_once "$c/out/a" "$c/rss" "$BIN_A" decrypt "$c/a/$name"; then
            ok[Adecrypt]=1; rss[Adecrypt]=$(tail -n 1 "$c/rss")
        else
            rc=$?
            enc_check="A cannot decrypt its own file (exit $rc)" dec_check=$enc_check
        fi
        if [ -n "$BIN_B" ] && [ "${ok[Adecrypt]}" = 1 ]; then
            if run_once "$c/b/$name" "$c/rss" "$BIN_B" encrypt "$c/in/$name"; then
                ok[Bencrypt]=1; rss[Bencrypt]=$(tail -n 1 "$c/rss")
                if run_once "$c/out/ab" "$c/rss" "$BIN_A" decrypt "$c/b/$name" && cmp -s "$c/out/ab" "$c/out/a"; then
                    enc_check="A-reads-B"
                else
                    enc_check="A-reads-B: FAIL"
                fi
            else
                rc=$?
                enc_check="B encrypt failed (exit $rc): $(head -c 100 "$work/stderr" | tr '\n|' '  ')"
            fi
            if run_once "$c/out/b" "$c/rss" "$BIN_B" decrypt "$c/a/$name"; then
                ok[Bdecrypt]=1; rss[Bdecrypt]=$(tail -n 1 "$c/rss")
                if cmp -s "$c/out/b" "$c/out/a"; then dec_check="out=same"; else dec_check="out=DIFF"; fi
            else
                rc=$?
                dec_check="B decrypt failed (exit $rc): $(head -c 100 "$work/stderr" | tr '\n|' '  ')"
            fi
        fi

        for op in $OPS; do
            case $op in
                encrypt) file_A="$c/in/$name" file_B="$c/in/$name" check=$enc_check ;;
                decrypt) file_A="$c/a/$name" file_B="$c/a/$name" check=$dec_check ;;
                *) echo "compare.sh: unknown op $op" >&2; exit 2 ;;
            esac
            bins=(A)
            if [ -n "$BIN_B" ]; then bins=(A B); fi
            declare -A rss_samples=()
            for x in "${bins[@]}"; do rss_samples[$x]=${rss[$x$op]}; done
            for ((r = 1; r <= rounds; r++)); do
                order=("${bins[@]}")
                if ((r % 2 == 0)) && [ "${#bins[@]}" -eq 2 ]; then order=(B A); fi
                for x in "${order[@]}"; do
                    [ "${ok[$x$op]}" = 1 ] || continue
                    if [ "$x" = A ]; then bin=$BIN_A file=$file_A; else bin=$BIN_B file=$file_B; fi
                    echo "compare.sh: $w $f $op: round $r/$rounds $x" >&2
                    if ! hf_round "$w-$f-$op-$x" "$bin" "$op" "$file" "$runs" "$warmup" "$r"; then
                        ok[$x$op]=0
                        check="${check:+$check; }$x $op failed under hyperfine"
                        continue
                    fi
                    # Extra peak-RSS samples, interleaved with the timing rounds.
                    if ((r < rss_n)); then
                        if run_once /dev/null "$c/rss" "$bin" "$op" "$file"; then
                            rss_samples[$x]="${rss_samples[$x]} $(tail -n 1 "$c/rss")"
                        fi
                    fi
                done
            done
            med_A="-" n_A=0 med_B="-" rss_A="-" rss_B="-"
            if [ "${ok[A$op]}" = 1 ]; then
                read -r med_A n_A < <(median_ms "$BENCH_OUT/raw/$w-$f-$op-A".r*.json)
                # shellcheck disable=SC2086  # word splitting of the sample list is intended
                rss_A=$(median_mib ${rss_samples[A]})
            fi
            if [ -n "$BIN_B" ] && [ "${ok[B$op]}" = 1 ]; then
                read -r med_B _ < <(median_ms "$BENCH_OUT/raw/$w-$f-$op-B".r*.json)
                # shellcheck disable=SC2086
                rss_B=$(median_mib ${rss_samples[B]})
            fi
            row "| $w | $f | $op | $n_A | $(fmt_ms "$med_A") | $(fmt_ms "$med_B") | $(ratio "$med_A" "$med_B") | $rss_A | $rss_B | $check |"
            unset rss_samples
        done
        unset ok rss
        rm -rf "$c"
    done
done
echo >&2
echo "compare.sh: results in $table (raw hyperfine JSON in $BENCH_OUT/raw)" >&2
