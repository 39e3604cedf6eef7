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
