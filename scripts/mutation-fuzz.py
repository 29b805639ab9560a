#!/usr/bin/env python3
"""Mutation fuzzing of the sealant CLI: never a panic on bad input.

Takes the corpus files (and, half the time, their encryption), inserts, deletes and
duplicates YAML-significant bytes, and runs `sealant encrypt` / `decrypt` on the result.
Any panic (exit 101) is reported and its input kept. Not part of the test suite (it runs
minutes); run it after parser changes:

    cargo build --release && python3 scripts/mutation-fuzz.py SEED RUNS
"""
import glob
import os
import random
import subprocess
import sys
import tempfile
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S = os.environ.get("SEALANT", os.path.join(REPO, "target/release/sealant"))
R = open(os.path.join(REPO, "testdata/vectors/keys/age1.pub")).read().strip()
env = dict(os.environ, SOPS_AGE_KEY_FILE=os.path.join(REPO, "testdata/vectors/keys/age1.txt"))
files = sorted(glob.glob(os.path.join(REPO, "testdata/corpus/*.yaml")) + glob.glob(os.path.join(REPO, "testdata/corpus/*.json")))
alphabet = list(b" \t\n\r:#-'\"{}[],&*!|>?%@`\\") + [0xc3, 0xa9, 0xe2, 0x80, 0xa8]
panics = 0
runs = 0
work = tempfile.mkdtemp(prefix="sealant-fuzz-")
for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 300):
    f = random.choice(files)
    data = bytearray(open(f, "rb").read())
    enc_first = random.random() < 0.5
    if enc_first:
        r = subprocess.run([S, "encrypt", "--age", R, f], capture_output=True, env=env)
        if r.returncode != 0:
            continue
        data = bytearray(r.stdout)
    for _ in range(random.randint(1, 4)):
        op = random.random()
        pos = random.randrange(len(data) + 1)
        if op < 0.4:
            data[pos:pos] = bytes([random.choice(alphabet)])
        elif op < 0.7 and len(data) > 1:
            del data[pos:pos + random.randint(1, 8)]
        else:
            data[pos:pos] = data[random.randrange(len(data)):][:random.randint(1, 40)]
    ext = os.path.splitext(f)[1]
    path = os.path.join(work, f"case{ext}")
    open(path, "wb").write(data)
    cmd = [S, "decrypt", path] if enc_first else [S, "encrypt", "--age", R, path]
    r = subprocess.run(cmd, capture_output=True, env=env)
    runs += 1
    if r.returncode == 101 or b"panicked" in r.stderr:
        panics += 1
        keep = os.path.join(work, f"panic{panics}{ext}")
        open(keep, "wb").write(data)
        print("PANIC", cmd[1], keep, r.stderr.decode(errors="replace")[:300])
print(f"runs={runs} panics={panics}")
sys.exit(1 if panics else 0)
