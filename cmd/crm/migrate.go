package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocrm/gocrm/cib"
	"github.com/gocrm/gocrm/cib/migrate/heartbeat"
	"github.com/gocrm/gocrm/cib/migrate/keepalived"
	"github.com/gocrm/gocrm/membership"
)

func init() {
	register(&command{
		name:    "migrate",
		summary: "translate heartbeat v1 or keepalived configurations to crm configuration",
		run:     runMigrate,
	})
}

const migrateUsage = `usage: crm migrate heartbeat --haresources FILE --ha-cf FILE [--authkeys FILE [--key-file OUT]] [--apply] [--socket PATH]
       crm migrate keepalived FILE [--with-secrets]
heartbeat: prints the crm configuration (and warnings on stderr); --apply loads it
("crm configure load update") into the cluster or CIB_file.
keepalived: prints crm configuration text for the VRRP instances (ocf:gocrm:vrrp) and
virtual servers (ocf:gocrm:lvs); see examples/keepalived-mapping.md.
`

func runMigrate(e *env, args []string) int {
	co, args, err := takeConnFlags(args)
	if err != nil {
		return fail(e, "migrate", err)
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, migrateUsage)
		return exitUsage
	}
	switch args[0] {
	case "heartbeat":
		return migrateHeartbeat(e, co, args[1:])
	case "keepalived":
		return migrateKeepalived(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, migrateUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "crm migrate: unknown source %q\n%s", args[0], migrateUsage)
	return exitUsage
}

// fsPath maps a command-line path onto os.DirFS("/").
func fsPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(filepath.ToSlash(abs), "/"), nil
}

func migrateHeartbeat(e *env, co connOpts, args []string) int {
	var haresources, hacf, authkeys, keyFile string
	apply := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch name {
		case "--haresources", "--ha-cf", "--authkeys", "--key-file":
			if !hasValue {
				if i+1 >= len(args) {
					fmt.Fprintf(e.stderr, "crm migrate heartbeat: %s needs a file\n", name)
					return exitUsage
				}
				value = args[i+1]
				i++
			}
			switch name {
			case "--haresources":
				haresources = value
			case "--ha-cf":
				hacf = value
			case "--key-file":
				keyFile = value
			default:
				authkeys = value
			}
		case "--apply":
			apply = true
		default:
			fmt.Fprintf(e.stderr, "crm migrate heartbeat: unexpected argument %q\n%s", a, migrateUsage)
			return exitUsage
		}
	}
	if haresources == "" || hacf == "" {
		fmt.Fprintf(e.stderr, "crm migrate heartbeat: --haresources and --ha-cf are required\n%s", migrateUsage)
		return exitUsage
	}
	paths := []*string{&haresources, &hacf}
	if authkeys != "" {
		paths = append(paths, &authkeys)
	}
	for _, p := range paths {
		fp, err := fsPath(*p)
		if err != nil {
			return fail(e, "migrate heartbeat", err)
		}
		*p = fp
	}
	in, err := heartbeat.LoadInputs(os.DirFS("/"), haresources, hacf, authkeys)
	if err != nil {
		return fail(e, "migrate heartbeat", err)
	}
	in.HAResourcesName, in.HACFName = "/"+haresources, "/"+hacf
	if authkeys != "" {
		in.AuthkeysName = "/" + authkeys
	}
	in.Logger = e.log
	res, err := heartbeat.Migrate(in)
	if err != nil {
		return fail(e, "migrate heartbeat", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "WARNING: %s\n", w.String())
	}
	if res.Explanation != "" {
		for _, l := range strings.Split(strings.TrimRight(res.Explanation, "\n"), "\n") {
			fmt.Fprintf(e.stderr, "# %s\n", l)
		}
	}
	if d := res.Timing.DeadTime; d > 0 {
		// crmd has one detection knob; deadtime is what it means.
		fmt.Fprintf(e.stderr, "# run crmd with --failure-detection %s (ha.cf deadtime) on every node\n", d)
	}
	if res.ClusterKey != nil {
		fmt.Fprintf(e.stderr, "# cluster key derived from authkeys: %s\n", res.ClusterKey.String())
	}
	if keyFile != "" {
		if res.ClusterKey == nil {
			fmt.Fprintln(e.stderr, "crm migrate heartbeat: --key-file needs --authkeys (the key is derived from it)")
			return exitUsage
		}
		if err := writeKeyFile(keyFile, res.ClusterKey.Bytes()); err != nil {
			return fail(e, "migrate heartbeat", err)
		}
		fmt.Fprintf(e.stderr, "# wrote %s (crmd --keyfile; copy it to every node with mode 0600)\n", keyFile)
	}
	fmt.Fprint(e.stdout, res.CRM)
	if !apply {
		return exitOK
	}
	b, err := openBackend(e, co)
	if err != nil {
		return fail(e, "migrate heartbeat", err)
	}
	defer b.Close()
	err = updateConfig(e.ctx, b, func(c *cib.CIB) (*cib.Element, error) {
		return applyStatements(e, c, res.CRM, "migrated configuration", true)
	})
	if err != nil {
		if err == errReported {
			return exitError
		}
		return fail(e, "migrate heartbeat", err)
	}
	fmt.Fprintln(e.stderr, "INFO: migrated configuration loaded")
	return exitOK
}

