#!/usr/bin/env python3
"""Generate benchmark inputs for bench/compare.sh (Python standard library only).

Workloads (each written as YAML, JSON and dotenv):
  tiny    10 flat keys
  small   ~50 leaves: an app secrets file nested 2-3 levels, with a PEM cert and key
  medium  ~5,000 leaves: 100 service blocks of 50 leaves
  large   ~200,000 leaves (~10 MB of YAML): 4,000 service blocks
plus blob.bin: 10 MiB of random bytes (sops's binary store).

The output is a pure function of --seed: the same seed gives byte-identical files.
MANIFEST.tsv lists every file with its size, leaf count and sha256.

Usage: bench/gen.py [--seed N] [--out DIR] [--workloads tiny,small,...]
                    [--formats yaml,json,env] [--no-blob]
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import string
import sys

WORKLOADS = ("tiny", "small", "medium", "large")
FORMATS = ("yaml", "json", "env")
BLOCKS = {"medium": 100, "large": 4000}
BLOB_SIZE = 10 * 1024 * 1024


class Comment:
    """A comment line; used as a dict *value* under a key that starts with COMMENT_KEY."""

    def __init__(self, text):
        self.text = text


class Inline:
    """A scalar value with an inline comment after it (YAML only)."""

    def __init__(self, value, comment):
        self.value = value
        self.comment = comment


class Block:
    """A multi-line string that YAML writes as a literal block scalar."""

    def __init__(self, text):
        self.text = text


COMMENT_KEY = "\x00#"


def is_comment_key(k):
    return k.startswith(COMMENT_KEY)


# --------------------------------------------------------------------------- values


class Values:
    """Realistic fake secrets and config values from a seeded RNG."""

    WORDS = (
        "orders billing ledger search catalog checkout payments invoices users auth "
        "notify mailer reports export import gateway inventory pricing shipping "
        "tracking reviews media upload thumbnails analytics events audit fraud "
        "loyalty coupons cart sessions profile accounts wallet refunds tax"
    ).split()
    TEAMS = "platform core growth data payments identity infra mobile web".split()
    REGIONS = "eu-west-1 eu-central-1 us-east-1 us-west-2 ap-southeast-1".split()
    SCOPES = "openid profile email offline_access read:orders write:orders admin".split()

    def __init__(self, rng):
        self.r = rng

    def word(self):
        return self.r.choice(self.WORDS)

    def password(self, n=None):
        n = n or self.r.randint(14, 28)
        alphabet = string.ascii_letters + string.digits + "-_.!%^*+="
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def urlsafe(self, n):
        alphabet = string.ascii_letters + string.digits + "-_"
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def hexs(self, n):
        return "".join(self.r.choice("0123456789abcdef") for _ in range(n))

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode("ascii")

    def host(self, kind):
        return f"{self.word()}-{kind}-{self.r.randint(1, 9)}.{self.r.choice(self.REGIONS)}.internal"

    def token(self, prefix):
        return f"{prefix}_{self.urlsafe(self.r.randint(24, 40))}"

    def ip(self):
        return f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def version(self):
        return f"{self.r.randint(0, 9)}.{self.r.randint(0, 40)}.{self.r.randint(0, 20)}"

    def date(self):
        return f"2024-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}"

    def money(self):
        return round(self.r.uniform(0.5, 5000), 2)

    def pem(self, label, nbytes):
        body = self.b64(nbytes)
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def service_block(v, name):
    """One service's secrets: exactly 50 leaves, plus comment lines."""
    r = v.r
    db_user = f"{name.replace('-', '_')}_app"
    db_pass = v.urlsafe(20)
    db_host = v.host("db")
    redis_pass = v.urlsafe(16)
    mq_pass = v.urlsafe(16)
    return {
        COMMENT_KEY + "0": Comment(f"{name}: owned by team {r.choice(Values.TEAMS)}"),
        "enabled": r.random() < 0.9,
        "replicas": r.randint(1, 12),
        "image": f"registry.example.com/{r.choice(Values.TEAMS)}/{name}:{v.version()}",
        "database": {
            "host": db_host,
            "port": 5432,
            "name": name.replace("-", "_"),
            "user": db_user,
            "password": Inline(db_pass, f"rotated {v.date()}"),
            "url": f"postgres://{db_user}:{db_pass}@{db_host}:5432/{name.replace('-', '_')}?sslmode=require",
            "pool": {"min": r.randint(1, 4), "max": r.randint(10, 50)},
            "ssl": True,
        },
        "redis": {
            "url": f"redis://:{redis_pass}@{v.host('cache')}:6379/{r.randint(0, 15)}",
            "password": redis_pass,
        },
        "queue": {
            "url": f"amqp://{name}:{mq_pass}@{v.host('mq')}:5672/%2F",
            "password": mq_pass,
        },
        COMMENT_KEY + "1": Comment("API keys for downstream services"),
        "api_keys": {v.word() + f"_{i}": v.token(r.choice(("sk_live", "ak", "tok", "key"))) for i in range(4)},
        "oauth": {
            "client_id": f"{name}-{v.hexs(8)}",
            "client_secret": v.password(32),
            "scopes": r.sample(Values.SCOPES, 3),
            "redirect_uris": [
                f"https://{name}.example.com/callback",
                f"https://{name}.staging.example.com/callback",
            ],
        },
        "s3": {
            "bucket": f"{name}-{r.choice(Values.REGIONS)}-assets",
            "region": r.choice(Values.REGIONS),
            "access_key_id": "AKIA" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
            "secret_access_key": v.b64(30),
        },
        "smtp": {
            "host": "smtp.example.com",
            "port": r.choice((25, 465, 587)),
            "username": f"{name}@example.com",
            "password": v.password(),
        },
        "features": {f"{v.word()}_v{i}": r.random() < 0.5 for i in range(4)},
        "limits": {
            "rate_per_minute": r.randint(60, 6000),
            "burst": r.randint(10, 500),
            "timeout_seconds": round(r.uniform(0.5, 60), 1),
            "retry_backoff": round(r.uniform(1.1, 3.0), 2),
        },
        "allowed_ips": [v.ip() for _ in range(2)],
        "webhook": {"url": f"https://hooks.example.com/{v.urlsafe(12)}", "secret": "whsec_" + v.hexs(32)},
        "encryption_key": v.b64(32),
        "tags": [r.choice(Values.TEAMS), f"cost-{r.randint(1000, 9999)}"],
    }


