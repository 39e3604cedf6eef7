# Case definitions for mkcases.py (executed in its namespace).

# --- placement and score arithmetic
case("start-fresh", resources=[prim("A"), prim("B"), prim("C")])
case("location-prefer", resources=[prim("A"), prim("B")],
     constraints=[loc("l-A", "A", "node2", 100), loc("l-B", "B", "node3", 50)],
     status=probed(["A", "B"], N3))
case("location-ban-all", resources=[prim("A")],
     constraints=[loc("l1", "A", "node1", "-INFINITY"), loc("l2", "A", "node2", "-INFINITY"),
                  loc("l3", "A", "node3", "-INFINITY")],
     status=probed(["A"], N3))
case("inf-plus-neginf", resources=[prim("A"), prim("B")],
     constraints=[loc("l1", "A", "node1", "INFINITY"), loc("l2", "A", "node1", "-INFINITY"),
                  loc("l3", "A", "node2", 10), loc("l4", "B", "node3", "INFINITY"),
                  loc("l5", "B", "node3", 500)],
     status=probed(["A", "B"], N3))
case("score-sum", resources=[prim("A")],
     constraints=[loc("l1", "A", "node1", 300), loc("l2", "A", "node1", -250),
                  loc("l3", "A", "node2", 40), loc("l4", "A", "node3", 60), loc("l5", "A", "node3", -30)],
     status=probed(["A"], N3))
