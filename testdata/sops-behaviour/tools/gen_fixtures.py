#!/usr/bin/env python3
"""Regenerate testdata/sops-behaviour/ and run the real sops 3.11 on every file.

    python3 testdata/sops-behaviour/tools/gen_fixtures.py   (SOPS=/path/to/sops to override)

Writes each fixture, the sops command's stdout next to it (<file>.stdout),
the AADs that sops accepted for every encrypted comment (comments/AADS.tsv) and
README.md.  Every ENC[...] is deterministic (fixed data key, IVs derived from
AAD and plaintext), so a rerun gives identical files unless sops changes.
"""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sopsfix as S  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = tempfile.mkdtemp(prefix='sops-behaviour-')
README = []      # (group, file, what, command, result)
AADS = []        # (case, comment, aad)


def rel(p):
    return os.path.relpath(p, ROOT)


def cmd_str(args, path):
    return 'sops --config /dev/null ' + ' '.join(args) + ' ' + rel(path)


def short(err):
    err = re.sub(r'\[SOPS\]\t time="[^"]*" level=warning msg="([^"]*)".*', r'warning: \1', err.strip())
    return err.replace('\n', ' ')[:160]


def record(group, path, what, args=('decrypt',), save_stdout=True):
    rc, out, err = S.run_sops(list(args), path)
    res = f'exit {rc}'
    if save_stdout and out:
        open(path + '.stdout', 'w').write(out)
        res += f'; stdout in `{os.path.basename(path)}.stdout`'
    if err.strip():
        res += f'; stderr: {short(err)}'
    README.append((group, rel(path), what, cmd_str(args, path), res))
    return rc, out, err


def T(s, ind):
    """Template shorthand: » = one indent unit, V(aad) int value, Q(aad) str
    value (write the quotes yourself), C(name) probed comment."""
    s = s.replace('»', ' ' * ind)
    n = [0]

    def v(m):
        n[0] += 1
        return '⟦v|%s|int|%d⟧' % (m.group(1), n[0])
    s = re.sub(r'V\(([^)]*)\)', v, s)
    s = re.sub(r'Q\(([^)]*)\)', lambda m: '⟦v|%s|str|q⟧' % m.group(1), s)
    s = re.sub(r'C\(([^)]*)\)', lambda m: '⟦C| %s⟧' % m.group(1), s)
    return s


