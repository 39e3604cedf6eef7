#!/usr/bin/env python3
"""Write random-SEED.xml: a small random cluster with chained notifying
clones (interleaved or not, clone-max, target-role, bans, failures,
an unclean node with fencing, standby, a primitive ordered with them;
from seed 1000 on, some clones are promotable), built with the helpers
of crm/scheduler/testdata/mkcases.py.

    python3 gen.py SEED...   then   ./regen.sh
"""
import importlib.util
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mk", os.path.join(HERE, "../../../scheduler/testdata/mkcases.py"))
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)


def write(seed):
    rnd = random.Random(seed)
    N = ["node1", "node2", "node3", "node4"]
    nclones = rnd.randint(1, 3)
    res, cons, status = [], [], {}
    modes = {}
    props = {}
    if rnd.random() < 0.3:
        modes[rnd.choice(N[1:])] = "unclean"; props["stonith-enabled"] = "true"
        res.append(mk.stonith())
        status.setdefault("node1", []).append(("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}))
    for c in range(nclones):
        meta = {"notify": "true"}
        if rnd.random() < 0.5: meta["interleave"] = "true"
        if rnd.random() < 0.3: meta["clone-max"] = str(rnd.randint(1, 4))
        if rnd.random() < 0.15: meta["target-role"] = "Stopped"
        rid = "r%d" % c
        kw = {}
        if seed >= 1000 and rnd.random() < 0.6:
            # promotable (seeds from 1000 on): Stateful instances, promotion scores
            meta["promotable"] = "true"
            kw = {"typ": "Stateful"}
            for n in N:
                if rnd.random() < 0.7:
                    status.setdefault(("attrs", n), {})["master-%s" % rid] = str(rnd.choice([5, 10, 20]))
        res.append(mk.clone("C%d" % c, mk.prim(rid, typ=kw.get("typ", "Dummy")), meta))
        if c > 0:
            cons.append(mk.order("o%d" % c, "C%d" % (c - 1), "C%d" % c))
            if rnd.random() < 0.5: cons.append(mk.colo("co%d" % c, "C%d" % c, "C%d" % (c - 1), "INFINITY"))
        if rnd.random() < 0.3: cons.append(mk.loc("l%d" % c, "C%d" % c, rnd.choice(N), "-INFINITY"))
        for n in N:
            states = ["running", "running", "stopped", "failed-monitor", None]
            if kw:
                states.append("promoted")
            st = rnd.choice(states)
            if st:
                status.setdefault(n, []).append((rid, st, kw) if kw else (rid, st))
    if rnd.random() < 0.5:
        res.append(mk.prim("P")); cons.append(mk.order("op", rnd.choice(["C0", "P"]), rnd.choice(["P", "C%d" % (nclones - 1)])))
        cons = [x for x in cons if 'first="P" then="P"' not in x]
        n = rnd.choice(N); status.setdefault(n, []).append(("P", rnd.choice(["running", "stopped"])))
    if rnd.random() < 0.3:
        status.setdefault(("attrs", rnd.choice(N)), {})["standby"] = "on"
    mk.case("rand", nodes=N, resources=res, constraints=cons, status=status, props=props, node_modes=modes,
            rsc_defaults={"resource-stickiness": str(rnd.choice([0, 100]))})
    open(os.path.join(HERE, "random-%d.xml" % seed), "w").write(mk.CASES["rand"])


for arg in sys.argv[1:]:
    write(int(arg))
