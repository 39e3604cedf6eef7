#!/usr/bin/env bash
# bench/vrrp.sh - VRRP failover matrix, keepalived vs gocrm's keepalived
# drop-in, side by side (`make bench-vrrp`).
#
# For every setting (VRRPv2 advert_int 1 s, VRRPv3 advert_int 0.1 s) and
# scenario (kill9 sigterm linkdown partition) it runs
# ../shared/tools/keepalived-failover.sh once with keepalived and once with
# --impl test/vrrp/failover.impl (alternating, same lab), prints both tables
# and a comparison: median failover HTTP ms per scenario (target: gocrm <=
# keepalived) and partition-heal recoveries (target: all runs with defaults),
# then each median split into the fault's phase (how long after the old
# master's last advert the fault hit: random, it moves fo_http by up to one
# advert interval), old master's last advert -> new master's first GARP
# (the implementation's part: master down interval or skew + processing)
# and GARP -> first HTTP answer (the client's poll phase, 0-20 ms).
# How long a SIGKILLed master's VIP survives is measured by
# test/vrrp TestKill9VIPGuard (the VIP guard removes it; go test -v -run
# Kill9 ./test/vrrp) and TestKill9VIPExpires (guard off: kernel lifetime).
#
# Needs root, ip netns, keepalived, tcpdump, python3, curl. Uses the lab's
# fixed namespace names (n1 n2 c1 sw): do not run two at once.
#
# Environment: RUNS (default 5), PART_RUNS (partition runs, default 10),
# SETTINGS (default "2:1 3:0.1"), SCENARIOS, IMPLS (default "keepalived gocrm"),
# OUT (default /tmp/bench-vrrp), GO (default go).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
TOOL=${TOOL:-$root/../shared/tools/keepalived-failover.sh}
OUT=${OUT:-/tmp/bench-vrrp}
RUNS=${RUNS:-5}
PART_RUNS=${PART_RUNS:-10}
SETTINGS=${SETTINGS:-"2:1 3:0.1"}
SCENARIOS=${SCENARIOS:-"kill9 sigterm linkdown partition"}
IMPLS=${IMPLS:-"keepalived gocrm"}
GO=${GO:-go}
export GOCRM_KEEPALIVED=${GOCRM_KEEPALIVED:-/tmp/gocrm-keepalived}

if [[ $EUID != 0 ]]; then echo "bench-vrrp: skipped (needs root for network namespaces)"; exit 0; fi
for t in "$TOOL" "$(command -v keepalived)" "$(command -v tcpdump)"; do
    [[ -n $t && -x $t ]] || { echo "bench-vrrp: skipped (missing $TOOL, keepalived or tcpdump)"; exit 0; }
done
if ip netns list | grep -qE '^(n1|n2|c1|sw)( |$)'; then
    echo "bench-vrrp: the netns lab (n1 n2 c1 sw) is in use; not touching it" >&2; exit 1
fi

(cd "$root" && GOFLAGS=-buildvcs=false "$GO" build -o "$GOCRM_KEEPALIVED" ./test/vrrp/cmd/gocrm-keepalived)
mkdir -p "$OUT"