case("stickiness-beats-location", resources=[prim("A", {"resource-stickiness": "200"}), prim("B", {"resource-stickiness": "50"})],
     constraints=[loc("l1", "A", "node2", 100), loc("l2", "B", "node2", 100)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("rsc-defaults-stickiness", resources=[prim("A"), prim("B", {"resource-stickiness": "0"})],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[loc("l1", "A", "node3", 80), loc("l2", "B", "node3", 80)],
     status=merge(probed(["A", "B"], ["node1", "node3"]), {"node2": [("A", "running"), ("B", "running")]}))
case("symmetric-false", resources=[prim("A"), prim("B"), prim("C")],
     props={"symmetric-cluster": "false"},
     constraints=[loc("l1", "A", "node2", 0), loc("l2", "B", "node3", 10), loc("l3", "B", "node1", 20)],
     status=probed(["A", "B", "C"], N3))
case("balance-fewest-assigned", resources=[prim("R%d" % i) for i in range(1, 7)],
     status=probed(["R%d" % i for i in range(1, 7)], N3))
case("node-name-tiebreak", nodes=["node2", "node10", "node9"], resources=[prim("A")],
     status=probed(["A"], ["node2", "node10", "node9"]))

# --- rules
def rule_loc(cid, rsc, score, exprs, bool_op="and", score_attr=None):
    sc = 'score-attribute="%s"' % score_attr if score_attr else 'score="%s"' % score
    return '<rsc_location id="%s" rsc="%s"><rule id="%s-rule" %s boolean-op="%s">%s</rule></rsc_location>' % (
        cid, rsc, cid, sc, bool_op, "".join(exprs))


def expr(eid, attr, opn, value=None, typ=None):
    v = ' value="%s"' % value if value is not None else ""
    t = ' type="%s"' % typ if typ else ""
    return '<expression id="%s" attribute="%s" operation="%s"%s%s/>' % (eid, attr, opn, v, t)


case("rule-uname", resources=[prim("A"), prim("B")],
     constraints=[rule_loc("l-A", "A", 200, [expr("e1", "#uname", "eq", "node3")]),
                  rule_loc("l-B", "B", "-INFINITY", [expr("e2", "#uname", "ne", "node2")])],
     status=probed(["A", "B"], N3))
case("rule-node-attr", resources=[prim("A"), prim("B"), prim("C")],
     node_attrs={"node1": {"rack": "r1", "weight": "30"}, "node2": {"rack": "r2", "weight": "70"},
                 "node3": {"rack": "r2", "weight": "-20"}},
     constraints=[rule_loc("l-A", "A", 100, [expr("e1", "rack", "eq", "r1")]),
                  rule_loc("l-B", "B", None, [expr("e2", "weight", "defined")], score_attr="weight"),
                  rule_loc("l-C", "C", "-INFINITY", [expr("e3", "weight", "lt", "50", "integer")])],
     status=probed(["A", "B", "C"], N3))
case("rule-date-active", resources=[prim("A")],
     constraints=[rule_loc("l-A", "A", 500, ['<date_expression id="d1" operation="in_range" start="2025-06-01" end="2025-07-01"/>',
                                             expr("e1", "#uname", "eq", "node3")]),
                  loc("l-A2", "A", "node2", 100)],
     status=probed(["A"], N3))
# the rule is only valid on node3 and only until 2025-06-01, so it no longer applies
case("rule-date-expired", resources=[prim("A")],
     constraints=[rule_loc("l-A", "A", 500, ['<date_expression id="d1" operation="lt" end="2025-06-01"/>',
                                             expr("e1", "#uname", "eq", "node3")]),
                  loc("l-A2", "A", "node2", 100)],
     status=probed(["A"], N3))

# --- colocation
case("colo-mandatory", resources=[prim("A"), prim("B")],
     constraints=[colo("c1", "B", "A", "INFINITY"), loc("l1", "A", "node2", 100), loc("l2", "B", "node3", 500)],
     status=probed(["A", "B"], N3))
case("colo-optional", resources=[prim("A"), prim("B")],
     constraints=[colo("c1", "B", "A", 200), loc("l1", "A", "node1", 50), loc("l2", "B", "node3", 100)],
     status=probed(["A", "B"], N3))
case("colo-negative", resources=[prim("A"), prim("B")],
     constraints=[colo("c1", "B", "A", "-INFINITY"), loc("l1", "A", "node1", 100), loc("l2", "B", "node1", 1000),
                  loc("l3", "B", "node3", -10)],
     status=probed(["A", "B"], N3))
case("colo-negative-no-room", nodes=["node1", "node2"], resources=[prim("A"), prim("B"), prim("C")],
     constraints=[colo("c1", "B", "A", "-INFINITY"), colo("c2", "C", "A", "-INFINITY"), colo("c3", "C", "B", "-INFINITY")],
     status=probed(["A", "B", "C"], ["node1", "node2"]))
case("colo-chain-pull", resources=[prim("A"), prim("B"), prim("C")],
     constraints=[colo("c1", "B", "A", "INFINITY"), colo("c2", "C", "B", "INFINITY"),
                  loc("l1", "C", "node3", 300), loc("l2", "A", "node1", 100)],
     status=probed(["A", "B", "C"], N3))
case("colo-primary-banned", resources=[prim("A"), prim("B")],
     constraints=[colo("c1", "B", "A", "INFINITY"), loc("l1", "A", "node1", "-INFINITY"),
                  loc("l2", "A", "node2", "-INFINITY"), loc("l3", "A", "node3", "-INFINITY")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("colo-primary-moves", resources=[prim("A"), prim("B")],
     constraints=[colo("c1", "B", "A", "INFINITY"), loc("l1", "A", "node1", "-INFINITY"), loc("l2", "B", "node3", 10)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("colo-node-attribute", resources=[prim("A"), prim("B")],
     node_attrs={"node1": {"site": "east"}, "node2": {"site": "east"}, "node3": {"site": "west"}},
     constraints=[colo("c1", "B", "A", "INFINITY", ' node-attribute="site"'), loc("l1", "A", "node1", 100),
                  loc("l2", "B", "node1", "-INFINITY"), loc("l3", "B", "node3", 500)],
     status=probed(["A", "B"], N3))
case("priority-wins", nodes=["node1"], resources=[prim("A"), prim("B", {"priority": "10"})],
     constraints=[colo("c1", "A", "B", "-INFINITY")],
     status=probed(["A", "B"], ["node1"]))

# --- ordering
case("order-unrunnable-first", resources=[prim("A"), prim("B"), prim("C")],
     constraints=[order("o1", "A", "B"), order("o2", "B", "C"),
                  loc("l1", "A", "node1", "-INFINITY"), loc("l2", "A", "node2", "-INFINITY"),
                  loc("l3", "A", "node3", "-INFINITY")],
     status=probed(["A", "B", "C"], N3))
case("order-chain-stop", rsc_defaults={"resource-stickiness": "100"}, resources=[prim("A"), prim("B"), prim("C")],
     constraints=[order("o1", "A", "B"), order("o2", "B", "C")],
     status=merge(probed(["A", "B", "C"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running"), ("C", "running")]}))
case("order-optional", rsc_defaults={"resource-stickiness": "100"}, resources=[prim("A"), prim("B")],
     constraints=[order("o1", "A", "B", ' kind="Optional"')],
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running")]}))
case("order-asymmetric", resources=[prim("A", {"target-role": "Stopped"}), prim("B"), prim("C", {"target-role": "Stopped"}), prim("D")],
     constraints=[order("o1", "A", "B", ' symmetrical="false"'), order("o2", "C", "D")],
     status=merge(probed(["A", "B", "C", "D"], ["node2", "node3"]),
                  {"node1": [("A", "running"), ("B", "running"), ("C", "running"), ("D", "running")]}))
case("order-asymmetric-start", rsc_defaults={"resource-stickiness": "100"}, resources=[prim("A"), prim("B")],
     constraints=[order("o1", "A", "B", ' symmetrical="false"')],
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running")]}))


def rset(sid, rids, extra=""):
    return '<resource_set id="%s"%s>%s</resource_set>' % (sid, extra, "".join('<resource_ref id="%s"/>' % r for r in rids))


case("order-set-sequential", resources=[prim("A"), prim("B"), prim("C"), prim("D")],
     constraints=['<rsc_order id="o1">%s</rsc_order>' % rset("s1", ["A", "B", "C"]),
                  loc("l1", "B", "node1", "-INFINITY"), loc("l2", "B", "node2", "-INFINITY"),
                  loc("l3", "B", "node3", "-INFINITY")],
     status=probed(["A", "B", "C", "D"], N3))
case("order-set-require-any", resources=[prim("A"), prim("B"), prim("C")],
     constraints=['<rsc_order id="o1">%s%s</rsc_order>' % (
         rset("s1", ["A", "B"], ' sequential="false" require-all="false"'), rset("s2", ["C"])),
                  loc("l1", "A", "node1", "-INFINITY"), loc("l2", "A", "node2", "-INFINITY"),
                  loc("l3", "A", "node3", "-INFINITY")],
     status=probed(["A", "B", "C"], N3))
case("order-set-require-any-none", resources=[prim("A"), prim("B"), prim("C")],
     constraints=['<rsc_order id="o1">%s%s</rsc_order>' % (
         rset("s1", ["A", "B"], ' sequential="false" require-all="false"'), rset("s2", ["C"]))] +
     [loc("l%s%d" % (r, i), r, "node%d" % i, "-INFINITY") for r in "AB" for i in (1, 2, 3)],
     status=probed(["A", "B", "C"], N3))
case("colo-set", resources=[prim("A"), prim("B"), prim("C")],
     constraints=['<rsc_colocation id="c1" score="INFINITY">%s</rsc_colocation>' % rset("s1", ["A", "B", "C"]),
                  loc("l1", "A", "node3", 100)],
     status=probed(["A", "B", "C"], N3))
case("order-chain-nostick", resources=[prim("A"), prim("B"), prim("C")],
     constraints=[order("o1", "A", "B"), order("o2", "B", "C")],
     status=merge(probed(["A", "B", "C"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running"), ("C", "running")]}))

# --- groups
G3 = ["gA", "gB", "gC"]
case("group-start", resources=[group("G", [prim(r) for r in G3]), prim("X")],
     constraints=[loc("l1", "G", "node2", 50)],
     status=probed(G3 + ["X"], N3))
case("group-member-banned", resources=[group("G", [prim(r) for r in G3])],
     constraints=[loc("l%d" % i, "gB", "node%d" % i, "-INFINITY") for i in (1, 2, 3)],
     status=merge(probed(G3, ["node2", "node3"]), {"node1": [(r, "running") for r in G3]}))
case("group-member-fails", resources=[group("G", [prim(r) for r in G3], {"migration-threshold": "1"})],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(G3, ["node2", "node3"]),
                  {"node1": [("gA", "running"), ("gB", "failed-monitor"), ("gC", "running")],
                   ("attrs", "node1"): {"fail-count-gB#monitor_10000": "1",
                                        "last-failure-gB#monitor_10000": str(EXEC - 600)}}))
case("group-member-recover", resources=[group("G", [prim(r) for r in G3])],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(G3, ["node2", "node3"]),
                  {"node1": [("gA", "running"), ("gB", "failed-monitor"), ("gC", "running")],
                   ("attrs", "node1"): {"fail-count-gB#monitor_10000": "1",
                                        "last-failure-gB#monitor_10000": str(EXEC - 600)}}))
case("group-stickiness-sum", resources=[group("G", [prim(r) for r in G3])],
     rsc_defaults={"resource-stickiness": "40"},
     constraints=[loc("l1", "G", "node2", 100), loc("l2", "G", "node3", 130)],
     status=merge(probed(G3, ["node2", "node3"]), {"node1": [(r, "running") for r in G3]}))
case("group-colocation", resources=[group("G1", [prim("a1"), prim("a2")]), group("G2", [prim("b1"), prim("b2")])],
     constraints=[colo("c1", "G2", "G1", "INFINITY"), loc("l1", "G1", "node2", 10), loc("l2", "b2", "node3", 100)],
     status=probed(["a1", "a2", "b1", "b2"], N3))
case("group-target-stopped", resources=[group("G", [prim(r) for r in G3], {"target-role": "Stopped"}), prim("X")],
     constraints=[order("o1", "G", "X")],
     status=merge(probed(G3 + ["X"], ["node2", "node3"]), {"node1": [(r, "running") for r in G3 + ["X"]]}))

# --- anonymous clones
case("clone-basic", resources=[clone("CL", prim("cA"))],
     status=probed(["cA"], N3))
case("clone-max", nodes=4, resources=[clone("CL", prim("cA"), {"clone-max": "2"})],
     constraints=[loc("l1", "CL", "node3", 100)],
     status=probed(["cA"], ["node1", "node2", "node3", "node4"]))
case("clone-node-max", resources=[clone("CL", prim("cA"), {"clone-max": "5", "clone-node-max": "2"})],
     constraints=[loc("l1", "CL", "node2", "-INFINITY")],
     status=probed(["cA"], N3))
case("clone-partial-running", resources=[clone("CL", prim("cA"))],
     status=merge({"node2": [("cA", "running")]}, probed(["cA"], ["node1", "node3"])))
case("clone-instance-failed", resources=[clone("CL", prim("cA"))],
     status={"node1": [("cA", "running")], "node2": [("cA", "failed-monitor")], "node3": [("cA", "running")]})
case("clone-node-standby", resources=[clone("CL", prim("cA"))],
     node_attrs={"node2": {"standby": "on"}},
     status={"node1": [("cA", "running")], "node2": [("cA", "running")], "node3": [("cA", "running")]})


def clone_pair(interleave):
    m = {"interleave": "true"} if interleave else {}
    return dict(resources=[clone("CL1", prim("cA"), m), clone("CL2", prim("cB"), m)],
                constraints=[order("o1", "CL1", "CL2"), colo("c1", "CL2", "CL1", "INFINITY")],
                status={"node1": [("cA", "running"), ("cB", "running")],
                        "node2": [("cA", "failed-monitor"), ("cB", "running")],
                        "node3": [("cA", "running"), ("cB", "running")]})


case("clone-interleave", **clone_pair(True))
case("clone-no-interleave", **clone_pair(False))
case("clone-colocated-primitive", resources=[clone("CL", prim("cA")), prim("P")],
     constraints=[colo("c1", "P", "CL", "INFINITY"), loc("l1", "CL", "node1", "-INFINITY"),
                  loc("l2", "P", "node1", 1000), loc("l3", "P", "node3", 50)],
     status=probed(["cA", "P"], N3))
case("clone-order-primitive", resources=[clone("CL", prim("cA")), prim("P")],
     constraints=[order("o1", "CL", "P")],
     status=probed(["cA", "P"], N3))
case("clone-group", resources=[clone("CLG", group("G", [prim("m1"), prim("m2")]), {"clone-max": "2"})],
     status=probed(["m1", "m2"], N3))

# --- failures
def failattrs(rid, count, when, op="monitor_10000"):
    return {"fail-count-%s#%s" % (rid, op): str(count), "last-failure-%s#%s" % (rid, op): str(when)}


case("migration-threshold", resources=[prim("A", {"migration-threshold": "3"}), prim("B", {"migration-threshold": "3"})],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor", {"last": EXEC - 300}), ("B", "failed-monitor", {"last": EXEC - 300})],
                   ("attrs", "node1"): dict(failattrs("A", 3, EXEC - 300), **failattrs("B", 2, EXEC - 300))}))
case("failed-start-fatal", resources=[prim("A")],
     constraints=[loc("l1", "A", "node1", 100)],
     status=merge(probed(["A"], ["node2", "node3"]),
                  {"node1": [("A", "failed-start", {"last": EXEC - 120})],
                   ("attrs", "node1"): failattrs("A", "INFINITY", EXEC - 120, "start_0")}))
case("failure-timeout-expired", resources=[prim("A", {"migration-threshold": "1", "failure-timeout": "10min"}),
                                           prim("B", {"migration-threshold": "1", "failure-timeout": "10min"})],
     constraints=[loc("l1", "A", "node1", 100), loc("l2", "B", "node1", 100)],
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "stopped"), ("B", "stopped")],
                   ("attrs", "node1"): dict(failattrs("A", 1, EXEC - 3600), **failattrs("B", 1, EXEC - 120))}))
case("failcount-two-nodes", resources=[prim("A", {"migration-threshold": "2"})],
     constraints=[loc("l1", "A", "node1", 100), loc("l2", "A", "node2", 50)],
     status=merge(probed(["A"], ["node1", "node2", "node3"]),
                  {("attrs", "node1"): failattrs("A", 2, EXEC - 60),
                   ("attrs", "node2"): failattrs("A", 1, EXEC - 60)}))
case("clone-failcount-ban", resources=[clone("CL", prim("cA", {"migration-threshold": "1"}))],
     status=merge({"node1": [("cA", "running")], "node2": [("cA", "failed-monitor")], "node3": [("cA", "running")],
                   ("attrs", "node2"): failattrs("cA", 1, EXEC - 60)}))

# --- node states
case("standby-node", resources=[prim("A"), prim("B")],
     node_attrs={"node1": {"standby": "on"}},
     constraints=[loc("l1", "B", "node1", 100)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("standby-transient", resources=[prim("A")],
     rsc_defaults={"resource-stickiness": "1000"},
     status=merge(probed(["A"], ["node1", "node3"]), {"node2": [("A", "running")],
                                                     ("attrs", "node2"): {"standby": "true"}}))
case("node-offline-clean", resources=[prim("A"), prim("B")],
     node_modes={"node3": "offline"},
     constraints=[loc("l1", "A", "node3", 100)],
     status=merge(probed(["A", "B"], ["node1", "node2"]), {"node3": [("A", "running")]}))
FENCE = {"stonith-enabled": "true"}
case("fence-unclean", resources=[stonith(), prim("A"), prim("B")],
     props=FENCE, node_modes={"node3": "unclean"},
     status=merge(probed(["A", "B"], ["node2"]),
                  {"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                             ("A", "stopped"), ("B", "running")],
                   "node3": [("A", "running")]}))
case("fence-failed-stop", resources=[stonith(), prim("A", {"target-role": "Stopped"})],
     props=FENCE,
     status=merge(probed(["A"], ["node1", "node3"]),
                  {"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"})],
                   "node2": [("A", "failed-stop")],
                   ("attrs", "node2"): failattrs("A", "INFINITY", EXEC - 60, "stop_0")}))
case("fence-no-device", resources=[prim("A"), prim("B")],
     props=FENCE, node_modes={"node3": "unclean"},
     status=merge(probed(["A", "B"], ["node1", "node2"]), {"node3": [("A", "running")]}))
case("fence-disabled-unclean", resources=[prim("A")],
     node_modes={"node3": "unclean"},
     status=merge(probed(["A"], ["node1", "node2"]), {"node3": [("A", "running")]}))

# --- quorum
def quorum_case(policy):
    return dict(resources=[prim("A"), prim("B"), prim("C")], quorum=False,
                props={"no-quorum-policy": policy},
                node_modes={"node3": "offline"},
                constraints=[loc("l1", "C", "node1", "-INFINITY")],
                status=merge(probed(["A", "B", "C"], ["node2"]),
                             {"node1": [("A", "running"), ("B", "stopped"), ("C", "running")]}))


case("noquorum-stop", **quorum_case("stop"))
case("noquorum-freeze", **quorum_case("freeze"))
case("noquorum-ignore", **quorum_case("ignore"))

# --- target-role and management
case("target-role-stopped", resources=[prim("A", {"target-role": "Stopped"}), prim("B", {"target-role": "Stopped"}), prim("C")],
     constraints=[colo("c1", "C", "A", "INFINITY")],
     status=merge(probed(["A", "B", "C"], ["node2", "node3"]), {"node1": [("A", "running"), ("C", "running")]}))
case("target-role-clone-stopped", resources=[clone("CL", prim("cA"), {"target-role": "Stopped"}), prim("P")],
     constraints=[order("o1", "CL", "P")],
     status={"node1": [("cA", "running"), ("P", "running")], "node2": [("cA", "running"), ("P", "stopped")],
             "node3": [("cA", "stopped"), ("P", "stopped")]})
case("unmanaged-failed", resources=[prim("A", {"is-managed": "false"}), prim("B")],
     constraints=[loc("l1", "A", "node1", "-INFINITY"), order("o1", "A", "B")],
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running")]}))
case("maintenance-mode", resources=[prim("A"), prim("B")],
     props={"maintenance-mode": "true"},
     constraints=[loc("l1", "A", "node1", "-INFINITY")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running")]}))
case("stop-all-resources", resources=[prim("A"), prim("B")],
     props={"stop-all-resources": "true"},
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running")]}))
case("multiple-active", resources=[prim("A")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A"], ["node3"]), {"node1": [("A", "running")], "node2": [("A", "running")]}))
case("definition-change", resources=[prim("A", params={"fake": "1"}), prim("B")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))

# --- more
def influence_case(extra):
    return dict(resources=[prim("A", {"resource-stickiness": "100"}), prim("B")],
                constraints=[colo("c1", "B", "A", "INFINITY", extra), loc("l1", "B", "node2", 500)],
                status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "stopped")]}))


case("colo-influence-default", **influence_case(""))
case("colo-influence-false", **influence_case(' influence="false"'))
case("colo-critical-false", resources=[prim("A", {"resource-stickiness": "100"}), prim("B", {"critical": "false"})],
     constraints=[colo("c1", "B", "A", "INFINITY"), loc("l1", "B", "node2", 500)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "stopped")]}))
case("node-shutdown", resources=[prim("A"), prim("B")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node1", "node3"]),
                  {"node2": [("A", "running"), ("B", "running")], ("attrs", "node2"): {"shutdown": str(EXEC - 10)}}))
case("noquorum-unclean", resources=[stonith(), prim("A"), prim("B")],
     props=dict(FENCE, **{"no-quorum-policy": "stop"}), quorum=False,
     node_modes={"node2": "unclean", "node3": "unclean"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "stopped"), ("B", "running")],
             "node3": [("A", "running")]})
case("noquorum-ignore-fence", resources=[stonith(), prim("A"), prim("B")],
     props=dict(FENCE, **{"no-quorum-policy": "ignore"}), quorum=False,
     node_modes={"node2": "unclean", "node3": "unclean"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "stopped"), ("B", "running")],
             "node3": [("A", "running")]})
case("group-anticolocation", resources=[group("G1", [prim("a1"), prim("a2")]), group("G2", [prim("b1"), prim("b2")])],
     rsc_defaults={"resource-stickiness": "10"},
     constraints=[colo("c1", "G2", "G1", "-INFINITY"), loc("l1", "G2", "node1", 100)],
     status=merge(probed(["a1", "a2", "b1", "b2"], ["node2", "node3"]),
                  {"node1": [("a1", "running"), ("a2", "running"), ("b1", "stopped"), ("b2", "stopped")]}))
case("unmanaged-running-banned", resources=[prim("A", {"is-managed": "false"}), prim("B")],
     constraints=[loc("l1", "A", "node1", "-INFINITY"), colo("c1", "B", "A", "INFINITY")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "stopped")]}))
