# gocrm-impl.sh - pcmk-failover.sh hooks (--impl FILE) for gocrm's crmd.
#
# Sourced by /work/shared/tools/pcmk-lab/pcmk-failover.sh (variables HERE,
# P, VIP, IMPL_OPTS, WORK come from there).  Builds the same lab as
# pcmk-lab.sh: netns-lab.sh namespaces ${P}n1..n3 (10.99.0.11-13), ${P}c1
# (client), ${P}sw (bridge); per node a "holder" process (sleep) owning a
# private mount + UTS namespace inside the node's netns, with
#     $GOCRM_LAB_DIR/nK/run   -> /run        (/run/netns re-bound inside, so
#                                             the fence agent sees the lab)
#     overlay(sbin:/usr/sbin) -> /usr/sbin   (adds fence_pcmklab, where
#                                             stonith/external looks for agents)
# hostname nK.  One crmd per node is started with nsenter into the holder
# (setsid, detached, stderr -> $GOCRM_LAB_DIR/nK/crmd.log):
#     crmd --name nK --bind 10.99.0.1K:7946 --join <the others>
#          --bootstrap-expect 3 --data-dir $D/nK/data --socket /run/gocrm/crmd.sock
#          --keyfile $D/authkey --tls-dir $D/pki   (crm cluster init/cert)
# The data dir persists across crashes (a disk), /run is emptied on "boot".
# The CIB is cib.crm of this directory (same resources as the Pacemaker lab:
# fence_pcmklab stonith, IPaddr2 + anything group, stickiness 100).
#
# Environment: GOCRM_BIN (dir with crmd and crm; default bin/ of the repository),
# GOCRM_LAB_DIR (default /tmp/gocrm-lab), GOCRM_LOG_LEVEL (default info),
# GOCRM_CIB (configuration to load; default cib.crm here = the Pacemaker
# lab's agents IPaddr2 + anything; cib-native.crm = gocrm's built-in
# ocf:gocrm:IPaddr2 + ocf:gocrm:httpd), GOCRM_REAPER (default 1: crmd runs
# under the lab's reaper.py child subreaper, as pacemakerd does in pcmk-lab.sh,
# so orphans such as anything's background server are reaped at once; 0 = off).
# IMPL_OPTS: extra crmd flags (e.g. '--quorum-lease 2s').

GOCRM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GOCRM_BIN=${GOCRM_BIN:-$(cd "$GOCRM_HERE/../../.." && pwd)/bin}
export GOCRM_LAB_DIR=${GOCRM_LAB_DIR:-/tmp/gocrm-lab}
GL=$GOCRM_LAB_DIR
GOCRM_NETNS_LAB=${NETNS_LAB:-$HERE/../netns-lab.sh}
GOCRM_NODES=(n1 n2 n3)
GOCRM_PORT=7946
GOCRM_CIB=${GOCRM_CIB:-$GOCRM_HERE/cib.crm}

glog() { echo "[$(date +%H:%M:%S.%3N)] gocrm-impl: $*" >&2; }