func migrateKeepalived(e *env, args []string) int {
	file := ""
	secrets := false
	for _, a := range args {
		switch {
		case a == "--with-secrets":
			secrets = true
		case file == "" && !strings.HasPrefix(a, "-"):
			file = a
		default:
			fmt.Fprintf(e.stderr, "crm migrate keepalived: unexpected argument %q\n%s", a, migrateUsage)
			return exitUsage
		}
	}
	if file == "" {
		fmt.Fprintf(e.stderr, "crm migrate keepalived: needs the keepalived.conf file\n%s", migrateUsage)
		return exitUsage
	}
	p, err := fsPath(file)
	if err != nil {
		return fail(e, "migrate keepalived", err)
	}
	cfg, err := keepalived.Load(os.DirFS("/"), p, keepalived.Options{Root: "/"})
	if cfg != nil {
		for _, w := range cfg.Warnings {
			fmt.Fprintf(e.stderr, "WARNING: %s\n", w.String())
		}
	}
	if err != nil {
		return fail(e, "migrate keepalived", err)
	}
	text, warns := translateKeepalived(cfg, secrets)
	for _, w := range warns {
		fmt.Fprintf(e.stderr, "WARNING: %s\n", w)
	}
	fmt.Fprint(e.stdout, text)
	return exitOK
}

