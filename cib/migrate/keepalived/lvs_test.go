package keepalived

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const fullLVS = `
track_file rs_maint {
    file /run/rs-maint
}
virtual_server_group WEB {
    10.0.0.1 80
    10.0.0.10-20 8080
    2001:db8::a-1f
    fwmark 7 inet
    fwmark 8 inet6
}
virtual_server 192.0.2.10 443 {
    delay_loop 10
    lb_algo mh
    mh-port
    mh-fallback
    lb_kind DR
    persistence_timeout
    persistence_granularity 255.255.255.0
    protocol TCP
    quorum 3
    hysteresis 1
    quorum_up "/bin/up now"
    quorum_down /bin/down
    sorry_server 192.0.2.99 443
    sorry_server_inhibit
    alpha
    omega
    ha_suspend
    inhibit_on_failure
    virtualhost www.example.com
    connect_timeout 7
    retry 4
    delay_before_retry 2

    real_server 10.1.0.1 443 {
        weight 3
        notify_up "/bin/rs up"
        notify_down /bin/rsdown
        uthreshold 100
        lthreshold 10
        HTTP_GET {
            url {
                path /health
                digest 640205B7B0FC66C1EA91C463FAC6334D
                status_code 200 301-302
                virtualhost api.example.com
            }
            url {
                path /ready
            }
            connect_ip 10.1.0.100
            connect_port 8080
            bindto 10.1.0.254
            connect_timeout 2.5
            nb_get_retry 5
            delay_before_retry 0.5
            http_protocol 1.1
            warmup 3
        }
    }
    real_server 10.1.0.2 8443 {
        lvs_method NAT
        SSL_GET {
            url { path / }
            enable_sni
        }
        TCP_CHECK {
            connect_port 22
        }
    }
    real_server 10.1.0.3 443 {
        MISC_CHECK {
            misc_path "/usr/local/bin/check 10.1.0.3"
            misc_timeout 5
            misc_dynamic
            user nobody
        }
        DNS_CHECK {
            type A
            name example.com
        }
        UDP_CHECK {
            connect_port 53
            payload deadbeef
            require_reply
            min_reply_length 4
        }
        PING_CHECK {
        }
        FILE_CHECK {
            track_file rs_maint
            dynamic
            weight 2 reverse
        }
        SMTP_CHECK {
            helo_name mx.example.com
            host {
                connect_ip 10.1.0.31
                connect_port 587
            }
            host {
                connect_ip 10.1.0.32
            }
        }
        BFD_CHECK {
            name bfd1
        }
    }
}
virtual_server fwmark 7 {
    lvs_sched sh
    lvs_method TUN type gue port 6080 nocsum
    real_server 10.2.0.1 {
        TCP_CHECK {
            connect_port 80
        }
    }
}
virtual_server group WEB {
    lb_algo lblcr
    protocol UDP
    real_server 10.3.0.1 80 {
        lvs_method TUN
        TCP_CHECK { connect_timeout 1 }
    }
}
virtual_server 2001:db8::80 80 {
    protocol UDP
    ops
    real_server 2001:db8::81 80 {
        TCP_CHECK { connect_timeout 1 }
    }
}
`