case("unmanaged-failed-nomove", resources=[prim("A", {"is-managed": "false"})],
     constraints=[loc("l1", "A", "node1", "-INFINITY")],
     status=merge(probed(["A"], ["node2", "node3"]), {"node1": [("A", "failed-start")]}))
case("order-clone-then-group", resources=[clone("CL", prim("cA"), {"interleave": "true"}), group("G", [prim("g1"), prim("g2")])],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "CL", "G"), colo("c1", "G", "CL", "INFINITY")],
     status={"node1": [("cA", "failed-monitor"), ("g1", "running"), ("g2", "running")],
             "node2": [("cA", "running"), ("g1", "stopped"), ("g2", "stopped")],
             "node3": [("cA", "running"), ("g1", "stopped"), ("g2", "stopped")]})
case("order-then-stopped", resources=[prim("A"), prim("B", {"target-role": "Stopped"})],
     constraints=[order("o1", "A", "B")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "failed-monitor"), ("B", "running")]}))
case("order-prim-then-group", resources=[prim("A"), group("G", [prim("g1"), prim("g2")])],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "A", "G")],
     status=merge(probed(["A", "g1", "g2"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("g1", "running"), ("g2", "running")]}))
case("order-clone-then-prim", resources=[clone("CL", prim("cA")), prim("P"), prim("Q")],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "CL", "P"), order("o2", "CL", "Q")],
     status={"node1": [("cA", "failed-monitor"), ("P", "running"), ("Q", "stopped")],
             "node2": [("cA", "running"), ("P", "stopped"), ("Q", "running")],
             "node3": [("cA", "running"), ("P", "stopped"), ("Q", "stopped")]})