// crmID turns a keepalived name into a valid CIB id.
func crmID(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func secs(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// kv accumulates crm "params" words.
type kv []string

func (p *kv) add(name, value string) {
	if strings.ContainsAny(value, " \t\"';") || value == "" {
		value = quoteCRM(value)
	}
	*p = append(*p, name+"="+value)
}

// translateKeepalived maps a keepalived configuration onto crm statements.
// See examples/keepalived-mapping.md for the mapping.
func translateKeepalived(cfg *keepalived.Config, secrets bool) (string, []string) {
	var b strings.Builder
	var warns []string
	b.WriteString("# Translated from keepalived configuration " + strings.Join(cfg.Files, ", ") + " by crm migrate keepalived.\n")
	vrrpIDs := map[string]string{}
	for _, in := range cfg.Instances {
		id := crmID("vrrp-", in.Name)
		vrrpIDs[in.Name] = id
		fmt.Fprintf(&b, "# vrrp_instance %s (%s): initial state %s, priority %d\n", in.Name, in.Pos, in.State.V, in.Priority.V)
		var p kv
		p.add("interface", in.Interface.V)
		p.add("vrid", strconv.Itoa(in.VirtualRouterID.V))
		p.add("priority", strconv.Itoa(in.Priority.V))
		if in.AdvertInt.Set {
			p.add("advert_int", secs(in.AdvertInt.V))
		}
		if in.Version.Set {
			p.add("version", strconv.Itoa(in.Version.V))
		}
		var addrs []string
		for _, a := range in.VirtualIPAddresses {
			s := a.Prefix.String()
			if a.Dev != "" {
				s += "@" + a.Dev
			}
			addrs = append(addrs, s)
		}
		p.add("addresses", strings.Join(addrs, " "))
		if len(in.VirtualIPAddressesExcluded) > 0 {
			var ex []string
			for _, a := range in.VirtualIPAddressesExcluded {
				ex = append(ex, a.Prefix.String())
			}
			p.add("addresses_excluded", strings.Join(ex, " "))
		}
		if in.Nopreempt.Set && in.Nopreempt.V {
			p.add("nopreempt", "true")
		}
		if in.PreemptDelay.Set {
			p.add("preempt_delay", secs(in.PreemptDelay.V))
		}
		if in.UnicastSrcIP.Set {
			p.add("unicast_src_ip", in.UnicastSrcIP.V.String())
		}
		if len(in.UnicastPeers) > 0 {
			var peers []string
			for _, u := range in.UnicastPeers {
				peers = append(peers, u.Addr.String())
			}
			p.add("unicast_peers", strings.Join(peers, " "))
		}
		if in.UseVMAC.Set && in.UseVMAC.V.Enabled {
			p.add("use_vmac", "true")
		}
		if in.Accept.Set {
			p.add("accept", strconv.FormatBool(in.Accept.V))
		}
		if a := in.Authentication; a != nil && a.Type.Set {
			p.add("auth_type", string(a.Type.V))
			if secrets {
				p.add("auth_pass", a.Pass.V.Reveal())
			} else {
				warns = append(warns, fmt.Sprintf("%s: vrrp_instance %s: auth_pass not printed; rerun with --with-secrets or run \"crm resource param %s set auth_pass ...\"", in.Pos, in.Name, id))
			}
		}
		if len(in.TrackScripts) > 0 || len(in.TrackInterfaces) > 0 || len(in.TrackFiles) > 0 {
			b.WriteString("#   tracking (track_script/track_interface/track_file) is not translated: express it as resource monitors and constraints\n")
		}
		for _, c := range []struct {
			name string
			v    keepalived.Val[keepalived.Command]
		}{{"notify_master", in.NotifyMaster}, {"notify_backup", in.NotifyBackup}, {"notify_fault", in.NotifyFault}, {"notify", in.Notify}} {
			if c.v.Set {
				fmt.Fprintf(&b, "#   %s %q is not translated: use an alert or a resource in the same group\n", c.name, c.v.V.Script)
			}
		}
		interval := "1s"
		if in.AdvertInt.Set && in.AdvertInt.V > time.Second {
			interval = secs(in.AdvertInt.V) + "s"
		}
		fmt.Fprintf(&b, "primitive %s ocf:gocrm:vrrp \\\n\tparams %s \\\n\top monitor interval=%s timeout=10s\n", id, strings.Join(p, " "), interval)
		fmt.Fprintf(&b, "clone %s-clone %s meta interleave=true\n", id, id)
	}
	for _, sg := range cfg.SyncGroups {
		var members []string
		for _, m := range sg.Group {
			if id, ok := vrrpIDs[m.V]; ok {
				members = append(members, id)
			}
		}
		fmt.Fprintf(&b, "# vrrp_sync_group %s (%s): instances %s fail over together (the VRRP agent keeps them in one sync group)\n", sg.Name, sg.Pos, strings.Join(members, " "))
	}
	for i, vs := range cfg.VirtualServers {
		var p kv
		var name string
		switch vs.Kind {
		case keepalived.VSAddr:
			name = vs.Addr.String()
			p.add("vip", vs.Addr.String())
			if vs.Port.Set {
				p.add("port", strconv.Itoa(vs.Port.V))
				name += "-" + strconv.Itoa(vs.Port.V)
			}
		case keepalived.VSFwmark:
			name = "fwmark-" + strconv.FormatUint(uint64(vs.Fwmark), 10)
			p.add("fwmark", strconv.FormatUint(uint64(vs.Fwmark), 10))
			if vs.Family != "" {
				p.add("family", vs.Family)
			}
		default:
			warns = append(warns, fmt.Sprintf("%s: virtual_server group %s is not translated (expand the group into one virtual_server per address)", vs.Pos, vs.Group))
			continue
		}
		id := crmID("lvs-", name)
		if vs.Protocol.Set {
			p.add("protocol", strings.ToLower(vs.Protocol.V))
		}
		if vs.LBAlgo.Set {
			p.add("scheduler", vs.LBAlgo.V)
		}
		if vs.LBKind.Set {
			p.add("forward", strings.ToLower(string(vs.LBKind.V)))
		}
		if vs.PersistenceTimeout.Set && vs.PersistenceTimeout.V > 0 {
			p.add("persistent", secs(vs.PersistenceTimeout.V))
		}
		if vs.DelayLoop.Set {
			p.add("delay_loop", secs(vs.DelayLoop.V))
		}
		if vs.Quorum.Set {
			p.add("quorum", strconv.Itoa(vs.Quorum.V))
		}
		if vs.Hysteresis.Set {
			p.add("hysteresis", strconv.Itoa(vs.Hysteresis.V))
		}
		if vs.Alpha.Set && vs.Alpha.V {
			p.add("alpha", "true")
		}
		if vs.SorryServer != nil {
			s := vs.SorryServer.Addr.String()
			if vs.SorryServer.Port > 0 {
				s += ":" + strconv.Itoa(vs.SorryServer.Port)
			}
			p.add("sorry_server", s)
		}
		var rss []string
		var check *keepalived.Checker
		for _, rs := range vs.RealServers {
			s := rs.Addr.String()
			if rs.Addr.Is6() {
				s = "[" + s + "]"
			}
			if rs.Port.Set || vs.Port.Set {
				s += ":" + strconv.Itoa(rs.Port.V)
			}
			if rs.Weight.Set {
				s += " weight=" + strconv.Itoa(rs.Weight.V)
			}
			if rs.LVSMethod.Set {
				s += " forward=" + strings.ToLower(string(rs.LVSMethod.V))
			}
			if rs.UThreshold.Set {
				s += " uthreshold=" + strconv.Itoa(rs.UThreshold.V)
			}
			if rs.LThreshold.Set {
				s += " lthreshold=" + strconv.Itoa(rs.LThreshold.V)
			}
			rss = append(rss, s)
			for _, c := range rs.Checkers {
				if check == nil {
					check = c
				} else if c.Type != check.Type {
					warns = append(warns, fmt.Sprintf("%s: real server %s: checker %s differs from the first checker %s; only one check type per virtual server is translated", c.Pos, rs.Addr, c.Type, check.Type))
				}
			}
		}
		p.add("real_servers", strings.Join(rss, ";"))
		if check != nil {
			switch check.Type {
			case keepalived.CheckTCP:
				p.add("check", "tcp")
			case keepalived.CheckHTTP, keepalived.CheckSSL:
				if check.Type == keepalived.CheckHTTP {
					p.add("check", "http")
				} else {
					p.add("check", "https")
				}
				if len(check.URLs) > 0 {
					u := check.URLs[0]
					if u.Path.Set {
						p.add("check_url", u.Path.V)
					}
					if u.Digest.Set {
						p.add("check_digest", u.Digest.V)
					}
					if len(u.StatusCodes) > 0 {
						var codes []string
						for _, r := range u.StatusCodes {
							if r.Lo == r.Hi {
								codes = append(codes, strconv.Itoa(r.Lo))
							} else {
								codes = append(codes, fmt.Sprintf("%d-%d", r.Lo, r.Hi))
							}
						}
						p.add("check_status", strings.Join(codes, ","))
					}
				}
				if check.Virtualhost.Set {
					p.add("check_virtualhost", check.Virtualhost.V)
				}
			case keepalived.CheckMisc:
				p.add("check", "misc")
				p.add("misc_path", check.MiscPath.V.Script)
				if check.MiscTimeout.Set {
					p.add("misc_timeout", secs(check.MiscTimeout.V))
				}
				if check.MiscDynamic.Set && check.MiscDynamic.V {
					p.add("misc_dynamic", "true")
				}
			default:
				warns = append(warns, fmt.Sprintf("%s: checker %s is not supported by ocf:gocrm:lvs; no health check configured", check.Pos, check.Type))
			}
			if check.ConnectPort.Set {
				p.add("check_port", strconv.Itoa(check.ConnectPort.V))
			}
			if check.ConnectTimeout.Set {
				p.add("connect_timeout", secs(check.ConnectTimeout.V))
			}
			if check.Retry.Set {
				p.add("retry", strconv.Itoa(check.Retry.V))
			}
			if check.DelayBeforeRetry.Set {
				p.add("delay_before_retry", secs(check.DelayBeforeRetry.V))
			}
		}
		fmt.Fprintf(&b, "# virtual_server #%d (%s)\n", i+1, vs.Pos)
		fmt.Fprintf(&b, "primitive %s ocf:gocrm:lvs \\\n\tparams %s \\\n\top monitor interval=10s timeout=20s\n", id, strings.Join(p, " "))
		// Run the balancer where the VRRP instance holding its address is master.
		for _, in := range cfg.Instances {
			for _, a := range in.VirtualIPAddresses {
				if vs.Kind == keepalived.VSAddr && a.Addr() == vs.Addr {
					fmt.Fprintf(&b, "# %s is announced by vrrp_instance %s\n", vs.Addr, in.Name)
				}
			}
		}
	}
	return b.String(), warns
}

// writeKeyFile writes key as a crmd gossip key file (mode 0600), refusing
// to overwrite an existing file.
func writeKeyFile(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if _, err := fmt.Fprintf(f, "# gocrm gossip key derived from heartbeat authkeys\n%s\n", membership.EncodeKey(key)); err != nil {
		f.Close()
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return f.Close()
}