# ---------------------------------------------------------------- comments (Q2, Q3, Q5)
COMMENT_CASES = [
 ('top_between_end', 'comment lines at the top, between top-level keys, at the end (then sops:)', """#C(t1)
#C(t2)
a: V(a:)
#C(t3)
b: V(b:)
#C(t4)
"""),
 ('top_blank_separated', 'blank-line-separated comment blocks at top level', """#C(t1)

#C(t2)

a: V(a:)

#C(t3)

b: V(b:)

#C(t4)

"""),
 ('nested_first_between_end', 'nested map: first line, between keys, end of the map followed by a dedented key', """a:
»#C(n1)
»b: V(a:b:)
»#C(n2)
»c: V(a:c:)
»#C(n3)
d: V(d:)
"""),
 ('nested_end_col0', 'end of a nested map, comment dedented to column 0, then a column-0 key', """a:
»b: V(a:b:)
#C(n4)
d: V(d:)
"""),
 ('nested_end_before_sops', 'end of the last nested map, then the appended sops: key', """a:
»b: V(a:b:)
»#C(n5)
"""),
 ('nested_end_before_sops_col0', 'same, comment at column 0', """a:
»b: V(a:b:)
#C(n6)
"""),
 ('two_levels_end_innermost_col', 'two levels ending at once, comment at the innermost column', """a:
»b:
»»c: V(a:b:c:)
»»#C(n7)
d: V(d:)
"""),
 ('two_levels_end_middle_col', 'two levels ending at once, comment at the middle column: goes to the INNERMOST map', """a:
»b:
»»c: V(a:b:c:)
»#C(n8)
d: V(d:)
"""),
 ('two_levels_end_middle_col_blank_after', 'same but a blank line follows the comment: now the middle map', """a:
»b:
»»c: V(a:b:c:)
»#C(n8b)

d: V(d:)
"""),
 ('two_levels_end_col0', 'two levels ending at once, comment at column 0', """a:
»b:
»»c: V(a:b:c:)
#C(n9)
d: V(d:)
"""),
 ('two_levels_staircase', 'three comment lines at decreasing columns where two levels end', """a:
»b:
»»c: V(a:b:c:)
»»#C(n10)
»#C(n11)
#C(n12)
d: V(d:)
"""),
 ('two_levels_end_before_sops', 'two levels ending at the sops: key', """a:
»b:
»»c: V(a:b:c:)
»»#C(n13)
"""),
 ('nested_blank_separated', 'blank-line-separated comments inside a nested map', """a:
»b: V(a:b:)

»#C(n14)

»c: V(a:c:)

»#C(n15)

d: V(d:)
"""),
 ('col0_comment_blank_after', 'comment at column 0 right after a nested value, blank line, then a key of the SAME nested map', """a:
»b: V(a:b:)
#C(n16)

»c: V(a:c:)
"""),
 ('inline_scalars', 'inline comments after scalar values, top level and nested', """k: V(k:) #C(i1)
a:
»b: V(a:b:) #C(i2)
»c: "Q(a:c:)" #C(i2q)
d: V(d:)
"""),
 ('inline_on_parent_keys', 'inline comment on a key whose value is a nested map / list', """m: #C(i3)
»c: V(m:c:)
l: #C(i3b)
»- V(l:)
d: V(d:)
"""),
 ('inline_list_items', 'inline comments on list items and on a bare "-" before a nested map', """l:
»- V(l:) #C(i4)
»- #C(i6)
»  x: V(l:x:) #C(i6b)
d: V(d:)
"""),
 ('inline_block_scalar_header', 'inline comment on a block scalar header', """s: |- #C(i5)
»⟦v|s:|str|hello⟧
d: V(d:)
"""),
 ('inline_flow_values', 'inline comments after flow collections and empty collections: the collection\'s OWN path', """a:
»f: {x: "Q(a:f:x:)"} #C(k3)
»g: ["Q(a:g:)"] #C(k4)
»e: {} #C(k5)
d: V(d:)
"""),
 ('inline_doc_start', 'comment on the document start marker', """--- #C(j4)
a: V(a:)
"""),
 ('list_comments', 'comments in a list: before the first item, between items, after the last (item column)', """l:
»#C(l1)
»- V(l:)
»#C(l2)
»- V(l:)
»#C(l3)
d: V(d:)
"""),
 ('list_after_dedented', 'comment after the last item, dedented to column 0', """l:
»- V(l:)
#C(l4)
d: V(d:)
"""),
 ('list_zero_indent', 'zero-indented list ("- " in the column of its key)', """l:
#C(l5)
- V(l:)
#C(l6)
- V(l:)
#C(l7)
d: V(d:)
"""),
 ('list_end_before_sops', 'comment after the last list item before sops:', """l:
»- V(l:)
»#C(l8)
"""),
 ('list_of_maps', 'list of maps: inside an item, between items', """l:
»- a: V(l:a:)
»  #C(lm1)
»  b: V(l:b:)
»  #C(lm2)
»#C(lm3)
»- a: V(l:a:)
d: V(d:)
"""),
 ('list_of_maps_zero_indent', 'zero-indented list of maps, comment at column 0 between items', """l:
- a: V(l:a:)
#C(lm4)
- a: V(l:a:)
  #C(lm5)
d: V(d:)
"""),
 ('list_map_in_item_end', 'map inside a list item ends with a comment', """l:
»- a:
»»  b: V(l:a:b:)
»»  #C(lm6)
»- c: V(l:c:)
d: V(d:)
"""),
 ('list_of_lists', 'nested lists', """l:
»- - V(l:)
»  #C(ll1)
»  - V(l:)
»#C(ll2)
»- - V(l:)
d: V(d:)
"""),
 ('list_enc_element_form', 'encrypted comments written the sops way, as list elements "- ENC[..,type:comment]" (no probe: AAD l:)', """l:
»- ⟦c|l:| as element⟧
»- V(l:)
»- ⟦c|l:| last element⟧
d: V(d:)
"""),
 ('flow_comments', 'comments inside flow collections (quoted ENC values)', """f: {a: "Q(f:a:)", #C(fc1)
»b: "Q(f:b:)"}
g: [
»#C(fc2)
»"Q(g:)", #C(fc3)
»"Q(g:)"
»#C(fc4)
»]
d: V(d:)
"""),
 ('block_scalar_then_comments', 'comments after block-scalar content (a # line at or beyond the content indent is CONTENT)', """a:
»b: |-
»»⟦v|a:b:|str|x⟧
»#C(bs1)
#C(bs2)
»c: V(a:c:)
"""),
]
MULTI_CASES = [
 ('multidoc_meta_each', 'multi-document file, sops: block appended to every document (as sops does)', """#C(d0)
a: V(a:)
#C(d1)
⟦META⟧---
#C(d2)
b: V(b:)
#C(d3)
⟦META⟧"""),
 ('multidoc_meta_first_only', 'sops: block only in the first document; comment after sops: and right before ---', """a: V(a:)
#C(d1)
⟦META⟧#C(d1b)
---
#C(d2)
b: V(b:)
#C(d3)
"""),
 ('multidoc_leading_dashes', 'leading --- before the first document, nested map ending right before ---', """---
#C(d4)
a: V(a:)
⟦META⟧---
b:
»c: V(b:c:)
»#C(d5)
---
#C(d6)
e: V(e:)
"""),
 ('comment_before_leading_dashes', 'comment before the leading --- and right after it', """#C(d7)
---
#C(d8)
a: V(a:)
"""),
]
EXTRA_CANDS = {'inline_flow_values': ['a:e:']}