# --- batch 3: more edge cases
case("orphan-running", resources=[prim("A")],
     status=merge(probed(["A"], N3), {"node2": [("Gone", "running")]}))
case("fence-action-off", resources=[stonith(), prim("A")],
     props=dict(FENCE, **{"stonith-action": "off"}), node_modes={"node2": "unclean"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "stopped")],
             "node2": [("A", "running")], "node3": [("A", "stopped")]})
case("startup-fencing-unseen", resources=[stonith(), prim("A")],
     props=FENCE, node_modes={"node3": "nostate"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "running")], "node2": [("A", "stopped")]})
case("startup-fencing-false", resources=[stonith(), prim("A")],
     props=dict(FENCE, **{"startup-fencing": "false"}), node_modes={"node3": "nostate"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "running")], "node2": [("A", "stopped")]})
case("failed-stop-no-fencing", resources=[prim("A", {"target-role": "Stopped"}), prim("B")],
     constraints=[order("o1", "B", "A")],
     status=merge(probed(["A", "B"], ["node1", "node3"]),
                  {"node2": [("A", "failed-stop"), ("B", "running")],
                   ("attrs", "node2"): failattrs("A", "INFINITY", EXEC - 60, "stop_0")}))
case("group-middle-stopped", resources=[group("G", [prim("gA"), prim("gB", {"target-role": "Stopped"}), prim("gC")])],
     status=merge(probed(G3, ["node2", "node3"]), {"node1": [(r, "running") for r in G3]}))
case("colo-set-unordered", resources=[prim("A"), prim("B"), prim("C"), prim("D")],
     constraints=['<rsc_colocation id="c1" score="INFINITY">%s%s</rsc_colocation>' % (
         rset("s1", ["A", "B"], ' sequential="false"'), rset("s2", ["C"])),
                  loc("l1", "A", "node1", 100), loc("l2", "B", "node2", 100), loc("l3", "C", "node3", 50)],
     status=probed(["A", "B", "C", "D"], N3))
case("order-serialize", resources=[prim("A"), prim("B")],
     constraints=[order("o1", "A", "B", ' kind="Serialize"'), loc("l1", "A", "node1", "-INFINITY")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "failed-monitor")]}))
case("asymmetric-clone", resources=[clone("CL", prim("cA"))],
     props={"symmetric-cluster": "false"},
     constraints=[loc("l1", "CL", "node1", 0), loc("l2", "CL", "node3", 10)],
     status=probed(["cA"], N3))
case("probe-found-running", resources=[prim("A"), prim("B")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node3"]), {"node1": [("A", "running"), ("B", "running")],
                                                 "node2": [("B", "running-nomon")]}))
case("resource-discovery-never", resources=[prim("A"), prim("B")],
     constraints=['<rsc_location id="l1" rsc="A" node="node1" score="-INFINITY" resource-discovery="never"/>',
                  '<rsc_location id="l2" rsc="B" node="node2" score="100" resource-discovery="exclusive"/>'],
     status={})
case("on-fail-block", resources=['<primitive id="A" class="ocf" provider="pacemaker" type="Dummy"><operations>'
                                 '<op id="A-monitor-10s" name="monitor" interval="10s" timeout="20s" on-fail="block"/>'
                                 '</operations></primitive>', prim("B")],
     constraints=[order("o1", "A", "B")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "failed-monitor"), ("B", "running")]}))
case("on-fail-standby", resources=['<primitive id="A" class="ocf" provider="pacemaker" type="Dummy"><operations>'
                                   '<op id="A-monitor-10s" name="monitor" interval="10s" timeout="20s" on-fail="standby"/>'
                                   '</operations></primitive>', prim("B")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "failed-monitor"), ("B", "running")]}))
case("clone-min-order", resources=[clone("CL", prim("cA"), {"clone-min": "2"}), prim("P")],
     constraints=[order("o1", "CL", "P"), loc("l1", "CL", "node1", "-INFINITY"), loc("l2", "CL", "node2", "-INFINITY")],
     status=probed(["cA", "P"], N3))