def tiny(v):
    return {
        "db_host": v.host("db"),
        "db_port": 5432,
        "db_user": "app",
        "db_password": v.password(),
        "redis_url": f"redis://:{v.urlsafe(16)}@{v.host('cache')}:6379/0",
        "api_token": v.token("tok"),
        "jwt_secret": v.b64(32),
        "debug": False,
        "max_connections": 100,
        "sample_rate": 0.25,
    }


def small(v):
    r = v.r
    db_pass = v.urlsafe(20)
    return {
        COMMENT_KEY + "0": Comment("Application secrets (fake; generated by bench/gen.py)"),
        "app": {
            "name": "orders-api",
            "environment": "production",
            "secret_key_base": v.hexs(64),
            "debug": False,
            "port": 8080,
        },
        "database": {
            "host": "orders-db.internal",
            "port": 5432,
            "user": "orders_app",
            "password": Inline(db_pass, "rotate quarterly"),
            "url": f"postgres://orders_app:{db_pass}@orders-db.internal:5432/orders?sslmode=verify-full",
            "pool": {"min": 2, "max": 20, "idle_timeout": 30.0},
        },
        "redis": {"url": f"redis://:{v.urlsafe(16)}@cache.internal:6379/0", "tls": True},
        "rabbitmq": {"url": f"amqp://orders:{v.urlsafe(16)}@mq.internal:5672/orders"},
        COMMENT_KEY + "1": Comment("Third-party APIs"),
        "stripe": {"secret_key": v.token("sk_live"), "webhook_secret": "whsec_" + v.hexs(32)},
        "sendgrid": {"api_key": "SG." + v.urlsafe(22) + "." + v.urlsafe(43)},
        "sentry": {"dsn": f"https://{v.hexs(32)}@o{r.randint(100000, 999999)}.ingest.sentry.io/{r.randint(1000, 9999)}",
                   "traces_sample_rate": 0.05},
        "aws": {
            "access_key_id": "AKIA" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
            "secret_access_key": v.b64(30),
            "region": "eu-central-1",
            "buckets": ["orders-invoices", "orders-exports", "orders-backups"],
        },
        "oauth": {
            "client_id": "orders-api",
            "client_secret": v.password(32),
            "scopes": ["openid", "profile", "email"],
        },
        "jwt": {"issuer": "https://auth.example.com/", "audience": "orders", "hs256_secret": v.b64(48), "ttl_seconds": 3600},
        COMMENT_KEY + "2": Comment("TLS material"),
        "tls": {"cert": Block(v.pem("CERTIFICATE", 700)), "key": Block(v.pem("PRIVATE KEY", 1190))},
        "features": {"new_checkout": True, "legacy_export": False, "beta_reports": True},
        "limits": {"requests_per_minute": 600, "burst": 100, "max_body_mb": 12.5},
        "admins": ["alice@example.com", "bob@example.com"],
        "smtp": {"host": "smtp.example.com", "port": 587, "username": "orders@example.com", "password": v.password()},
    }


