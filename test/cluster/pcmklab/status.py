#!/usr/bin/env python3
"""Query gocrm's `crm status --output-as=xml` (stdin) for gocrm-impl.sh.

Usage: status.py online | dc | where | healthy | settled TARGET SCENARIO
Exit status 0 = true / found, 1 = false.  Prints the answer for online
(sorted online node names), dc and where (node or '-').
"""
import sys
import xml.etree.ElementTree as ET


def main():
    try:
        root = ET.fromstring(sys.stdin.read())
    except ET.ParseError:
        if sys.argv[1] in ("dc", "where"):
            print("-")
        return 1
    nodes = {n.get("name"): n for n in root.iter("node") if n.get("type") is not None}
    online = sorted(n for n, e in nodes.items() if e.get("online") == "true")
    dc = root.find("summary/current_dc")
    dcname = dc.get("name") if dc is not None and dc.get("present") == "true" else "-"
    rsc = {}
    for r in root.iter("resource"):
        rsc[r.get("id")] = r
    def where(rid):
        r = rsc.get(rid)
        if r is None or r.get("active") != "true" or r.get("role") != "Started" \
                or r.get("failed") == "true" or r.get("nodes_running_on") != "1":
            return None
        on = [n.get("name") for n in r.findall("node")]
        return on[0] if len(on) == 1 else None
    w_vip, w_web = where("vip"), where("web")
    svc = w_vip if w_vip is not None and w_vip == w_web else None
    bad_node = any(e.get(a) == "true" for e in nodes.values() for a in ("pending", "unclean", "shutdown"))
    bad_rsc = any(r.get("role") not in ("Started",) or r.get("failed") == "true" or r.get("blocked") == "true"
                  for r in rsc.values())
    failures = root.find("failures")
    has_fail = failures is not None and len(failures) > 0
    cmd = sys.argv[1]
    if cmd == "online":
        print(" ".join(online))
        return 0
    if cmd == "dc":
        print(dcname)
        return 0 if dcname != "-" else 1
    if cmd == "where":
        print(svc or "-")
        return 0 if svc else 1
    if cmd == "healthy":
        ok = online == ["n1", "n2", "n3"] and dcname != "-" and svc is not None and not bad_node \
            and not bad_rsc and not has_fail
        return 0 if ok else 1
    if cmd == "settled":
        target, scenario = sys.argv[2], sys.argv[3]
        t = nodes.get(target)
        if t is None or svc is None or bad_rsc or dcname == "-":
            return 1
        if scenario == "standby":
            return 0 if t.get("standby") == "true" and svc != target else 1
        if t.get("online") == "true" or t.get("unclean") == "true" or t.get("pending") == "true":
            return 1
        return 0 if svc != target else 1
    print("unknown query", cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