case("clone-node-returns", resources=[clone("CL", prim("cA"))],
     status={"node1": [("cA", "running")], "node2": [("cA", "running")], "node3": [("cA", "stopped")]})
case("priority-stop-lower", nodes=["node1", "node2"],
     resources=[prim("A", {"priority": "1"}), prim("B", {"priority": "5"}), prim("C")],
     constraints=[colo("c1", "A", "B", "-INFINITY"), colo("c2", "C", "B", "-INFINITY"), colo("c3", "C", "A", "-INFINITY")],
     node_modes={"node2": "offline"},
     status={"node1": [("A", "running"), ("B", "stopped"), ("C", "stopped")]})
case("colo-with-group-failed", resources=[group("G", [prim("gA"), prim("gB")], {"migration-threshold": "2"}), prim("X")],
     constraints=[colo("c1", "X", "G", "INFINITY")],
     rsc_defaults={"resource-stickiness": "50"},
     status=merge(probed(["gA", "gB", "X"], ["node2", "node3"]),
                  {"node1": [("gA", "running"), ("gB", "running"), ("X", "failed-monitor")],
                   ("attrs", "node1"): failattrs("X", 5, EXEC - 60)}))
case("discovery-exclusive", resources=[prim("A"), prim("B"), prim("C")],
     constraints=['<rsc_location id="l1" rsc="C" node="node2" score="0" resource-discovery="exclusive"/>',
                  loc("l2", "A", "node2", 100), loc("l3", "B", "node2", 100)],
     status={})
case("failure-expired-moves-back", resources=[prim("A", {"migration-threshold": "2", "failure-timeout": "5min"}),
                                              prim("B", {"migration-threshold": "2", "failure-timeout": "2h"})],
     constraints=[loc("l1", "A", "node1", 100), loc("l2", "B", "node1", 100)],
     status=merge(probed(["A", "B"], ["node3"]),
                  {"node1": [("A", "failed-start", {"last": EXEC - 1800}), ("B", "failed-start", {"last": EXEC - 1800})],
                   "node2": [("A", "running"), ("B", "running")],
                   ("attrs", "node1"): dict(failattrs("A", 2, EXEC - 1800, "start_0"), **failattrs("B", 2, EXEC - 1800, "start_0"))}))
case("threshold-everywhere", resources=[prim("A", {"migration-threshold": "1"})],
     status={"node1": [("A", "failed-monitor")], "node2": [("A", "stopped")], "node3": [("A", "stopped")],
             ("attrs", "node1"): failattrs("A", 1, EXEC - 60),
             ("attrs", "node2"): failattrs("A", 1, EXEC - 600, "start_0"),
             ("attrs", "node3"): failattrs("A", 3, EXEC - 900, "start_0")})
case("clone-colocation-node-attribute", resources=[clone("CL", prim("cA")), prim("P")],
     node_attrs={"node1": {"zone": "a"}, "node2": {"zone": "b"}, "node3": {"zone": "b"}},
     constraints=[loc("l1", "CL", "node2", "-INFINITY"), loc("l2", "CL", "node3", "-INFINITY"),
                  colo("c1", "P", "CL", "INFINITY", ' node-attribute="zone"'), loc("l3", "P", "node1", "-INFINITY")],
     status=probed(["cA", "P"], N3))

# --- batch 4: rule flavours, templates, tags, patterns
case("rule-date-spec", resources=[prim("A"), prim("B")],
     # execution-date 2025-06-15 15:06:40Z is a Sunday afternoon
     constraints=[rule_loc("l-A", "A", 300, ['<date_expression id="d1" operation="date_spec"><date_spec id="d1-s" weekdays="1-5"/></date_expression>',
                                             expr("e1", "#uname", "eq", "node1")]),
                  rule_loc("l-B", "B", 300, ['<date_expression id="d2" operation="date_spec"><date_spec id="d2-s" hours="14-16"/></date_expression>',
                                             expr("e2", "#uname", "eq", "node3")]),
                  loc("l-A2", "A", "node2", 10)],
     status=probed(["A", "B"], N3))
case("rule-or-not-defined", resources=[prim("A"), prim("B")],
     node_attrs={"node1": {"ssd": "yes"}, "node3": {"gpu": "1"}},
     constraints=[rule_loc("l-A", "A", "-INFINITY", [expr("e1", "ssd", "not_defined"), expr("e2", "gpu", "not_defined")]),
                  rule_loc("l-B", "B", 200, [expr("e3", "ssd", "defined"), expr("e4", "gpu", "gt", "0", "number")], bool_op="or"),
                  loc("l-B2", "B", "node1", -150)],
     status=probed(["A", "B"], N3))
case("rule-in-meta", resources=['<primitive id="A" class="ocf" provider="pacemaker" type="Dummy">'
                                '<meta_attributes id="A-m1" score="2"><rule id="A-m1-r" score="0">'
                                '<date_expression id="A-m1-d" operation="gt" start="2025-06-01"/></rule>'
                                '<nvpair id="A-m1-st" name="resource-stickiness" value="500"/></meta_attributes>'
                                '<meta_attributes id="A-m2" score="1"><nvpair id="A-m2-st" name="resource-stickiness" value="10"/></meta_attributes>'
                                '<operations><op id="A-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations></primitive>',
                                '<primitive id="B" class="ocf" provider="pacemaker" type="Dummy">'
                                '<meta_attributes id="B-m1" score="2"><rule id="B-m1-r" score="0">'
                                '<date_expression id="B-m1-d" operation="lt" end="2025-06-01"/></rule>'
                                '<nvpair id="B-m1-st" name="resource-stickiness" value="500"/></meta_attributes>'
                                '<meta_attributes id="B-m2" score="1"><nvpair id="B-m2-st" name="resource-stickiness" value="10"/></meta_attributes>'
                                '<operations><op id="B-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations></primitive>'],
     constraints=[loc("l1", "A", "node2", 100), loc("l2", "B", "node2", 100)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("rsc-pattern", resources=[prim("web-1"), prim("web-2"), prim("db-1")],
     constraints=['<rsc_location id="l1" rsc-pattern="^web-" node="node3" score="200"/>',
                  '<rsc_location id="l2" rsc-pattern="-1$" node="node1" score="-INFINITY"/>'],
     status=probed(["web-1", "web-2", "db-1"], N3))
case("tags-in-constraints", resources=[prim("A"), prim("B"), prim("C")], tags={"tagAB": ["A", "B"]},
     constraints=[loc("l1", "tagAB", "node2", 500), order("o1", "tagAB", "C"),
                  loc("l2", "A", "node2", "-INFINITY")],
     status=probed(["A", "B", "C"], N3))
case("template-primitive", resources=['<template id="T" class="ocf" provider="pacemaker" type="Dummy">'
                                      '<meta_attributes id="T-meta"><nvpair id="T-meta-st" name="resource-stickiness" value="300"/></meta_attributes>'
                                      '<operations><op id="T-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations></template>',
                                      '<primitive id="A" template="T"/>', '<primitive id="B" template="T"/>'],
     constraints=[loc("l1", "T", "node3", 200), loc("l2", "B", "node3", 200)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("order-stop-then-start", resources=[prim("A", {"target-role": "Stopped"}), prim("B")],
     constraints=[order("o1", "A", "B", ' first-action="stop" then-action="start"')],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running")]}))
case("order-group-then-group", resources=[group("G1", [prim("a1"), prim("a2")]), group("G2", [prim("b1"), prim("b2")])],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "G1", "G2")],
     status=merge(probed(["a1", "a2", "b1", "b2"], ["node3"]),
                  {"node1": [("a1", "running"), ("a2", "failed-monitor"), ("b1", "stopped"), ("b2", "stopped")],
                   "node2": [("a1", "stopped"), ("a2", "stopped"), ("b1", "running"), ("b2", "running")]}))
case("requires-quorum-vs-fencing", resources=[stonith(), prim("A", {"requires": "quorum"}), prim("B")],
     props=FENCE, node_modes={"node3": "unclean"},
     status={"node1": [("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"}),
                       ("A", "stopped"), ("B", "stopped")],
             "node2": [("A", "stopped"), ("B", "stopped")],
             "node3": [("A", "running"), ("B", "running")]})
case("node-maintenance", resources=[prim("A"), prim("B")],
     node_attrs={"node1": {"maintenance": "true"}},
     constraints=[loc("l1", "A", "node1", "-INFINITY")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "failed-monitor")]}))