func TestFullLVS(t *testing.T) {
	cfg := mustParse(t, fullLVS)
	var warns []string
	for _, w := range cfg.Warnings {
		warns = append(warns, w.String())
	}
	if got := strings.Join(warns, "\n"); got != "keepalived.conf:56: virtual_server 192.0.2.10 443: real_server 10.1.0.1 443: HTTP_GET: nb_get_retry: deprecated spelling of retry" {
		t.Errorf("warnings:\n%s", got)
	}
	if len(cfg.VirtualServers) != 4 {
		t.Fatalf("virtual servers = %d", len(cfg.VirtualServers))
	}
	g := cfg.VirtualServerGroup("WEB")
	if len(g.Entries) != 5 {
		t.Fatalf("group entries = %d", len(g.Entries))
	}
	e := g.Entries
	if e[0].Addr.String() != "10.0.0.1" || e[0].RangeEnd != e[0].Addr || e[0].Port.V != 80 ||
		e[1].Addr.String() != "10.0.0.10" || e[1].RangeEnd.String() != "10.0.0.20" || e[1].Port.V != 8080 ||
		e[2].Addr.String() != "2001:db8::a" || e[2].RangeEnd.String() != "2001:db8::1f" || e[2].Port.Set ||
		e[3].Fwmark != 7 || e[3].Addr.IsValid() || e[3].Family != "inet" || e[4].Family != "inet6" {
		t.Errorf("group = %+v", e)
	}

	vs := cfg.VirtualServers[0]
	ms := time.Millisecond
	checks := []check{
		{"kind", vs.Kind, VSAddr},
		{"addr", vs.Addr.String() + fmt.Sprint(vs.Port.V), "192.0.2.10443"},
		{"delay_loop", vs.DelayLoop.V, 10 * time.Second},
		{"lb_algo", vs.LBAlgo.V, "mh"},
		{"sched flags", fmt.Sprint(vs.SchedFlags[0].V, ",", vs.SchedFlags[1].V), "mh-port,mh-fallback"},
		{"lb_kind", vs.LBKind.V, LBDR},
		{"persistence default", vs.PersistenceTimeout.V, 360 * time.Second},
		{"granularity", vs.PersistenceGranularity.V, 24},
		{"protocol", vs.Protocol.V, "TCP"},
		{"quorum", vs.Quorum.V, 3},
		{"hysteresis", vs.Hysteresis.V, 1},
		{"quorum_up", vs.QuorumUp.V.Script, "/bin/up now"},
		{"quorum_down", vs.QuorumDown.V.Script, "/bin/down"},
		{"sorry", fmt.Sprint(vs.SorryServer.Addr, ":", vs.SorryServer.Port), "192.0.2.99:443"},
		{"flags", words(vs.SorryServerInhibit.V, vs.Alpha.V, vs.Omega.V, vs.HASuspend.V, vs.InhibitOnFailure.V), "true true true true true"},
		{"virtualhost", vs.Virtualhost.V, "www.example.com"},
	}
	rs := vs.RealServers[0]
	h := rs.Checkers[0]
	checks = append(checks, []check{
		{"rs", rs.Addr.String() + fmt.Sprint(rs.Port.V), "10.1.0.1443"},
		{"rs weight", rs.Weight.V, 3},
		{"rs notify", rs.NotifyUp.V.Script + "|" + rs.NotifyDown.V.Script, "/bin/rs up|/bin/rsdown"},
		{"rs thresholds", words(rs.UThreshold.V, rs.LThreshold.V), "100 10"},
		{"rs inherits inhibit", words(rs.InhibitOnFailure.V, rs.InhibitOnFailure.Set), "true false"},
		{"rs inherits method", rs.LVSMethod.V, LBDR},
		{"http type", h.Type, CheckHTTP},
		{"urls", len(h.URLs), 2},
		{"url path", h.URLs[0].Path.V, "/health"},
		{"url digest lower-cased", h.URLs[0].Digest.V, "640205b7b0fc66c1ea91c463fac6334d"},
		{"status codes", fmt.Sprint(h.URLs[0].StatusCodes), "[{200 200} {301 302}]"},
		{"url vhost", h.URLs[0].Virtualhost.V, "api.example.com"},
		{"connect_ip", h.ConnectIP.V.String(), "10.1.0.100"},
		{"connect_port", h.ConnectPort.V, 8080},
		{"bindto", h.BindTo.V.String(), "10.1.0.254"},
		{"connect_timeout", h.ConnectTimeout.V, 2500 * ms},
		{"retry via nb_get_retry", h.Retry.V, 5},
		{"delay_before_retry", h.DelayBeforeRetry.V, 500 * ms},
		{"http_protocol", h.HTTPProtocol.V, "1.1"},
		{"warmup", h.Warmup.V, 3 * time.Second},
		{"checker delay_loop inherited", h.DelayLoop.V, 10 * time.Second},
		{"checker vhost inherited", h.Virtualhost.V, "www.example.com"},
	}...)
	rs2 := vs.RealServers[1]
	ssl, tcp := rs2.Checkers[0], rs2.Checkers[1]
	checks = append(checks, []check{
		{"rs2 method", words(rs2.LVSMethod.V, rs2.LVSMethod.Set), "NAT true"},
		{"rs2 weight default", rs2.Weight.V, 1},
		{"ssl sni", ssl.EnableSNI.V, true},
		{"ssl inherits VS timeout", ssl.ConnectTimeout.V, 7 * time.Second},
		{"ssl inherits VS retry", ssl.Retry.V, 4},
		{"ssl inherits VS delay_before_retry", ssl.DelayBeforeRetry.V, 2 * time.Second},
		{"ssl connect ip = rs", ssl.ConnectIP.V.String(), "10.1.0.2"},
		{"ssl connect port = rs", ssl.ConnectPort.V, 8443},
		{"tcp port", tcp.ConnectPort.V, 22},
	}...)
	c := vs.RealServers[2].Checkers
	misc, dns, udp, ping, file, smtp, bfd := c[0], c[1], c[2], c[3], c[4], c[5], c[6]
	checks = append(checks, []check{
		{"misc", misc.MiscPath.V, Command{Script: "/usr/local/bin/check 10.1.0.3", User: "nobody"}},
		{"misc timeout", misc.MiscTimeout.V, 5 * time.Second},
		{"misc dynamic", misc.MiscDynamic.V, true},
		{"dns", dns.DNSType.V + " " + dns.DNSName.V, "A example.com"},
		{"udp payload", fmt.Sprintf("%x", udp.Payload.V), "deadbeef"},
		{"udp require", words(udp.RequireReply.Set, len(udp.RequireReply.V)), "true 0"},
		{"udp min", udp.MinReplyLength.V, 4},
		{"ping", ping.Type, CheckPing},
		{"file", words(file.TrackFile.V, file.Dynamic.V, file.Weight.V, file.WeightReverse), "rs_maint true 2 true"},
		{"smtp helo", smtp.HeloName.V, "mx.example.com"},
		{"smtp hosts", words(smtp.Hosts[0].ConnectIP.V, smtp.Hosts[0].ConnectPort.V, smtp.Hosts[1].ConnectIP.V, smtp.Hosts[1].ConnectPort.V), "10.1.0.31 587 10.1.0.32 443"},
		{"bfd", bfd.BFDName.V, "bfd1"},
	}...)
	fw := cfg.VirtualServers[1]
	grp := cfg.VirtualServers[2]
	v6 := cfg.VirtualServers[3]
	checks = append(checks, []check{
		{"fwmark", words(fw.Kind, fw.Fwmark), "1 7"},
		{"fwmark sched", fw.LBAlgo.V, "sh"},
		{"fwmark tun", words(fw.LBKind.V, fw.TunnelOptions), "TUN [type gue port 6080 nocsum]"},
		{"fwmark rs port", words(fw.RealServers[0].Port.V, fw.RealServers[0].Port.Set), "0 false"},
		{"group", words(grp.Kind, grp.Group, grp.Protocol.V, grp.LBAlgo.V), "2 WEB UDP lblcr"},
		{"v6", words(v6.Addr, v6.Protocol.V, v6.OPS.V), "2001:db8::80 UDP true"},
	}...)
	runChecks(t, checks)
}