def big(v, blocks):
    r = v.r
    doc = {
        COMMENT_KEY + "0": Comment(f"{blocks} service blocks (fake; generated by bench/gen.py)"),
        "generated_for": "sealant benchmarks",
        "cluster": "prod-eu-1",
        "services": {},
    }
    used = set()
    for i in range(blocks):
        while True:
            name = f"{v.word()}-{r.choice(('api', 'worker', 'svc', 'cron', 'gateway'))}-{i:04d}"
            if name not in used:
                used.add(name)
                break
        doc["services"][name] = service_block(v, name)
    return doc


# --------------------------------------------------------------------------- emitters

_PLAIN_OK = re.compile(r"[A-Za-z/][A-Za-z0-9_./@:+=%?&-]*\Z")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def yaml_str(s):
    if _PLAIN_OK.match(s) and s.lower() not in _YAML_WORDS and not s.endswith(":"):
        return s
    return json.dumps(s, ensure_ascii=False)


def yaml_scalar(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)):
        return repr(x)
    if x is None:
        return "null"
    return yaml_str(x)


def emit_yaml(doc):
    out = []

    def block_lines(text, ind):
        body = text[:-1] if text.endswith("\n") else text
        return [" " * ind + line if line else "" for line in body.split("\n")]

    def value(x, ind, prefix):
        # prefix is "key:" or "-"; returns lines
        if isinstance(x, dict):
            if not x:
                out.append(f"{' ' * ind}{prefix} {{}}")
                return
            out.append(f"{' ' * ind}{prefix}")
            mapping(x, ind + 2)
        elif isinstance(x, list):
            if not x:
                out.append(f"{' ' * ind}{prefix} []")
                return
            out.append(f"{' ' * ind}{prefix}")
            for item in x:
                value(item, ind + 2, "-")
        elif isinstance(x, Block):
            out.append(f"{' ' * ind}{prefix} |" + ("" if x.text.endswith("\n") else "-"))
            out.extend(block_lines(x.text, ind + 2))
        elif isinstance(x, Inline):
            out.append(f"{' ' * ind}{prefix} {yaml_scalar(x.value)} # {x.comment}")
        else:
            out.append(f"{' ' * ind}{prefix} {yaml_scalar(x)}")

    def mapping(d, ind):
        for k, x in d.items():
            if is_comment_key(k):
                out.append(f"{' ' * ind}# {x.text}")
            else:
                value(x, ind, yaml_str(k) + ":")

    mapping(doc, 0)
    return "\n".join(out) + "\n"