case("rsc-defaults-migration-threshold", resources=[prim("A"), prim("B", {"migration-threshold": "0"})],
     rsc_defaults={"migration-threshold": "1", "resource-stickiness": "100"},
     status=merge(probed(["A", "B"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "failed-monitor")],
                   ("attrs", "node1"): dict(failattrs("A", 1, EXEC - 60), **failattrs("B", 1, EXEC - 60))}))
case("clone-ordered", resources=[clone("CL", prim("cA"), {"ordered": "true"}), prim("P")],
     constraints=[order("o1", "CL", "P")],
     status=probed(["cA", "P"], N3))
case("group-unmanaged-member", resources=[group("G", [prim("gA"), prim("gB", {"is-managed": "false"}), prim("gC")])],
     constraints=[loc("l1", "G", "node1", "-INFINITY")],
     status=merge(probed(G3, ["node2", "node3"]), {"node1": [(r, "running") for r in G3]}))

# --- batch 5: colocation arithmetic and clone/group combinations
case("colo-factor-rounding", resources=[prim("A"), prim("B"), prim("C"), prim("D")],
     constraints=[colo("c1", "B", "A", 500000), colo("c2", "C", "A", 1000), colo("c3", "D", "A", -500000),
                  loc("l1", "B", "node2", 3), loc("l2", "C", "node3", 100), loc("l3", "D", "node1", 5),
                  loc("l4", "A", "node1", 1)],
     status=probed(["A", "B", "C", "D"], N3))
case("colo-split-pair", resources=[prim("A", {"resource-stickiness": "100"}), prim("B", {"resource-stickiness": "300"})],
     constraints=[colo("c1", "B", "A", "INFINITY")],
     status=merge(probed(["A", "B"], ["node3"]), {"node1": [("A", "running"), ("B", "stopped")],
                                                 "node2": [("A", "stopped"), ("B", "running")]}))
case("clone-group-member-fails", resources=[clone("CLG", group("G", [prim("m1"), prim("m2")]))],
     status={"node1": [("m1", "running"), ("m2", "running")],
             "node2": [("m1", "failed-monitor"), ("m2", "running")],
             "node3": [("m1", "running"), ("m2", "running")]})
case("clone-interleave-partial", resources=[clone("CL1", prim("cA"), {"interleave": "true"}),
                                            clone("CL2", prim("cB"), {"interleave": "true"})],
     constraints=[order("o1", "CL1", "CL2"), colo("c1", "CL2", "CL1", "INFINITY"), loc("l1", "CL1", "node3", "-INFINITY")],
     status={"node1": [("cA", "running"), ("cB", "running")], "node2": [("cA", "stopped"), ("cB", "stopped")],
             "node3": [("cA", "running"), ("cB", "running")]})
case("colo-optional-negative-sticky", resources=[prim("A", {"resource-stickiness": "50"}), prim("B", {"resource-stickiness": "50"})],
     constraints=[colo("c1", "B", "A", -100), loc("l1", "A", "node1", 20)],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))

# --- batch 6: an ordering onto a group restarts every member that stays,
# wherever the first resource starts
case("order-into-group-elsewhere", resources=[prim("A"), group("G", [prim(r) for r in G3])],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "A", "G"), loc("l1", "A", "node2", 50)],
     status={"node1": [("A", "stopped"), ("gA", "running"), ("gB", "stopped"), ("gC", "stopped")],
             "node2": [("A", "stopped"), ("gA", "stopped"), ("gB", "running"), ("gC", "stopped")],
             "node3": [("A", "stopped"), ("gA", "stopped"), ("gB", "stopped"), ("gC", "running")]})

# --- clone notifications (notify=true)
NT = {"notify": "true"}
FENCER = ("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"})
case("notify-clone-start", resources=[clone("CL", prim("cA"), NT)],
     status=merge({"node1": [("cA", "running")]}, probed(["cA"], ["node2", "node3"])))
case("notify-clone-stop-ban", resources=[clone("CL", prim("cA"), NT)],
     constraints=[loc("l1", "CL", "node3", "-INFINITY")],
     status={n: [("cA", "running")] for n in N3})
case("notify-clone-recover", resources=[clone("CL", prim("cA"), NT)],
     status={"node1": [("cA", "running")], "node2": [("cA", "failed-monitor")], "node3": [("cA", "running")]})
case("notify-clone-then-prim", resources=[clone("CL", prim("cA"), NT), prim("P")],
     constraints=[order("o1", "CL", "P")],
     status=merge({"node1": [("cA", "running"), ("P", "stopped")]}, probed(["cA", "P"], ["node2", "node3"])))
case("notify-clone-fence", resources=[stonith(), clone("CL", prim("cA"), NT)],
     props=FENCE, node_modes={"node3": "unclean"},
     status={"node1": [FENCER, ("cA", "running")], "node2": [("cA", "running")], "node3": [("cA", "running")]})
case("notify-interleave-recover", resources=[clone("CL1", prim("cA"), dict(NT, interleave="true")),
                                             clone("CL2", prim("cB"), dict(NT, interleave="true"))],
     constraints=[order("o1", "CL1", "CL2"), colo("c1", "CL2", "CL1", "INFINITY")],
     status={"node1": [("cA", "running"), ("cB", "running")],
             "node2": [("cA", "failed-monitor"), ("cB", "running")],
             "node3": [("cA", "running"), ("cB", "running")]})

PM = {"promotable": "true", "notify": "true"}
SF = {"typ": "Stateful"}


def stateful(rid):
    return prim(rid, typ="Stateful")


def pstatus(states, scores):
    """states: {node: state}; scores: {node: master score}"""
    out = {}
    for n, st in states.items():
        out[n] = [("cS", st, SF)]
    for n, sc in scores.items():
        out[("attrs", n)] = {"master-cS": str(sc)}
    return out


case("notify-promotable-promote", resources=[clone("MS", stateful("cS"), PM)],
     status=pstatus({"node1": "running", "node2": "running", "node3": "running"}, {"node1": 10, "node2": 5, "node3": 5}))
case("notify-promotable-move", resources=[clone("MS", stateful("cS"), PM)],
     status=pstatus({"node1": "promoted", "node2": "running", "node3": "running"}, {"node1": 5, "node2": 100, "node3": 5}))
case("notify-promotable-ban-promoted", resources=[clone("MS", stateful("cS"), PM)],
     constraints=[loc("l1", "MS", "node1", "-INFINITY")],
     status=pstatus({"node1": "promoted", "node2": "running", "node3": "stopped"}, {"node1": 10, "node2": 5, "node3": 5}))
