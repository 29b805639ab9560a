#!/usr/bin/env python3
"""Check comment_aad_model.py against ../comment-aad-oracle.jsonl, and with
--sops re-verify the oracle against the real sops (slow: one decrypt per layout).

For --sops, each layout is encrypted in place (values -> ENC[...] of type int/str,
comments -> #ENC[...] with the oracle's AAD, ':' for dropped ones) with the sops:
block appended, decrypted by sops, and every comment must be printed decrypted,
except dropped ones, which must be absent."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import comment_aad_model as model  # noqa: E402

ORACLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'comment-aad-oracle.jsonl')


def check_model(rows):
    bad = 0
    for r in rows:
        lines = r['yaml'][:-1].split('\n')
        got = model.assign(lines)
        for c in r['comments']:
            exp = c['aad'] if c['aad'] is not None else 'DROPPED'
            g = got.get(c['line'] - 1)
            if g != exp and not (exp == 'DROPPED' and g is None):
                bad += 1
                if bad <= 10:
                    print('model mismatch', r['id'], 'line', c['line'], 'sops:', exp, 'model:', g)
    return bad


def check_sops(rows):
    import sopsfix as S
    import tempfile
    tmp = tempfile.mkdtemp()
    bad = 0
    for r in rows:
        lines = r['yaml'][:-1].split('\n')
        info = {i['idx']: i for i in model.parse_content(lines)}
        byline = {c['line'] - 1: c for c in r['comments']}
        plains = []
        out = []
        block_path = None     # path of the key whose block scalar content follows
        for i, l in enumerate(lines):
            hdr = re.match(r'^\s*(?:- )*(?:([^:#\s][^:#]*):\s+)?[|>][-+]?$', l.rstrip())
            if i in byline:
                c = byline[i]
                a = c['aad'] or ':'
                out.append(l.replace('#' + c['text'], '#' + S.enc(c['text'], 'comment', a), 1))
                continue
            if hdr:
                key = hdr.group(1)
                nxt = info.get(min(k for k in info if k > i)) if any(k > i for k in info) else None
                base = (nxt or {}).get('p_container', '')
                block_path = base + (key + ':' if key else '')
                out.append(l)
                continue
            fm = re.match(r'^(\s*(?:- )*)(?:([^:#\s][^:#{\[]*):\s+)?([{\[])(.*)$', l.rstrip())
            if fm and i in info:
                key = fm.group(2)
                base = info[i]['p_container'] + (key + ':' if key else '')
                inner = fm.group(4)
                if fm.group(3) == '{':
                    inner = re.sub(r'(\w+): "q"', lambda mm: mm.group(1) + ': "' + S.enc('q', 'str', base + mm.group(1) + ':') + '"', inner)
                else:
                    inner = inner.replace('"q"', '"' + S.enc('q', 'str', base or ':') + '"')
                plains += [b'q'] * fm.group(4).count('"q"')
                out.append(fm.group(1) + (key + ': ' if key else '') + fm.group(3) + inner)
                continue
            m = re.match(r'^(\s*(?:- )*(?:([^:#\s][^:#]*):\s+)?)(\d+|q|"q"|\'q\')$', l.rstrip())
            if m and block_path is not None and not m.group(2) and '- ' not in m.group(1):
                v = m.group(3)
                plains.append(v.encode())
                out.append(m.group(1) + S.enc(v, 'int' if v.isdigit() else 'str', block_path))
                block_path = None
                continue
            block_path = None
            if m and i in info:
                key = m.group(2)
                path = info[i]['p_container'] + (key + ':' if key else '')
                v = m.group(3)
                if v.isdigit():
                    plains.append(v.encode())
                    out.append(m.group(1) + S.enc(v, 'int', path or ':'))
                else:
                    plains.append(b'q')
                    out.append(m.group(1) + S.enc('q', 'str', path or ':'))
            else:
                out.append(l)
        body = '\n'.join(out) + '\n' + S.meta_yaml(plains)
        p = os.path.join(tmp, 'o.yaml')
        open(p, 'w').write(body)
        rc, so, err = S.run_sops(['decrypt'], p)
        for c in r['comments']:
            shown = ('#' + c['text'] + '\n') in so
            if rc != 0 or (c['aad'] is None and (shown or 'ENC[' in so)) or (c['aad'] is not None and not shown):
                bad += 1
                if bad <= 10:
                    print('sops disagrees', r['id'], c, rc, err[:200])
    return bad


if __name__ == '__main__':
    rows = [json.loads(l) for l in open(ORACLE)]
    if '--sops' in sys.argv:
        step = int(sys.argv[sys.argv.index('--sops') + 1]) if len(sys.argv) > sys.argv.index('--sops') + 1 else 1
        sub = rows[::step]
        print('layouts', len(sub), 'sops disagreements', check_sops(sub))
    else:
        n = sum(len(r['comments']) for r in rows)
        print('layouts', len(rows), 'comments', n, 'model mismatches', check_model(rows))