for st in $SETTINGS; do
    v=${st%%:*} a=${st#*:}
    for sc in $SCENARIOS; do
        n=$RUNS; [[ $sc == partition ]] && n=$PART_RUNS
        for impl in $IMPLS; do
            dir=$OUT/$impl/v$v-adv$a-$sc
            mkdir -p "$OUT/$impl"
            args=(--version "$v" --advert "$a" --scenario "$sc" --runs "$n" --out "$dir")
            [[ $impl == gocrm ]] && args+=(--impl "$root/test/vrrp/failover.impl")
            echo "== $impl v$v advert $a $sc ($n runs)" >&2
            "$TOOL" "${args[@]}" >"$dir.log" 2>&1 || echo "bench-vrrp: $impl $sc failed, see $dir.log" >&2
        done
    done
done

for impl in $IMPLS; do
    echo; echo "### $impl"
    dirs=()
    for d in "$OUT/$impl"/*/; do [[ -f $d/meta.json ]] && dirs+=("${d%/}"); done
    ((${#dirs[@]})) && "$TOOL" --summarize "${dirs[@]}" | sed '/^$/,$d'
done

echo; echo "### comparison (median failover HTTP ms; partition: runs recovered after heal)"
python3 - "$OUT" $IMPLS <<'PYEOF'
import csv, os, statistics, sys
out, impls = sys.argv[1], sys.argv[2:]
def load(impl, name):
    f = os.path.join(out, impl, name, 'runs.csv')
    if not os.path.exists(f):
        return None
    return list(csv.DictReader(open(f)))
names = sorted({n for i in impls if os.path.isdir(os.path.join(out, i)) for n in os.listdir(os.path.join(out, i))
                if os.path.isdir(os.path.join(out, i, n))})
def med(rows, col):
    v = [float(r[col]) for r in rows if r[col] not in ('-', '')]
    return statistics.median(v) if v else None
def vals(rows, col):
    return [float(r[col]) for r in rows if r[col] not in ('-', '')]
def perm_p(a, b):
    # Two-sided exact permutation test of the rank sum (Mann-Whitney U):
    # the share of all splits of the pooled runs whose rank sum is at least
    # as far from its mean as the observed one. A large p means the two
    # sets of runs are not told apart by more than their own scatter
    # (fault phase against the advert cycle, client poll window).
    import itertools, math
    if len(a) < 2 or len(b) < 2 or math.comb(len(a) + len(b), len(a)) > 200000:
        return None
    pool = a + b
    order = sorted(range(len(pool)), key=lambda k: pool[k])
    rank = [0.0] * len(pool)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and pool[order[j + 1]] == pool[order[i]]:
            j += 1
        for k in order[i:j + 1]:
            rank[k] = (i + j) / 2 + 1
        i = j + 1
    mean = len(a) * (len(pool) + 1) / 2
    obs = abs(sum(rank[:len(a)]) - mean)
    hit = tot = 0
    for idx in itertools.combinations(range(len(pool)), len(a)):
        tot += 1
        hit += abs(sum(rank[k] for k in idx) - mean) >= obs - 1e-9
    return hit / tot
print('| setting | ' + ' | '.join('%s fo_http med' % i for i in impls) + ' | ' +
      ' | '.join('%s outage med' % i for i in impls) + ' | ' + ' | '.join('%s recovered' % i for i in impls) +
      ' | target met | p (fo_http) |')
print('|---' * (3 * len(impls) + 3) + '|')
for n in names:
    rows = {i: load(i, n) for i in impls}
    if any(r is None for r in rows.values()):
        continue
    fo = {i: med(rows[i], 'fo_http') for i in impls}
    ou = {i: med(rows[i], 'outage') for i in impls}
    rec = {i: '%d/%d' % (sum(1 for r in rows[i] if r['fb_unrecovered'] == '0'), len(rows[i])) for i in impls}
    ok = ''
    if 'gocrm' in fo and 'keepalived' in fo and fo['gocrm'] is not None and fo['keepalived'] is not None:
        ok = 'yes' if fo['gocrm'] <= fo['keepalived'] else 'no (+%.1f ms)' % (fo['gocrm'] - fo['keepalived'])
        if n.endswith('partition') and rec['gocrm'].split('/')[0] != rec['gocrm'].split('/')[1]:
            ok += ', heal not 100%'
    f = lambda x: '-' if x is None else '%.1f' % x
    pv = perm_p(vals(rows['gocrm'], 'fo_http'), vals(rows['keepalived'], 'fo_http')) if 'gocrm' in rows and 'keepalived' in rows else None
    print('| %s | %s | %s | %s | %s | %s |' % (n, ' | '.join(f(fo[i]) for i in impls), ' | '.join(f(ou[i]) for i in impls),
                                      ' | '.join(rec[i] for i in impls), ok, '-' if pv is None else '%.2f' % pv))
print('p (fo_http): two-sided exact rank-sum (Mann-Whitney) test over the runs of both; p above 0.05 means')
print('the difference is within the runs\' own scatter (fault phase against the advert cycle, client poll window).')
print()
print('### decomposition (medians, ms): phase = fault - old master\'s last advert (when the fault hit: random, not the implementation\'s);')
print('### adv>GARP = old master\'s last advert -> new master\'s first GARP (master down interval or skew + processing); GARP>HTTP = client poll phase')
print('| setting | ' + ' | '.join('%s phase | %s adv>GARP | %s GARP>HTTP' % (i, i, i) for i in impls) + ' |')
print('|---' * (3 * len(impls) + 1) + '|')
def parts(rows):
    out = {'phase': [], 'a2g': [], 'g2h': []}
    for r in rows:
        try:
            ph = float(r['adv_gap']) - float(r['fo_adv'])
            out['phase'].append(ph)
            out['a2g'].append(float(r['fo_garp']) + ph)
            out['g2h'].append(float(r['fo_http']) - float(r['fo_garp']))
        except ValueError:
            continue
    return {k: (statistics.median(v) if v else None) for k, v in out.items()}
for n in names:
    rows = {i: load(i, n) for i in impls}
    if any(r is None for r in rows.values()):
        continue
    f = lambda x: '-' if x is None else '%.1f' % x
    p = {i: parts(rows[i]) for i in impls}
    print('| %s | %s |' % (n, ' | '.join('%s | %s | %s' % (f(p[i]['phase']), f(p[i]['a2g']), f(p[i]['g2h'])) for i in impls)))
PYEOF