def gen_comments():
    d = os.path.join(ROOT, 'comments')
    os.makedirs(d, exist_ok=True)
    for name, what, raw in COMMENT_CASES + MULTI_CASES:
        indents = (2, 4) if '»' in raw else (2,)
        for ind in indents:
            tpl = T(raw, ind)
            found, dropped = S.probe(tpl, TMP, indent=ind, extra_cands=EXTRA_CANDS.get(name, ()))
            aads = {}
            for text, ok in found.items():
                aad = ok[0] if len(ok) == 1 else ('DROPPED' if text in dropped else 'NONE:' + ','.join(ok))
                aads[text] = aad
                AADS.append((f'{name}.i{ind}', text.strip(), aad))

            def sub(m):
                text = m.group(1)
                a = aads[text]
                return '⟦c|%s|%s⟧' % (a if a.endswith(':') else ':', text)
            final = re.sub(r'⟦C\|([^⟧]*)⟧', sub, tpl)
            body, _, _ = S.render(final, indent=ind)
            fn = os.path.join(d, f'{name}.i{ind}.yaml')
            open(fn, 'w').write(body)
            summary = ', '.join(f'{t.strip()}→{a}' for t, a in aads.items()) or 'no probed comments'
            rc, out, err = record('comments', fn, f'{what} (indent {ind}). AADs found by probing: {summary}')
            if rc != 0 or 'ENC[' in out:
                print('WARNING: fixture not cleanly decrypted:', fn, rc, err[:200])


def gen_comment_negatives():
    d = os.path.join(ROOT, 'comments')
    tpl = 'a:\n    b: ⟦v|a:b:|int|1⟧\n    #⟦c|:| encrypted with AAD ":" but filed under a:⟧\n# ⟦c|:| space after the hash⟧\nc: ⟦v|c:|int|2⟧\n'
    body, _, _ = S.render(tpl)
    fn = os.path.join(d, 'wrong_aad_and_space.yaml')
    open(fn, 'w').write(body)
    record('comments', fn, 'a comment with the wrong AAD, and "# ENC[...]" with a space after #: both printed unchanged with a warning, exit 0 (not an error)')


# ---------------------------------------------------------------- metadata extra fields (Q1)
def gen_meta_extra():
    d = os.path.join(ROOT, 'meta-extra')
    os.makedirs(d, exist_ok=True)
    lay = S.enc('{"v":1}', 'str', 'sealant_layout:')
    tpl = 'a: ⟦v|a:|int|1⟧\n#⟦c|:| hello⟧\nb:\n    c: ⟦v|b:c:|str|x⟧\n'
    variants = [
        ('yaml_extra_end', 'extra string field sealant_layout: ENC[...] after version', dict(extra=[f'    sealant_layout: {lay}'])),
        ('yaml_extra_before_lastmodified', 'extra field before lastmodified', dict(extra=[f'    sealant_layout: {lay}'], extra_pos='before_lastmodified')),
        ('yaml_extra_nested_map', 'extra nested map (map, int, list) after version', dict(extra=['    sealant:', f'        layout: {lay}', '        n: 3', '        l:', '            - x'])),
    ]
    for name, what, kw in variants:
        body, _, _ = S.render(tpl, **kw)
        fn = os.path.join(d, name + '.yaml')
        open(fn, 'w').write(body)
        record('meta-extra', fn, what + ': accepted, MAC verified')
        if name == 'yaml_extra_end':
            for args, suffix, what2 in ((['set', None, '["a"]', '2'], 'after-set', '`sops set` rewrites the file and DROPS the unknown field (file written by sops: new IVs, lastmodified and age stanza on every run)'),
                                        (['edit'], 'after-noop-edit', '`sops edit` with an editor that changes nothing: "File has not changed", exit 200, file untouched (field kept)'),
                                        (['rotate', '-i'], 'after-rotate', '`sops rotate -i` rewrites and DROPS the field (file written by sops, differs on every run)')):
                out = os.path.join(d, f'{name}.{suffix}.yaml')
                shutil.copy(fn, out)
                if args[0] == 'set':
                    import subprocess
                    r = subprocess.run([S.SOPS, '--config', '/dev/null', 'set', out, '["a"]', '2'], env=S.ENV, capture_output=True, text=True)
                    README.append(('meta-extra', rel(out), what2, f"cp {rel(fn)} {rel(out)}; sops --config /dev/null set {rel(out)} '[\"a\"]' 2", f'exit {r.returncode}; sealant_layout present afterwards: {"sealant_layout" in open(out).read()}'))
                else:
                    import subprocess
                    env = dict(S.ENV, EDITOR='true')
                    r = subprocess.run([S.SOPS, '--config', '/dev/null'] + args + [out], env=env, capture_output=True, text=True)
                    README.append(('meta-extra', rel(out), what2, f"cp {rel(fn)} {rel(out)}; EDITOR=true sops --config /dev/null {' '.join(args)} {rel(out)}", f'exit {r.returncode}; sealant_layout present afterwards: {"sealant_layout" in open(out).read()}'))
    # JSON
    a = S.enc('1', 'float', 'a:')
    macv = S.mh.mac([b'1'])

    def js(first, last):
        meta = {}
        if first:
            meta['sealant_layout'] = lay
        meta.update({'age': [{'recipient': S.mh.rcpt(1), 'enc': S.ARMORED}], 'lastmodified': S.mh.LASTMOD,
                     'mac': macv, 'unencrypted_suffix': '_unencrypted', 'version': '3.11.0'})
        if last:
            meta['sealant_layout'] = lay
            meta['sealant_nested'] = {'k': [1, 2], 'x': None}
        return json.dumps({'a': a, 'sops': meta}, indent=2) + '\n'
    for name, t, what in (('json_extra_first', js(True, False), 'JSON: extra string field as the FIRST member of "sops"'),
                          ('json_extra_last', js(False, True), 'JSON: extra string and nested object after "version"')):
        fn = os.path.join(d, name + '.json')
        open(fn, 'w').write(t)
        record('meta-extra', fn, what + ': accepted, MAC verified')
    # dotenv
    A = S.enc('v', 'str', 'A:')
    armn = S.ARMORED.replace('\n', '\\n')
    for pos, what in (('end', 'sops_sealant_layout=ENC[...] after the sops_ lines'), ('first', 'before the other sops_ lines'),
                      ('top', 'at the top, before the data lines'), ('nested', 'flattened nested map sops_sealant__map_layout / __list_0')):
        meta = [f'sops_age__list_0__map_enc={armn}', f'sops_age__list_0__map_recipient={S.mh.rcpt(1)}',
                f'sops_lastmodified={S.mh.LASTMOD}', f'sops_mac={S.mh.mac([b"v"])}', 'sops_unencrypted_suffix=_unencrypted', 'sops_version=3.11.0']
        lines = [f'A={A}']
        extra = f'sops_sealant_layout={lay}'
        if pos == 'end':
            meta.append(extra)
        elif pos == 'first':
            meta.insert(0, extra)
        elif pos == 'top':
            lines.insert(0, extra)
        else:
            meta += [f'sops_sealant__map_layout={lay}', 'sops_sealant__map_l__list_0=x']
        fn = os.path.join(d, f'dotenv_extra_{pos}.env')
        open(fn, 'w').write('\n'.join(lines + meta) + '\n')
        record('meta-extra', fn, 'dotenv: ' + what + ': accepted')
    # INI
    H = S.enc('v', 'str', 'sec:k:')
    for pos, what in (('end', 'sealant_layout = ENC[...] last in [sops]'), ('first', 'first in [sops]'), ('nested', 'flattened nested sealant__map_layout')):
        meta = [f'age__list_0__map_enc = {armn}', f'age__list_0__map_recipient = {S.mh.rcpt(1)}',
                f'lastmodified = {S.mh.LASTMOD}', f'mac = {S.mh.mac([b"v"])}', 'unencrypted_suffix = _unencrypted', 'version = 3.11.0']
        extra = f'sealant_layout = {lay}'
        if pos == 'end':
            meta.append(extra)
        elif pos == 'first':
            meta.insert(0, extra)
        else:
            meta.append(f'sealant__map_layout = {lay}')
        fn = os.path.join(d, f'ini_extra_{pos}.ini')
        open(fn, 'w').write('[sec]\nk = ' + H + '\n\n[sops]\n' + '\n'.join(meta) + '\n')
        record('meta-extra', fn, 'INI: ' + what + ': accepted')


# ---------------------------------------------------------------- ENC value forms (Q4)
def gen_enc_forms():
    d = os.path.join(ROOT, 'enc-forms')
    os.makedirs(d, exist_ok=True)
    E = lambda aad, p='secret', t='str': S.enc(p, t, aad)  # noqa: E731
    forms = [
        ('single_quoted', "k: '{}'\n".format(E('k:')), 'value written as a single-quoted scalar'),
        ('double_quoted', 'k: "{}"\n'.format(E('k:')), 'value written as a double-quoted scalar'),
        ('literal_strip', 'k: |-\n  {}\n'.format(E('k:')), 'literal block |-'),
        ('literal_clip', 'k: |\n  {}\n'.format(E('k:')), 'literal block | (the scalar is "ENC[...]\\n"; text after the last ] is ignored)'),
        ('literal_keep', 'k: |+\n  {}\n\n'.format(E('k:')), 'literal block |+ with a trailing blank line'),
        ('folded_strip', 'k: >-\n  {}\n'.format(E('k:')), 'folded block >-'),
        ('folded_clip', 'k: >\n  {}\n'.format(E('k:')), 'folded block >'),
        ('plain_next_line', 'k:\n  {}\n'.format(E('k:')), 'plain scalar on the line after the key'),
        ('flow_quoted', 'f: {{a: "{}", b: [ "{}" ]}}\n'.format(E('f:a:'), E('f:b:')), 'inside flow collections, double-quoted'),
        ('flow_single_quoted', "f: {{a: '{}'}}\n".format(E('f:a:')), 'inside a flow map, single-quoted'),
        ('flow_unquoted', 'f: {{a: {}}}\n'.format(E('f:a:')), 'inside a flow map UNQUOTED: the commas in ENC[...] break the flow syntax'),
        ('flow_seq_unquoted', 'f: [{}]\n'.format(E('f:')), 'inside a flow sequence UNQUOTED: parse error'),
        ('inline_enc_comment', 'k: {} #{}\n'.format(E('k:'), S.enc(' note', 'comment', ':')), 'k: ENC[...] #ENC[...,type:comment] (comment AAD ":", printed above k)'),
        ('inline_enc_comment_nested', 'm:\n  k: {} #{}\n'.format(E('m:k:'), S.enc(' note', 'comment', 'm:')), 'nested k: ENC #ENC (comment AAD "m:")'),
        ('tagged_str', 'k: !!str {}\n'.format(E('k:')), 'explicit !!str tag'),
        ('int_double_quoted', 'k: "{}"\n'.format(E('k:', '42', 'int')), 'type:int value written double-quoted: decrypts to an int'),
        ('block_in_list', 'l:\n  - |-\n    {}\n'.format(E('l:')), 'literal block as a list item'),
        ('folded_with_trailing_comment_line', 'f: >-\n  {}\n  #{}\ng: {}\n'.format(E('f:'), S.enc(' c', 'comment', ':'), E('g:')),
         'a #ENC line indented like folded content is CONTENT; folding joins it onto the ENC line and the value no longer parses (exit 25)'),
        ('literal_with_trailing_comment_line', 'f: |-\n  {}\n  #{}\ng: {}\n'.format(E('f:'), S.enc(' c', 'comment', ':'), E('g:')),
         'same in a literal block: the value becomes "ENC[...]\\n#ENC[...]"; sops decrypts the first line and silently drops the rest'),
    ]
    for name, body, what in forms:
        plains = []
        for part in body.split('type:')[1:]:
            t = part.split(']')[0]
            if t == 'str':
                plains.append(b'secret')
            elif t == 'int':
                plains.append(b'42')
        fn = os.path.join(d, name + '.yaml')
        open(fn, 'w').write(body + S.meta_yaml(plains))
        record('enc-forms', fn, what)