case("notify-promotable-start", resources=[clone("MS", stateful("cS"), PM), prim("P")],
     constraints=[order("o1", "MS", "P", ' first-action="promote"'), colo("c1", "P", "MS", "INFINITY", ' with-rsc-role="Promoted"')],
     status=merge(probed(["cS", "P"], N3), {("attrs", "node2"): {"master-cS": "10"}}))
# the deprecated restart-type=restart makes an optional ordering restart its "then"
case("order-optional-restart-type", resources=[prim("A"), prim("B", {"restart-type": "restart"}), prim("C")],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "A", "B", ' kind="Optional"'), order("o2", "A", "C", ' kind="Optional"')],
     status=merge(probed(["A", "B", "C"], ["node2", "node3"]),
                  {"node1": [("A", "failed-monitor"), ("B", "running"), ("C", "running")]}))

# two monitors with one interval (different roles): Pacemaker schedules neither
def dup_monitor_prim(rid):
    return ('<primitive id="%s" class="ocf" provider="pacemaker" type="Stateful"><operations>'
            '<op id="%s-mon-p" name="monitor" interval="10s" role="Promoted" timeout="20s"/>'
            '<op id="%s-mon-u" name="monitor" interval="10s" role="Unpromoted" timeout="20s"/>'
            '</operations></primitive>') % (rid, rid, rid)


case("duplicate-monitor-interval", resources=[clone("MS", dup_monitor_prim("cS"), PM)],
     status=merge(probed(["cS"], N3), {("attrs", "node1"): {"master-cS": "10"}}))
case("notify-clone-target-stopped", resources=[clone("CL", prim("cA"), dict(NT, **{"target-role": "Stopped"})), prim("P")],
     constraints=[order("o1", "CL", "P")],
     status={"node1": [("cA", "running"), ("P", "running")], "node2": [("cA", "running"), ("P", "stopped")],
             "node3": [("cA", "stopped"), ("P", "stopped")]})
case("notify-clone-standby", resources=[clone("CL", prim("cA"), NT), group("G", [prim("g1"), prim("g2")])],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "CL", "G"), colo("c1", "G", "CL", "INFINITY")],
     status=merge({n: [("cA", "running"), ("g1", "stopped"), ("g2", "stopped")] for n in ["node2", "node3"]},
                  {"node1": [("cA", "running"), ("g1", "running"), ("g2", "running")],
                   ("attrs", "node1"): {"standby": "on"}}))
case("notify-clone-failed-stop", resources=[clone("CL", prim("cA"), NT)],
     constraints=[loc("l1", "CL", "node2", "-INFINITY")],
     status={"node1": [("cA", "running")], "node2": [("cA", "failed-stop")], "node3": [("cA", "running")],
             ("attrs", "node2"): failattrs("cA", "INFINITY", EXEC - 60, "stop_0")})
case("notify-clone-node-offline", resources=[clone("CL", prim("cA"), NT), prim("P")],
     node_modes={"node3": "offline"},
     constraints=[order("o1", "P", "CL")],
     status=merge({"node1": [("cA", "running"), ("P", "stopped")], "node2": [("cA", "stopped"), ("P", "stopped")]}))
case("notify-promotable-fence-promoted", resources=[stonith(), clone("MS", stateful("cS"), PM)],
     props=FENCE, node_modes={"node1": "unclean"},
     status=merge(pstatus({"node1": "promoted", "node2": "running", "node3": "running"}, {"node2": 10, "node3": 5}),
                  {"node2": [FENCER]}))
case("notify-promotable-group", resources=[clone("MS", group("G", [stateful("s1"), stateful("s2")]), PM)],
     status=merge({n: [("s1", "running", SF), ("s2", "running", SF)] for n in N3},
                  {("attrs", "node1"): {"master-s1": "10", "master-s2": "10"}}))
case("notify-clone-move-instance", resources=[clone("CL", prim("cA"), dict(NT, **{"clone-max": "2"}))],
     constraints=[loc("l1", "CL", "node1", "-INFINITY")],
     status={"node1": [("cA", "running")], "node2": [("cA", "running")], "node3": [("cA", "stopped")]})
case("notify-interleave-stop-first", resources=[clone("CL1", prim("cA"), dict(NT, interleave="true")),
                                                clone("CL2", prim("cB"), dict(NT, interleave="true"))],
     constraints=[order("o1", "CL1", "CL2"), colo("c1", "CL2", "CL1", "INFINITY"), loc("l1", "CL1", "node3", "-INFINITY")],
     status={n: [("cA", "running"), ("cB", "running")] for n in N3})
case("notify-promotable-target-unpromoted", resources=[clone("MS", stateful("cS"), dict(PM, **{"target-role": "Unpromoted"}))],
     status=pstatus({"node1": "promoted", "node2": "running", "node3": "running"}, {"node1": 10, "node2": 5, "node3": 5}))
case("notify-clone-after-restart", resources=[prim("P"), clone("CL", prim("cA"), NT)],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[order("o1", "P", "CL")],
     status=merge({"node1": [("P", "failed-monitor"), ("cA", "running")]},
                  {n: [("P", "stopped"), ("cA", "running")] for n in ["node2", "node3"]}))
case("notify-clone-shutdown", resources=[clone("CL", prim("cA"), NT), prim("P")],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[colo("c1", "P", "CL", "INFINITY"), order("o1", "CL", "P")],
     status=merge({n: [("cA", "running"), ("P", "stopped")] for n in ["node1", "node3"]},
                  {"node2": [("cA", "running"), ("P", "running")], ("attrs", "node2"): {"shutdown": str(EXEC - 10)}}))
case("notify-promotable-unpromoted-restart", resources=[clone("MS", stateful("cS"), PM)],
     status=merge(pstatus({"node1": "promoted", "node2": "failed-monitor", "node3": "running"}, {"node1": 10, "node2": 5, "node3": 5})))


def stopped_mon_prim(rid, meta=None):
    return ('<primitive id="%s" class="ocf" provider="pacemaker" type="Dummy">%s<operations>'
            '<op id="%s-mon" name="monitor" interval="10s" timeout="20s"/>'
            '<op id="%s-mon-stopped" name="monitor" interval="45s" role="Stopped" timeout="20s"/>'
            '</operations></primitive>') % (rid, nv(rid + "-meta", meta or {}), rid, rid)


case("stopped-role-monitor-move", resources=[stopped_mon_prim("A"), prim("B")],
     rsc_defaults={"resource-stickiness": "100"},
     constraints=[loc("l1", "A", "node1", "-INFINITY")],
     status=merge(probed(["A", "B"], ["node2", "node3"]), {"node1": [("A", "running"), ("B", "running")]}))
case("stopped-role-monitor-unmanaged", resources=[stopped_mon_prim("A", {"is-managed": "false"}), prim("B")],
     status=merge(probed(["A", "B"], ["node3"]), {"node1": [("A", "running"), ("B", "stopped")],
                                                   "node2": [("A", "failed-monitor"), ("B", "running")]}))

# --- a clone's pseudo action as the first action of an ordering: seen as
# runnable while one of its instances' actions is, even when an ordering
# made the clone action itself unrunnable
case("clone-asym-order-stopped-first",
     resources=[clone("CL1", prim("cA"), {"target-role": "Stopped"}), clone("CL2", prim("cB"))],
     constraints=[order("o1", "CL1", "CL2", ' symmetrical="false"')],
     status={n: [("cA", "running"), ("cB", "running")] for n in N3})
case("clone-group-order-stopped-first",
     resources=[clone("CL1", prim("cA"), {"target-role": "Stopped"}),
                clone("CLG", group("G", [prim("m1"), prim("m2")])), clone("CL3", prim("cC"))],
     constraints=[order("o1", "CL1", "CLG"), order("o2", "CLG", "CL3")],
     status={n: [("cA", "running"), ("m1", "running"), ("m2", "running"), ("cC", "running")] for n in N3})

