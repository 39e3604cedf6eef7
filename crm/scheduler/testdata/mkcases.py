#!/usr/bin/env python3
"""Write the hand-made scheduler test CIBs (testdata/cases/NAME.xml).

Each case is a small, purpose-built cluster written for gocrm's scheduler
tests. Expected outputs come from the real crm_simulate via regen.sh; this
script only produces inputs. Run it from any directory:

    python3 mkcases.py && ./regen.sh
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")
UUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
EXEC = 1750000000  # 2025-06-15T15:06:40Z
D0 = "f2317cad3d54cec5d7d7aa7d0bf35cf8"   # start_0 / monitor_0 of a param-less Dummy
D10 = "4811cef7f7f94e3a35a70be7916cb2fd"  # monitor interval=10s timeout=20s

CASES = {}


def nv(set_id, pairs, tag="meta_attributes"):
    if not pairs:
        return ""
    body = "".join('<nvpair id="%s-%s" name="%s" value="%s"/>' % (set_id, k, k, v)
                   for k, v in pairs.items())
    return '<%s id="%s">%s</%s>' % (tag, set_id, body, tag)


def prim(rid, meta=None, monitor=True, params=None, cls="ocf", prov="pacemaker", typ="Dummy"):
    ops = ""
    if monitor:
        ops = '<operations><op id="%s-monitor-10s" name="monitor" interval="10s" timeout="20s"/></operations>' % rid
    provattr = ' provider="%s"' % prov if prov else ""
    return '<primitive id="%s" class="%s"%s type="%s">%s%s%s</primitive>' % (
        rid, cls, provattr, typ, nv(rid + "-meta", meta or {}),
        nv(rid + "-params", params or {}, "instance_attributes"), ops)


def stonith(rid="fencer"):
    return ('<primitive id="%s" class="stonith" type="fence_dummy">'
            '<operations><op id="%s-monitor-60s" name="monitor" interval="60s"/></operations>'
            '</primitive>') % (rid, rid)


def group(gid, members, meta=None):
    return '<group id="%s">%s%s</group>' % (gid, nv(gid + "-meta", meta or {}), "".join(members))


def clone(cid, child, meta=None):
    return '<clone id="%s">%s%s</clone>' % (cid, nv(cid + "-meta", meta or {}), child)


_call = [10]


def op(rid, node, task, interval, rc, target=None, last=None, digest=True):
    _call[0] += 1
    cid = _call[0]
    if target is None:
        target = 7 if (task == "monitor" and interval == 0) else 0
    key = "%d:1:%d:%s" % (cid, target, UUID)
    name = "%s_%s_%d" % (rid.split(":")[0], task, interval)
    opid = name if rc == target else "%s_last_failure_0" % rid.split(":")[0]
    if task == "monitor" and interval == 0 and rc == target:
        opid = "%s_last_0" % rid.split(":")[0]
    if task == "start" and rc == target:
        opid = "%s_last_0" % rid.split(":")[0]
    dig = ""
    if digest:
        dig = ' op-digest="%s"' % (D10 if interval else D0)
    lrc = last if last is not None else EXEC - 3600
    return ('<lrm_rsc_op id="%s" operation_key="%s" operation="%s" crm-debug-origin="do_update_resource" '
            'crm_feature_set="3.16.1" transition-key="%s" transition-magic="0:%d;%s" exit-reason="" '
            'on_node="%s" call-id="%d" rc-code="%d" op-status="0" interval="%d" last-rc-change="%d" '
            'exec-time="10" queue-time="0"%s/>') % (
        opid, name, task, key, rc, key, node, cid, rc, interval, lrc, dig)


def pending_op(rid, node, task):
    """An operation still in progress (call id -1, op-status -1)."""
    key = "0:1:0:%s" % UUID
    name = "%s_%s_0" % (rid.split(":")[0], task)
    return ('<lrm_rsc_op id="%s" operation_key="%s" operation="%s" crm-debug-origin="do_update_resource" '
            'crm_feature_set="3.16.1" transition-key="%s" transition-magic="-1:193;%s" exit-reason="" '
            'on_node="%s" call-id="-1" rc-code="193" op-status="-1" interval="0" last-rc-change="%d" '
            'exec-time="0" queue-time="0" op-digest="%s"/>') % (
        name, name, task, key, key, node, EXEC - 60, D0)


def lrm(rid, node, state, cls="ocf", prov="pacemaker", typ="Dummy", last=None):
    """state: running | stopped | failed-monitor | failed-start | failed-stop | running-nomon | promoted |
    failed-stop-hard (stop rc 5) | probe-running | probe-promoted (found by a probe) | pending-start"""
    ops = []
    base = rid
    if state == "stopped":
        ops.append(op(base, node, "monitor", 0, 7))
    elif state in ("running", "running-nomon"):
        ops.append(op(base, node, "start", 0, 0))
        if state == "running":
            ops.append(op(base, node, "monitor", 10000, 0))
    elif state == "failed-monitor":
        ops.append(op(base, node, "start", 0, 0))
        ops.append(op(base, node, "monitor", 10000, 7, target=0, last=last))
    elif state == "failed-start":
        ops.append(op(base, node, "start", 0, 1, target=0, last=last))
    elif state == "promoted":
        ops.append(op(base, node, "start", 0, 0))
        ops.append(op(base, node, "promote", 0, 0))
    elif state == "failed-stop":
        ops.append(op(base, node, "start", 0, 0))
        ops.append(op(base, node, "stop", 0, 1, target=0, last=last))
    elif state == "failed-stop-hard":
        ops.append(op(base, node, "start", 0, 0))
        ops.append(op(base, node, "stop", 0, 5, target=0, last=last))
    elif state == "probe-running":
        ops.append(op(base, node, "monitor", 0, 0, target=7, last=last))
    elif state == "probe-promoted":
        ops.append(op(base, node, "monitor", 0, 8, target=7, last=last))
    elif state == "pending-start":
        ops.append(pending_op(base, node, "start"))
    else:
        raise ValueError(state)
    provattr = ' provider="%s"' % prov if prov else ""
    return '<lrm_resource id="%s" class="%s"%s type="%s">%s</lrm_resource>' % (
        rid, cls, provattr, typ, "".join(ops))


def node_state(nid, uname, mode="online", attrs=None, rscs=()):
    """mode: online | offline | unclean | nostate"""
    if mode == "nostate":
        return ""
    if mode == "online":
        a = 'in_ccm="true" crmd="online" join="member" expected="member"'
    elif mode == "offline":
        a = 'in_ccm="false" crmd="offline" join="down" expected="down"'
    elif mode == "unclean":
        a = 'in_ccm="false" crmd="offline" join="member" expected="member"'
    else:
        raise ValueError(mode)
    ta = ""
    if attrs:
        ta = '<transient_attributes id="%s">%s</transient_attributes>' % (
            nid, nv("status-" + nid, attrs, "instance_attributes"))
    lr = '<lrm id="%s"><lrm_resources>%s</lrm_resources></lrm>' % (nid, "".join(rscs))
    return '<node_state id="%s" uname="%s" crm-debug-origin="do_update_resource" %s>%s%s</node_state>' % (
        nid, uname, a, ta, lr)


def case(name, nodes=3, resources=(), constraints=(), status=None, props=None, quorum=True,
         node_attrs=None, rsc_defaults=None, execdate=EXEC, node_modes=None, tags=None):
    """status: {nodename: [(rid, state, kwargs?)...]}; node_attrs: {node: {attr: val}} (config);
    node_modes: {node: mode}; transient attrs via status key ("attrs", node)."""
    _call[0] = 10
    props = dict({"stonith-enabled": "false", "no-quorum-policy": "stop"}, **(props or {}))
    names = ["node%d" % i for i in range(1, nodes + 1)] if isinstance(nodes, int) else list(nodes)
    status = status or {}
    node_attrs = node_attrs or {}
    node_modes = node_modes or {}
    nodes_xml = "".join('<node id="%d" uname="%s">%s</node>' % (
        i + 1, n, nv("nodes-%d" % (i + 1), node_attrs.get(n, {}), "instance_attributes"))
        for i, n in enumerate(names))
    rd = ""
    if rsc_defaults:
        rd = "<rsc_defaults>%s</rsc_defaults>" % nv("rsc-options", rsc_defaults)
    states = []
    for i, n in enumerate(names):
        entries = status.get(n, [])
        rscs = []
        for e in entries:
            rid, st = e[0], e[1]
            kw = e[2] if len(e) > 2 else {}
            rscs.append(lrm(rid, n, st, **kw))
        states.append(node_state(str(i + 1), n, node_modes.get(n, "online"),
                                 status.get(("attrs", n)), rscs))
    if tags:
        rd += "<tags>%s</tags>" % "".join('<tag id="%s">%s</tag>' % (t, "".join('<obj_ref id="%s"/>' % o for o in objs))
                                          for t, objs in tags.items())
    cfg = nv("cib-bootstrap-options", props, "cluster_property_set")
    xml = ('<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="10" num_updates="0" '
           'admin_epoch="0" have-quorum="%d" dc-uuid="1" execution-date="%d">\n'
           '  <configuration>\n    <crm_config>%s</crm_config>\n    <nodes>%s</nodes>\n'
           '    <resources>%s</resources>\n    <constraints>%s</constraints>\n    %s\n'
           '  </configuration>\n  <status>%s</status>\n</cib>\n') % (
        1 if quorum else 0, execdate, cfg, nodes_xml, "".join(resources),
        "".join(constraints), rd, "".join(states))
    CASES[name] = xml


def loc(cid, rsc, node, score):
    return '<rsc_location id="%s" rsc="%s" node="%s" score="%s"/>' % (cid, rsc, node, score)


def colo(cid, rsc, with_rsc, score, extra=""):
    return '<rsc_colocation id="%s" rsc="%s" with-rsc="%s" score="%s"%s/>' % (cid, rsc, with_rsc, score, extra)


def order(cid, first, then, extra=""):
    return '<rsc_order id="%s" first="%s" then="%s"%s/>' % (cid, first, then, extra)


def probed(rids, nodes, skip=()):
    """stopped probe entries for every rid on each node in nodes."""
    return {n: [(r, "stopped") for r in rids if (r, n) not in skip] for n in nodes}


def merge(*dicts):
    out = {}
    for d in dicts:
        for k, v in d.items():
            if isinstance(v, list):
                out.setdefault(k, []).extend(v)
            else:
                out[k] = v
    return out


N3 = ["node1", "node2", "node3"]
# ---------------------------------------------------------------- cases
exec(open(os.path.join(HERE, "cases.py")).read())

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, xml in sorted(CASES.items()):
        with open(os.path.join(OUT, name + ".xml"), "w") as f:
            f.write(xml)
    print("wrote %d cases to %s" % (len(CASES), OUT))