func TestLVSDefaults(t *testing.T) {
	cfg := mustParse(t, `
virtual_server 10.0.0.1 80 {
    real_server 10.0.1.1 {
        HTTP_GET { url { path / } }
        TCP_CHECK { }
        MISC_CHECK { misc_path /bin/true }
        DNS_CHECK { }
    }
}
`)
	noWarnings(t, cfg)
	vs := cfg.VirtualServers[0]
	if vs.DelayLoop.V != time.Minute || vs.LBAlgo.V != "wlc" || vs.LBKind.V != LBNAT || vs.Protocol.V != "TCP" ||
		vs.Quorum.V != 1 || vs.Hysteresis.V != 0 || vs.PersistenceTimeout.V != 0 || vs.PersistenceTimeout.Set {
		t.Errorf("vs defaults: %+v", vs)
	}
	rs := vs.RealServers[0]
	if rs.Weight.V != 1 || rs.Port.V != 80 || rs.Port.Set {
		t.Errorf("rs defaults: %+v", rs)
	}
	want := []struct {
		typ      CheckerType
		retry    int
		delay    time.Duration
		timeout  time.Duration
		delayLp  time.Duration
		connPort int
	}{
		{CheckHTTP, 1, 3 * time.Second, 5 * time.Second, time.Minute, 80},
		{CheckTCP, 1, time.Second, 5 * time.Second, time.Minute, 80},
		{CheckMisc, 0, time.Second, 5 * time.Second, time.Minute, 80},
		{CheckDNS, 3, time.Minute, 5 * time.Second, time.Minute, 80},
	}
	for i, w := range want {
		c := rs.Checkers[i]
		if c.Type != w.typ || c.Retry.V != w.retry || c.DelayBeforeRetry.V != w.delay || c.ConnectTimeout.V != w.timeout ||
			c.DelayLoop.V != w.delayLp || c.ConnectPort.V != w.connPort || c.ConnectIP.V.String() != "10.0.1.1" {
			t.Errorf("%s defaults: retry %d dbr %v ct %v dl %v port %d ip %s", c.Type, c.Retry.V, c.DelayBeforeRetry.V,
				c.ConnectTimeout.V, c.DelayLoop.V, c.ConnectPort.V, c.ConnectIP.V)
		}
		if c.Retry.Set || c.ConnectTimeout.Set {
			t.Errorf("%s: defaults marked Set", c.Type)
		}
	}
	if h := rs.Checkers[0]; h.HTTPProtocol.V != "1.0" {
		t.Errorf("http_protocol default %q", h.HTTPProtocol.V)
	}
	if d := rs.Checkers[3]; d.DNSType.V != "SOA" || d.DNSName.V != "." {
		t.Errorf("dns defaults %q %q", d.DNSType.V, d.DNSName.V)
	}
	if m := rs.Checkers[2]; m.MiscTimeout.V != time.Minute {
		t.Errorf("misc_timeout default %v", m.MiscTimeout.V)
	}
}

