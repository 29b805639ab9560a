"""Reference model of the rule "which AAD does sops 3.11 need for a comment line
in a YAML file kept in the user's layout" (docs/research/sops-yaml-experiments.md,
section 2).  Written from the experiments, as an executable statement of the
rule; sealant's Rust implementation should agree with it and with
../comment-aad-oracle.jsonl (check_oracle.py runs both).

Scope: block YAML whose entries fit on one line (`key:`, `key: scalar`,
`key: |` + block content, `- scalar`, `- key: scalar`, `- key:`, `- - scalar`,
flow collections on one line), own-line comments and blank lines.  Inline
(end-of-line) comments and comments inside flow collections follow the simpler
rules of the doc and are not modelled here.

assign(lines) -> {line index: AAD string, or 'DROPPED' when sops loses it}.
"""
import re

def ind(line):
    return len(line) - len(line.lstrip(' '))

def parse_content(lines):
    """Return per-content-line info list, in order.
    info: dict(idx, col, n_container, p_container, p_value_token, stack_after, closing)"""
    stack = [dict(kind='map', indent=0, path='', indentless=False)]
    pending = None  # path of a `key:` waiting for its value
    infos = []
    block_col = None   # inside a block scalar started by a key/item at this column
    for idx, line in enumerate(lines):
        s = line.strip()
        if block_col is not None:
            if block_col_content_min is None and s != '':
                block_col_content_min = ind(line) if ind(line) > block_col else None
            if s == '' or (block_col_content_min is not None and ind(line) >= block_col_content_min):
                if s != '' and infos:
                    infos[-1]['idx'] = idx      # P is the last content line of the block scalar
                continue
            block_col = None
        if s == '' or s.startswith('#'):
            continue
        c = ind(line)
        if re.search(r'(^|:\s+|-\s+)[|>][-+]?\s*(#.*)?$', s):
            block_col = c
            block_col_content_min = None
        closing = []
        # close blocks
        while len(stack) > 1:
            top = stack[-1]
            if (not top['indentless'] and top['indent'] > c) or \
               (top['indentless'] and (top['indent'] > c or (top['indent'] == c and not s.startswith('- ')))):
                closing.append(stack.pop())
            else:
                break
        if closing and pending is not None:
            pending = None
        x = c
        rest = s
        first_container = None
        while True:
            if rest.startswith('- ') or rest == '-':
                top = stack[-1]
                if top['kind'] == 'seq' and top['indent'] == x and pending is None:
                    pass
                else:
                    indentless = top['kind'] == 'map' and top['indent'] == x
                    stack.append(dict(kind='seq', indent=x, path=pending if pending is not None else top['path'], indentless=indentless))
                    pending = None
                if first_container is None:
                    first_container = stack[-1]['path']
                rest = rest[2:]
                x += 2
                if rest.strip() == '':
                    pending = stack[-1]['path']
                    break
                continue
            m = re.match(r'([^:\s][^:]*):(\s+(.*))?$', rest)
            if m and not rest.startswith('ENC['):
                key = m.group(1)
                top = stack[-1]
                if top['kind'] == 'map' and top['indent'] == x and pending is None:
                    pass
                else:
                    stack.append(dict(kind='map', indent=x, path=pending if pending is not None else top['path'], indentless=False))
                    pending = None
                if first_container is None:
                    first_container = stack[-1]['path']
                kp = stack[-1]['path'] + key + ':'
                prev_key_of_map = stack[-1].get('lastkey')
                stack[-1]['lastkey'] = idx
                val = (m.group(3) or '').strip()
                nslot = ('key', prev_key_of_map) if (first_container == stack[-1]['path'] and x == c and prev_key_of_map is not None) else ('own', idx)
                if val == '':
                    pending = kp
                    infos.append(dict(idx=idx, col=c, n_container=first_container, p_container=stack[-1]['path'], p_value_token=True, stack=[dict(b) for b in stack], closing=closing, pslot=('key', idx), nslot=nslot))
                else:
                    infos.append(dict(idx=idx, col=c, n_container=first_container, p_container=stack[-1]['path'], p_value_token=False, stack=[dict(b) for b in stack], closing=closing, pslot=('key', idx), nslot=nslot))
                break
            # scalar item
            if first_container is None:
                first_container = stack[-1]['path']
            infos.append(dict(idx=idx, col=c, n_container=first_container, p_container=stack[-1]['path'], p_value_token=False, stack=[dict(b) for b in stack], closing=closing, pslot=('item', idx), nslot=('own', idx)))
            break
    return infos