def plain(x):
    """Strip comments and wrappers: the data model shared by JSON and dotenv."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items() if not is_comment_key(k)}
    if isinstance(x, list):
        return [plain(i) for i in x]
    if isinstance(x, Inline):
        return x.value
    if isinstance(x, Block):
        return x.text
    return x


def emit_json(doc):
    return json.dumps(plain(doc), indent=2, ensure_ascii=False) + "\n"


def emit_env(doc):
    out = []

    def key_part(k):
        return re.sub(r"[^A-Za-z0-9]", "_", k).upper()

    def walk(x, path):
        if isinstance(x, dict):
            for k, v in x.items():
                if is_comment_key(k):
                    # A blank line before each comment block, as .env files group keys.
                    if out:
                        out.append("")
                    out.append(f"# {v.text}")
                else:
                    walk(v, path + [key_part(k)])
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, path + [str(i)])
        else:
            x = plain(x)
            if isinstance(x, bool):
                s = "true" if x else "false"
            elif x is None:
                s = ""
            else:
                s = str(x)
            # sops's dotenv store turns a literal "\n" into a newline.
            out.append("_".join(path) + "=" + s.replace("\n", "\\n"))

    walk(doc, [])
    return "\n".join(out) + "\n"


def count_leaves(x):
    x = plain(x)
    if isinstance(x, dict):
        return sum(count_leaves(v) for v in x.values())
    if isinstance(x, list):
        return sum(count_leaves(v) for v in x)
    return 1


# --------------------------------------------------------------------------- main


def build(workload, seed):
    # One RNG per workload, so generating a subset gives the same bytes.
    rng = random.Random(f"sealant-bench|{seed}|{workload}")
    v = Values(rng)
    if workload == "tiny":
        return tiny(v)
    if workload == "small":
        return small(v)
    return big(v, BLOCKS[workload])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "data"))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--no-blob", action="store_true", help="do not write blob.bin")
    args = ap.parse_args(argv)

    workloads = [w for w in args.workloads.replace(",", " ").split() if w]
    formats = [f for f in args.formats.replace(",", " ").split() if f]
    for w in workloads:
        if w not in WORKLOADS:
            ap.error(f"unknown workload {w!r}")
    for f in formats:
        if f not in FORMATS:
            ap.error(f"unknown format {f!r}")

    os.makedirs(args.out, exist_ok=True)
    emitters = {"yaml": emit_yaml, "json": emit_json, "env": emit_env}
    rows = []
    for w in workloads:
        doc = build(w, args.seed)
        leaves = count_leaves(doc)
        for f in formats:
            data = emitters[f](doc).encode("utf-8")
            name = f"{w}.{f}"
            with open(os.path.join(args.out, name), "wb") as fh:
                fh.write(data)
            rows.append((name, len(data), leaves, hashlib.sha256(data).hexdigest()))
    if not args.no_blob:
        rng = random.Random(f"sealant-bench|{args.seed}|blob")
        data = rng.randbytes(BLOB_SIZE)
        with open(os.path.join(args.out, "blob.bin"), "wb") as fh:
            fh.write(data)
        rows.append(("blob.bin", len(data), 1, hashlib.sha256(data).hexdigest()))

    with open(os.path.join(args.out, "MANIFEST.tsv"), "w", encoding="utf-8") as fh:
        fh.write(f"# bench/gen.py --seed {args.seed}\n")
        fh.write("file\tbytes\tleaves\tsha256\n")
        for row in rows:
            fh.write("\t".join(str(c) for c in row) + "\n")
    for name, size, leaves, _ in rows:
        print(f"{name:12s} {size:>11,d} bytes {leaves:>8,d} leaves", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
