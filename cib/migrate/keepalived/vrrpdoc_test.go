package keepalived

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// failoverConf renders the config keepalived-failover.sh (vrrp.md §6, §8)
// writes for a node, for the given knobs.
func failoverConf(node string, prio int, state string, version int, advert, preempt, kaGlobal, kaInstance string) string {
	extra := ""
	switch {
	case preempt == "no":
		extra = "    nopreempt"
	case strings.HasPrefix(preempt, "delay:"):
		extra = "    preempt_delay " + strings.TrimPrefix(preempt, "delay:")
	}
	return fmt.Sprintf(`global_defs {
    router_id %s
    script_user root
    enable_script_security
%s
}
vrrp_instance VI_1 {
    state %s
    interface eth0
    virtual_router_id 51
    priority %d
    version %d
    advert_int %s
%s
%s
    virtual_ipaddress {
        10.99.0.50/24 dev eth0
    }
    notify /tmp/ka/work/notify-%s.sh
}
`, node, kaGlobal, state, prio, version, advert, extra, kaInstance, node)
}

func TestVRRPDocFailoverConfigs(t *testing.T) {
	for _, version := range []int{2, 3} {
		for _, advert := range []string{"1", "0.1", "0.2"} {
			if version == 2 && advert != "1" {
				continue
			}
			for _, preempt := range []string{"yes", "no", "delay:2"} {
				for _, kaGlobal := range []string{"", "vrrp_higher_prio_send_advert true"} {
					n1State := "MASTER"
					if preempt != "yes" {
						n1State = "BACKUP"
					}
					for _, n := range []struct {
						node, state string
						prio        int
					}{{"n1", n1State, 100}, {"n2", "BACKUP", 90}} {
						name := fmt.Sprintf("v%d-%s-%s-%s-%t", version, advert, preempt, n.node, kaGlobal != "")
						t.Run(name, func(t *testing.T) {
							cfg := mustParse(t, failoverConf(n.node, n.prio, n.state, version, advert, preempt, kaGlobal, ""))
							noWarnings(t, cfg)
							v := cfg.Instance("VI_1")
							wantAdv, _ := parseTimer(advert)
							if v.VirtualRouterID.V != 51 || v.Priority.V != n.prio || v.State.V.String() != n.state ||
								v.Version.V != version || v.AdvertInt.V != wantAdv || v.Interface.V != "eth0" {
								t.Errorf("instance = vrid %d prio %d state %v version %d advert %v", v.VirtualRouterID.V, v.Priority.V, v.State.V, v.Version.V, v.AdvertInt.V)
							}
							if len(v.VirtualIPAddresses) != 1 || v.VirtualIPAddresses[0].Prefix.String() != "10.99.0.50/24" || v.VirtualIPAddresses[0].Dev != "eth0" {
								t.Errorf("VIPs = %+v", v.VirtualIPAddresses)
							}
							if v.Notify.V.Script != "/tmp/ka/work/notify-"+n.node+".sh" {
								t.Errorf("notify = %q", v.Notify.V.Script)
							}
							if got := v.Nopreempt.V; got != (preempt == "no") {
								t.Errorf("nopreempt = %v", got)
							}
							if preempt == "delay:2" && v.PreemptDelay.V != 2*time.Second {
								t.Errorf("preempt_delay = %v", v.PreemptDelay.V)
							}
							if v.HigherPrioSendAdvert.V != (kaGlobal != "") {
								t.Errorf("higher_prio_send_advert = %v", v.HigherPrioSendAdvert.V)
							}
							if cfg.Global.RouterID.V != n.node || cfg.Global.ScriptUser.V != "root" || !cfg.Global.EnableScriptSecurity.V {
								t.Errorf("global = %+v", cfg.Global)
							}
						})
					}
				}
			}
		}
	}
}

// The golden-vector capture configs (vrrp.md §7): one vrrp_instance body
// per packet variant.
var vectorBodies = map[string]string{
	"v2-none":    "state BACKUP\npriority 100\nadvert_int 1\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n}",
	"v2-pass":    "state BACKUP\npriority 100\nadvert_int 1\nauthentication {\nauth_type PASS\nauth_pass 1111\n}\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n}",
	"v2-ah":      "state BACKUP\npriority 100\nadvert_int 1\nauthentication {\nauth_type AH\nauth_pass 1111\n}\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n}",
	"v3-ipv4":    "state BACKUP\nversion 3\npriority 100\nadvert_int 0.1\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n10.99.0.51/24 dev eth0\n}",
	"v3-ipv6":    "state BACKUP\nversion 3\npriority 100\nadvert_int 1\nvirtual_ipaddress {\nfe80::50/64 dev eth0\nfd99::50/64 dev eth0\n}",
	"v3-unicast": "state BACKUP\nversion 3\npriority 100\nadvert_int 1\nunicast_src_ip 10.99.0.11\nunicast_peer {\n10.99.0.12\n}\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n}",
	"v2-vmac":    "state BACKUP\npriority 100\nadvert_int 1\nuse_vmac\nvirtual_ipaddress {\n10.99.0.50/24\n}",
	"v2-prio255": "state MASTER\npriority 255\nadvert_int 1\nvirtual_ipaddress {\n10.99.0.50/24 dev eth0\n}",
}

func TestVRRPDocVectorConfigs(t *testing.T) {
	for name, body := range vectorBodies {
		t.Run(name, func(t *testing.T) {
			cfg := mustParse(t, "global_defs {\n router_id n1\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n"+body+"\n}\n")
			noWarnings(t, cfg)
			v := cfg.Instance("VI_1")
			wantVersion := 2
			if strings.HasPrefix(name, "v3") {
				wantVersion = 3
			}
			if v.Version.V != wantVersion || v.VirtualRouterID.V != 51 {
				t.Errorf("version %d vrid %d", v.Version.V, v.VirtualRouterID.V)
			}
			switch name {
			case "v2-pass", "v2-ah":
				a := v.Authentication
				if a == nil || a.Pass.V.Reveal() != "1111" || string(a.Type.V) != strings.ToUpper(name[3:]) {
					t.Errorf("auth = %+v", a)
				}
			case "v3-ipv4":
				if v.AdvertInt.V != 100*time.Millisecond || len(v.VirtualIPAddresses) != 2 {
					t.Errorf("advert %v vips %d", v.AdvertInt.V, len(v.VirtualIPAddresses))
				}
			case "v3-ipv6":
				if v.McastDstIP.V.String() != "ff02::12" || !v.VirtualIPAddresses[0].Addr().IsLinkLocalUnicast() {
					t.Errorf("mcast %s", v.McastDstIP.V)
				}
			case "v3-unicast":
				if v.UnicastSrcIP.V.String() != "10.99.0.11" || len(v.UnicastPeers) != 1 || v.UnicastPeers[0].Addr.String() != "10.99.0.12" {
					t.Errorf("unicast %v %v", v.UnicastSrcIP.V, v.UnicastPeers)
				}
			case "v2-vmac":
				if !v.UseVMAC.V.Enabled || v.UseVMAC.V.Name != "" {
					t.Errorf("vmac %+v", v.UseVMAC.V)
				}
			case "v2-prio255":
				if v.Priority.V != 255 || v.State.V != StateMaster {
					t.Errorf("prio %d state %v", v.Priority.V, v.State.V)
				}
			}
		})
	}
}