# ---------------------------------------------------------------- other layouts (Q6)
def gen_layouts():
    d = os.path.join(ROOT, 'layouts')
    os.makedirs(d, exist_ok=True)
    E = lambda p, aad, t='str': S.enc(p, t, aad)  # noqa: E731
    M = S.meta_yaml
    cases = [
        ('alias_to_enc_scalar', f"a: &x {E('s','a:')}\nb: *x\n" + M([b's', b's']), 'alias to an encrypted scalar: the copy is decrypted with AAD b: and fails (exit 25)'),
        ('alias_to_enc_map', f"base: &b\n    x: {E('s','base:x:')}\nother: *b\n" + M([b's', b's']), 'alias to a map holding an encrypted value: fails (exit 25)'),
        ('merge_key_enc', f"base: &b\n    x: {E('s','base:x:')}\nm:\n    <<: *b\n    y: {E('t','m:y:')}\n" + M([b's', b's', b't']), 'merge key <<: *b over encrypted values: fails (the copy has path m:<<:x:)'),
        ('alias_in_same_list', f"l:\n    - &x {E('s','l:')}\n    - *x\n" + M([b's', b's']), 'alias inside the same list: same AAD l:, so it decrypts (MAC counts both)'),
        ('anchor_on_clear_values', f"a_unencrypted: &x clear\nb_unencrypted: *x\nc: {E('s','c:')}\n" + M([b'clear', b'clear', b's']), 'anchors/aliases on clear values are fine; the MAC counts the alias copy'),
        ('anchor_unused', f"a: &x {E('s','a:')}\nc: {E('t','c:')}\n" + M([b's', b't']), 'an anchor on an encrypted value is harmless while nothing aliases it'),
        ('yaml_directive_1_2', f"%YAML 1.2\n---\na: {E('s','a:')}\n" + M([b's']), '%YAML 1.2 directive: go-yaml rejects it (exit 1)'),
        ('yaml_directive_1_1', f"%YAML 1.1\n---\na: {E('s','a:')}\n" + M([b's']), '%YAML 1.1 directive: accepted'),
        ('leading_document_start', f"---\na: {E('s','a:')}\n" + M([b's']), 'leading --- : accepted, not reproduced'),
        ('document_end_marker', f"a: {E('s','a:')}\n" + M([b's']) + '...\n', 'trailing ... document end marker: accepted'),
        ('empty_document_between', f"a: {E('s','a:')}\n" + M([b's', b't']) + "---\n---\nb: " + E('t', 'b:') + "\n", 'an empty document between two: printed as {}'),
        ('second_document_without_sops', f"a: {E('s','a:')}\n" + M([b's', b't']) + "---\nb: " + E('t', 'b:') + "\n", 'only the first document carries sops:, accepted'),
        ('sops_only_in_second_document', f"a: {E('s','a:')}\n---\nb: " + E('t', 'b:') + "\n" + M([b's', b't']), 'sops: only in the second document: "sops metadata not found" (exit 1)'),
        ('no_trailing_newline', (f"a: {E('s','a:')}\n" + M([b's'])).rstrip('\n'), 'no newline at the end of the file: accepted'),
        ('tab_after_colon', f"a:\t{E('s','a:')}\n" + M([b's']), 'tab between key and value: accepted'),
        ('tab_before_inline_comment', f"a: {E('s','a:')}\t#{S.enc(' c','comment',':')}\n" + M([b's']), 'tab before an inline comment: accepted'),
        ('tab_indented_comment_line', f"a: {E('s','a:')}\n\t#{S.enc(' c','comment',':')}\nb: {E('t','b:')}\n" + M([b's', b't']), 'a comment line starting with a TAB: go-yaml error (exit 1)'),
        ('duplicate_key', f"a: {E('s','a:')}\na: {E('t','a:')}\n" + M([b's', b't']), 'duplicate key in the encrypted file: rejected (exit 1)'),
        ('flow_style_document', '{a: "' + E('s', 'a:') + '", sops: {age: [{recipient: ' + S.mh.rcpt(1) + ', enc: "' + S.ARMORED.replace('\n', '\\n') + '"}], lastmodified: "' + S.mh.LASTMOD + '", mac: "' + S.mh.mac([b's']) + '", unencrypted_suffix: _unencrypted, version: 3.11.0}}\n', 'whole document (data and sops) in flow style: accepted'),
        ('quoted_and_complex_keys', f"'a': {E('s','a:')}\n\"b c\": {E('t','b c:')}\n? d\n: {E('u','d:')}\n" + M([b's', b't', b'u']), 'quoted keys and an explicit ? key: the AAD uses the key value'),
        ('custom_tag', f"a: !custom {E('s','a:')}\n" + M([b's']), 'an unknown !custom tag on an ENC value: accepted'),
        ('comment_inside_sops_block', f"a: {E('s','a:')}\n" + M([b's']).replace('sops:\n', 'sops:\n    # plain comment in metadata\n', 1), 'comments inside the sops: block are ignored'),
    ]
    for name, body, what in cases:
        fn = os.path.join(d, name + '.yaml')
        open(fn, 'w').write(body)
        record('layouts', fn, what)
    for name, body, what in (
        ('crlf', (f"#{S.enc(' top','comment',':')}\na: {E('s','a:')} #{S.enc(' inline','comment',':')}\nb:\n    c: {E('t','b:c:')}\n" + M([b's', b't'])).replace('\n', '\r\n'), 'CRLF line endings throughout (comments, values, sops block): accepted, output has LF'),
        ('crlf_block_scalar', (f"a: |-\n    {E('s','a:')}\n" + M([b's'])).replace('\n', '\r\n'), 'CRLF with an ENC literal block'),
        ('bom', '\ufeff' + f"a: {E('s','a:')}\n" + M([b's']), 'UTF-8 BOM at the start: accepted'),
    ):
        fn = os.path.join(d, name + '.yaml')
        open(fn, 'wb').write(body.encode())
        record('layouts', fn, what)


