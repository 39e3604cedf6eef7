#!/usr/bin/env python3
"""Write the hand-made clusters of this directory (NAME.xml), built with
the helpers of crm/scheduler/testdata/mkcases.py: anonymous clone
instances found under other instance numbers (duplicate histories on a
node become orphans, a history entry renames the instance it is mapped
to), and failed resources active on several nodes (which stops Pacemaker
creates while unpacking the status). Record crm_simulate's output for
them with ./regen.sh.

    python3 gen.py   then   ./regen.sh
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mk", os.path.join(HERE, "../../../scheduler/testdata/mkcases.py"))
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)

CASES = {}


def case(name, **kw):
    mk.CASES.clear()
    mk.case(name, **kw)
    CASES[name] = mk.CASES[name]


anon = {"clone-max": "3", "clone-node-max": "1"}
d = mk.clone("C", mk.prim("d"), anon)
# Three histories of one anonymous instance on node1, two on node2.
case("anon-dup-orphans", resources=[d],
     status={"node1": [("d:0", "running"), ("d:1", "running"), ("d:2", "running")],
             "node2": [("d:0", "running"), ("d:1", "running")],
             "node3": [("d:2", "stopped")]})
# A single history under a higher instance number, banned from its node.
case("anon-renamed-ban", resources=[d],
     constraints=[mk.loc("ban", "C", "node2", "-INFINITY")],
     status={"node1": [("d:2", "running")], "node2": [("d:1", "running")],
             "node3": [("d:0", "stopped")]})

# An entry that leaves its instance stopped does not rename it.
case("anon-stopped-entry", resources=[d],
     constraints=[mk.loc("ban", "C", "node2", "-INFINITY")],
     status={"node1": [("d:2", "running")], "node2": [("d:1", "running")],
             "node3": [("d:7", "stopped"), ("d:0", "stopped")]})
# An entry under the bare base id: the executor knows every instance by it.
case("anon-base-entry", resources=[d],
     constraints=[mk.loc("ban", "C", "node2", "-INFINITY")],
     status={"node1": [("d:2", "running")], "node2": [("d:1", "running")],
             "node3": [("d", "stopped")]})
# A failed instance found under its own id next to a renamed one.
case("anon-failed-own-id", resources=[d],
     constraints=[mk.loc("ban", "C", "node3", "-INFINITY")],
     status={"node2": [("d:1", "failed-monitor"), ("d:2", "failed-monitor")],
             "node3": [("d:3", "running"), ("d:2", "running")]})

g = mk.clone("CG", mk.group("g", [mk.prim("a"), mk.prim("b")]), {"clone-max": "2", "clone-node-max": "1"})
# Cloned group members found under another instance number, and a duplicate.
case("group-renamed-dup", resources=[g],
     status={"node1": [("b:1", "running"), ("a:1", "running"), ("a:0", "running")],
             "node2": [("a:0", "running"), ("b:0", "running")]})
# The same, banned from node1: every stop there uses the history names.
case("group-renamed-ban", resources=[g],
     constraints=[mk.loc("ban", "CG", "node1", "-INFINITY")],
     status={"node1": [("b:1", "running"), ("a:1", "running"), ("a:0", "running")],
             "node2": [("a:0", "running"), ("b:0", "running")]})

# A stopped history entry of a member beside an active duplicate: the
# orphan it creates is named by its instance id, not by the stopped entry.
case("group-stopped-dup", resources=[g],
     status={"node1": [("a:0", "stopped"), ("b:1", "running"), ("b:0", "stopped")],
             "node2": [("b:2", "failed-monitor"), ("a", "failed-monitor")]})

# Renamed instances on a node to be fenced: their stops are pseudo actions
# keyed by the history id they were found active under.
fencer = ("fencer", "running-nomon", {"cls": "stonith", "prov": None, "typ": "fence_dummy"})
case("renamed-fenced", resources=[mk.stonith(), d, g], props={"stonith-enabled": "true"},
     node_modes={"node2": "unclean"},
     status={"node1": [fencer, ("d:1", "running"), ("a:1", "running"), ("b:1", "running")],
             "node2": [("d:2", "running"), ("d:0", "stopped"), ("b:0", "running"), ("a:2", "running")]})

p = mk.prim("p")
# Active on two nodes, failed on the later one only.
case("multi-active-failed-node2", resources=[p],
     status={"node1": [("p", "running")], "node2": [("p", "failed-monitor")], "node3": [("p", "stopped")]})
# Active on two nodes, failed on the earlier one only.
case("multi-active-failed-node1", resources=[p],
     status={"node1": [("p", "failed-monitor")], "node2": [("p", "running")], "node3": [("p", "stopped")]})
# Active on two nodes, failed on both.
case("multi-active-failed-both", resources=[p],
     status={"node1": [("p", "failed-monitor")], "node2": [("p", "failed-start")], "node3": [("p", "stopped")]})
# Active on two nodes (found by a probe), no failure.
case("multi-active-probe", resources=[p],
     status={"node1": [("p", "running")], "node2": [("p", "probe-running")], "node3": [("p", "stopped")]})

if __name__ == "__main__":
    for name, xml in sorted(CASES.items()):
        with open(os.path.join(HERE, name + ".xml"), "w") as f:
            f.write(xml)
    print("wrote %d cases to %s" % (len(CASES), HERE))