def parent_path(path):
    parts = path.split(':')[:-1]
    return ':'.join(parts[:-1]) + ':' if len(parts) > 1 else ''

def aad(p):
    return p if p else ':'

def assign(lines):
    """Return {line_idx: AAD} for every comment-only line."""
    lines = lines + ['sops:']            # the appended metadata key
    infos = parse_content(lines)
    result = {}
    prev = None
    for info in infos:
        gap = range(prev['idx'] + 1 if prev else 0, info['idx'])
        glines = [(i, lines[i]) for i in gap]
        if any(l.strip().startswith('#') for _, l in glines):
            result.update(assign_gap(prev, info, glines))
        prev = info
    return result

def assign_gap(P, N, glines):
    out = {}
    comments = [i for i, l in glines if l.strip()]
    if P is None or P['p_value_token']:
        for i in comments:
            out[i] = aad(N['n_container'])
        return out
    # innermost indentation in force after P (indentless sequences do not count)
    I = max(b['indent'] for b in P['stack'] if not b['indentless'])
    n = N['col']
    # --- 1. split the run into pieces
    pieces = []       # dict(lines, start, foot, mark) ; mark = 'P' or line index
    cur = None
    mark = 'P'
    first_empty = bool(glines) and glines[0][1].strip() != ''
    recent_empty = False
    first_line_idx = glines[0][0] if glines else None
    for i, l in glines:
        if l.strip():
            k = ind(l)
            if cur and k < I and k != cur['start']:
                cur.update(foot=True, mark=mark); pieces.append(cur); mark = ('after', i); cur = None
            if cur is None:
                cur = dict(lines=[], start=k, first=i)
            cur['lines'].append(i)
            recent_empty = False
        else:
            if not recent_empty and cur:
                if first_empty and ((cur['first'] == first_line_idx and not P['p_value_token']) or cur['start'] < I):
                    m = cur['first'] if cur['start'] < I else mark
                    cur.update(foot=True, mark=m); pieces.append(cur); mark = ('after', i); cur = None
            first_empty = False
            recent_empty = True
    if cur:
        if n < I and n != cur['start']:
            cur.update(foot=True, mark=mark)
        else:
            cur.update(foot=False, mark=cur['first'])
        pieces.append(cur)
    # --- 2. BLOCK-END positions: a block's end moves onto the earliest piece at its indent
    closing = [b for b in N['closing'] if not b['indentless']]
    bm = -1   # before the gap
    ends = []
    for b in closing:
        for p in reversed(pieces):
            if p['start'] == b['indent']:
                bm = p['first']
        ends.append((b, bm))
    def pos(m):
        if m == 'P': return -2
        if isinstance(m, tuple): return m[1]
        return m
    # --- 3. deliver; a later foot delivered to the same slot replaces the earlier one
    slots = {}
    order = []
    for p in pieces:
        if not p['foot']:
            dest, slot, t = N['n_container'], ('head', N['idx']), 1000
        elif p['mark'] == 'P':
            dest, slot, t = P['p_container'], P['pslot'], 0
        else:
            dest = None
            for j, (b, m) in enumerate(ends):
                if m >= pos(p['mark']):
                    if b['kind'] == 'map':
                        dest, slot, t = b['path'], ('key', b.get('lastkey')), 1 + j
                    else:
                        # a block sequence end carries no comment: it rides on the next event
                        nxt = [(jj, bb) for jj, (bb, mm) in enumerate(ends) if jj > j and bb['kind'] == 'map']
                        if nxt:
                            jj, bb = nxt[0]
                            dest, slot, t = bb['path'], ('key', bb.get('lastkey')), 1 + jj
                        else:
                            dest, slot, t = N['n_container'], N['nslot'], 999
                    break
            if dest is None:
                dest, slot, t = N['n_container'], N['nslot'], 999
        order.append((t, slot, dest, p))
    for t, slot, dest, p in sorted(order, key=lambda x: x[0]):
        prev = slots.get(slot)
        if prev and prev[0] != t and slot[0] != 'head':
            for i in prev[1]:
                out[i] = 'DROPPED'
            prev = None
        lines_ = (prev[1] if prev else []) + p['lines']
        slots[slot] = (t, lines_)
        for i in p['lines']:
            out[i] = aad(dest)
    return out