def write_readme():
    groups = {
        'comments': 'Q2/Q3/Q5: which AAD each encrypted comment needs in a file kept in the user\'s layout. Every `*.yaml` here was built by encrypting each comment with each candidate container path and keeping the one sops decrypted; `*.yaml.stdout` is what `sops decrypt` prints (sops\'s own view/layout). `AADS.tsv` lists case, comment, AAD.',
        'meta-extra': 'Q1: unknown fields in the sops metadata.',
        'enc-forms': 'Q4: scalar styles that can hold an ENC[...] value.',
        'layouts': 'Q6: other layouts in encrypted files.',
    }
    out = ['# sops 3.11 behaviour fixtures', '',
           'Generated by `python3 testdata/sops-behaviour/tools/gen_fixtures.py`, which writes every file and runs the real',
           'sops 3.11.0 on it. Findings: `docs/research/sops-yaml-experiments.md`.', '',
           'All files use the TEST-ONLY data key `000102…1f` of `shared/vectors/tools/make_handmade.py`, wrapped to the TEST-ONLY',
           'age recipient `shared/vectors/keys/age1.pub`. Every command below runs in this folder',
           '(`testdata/sops-behaviour/`) with `SOPS_DISABLE_VERSION_CHECK=1 SOPS_AGE_KEY_FILE=../../../shared/vectors/keys/age1.txt`',
           '(the steering repo\'s `shared/`, beside the repository). `lastmodified` is always `2020-01-02T03:04:05Z`.', '',
           '`comment-aad-oracle.jsonl`: one line per layout (7,160 layouts, 14,018 comments) with the AAD sops needs for every',
           'comment line (doc §2.7). `tools/check_oracle.py` checks `tools/comment_aad_model.py` against it; `--sops [STEP]`',
           're-verifies it against sops (0 disagreements, 2 min for all).', '']
    for g, intro in groups.items():
        out += [f'## {g}/', '', intro, '', '| file | what it shows | command | result |', '| --- | --- | --- | --- |']
        for gg, f, what, cmd, res in README:
            if gg == g:
                esc = lambda x: x.replace('|', '\\|')  # noqa: E731
                out.append('| `%s` | %s | `%s` | %s |' % (f, esc(what), cmd, esc(res)))
        out.append('')
    open(os.path.join(ROOT, 'README.md'), 'w').write('\n'.join(out))
    with open(os.path.join(ROOT, 'comments', 'AADS.tsv'), 'w') as f:
        f.write('case\tcomment\taad\n')
        for row in AADS:
            f.write('\t'.join(row) + '\n')


if __name__ == '__main__':
    gen_comments()
    gen_comment_negatives()
    gen_meta_extra()
    gen_enc_forms()
    gen_layouts()
    write_readme()
    shutil.rmtree(TMP, ignore_errors=True)
    print('done:', len(README), 'fixtures')