# --- propagation order, recovery and history details (scheduler fidelity
# fixes of 2026-11-24)
# A stop that failed hard (rc 5) where fencing cannot help blocks the
# resource; B, ordered after it, cannot stop either.
case("failed-stop-hard-blocked", resources=[prim("A"), prim("B")],
     constraints=[order("o1", "B", "A"), loc("l1", "B", "node2", "-INFINITY")],
     status=merge(probed(["A", "B"], ["node1", "node3"]),
                  {"node2": [("A", "failed-stop-hard"), ("B", "running")]}))
# A partially active ordered group stops in sequence past its inactive
# member (m3 stops before m1).
case("group-partial-stop-sequence", resources=[group("G", [prim("m1"), prim("m2"), prim("m3")])],
     constraints=[loc("l1", "G", "node1", "-INFINITY")],
     status=merge(probed(["m1", "m2", "m3"], ["node2", "node3"]),
                  {"node1": [("m1", "running"), ("m2", "stopped"), ("m3", "running")]}))
# A plain primitive found promoted on one node and running on another:
# demoted everywhere, stopped everywhere, started on one node.
case("multiactive-promoted-primitive",
     resources=[prim("P", typ="Stateful", monitor=False)],
     status=merge({"node3": [("P", "stopped", {"typ": "Stateful"})]},
                  {"node1": [("P", "probe-promoted", {"typ": "Stateful"})],
                   "node2": [("P", "probe-running", {"typ": "Stateful"})]}))
# A start still in progress is in the graph: its monitor waits for it.
case("pending-start-monitor", resources=[prim("A")],
     status=merge(probed(["A"], ["node2", "node3"]), {"node1": [("A", "pending-start")]}))
# A resource found running by an old probe is not probed again when a
# failure-timeout expires (a probe's result is no failure).
case("probe-found-active-expired", resources=[prim("A", monitor=False)],
     rsc_defaults={"failure-timeout": "60"},
     status=merge(probed(["A"], ["node2", "node3"]),
                  {"node1": [("A", "probe-running", {"last": EXEC - 86400})]}))
# A clone merges its dependents' preferences in id order: Ag (sticky on
# node2) before Zg (banned from node2), which marks node2 unusable (score 1).
def dependents_merge_case(name, z, a):
    """Zg = [z] banned from node2, Ag = a (sticky on node2), both with CL."""
    case(name,
         resources=[group("Zg", [prim(z)]), group("Ag", [prim(x) for x in a]), clone("CL", prim("cA"))],
         rsc_defaults={"resource-stickiness": "100"},
         constraints=[colo("c1", "Zg", "CL", "1000"), colo("c2", "Ag", "CL", "1000"),
                      loc("l1", "Zg", "node2", "-INFINITY")],
         status=merge(probed([z] + a, ["node3"]),
                      {"node1": [(z, "running")] + [(x, "stopped") for x in a] + [("cA", "running")],
                       "node2": [(z, "stopped")] + [(x, "running") for x in a] + [("cA", "running")],
                       "node3": [("cA", "running")]}))


dependents_merge_case("clone-dependents-merge-order", "z1", ["a1", "a2"])
# The same, sorted by the groups' ids (Ag before Zg) although their first
# members sort the other way (b1 before y1).
dependents_merge_case("clone-dependents-merge-group-id", "b1", ["y1", "y2"])
# In maintenance mode, resources on a node shutting down do not hold its
# shutdown.
case("shutdown-maintenance-mode", resources=[prim("A")],
     props={"maintenance-mode": "true"},
     status=merge(probed(["A"], ["node2", "node3"]),
                  {"node1": [("A", "running")], ("attrs", "node1"): {"shutdown": str(EXEC - 10)}}))
# A finite colocation with a clone applies instance by instance: an
# inactive instance (clone-max 3, node3 in standby) takes its score back
# from every node.
case("colocation-clone-inactive-instance",
     resources=[clone("CL", prim("cA"), {"clone-max": "3"}), prim("P")],
     node_attrs={"node3": {"standby": "on"}},
     constraints=[colo("c1", "P", "CL", "100")],
     status=merge(probed(["cA", "P"], N3)))
# A group restarted by an ordering, with a stopped member between running
# ones: the stopped member has no stop, so nothing links the stops through
# it and the last member restarts because of the ordering itself.
case("group-restart-past-stopped-member",
     resources=[prim("P"), group("G", [prim("m1"), prim("m2"), prim("m3"), prim("m4")])],
     constraints=[order("o1", "P", "G"), loc("l1", "P", "node1", "100")],
     rsc_defaults={"resource-stickiness": "100"},
     status=merge(probed(["P", "m1", "m2", "m3", "m4"], ["node2", "node3"]),
                  {"node1": [("P", "stopped"), ("m1", "running"), ("m2", "stopped"), ("m3", "running"),
                             ("m4", "stopped")]}))

# --- allocation and promotion scores of promotable clones (crm_simulate -sSQ)
# Two promotable clones whose promoted roles must not share a node: the role
# colocation weighs the dependent instances' nodes during placement (undone
# when it leaves an instance nowhere to go), and the primary's promotion
# weights are merged into the dependent clone's before promoting.
case("score-promoted-anti-promoted",
     resources=[clone("MS1", stateful("cS"), PM), clone("MS2", stateful("cT"), PM)],
     constraints=[colo("c1", "MS1", "MS2", "-INFINITY", ' rsc-role="Promoted" with-rsc-role="Promoted"')],
     status=merge({"node1": [("cS", "running", SF), ("cT", "promoted", SF)],
                   "node2": [("cS", "promoted", SF), ("cT", "running", SF)],
                   "node3": [("cS", "stopped", SF), ("cT", "stopped", SF)]},
                  {("attrs", "node1"): {"master-cS": "50", "master-cT": "100"},
                   ("attrs", "node2"): {"master-cS": "100", "master-cT": "50"}}))
# An unmanaged promotable clone keeps its roles: the promoted instance sorts
# first (INFINITY), the unpromoted one cannot be promoted (-INFINITY).
case("score-promotable-unmanaged",
     resources=[clone("MS", stateful("cS"), dict(PM, **{"is-managed": "false"}))],
     status=pstatus({"node1": "promoted", "node2": "running", "node3": "stopped"}, {"node1": 5, "node2": 10}))
# Promoted with a group that is stopped: the colocation leaves the promotion
# priority alone (-1 without a promotion score), nothing is promoted.
case("score-promoted-with-stopped-group",
     resources=[group("G", [prim("g1"), prim("g2")], {"target-role": "Stopped"}), clone("MS", stateful("cS"), PM)],
     constraints=[colo("c1", "MS", "G", "INFINITY", ' rsc-role="Promoted"')],
     status=merge(probed(["g1", "g2"], N3), pstatus({"node1": "running", "node2": "running", "node3": "stopped"}, {})))
# Asymmetric cluster: a mandatory colocation with the promoted role lists the
# promoted instance's node for the dependent even without a location there.
case("score-asymmetric-with-promoted",
     props={"symmetric-cluster": "false"},
     resources=[clone("MS", stateful("cS"), PM), prim("P")],
     constraints=[loc("l1", "MS", "node1", 0), loc("l2", "MS", "node2", 0), loc("l3", "P", "node2", 10),
                  colo("c1", "P", "MS", "INFINITY", ' with-rsc-role="Promoted"')],
     status=merge(probed(["P"], N3), pstatus({"node1": "running", "node2": "running"}, {"node1": 10, "node2": 5})))
