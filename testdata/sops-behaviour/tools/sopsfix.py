"""Small helpers to build sops-encrypted files in a user's own layout.

TEST-ONLY.  Uses the fixed data key, deterministic IVs and MAC code of
shared/vectors/tools/make_handmade.py, and a fixed age-wrapped copy of that
data key (tools/age1-wrapped-datakey.txt, wrapped to shared/vectors/keys/age1.pub)
so that every generated file is byte-for-byte reproducible.

Template syntax (used by gen_fixtures.py):
  ⟦v|AAD|TYPE|PLAIN⟧   an encrypted value (PLAIN joins the MAC, in text order)
  ⟦c|AAD|TEXT⟧         an encrypted comment (write the '#' yourself)
  ⟦C|TEXT⟧             an encrypted comment whose AAD is the probe candidate
  ⟦META⟧               where the sops: block goes (default: appended at the end)
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
SHARED = os.environ.get('SEALANT_SHARED', os.path.join(REPO, '..', 'shared'))
sys.path.insert(0, os.path.join(SHARED, 'vectors', 'tools'))
import make_handmade as mh  # noqa: E402

SOPS = os.environ.get('SOPS', '/work/tools/sops')
KEYFILE = os.path.join(SHARED, 'vectors', 'keys', 'age1.txt')
ENV = dict(os.environ, SOPS_DISABLE_VERSION_CHECK='1', SOPS_AGE_KEY_FILE=KEYFILE)
ENV.pop('SOPS_AGE_KEY', None)
ARMORED = open(os.path.join(HERE, 'age1-wrapped-datakey.txt')).read()


def enc(plain, typ, aad):
    if isinstance(plain, str):
        plain = plain.encode()
    return mh.enc_value(plain, typ, aad)


def meta_yaml(mac_plains, indent=4, extra=None, extra_pos='end'):
    """The sops: block as sops writes it (indent 4) or with another indent."""
    i = ' ' * indent
    lines = ['sops:', f'{i}age:', f'{i}{i}- recipient: {mh.rcpt(1)}', f'{i}{i}  enc: |']
    for l in ARMORED.rstrip('\n').split('\n'):
        lines.append(' ' * (3 * indent + 2) + l)
    if extra and extra_pos == 'before_lastmodified':
        lines += extra
    lines.append(f'{i}lastmodified: "{mh.LASTMOD}"')
    lines.append(f'{i}mac: {mh.mac(mac_plains)}')
    lines.append(f'{i}unencrypted_suffix: _unencrypted')
    lines.append(f'{i}version: 3.11.0')
    if extra and extra_pos == 'end':
        lines += extra
    return '\n'.join(lines) + '\n'


MARK = re.compile(r'⟦(.*?)⟧', re.S)


def render(tpl, cand=None, indent=4, extra=None, extra_pos='end'):
    plains, ids = [], {}

    def sub(m):
        parts = m.group(1).split('|')
        if parts[0] == 'v':
            _, aad, typ, plain = parts
            plains.append(plain.encode())
            return enc(plain, typ, aad)
        if parts[0] == 'c':
            return enc(parts[2], 'comment', parts[1])
        if parts[0] == 'C':
            e = enc(parts[1], 'comment', cand)
            ids[parts[1]] = e
            return e
        if parts[0] == 'META':
            return '\0META\0'
        raise ValueError(parts[0])
    body = MARK.sub(sub, tpl)
    meta = meta_yaml(plains, indent=indent, extra=extra, extra_pos=extra_pos)
    body = body.replace('\0META\0', meta) if '\0META\0' in body else body + meta
    return body, ids, plains


def run_sops(args, path):
    r = subprocess.run([SOPS, '--config', '/dev/null'] + list(args) + [path], env=ENV, capture_output=True)
    return r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')


VAAD = re.compile(r'⟦v\|([^|]*)\|')


def candidates(tpl):
    """Every container path that appears in the template, plus the root."""
    c = {':'}
    for aad in VAAD.findall(tpl):
        parts = aad.split(':')[:-1]
        for i in range(1, len(parts) + 1):
            c.add(':'.join(parts[:i]) + ':')
    return sorted(c, key=lambda x: (x.count(':'), x))


def probe(tpl, workdir, indent=4, extra_cands=()):
    """Encrypt every ⟦C|..⟧ comment with each candidate AAD in turn and ask sops
    which candidate it decrypts.  Returns {text: [working AADs]} plus a dict of
    texts sops never printed at all (dropped)."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, 'probe.yaml')
    found, seen = {}, {}
    for cand in candidates(tpl) + list(extra_cands):
        body, ids, _ = render(tpl, cand, indent=indent)
        open(path, 'w').write(body)
        rc, out, err = run_sops(['decrypt'], path)
        for text, e in ids.items():
            found.setdefault(text, [])
            if rc == 0 and e not in out and ('#' + text) in out:
                found[text].append(cand)
            if rc == 0 and (e in out or ('#' + text) in out):
                seen[text] = True
    dropped = [t for t in found if not seen.get(t)]
    return found, dropped