g_holder() { # NODE -> pid of the node's live holder, or nothing
    local f=$GL/$1/holder.pid p
    [[ -s $f ]] || return 0
    p=$(cat "$f")
    [[ -r /proc/$p/stat && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] || return 0
    [[ $(cat "/proc/$p/comm" 2>/dev/null) == sleep ]] && echo "$p"
    return 0
}
g_nx() { # NODE CMD...: run inside the node's namespaces
    local n=$1 h; shift
    h=$(g_holder "$n"); [[ -n $h ]] || { echo "gocrm-impl: node $n has no holder" >&2; return 1; }
    nsenter -t "$h" -m -u -n --wd=/ -- "$@"
}
g_sock() { echo "$GL/$1/run/gocrm/crmd.sock"; }
g_crm() { # NODE ARGS...: crm against NODE's crmd (unix socket, reachable from the host)
    local n=$1; shift
    CRM_SOCKET=$(g_sock "$n") timeout 10 "$GOCRM_BIN/crm" "$@"
}
g_live() { # [EXCEPT]: first node whose crmd answers
    local n
    for n in "${GOCRM_NODES[@]}"; do
        [[ $n == "${1:-}" ]] && continue
        [[ -S $(g_sock "$n") && -n $(g_holder "$n") ]] || continue
        g_crm "$n" status --output-as=xml >/dev/null 2>&1 && { echo "$n"; return 0; }
    done
    return 1
}
g_status() { # [EXCEPT]: status XML from a live node, stdout; parsed by status.py
    local n; n=$(g_live "${1:-}") || return 1
    g_crm "$n" status --output-as=xml 2>/dev/null
}
g_q() { # QUERY [ARGS] [EXCEPT=] : query the status XML (see status.py)
    local ex=${GQ_EXCEPT:-}
    g_status "$ex" | python3 "$GOCRM_HERE/status.py" "$@"
}

g_prepare() { # NODE: host-side directories (data kept across restarts)
    local n=$1 s=$GL/$1
    mkdir -p "$s"/{data,run/www,sbin}
    install -m 755 "$HERE/fence_pcmklab" "$s/sbin/fence_pcmklab"
    echo "$n" >"$s/run/www/index.html"
}

g_boot_holder() { # NODE: fresh /run (keep web root), network reset by the harness/us
    local n=$1 s=$GL/$1 i
    [[ -n $(g_holder "$n") ]] && return 0
    local a
    for a in $(ip -n "$P$n" -4 -o addr show dev eth0 | awk '{print $4}'); do
        [[ $a == "10.99.0.1${n#n}/24" ]] || ip -n "$P$n" addr del "$a" dev eth0
    done
    ip -n "$P$n" link set eth0 up
    find "$s/run" -mindepth 1 -maxdepth 1 ! -name www ! -name netns -exec rm -rf {} +
    rm -f "$s/holder.pid"
    mkdir -p "$s/run/netns"
    setsid -f ip netns exec "$P$n" unshare --mount --uts --propagation private -- /bin/sh -c '
        set -e
        s=$1; n=$2
        hostname "$n"
        mount --rbind /run/netns "$s/run/netns"
        mount --rbind "$s/run" /run
        mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm
        mount -t overlay overlay -o "lowerdir=$s/sbin:/usr/sbin" /usr/sbin
        echo $$ > "$s/holder.pid"
        exec sleep infinity' sh "$s" "$n" </dev/null >>"$s/holder.log" 2>&1
    for ((i = 0; i < 100; i++)); do [[ -s $s/holder.pid ]] && break; sleep 0.02; done
    [[ -n $(g_holder "$n") ]] || { glog "holder of $n did not start: $(cat "$s/holder.log")"; return 1; }
}

g_start_crmd() { # NODE
    local n=$1 s=$GL/$1 h m join=()
    h=$(g_holder "$n")
    for m in "${GOCRM_NODES[@]}"; do [[ $m != "$n" ]] && join+=(--join "10.99.0.1${m#n}:$GOCRM_PORT"); done
    echo "=== start $(date +%s.%N)" >>"$s/crmd.log"
    # shellcheck disable=SC2086  # IMPL_OPTS is a list of flags
    local reaper=("$HERE/reaper.py"); [[ ${GOCRM_REAPER:-1} == 0 ]] && reaper=()
    setsid -f nsenter -t "$h" -m -u -n --wd=/ -- "${reaper[@]}" "$GOCRM_BIN/crmd" --name "$n" --data-dir "$s/data" \
        --bind "10.99.0.1${n#n}:$GOCRM_PORT" "${join[@]}" --bootstrap-expect 3 \
        --socket /run/gocrm/crmd.sock --keyfile "$GL/authkey" --tls-dir "$GL/pki" --log-level "${GOCRM_LOG_LEVEL:-info}" \
        ${IMPL_OPTS:-} </dev/null >>"$s/crmd.log" 2>&1
}

g_kill_node() { # NODE: SIGKILL everything in the node's netns, by PID
    local n=$1 i p
    for ((i = 0; i < 100; i++)); do
        p=$(ip netns pids "$P$n" 2>/dev/null || true); [[ -z $p ]] && return 0
        # shellcheck disable=SC2086
        kill -KILL $p 2>/dev/null || true
        sleep 0.02
    done
    glog "warning: processes survive in $P$n"
}

impl_describe() {
    echo "gocrm crmd ($("${GO:-/usr/local/go/bin/go}" version -m "$GOCRM_BIN/crmd" 2>/dev/null | awk 'NR==1{print $2}')), memberlist+raft; cib $(basename "$GOCRM_CIB"), fence_pcmklab; reaper ${GOCRM_REAPER:-1}; opts: ${IMPL_OPTS:-defaults}"
}

impl_up() {
    impl_down
    mkdir -p "$GL"
    LAB_PREFIX=$P "$GOCRM_NETNS_LAB" up -n 3 >&2 || return 1
    "$GOCRM_BIN/crmd" keygen "$GL/authkey" || return 1
    # mutual TLS between the nodes: cluster CA + one certificate per node
    "$GOCRM_BIN/crm" cluster init --pki-dir "$GL/pki" --name n1 >/dev/null || return 1
    "$GOCRM_BIN/crm" cluster cert n2 --pki-dir "$GL/pki" >/dev/null || return 1
    "$GOCRM_BIN/crm" cluster cert n3 --pki-dir "$GL/pki" >/dev/null || return 1
    local n i
    for n in "${GOCRM_NODES[@]}"; do g_prepare "$n"; g_boot_holder "$n" || return 1; done
    for n in "${GOCRM_NODES[@]}"; do g_start_crmd "$n"; done
    for ((i = 0; i < 240; i++)); do
        g_q online 2>/dev/null | grep -qx 'n1 n2 n3' && break
        sleep 0.25
    done
    sed "s#@LAB_DIR@#$GL#g; s#@LAB_PREFIX@#$P#g; s#@VIP@#$VIP#g" "$GOCRM_CIB" >"$GL/cib.crm"
    g_crm "$(g_live)" configure load update "$GL/cib.crm" >&2 || { glog "configure failed"; return 1; }
    impl_healthy 90 || { glog "not healthy: $(g_crm "$(g_live)" status 2>&1)"; return 1; }
    glog "cluster up: DC $(impl_dc), group on $(impl_where)"
}

impl_down() {
    local n
    for n in "${GOCRM_NODES[@]}"; do
        ip -n "$P$n" link show >/dev/null 2>&1 && g_kill_node "$n"
    done
    [[ -x $GOCRM_NETNS_LAB ]] && LAB_PREFIX=$P "$GOCRM_NETNS_LAB" down >/dev/null 2>&1
    [[ ${GOCRM_LAB_KEEP_DIR:-0} == 1 ]] || rm -rf "$GL"
    return 0
}

impl_healthy() { # SEC
    local lim=${1:-90} i
    for ((i = 0; i < lim * 4; i++)); do
        g_q healthy >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    return 1
}
impl_where() { g_q where 2>/dev/null || echo -; }
impl_dc() { g_q dc 2>/dev/null || echo -; }
impl_start() { # NODE: boot (fresh /run) + crmd
    g_prepare "$1"; g_boot_holder "$1" && g_start_crmd "$1"
}
impl_move() { # NODE
    local to=$1 n i
    n=$(g_live) || return 1
    g_crm "$n" resource move g-web "$to" >/dev/null 2>&1 || glog "move g-web $to failed"
    for ((i = 0; i < 240; i++)); do [[ $(impl_where) == "$to" ]] && impl_healthy 1 && break; sleep 0.25; done
    g_crm "$n" resource clear g-web >/dev/null 2>&1 || glog "clear g-web failed"
    impl_healthy 60
}
impl_standby() { local n; n=$(g_live "$1") && g_crm "$n" node standby "$1"; }
impl_unstandby() { local n; n=$(g_live "$1") && g_crm "$n" node online "$1"; }
impl_settled() { # TARGET SCENARIO
    local t=$1 sc=$2
    GQ_EXCEPT=$t g_q settled "$t" "$sc" >/dev/null 2>&1
}
impl_collect() { # RUNDIR TARGET T0
    local r=$1 t=$2 t0=$3 end
    end=$(awk '/^END/{print $2}' "$r/events")
    python3 "$GOCRM_HERE/timeline.py" "$GL" "$t0" "$t" "$end" >"$r/timeline" 2>"$r/timeline.err" || true
}
impl_save_logs() { # DIR
    local d=$1 n
    mkdir -p "$d"
    for n in "${GOCRM_NODES[@]}"; do cp "$GL/$n/crmd.log" "$d/$n.crmd.log" 2>/dev/null || true; done
    cp "$GL/fence.log" "$GL/cib.crm" "$d/" 2>/dev/null || true
    n=$(g_live) && g_crm "$n" configure show >"$d/cib.show" 2>/dev/null
    n=$(g_live) && g_crm "$n" status --output-as=xml >"$d/status.xml" 2>/dev/null
    return 0
}
