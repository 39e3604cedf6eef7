#!/usr/bin/env python3
"""Failover timeline from gocrm crmd logs (slog text) for pcmk-failover.sh.

Usage: timeline.py LAB_DIR T0 TARGET END  -> stdout lines "EPOCH EVENT NODE"
Reads LAB_DIR/n*/crmd.log; first occurrence after T0 (and before END) of
each event on a node other than TARGET.  Event names follow the Pacemaker
timeline where the meaning is the same (membership, transition_start,
fence_requested, fence_confirmed, vip_/web_start_begin/_done); gocrm-only:
suspect (first memberlist suspicion), dc_election_won (raft leader elected),
transition_complete.  *_start_begin = completion time - exec_ms (the LRM
logs only completions at info level).
"""
import datetime
import glob
import os
import re
import sys

KV = re.compile(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def parse(line):
    d = {}
    for k, v in KV.findall(line):
        if v.startswith('"'):
            v = v[1:-1]
        d.setdefault(k, v)
    return d


def epoch(ts):
    return datetime.datetime.fromisoformat(ts.replace('Z', '+00:00')).timestamp()


def main():
    lab, t0, target, end = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    ev = {}

    def add(name, t, node):
        if t0 <= t <= end and (name not in ev or t < ev[name][0]):
            ev[name] = (t, node)

    for f in sorted(glob.glob(os.path.join(lab, 'n*', 'crmd.log'))):
        node = os.path.basename(os.path.dirname(f))
        if node == target:
            continue
        with open(f, errors='replace') as fh:
            for line in fh:
                if not line.startswith('time='):
                    continue
                d = parse(line)
                try:
                    t = epoch(d['time'])
                except (KeyError, ValueError):
                    continue
                if t < t0 or t > end:
                    continue
                msg = d.get('msg', '')
                if msg.startswith('Suspect ' + target + ' '):
                    add('suspect', t, node)
                elif msg == 'member failed' and d.get('node') in (target, node):
                    if ('node=' + target + ' ') in line:
                        add('membership', t, node)
                elif msg == 'election won':
                    add('dc_election_won', t, node)
                elif msg == 'transition started':
                    add('transition_start', t, node)
                elif msg == 'fencing requested' and d.get('target') == target:
                    add('fence_requested', t, node)
                elif msg == 'fencing succeeded' and d.get('target') == target:
                    add('fence_confirmed', t, node)
                elif msg == 'transition finished' and d.get('complete') == 'true':
                    add('transition_complete', t, node)
                elif msg == 'operation complete' and d.get('rc') == '0':
                    op = d.get('op', '')
                    for r in ('vip', 'web'):
                        if op == r + '_start_0':
                            add(r + '_start_done', t, node)
                            try:
                                add(r + '_start_begin', t - int(d.get('exec_ms', '0')) / 1000.0, node)
                            except ValueError:
                                pass
    # transition_complete only counts once the service started
    if 'transition_complete' in ev and 'web_start_done' in ev and ev['transition_complete'][0] < ev['web_start_done'][0]:
        del ev['transition_complete']
    try:
        with open(os.path.join(lab, 'fence.log')) as fh:
            for line in fh:
                p = line.split()
                if len(p) >= 5 and p[3] == target:
                    if p[4] == 'start':
                        add('fence_agent_start', float(p[0]), p[1])
                    elif p[4] == 'done':
                        add('fence_agent_done', float(p[0]), p[1])
    except OSError:
        pass
    for name, (t, node) in sorted(ev.items(), key=lambda x: x[1][0]):
        print('%.6f %s %s' % (t, name, node))


if __name__ == '__main__':
    main()