func TestLVSErrors(t *testing.T) {
	vs := func(body string) string {
		return "virtual_server 10.0.0.1 80 {\n" + body + "\n}\n"
	}
	rs := func(body string) string {
		return vs("real_server 10.0.1.1 80 {\n" + body + "\n}")
	}
	cases := []struct {
		name, src string
		sentinel  error
		sub       string
	}{
		{"vs addr", "virtual_server 10.0.0.x 80 {\n}\n", ErrValue, `keepalived.conf:1: virtual_server: invalid value: "10.0.0.x" is not an IP address`},
		{"vs port", "virtual_server 10.0.0.1 70000 {\n}\n", ErrRange, "70000 not in 0..65535"},
		{"vs no port", "virtual_server 10.0.0.1 {\n}\n", ErrMissing, "keepalived.conf:1: virtual_server 10.0.0.1: missing required value: the port may only be omitted for a persistent service"},
		{"vs no addr", "virtual_server {\n}\n", ErrMissing, "expects IP [PORT], fwmark N or group NAME"},
		{"rs family", vs("real_server 2001:db8::1 80 {\n TCP_CHECK { }\n}"), ErrConflict, "2001:db8::1 is not of the virtual server's address family"},
		{"sorry family", vs("sorry_server 2001:db8::1 80"), ErrConflict, "sorry_server: conflicting settings: 2001:db8::1 is not of the virtual server's address family"},
		{"vsg mixed", "virtual_server_group G {\n 10.0.0.1 80\n 2001:db8::1 80\n fwmark 3\n}\nvirtual_server group G {\n}\n", ErrConflict, "mixes IPv4 and IPv6 and has fwmarks without inet/inet6"},
		{"fwmark 0", "virtual_server fwmark 0 {\n}\n", ErrRange, "0 not in 1..4294967295"},
		{"fwmark family", "virtual_server fwmark 1 ipx {\n}\n", ErrValue, "not inet or inet6"},
		{"lb_algo", vs("lb_algo random"), ErrValue, `keepalived.conf:2: virtual_server 10.0.0.1 80: lb_algo: invalid value: unknown scheduler "random"`},
		{"lb_kind", vs("lb_kind PMASQ"), ErrValue, `"PMASQ" is not NAT, DR or TUN`},
		{"protocol", vs("protocol ICMP"), ErrValue, "not TCP, UDP or SCTP"},
		{"delay_loop", vs("delay_loop x"), ErrValue, "delay_loop: invalid value"},
		{"quorum", vs("quorum 0"), ErrRange, "quorum"},
		{"granularity", vs("persistence_granularity 255.0.255.0"), ErrValue, "not contiguous"},
		{"sorry", vs("sorry_server 10.0.0.999 80"), ErrValue, "sorry_server"},
		{"rs addr", vs("real_server nothing 80 {\n}"), ErrValue, `keepalived.conf:2: virtual_server 10.0.0.1 80: real_server: invalid value: "nothing" is not an IP address`},
		{"rs weight", rs("weight -1"), ErrRange, "real_server 10.0.1.1 80: weight"},
		{"digest", rs("HTTP_GET {\n url {\n path /\n digest xyz\n }\n}"), ErrValue, "keepalived.conf:6: virtual_server 10.0.0.1 80: real_server 10.0.1.1 80: HTTP_GET: url: digest: invalid value"},
		{"status", rs("HTTP_GET {\n url {\n path /\n status_code 200-99\n }\n}"), ErrRange, "status_code"},
		{"status reversed", rs("HTTP_GET {\n url {\n path /\n status_code 300-200\n }\n}"), ErrRange, "reversed"},
		{"status 600", rs("HTTP_GET {\n url {\n path /\n status_code 600\n }\n}"), ErrRange, "600 not in 100..599"},
		{"url path", rs("HTTP_GET {\n url {\n digest 640205b7b0fc66c1ea91c463fac6334d\n }\n}"), ErrMissing, "path is required"},
		{"http protocol", rs("HTTP_GET {\n url { path / }\n http_protocol 2\n}"), ErrValue, "http_protocol"},
		{"connect_port", rs("TCP_CHECK {\n connect_port 65536\n}"), ErrRange, "TCP_CHECK: connect_port"},
		{"connect_ip", rs("TCP_CHECK {\n connect_ip 1.2.3\n}"), ErrValue, "connect_ip"},
		{"misc path", rs("MISC_CHECK {\n misc_timeout 3\n}"), ErrMissing, "MISC_CHECK: missing required value: misc_path is required"},
		{"misc user", rs("MISC_CHECK {\n user nobody\n}"), ErrMissing, "user given without misc_path"},
		{"dns type", rs("DNS_CHECK {\n type PTRX\n}"), ErrValue, "unknown DNS type"},
		{"udp payload", rs("UDP_CHECK {\n payload xyz\n}"), ErrValue, "not a hex string"},
		{"file check", rs("FILE_CHECK {\n dynamic\n}"), ErrMissing, "track_file is required"},
		{"vsg range", "virtual_server_group G {\n 10.0.0.9-3 80\n}\n", ErrValue, "keepalived.conf:2: virtual_server_group G: 10.0.0.9-3: invalid value"},
		{"vsg v6 range", "virtual_server_group G {\n 2001:db8::9-zz 80\n}\n", ErrValue, "not a valid address range"},
		{"vsg port", "virtual_server_group G {\n 10.0.0.1 http\n}\n", ErrValue, `"http" is not an integer`},
		{"vsg fwmark", "virtual_server_group G {\n fwmark x\n}\n", ErrValue, "fwmark"},
		{"vs group ref", "virtual_server group NOPE {\n}\n", ErrReference, `no virtual_server_group named "NOPE"`},
		{"vs dup", vs("") + vs(""), ErrDuplicate, "keepalived.conf:4: virtual_server 10.0.0.1 80: duplicate definition: also defined at keepalived.conf:1"},
		{"rs dup", vs("real_server 10.0.1.1 80 {\n TCP_CHECK { }\n}\nreal_server 10.0.1.1 80 {\n TCP_CHECK { }\n}"), ErrDuplicate, "10.0.1.1 port 80 also defined"},
		{"file ref", rs("FILE_CHECK {\n track_file nope\n}"), ErrReference, `no track_file named "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.src, c.sentinel, c.sub) })
	}
}

func TestLVSWarnings(t *testing.T) {
	wantWarn(t, "virtual_server_group G {\n 10.0.0.1 80\n 2001:db8::1 80\n}\nvirtual_server group G {\n real_server 10.0.0.9 80 {\n TCP_CHECK { }\n }\n}\n",
		"real_server: 10.0.0.9 should use TUN forwarding")
	wantWarn(t, "virtual_server fwmark 3 {\n protocol UDP\n real_server 10.0.0.1 {\n TCP_CHECK { connect_port 80 }\n }\n}\n",
		"keepalived.conf:2: virtual_server fwmark 3: protocol: protocol specified for fwmark")
	wantWarn(t, "virtual_server 10.0.0.1 80 {\n quorum 2\n hysteresis 2\n real_server 10.0.0.2 80 {\n }\n}\n",
		"hysteresis 2 is not below quorum 2", "keepalived.conf:4: virtual_server 10.0.0.1 80: real_server: no health checker")
	wantWarn(t, "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n HTTP_GET { }\n snmp_name x\n frob\n }\n}\n",
		"HTTP_GET: no url block", "snmp_name: keepalived option not supported", "frob: unknown keyword")
	wantWarn(t, "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n TCP_CHECK {\n helo_name x\n }\n }\n}\n",
		"TCP_CHECK: helo_name: unknown keyword")
}

// words joins the values' default formats with single spaces.
func words(args ...any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }
