// Command crmd is the gocrm cluster daemon: one process per node running
// gossip membership, the raft-replicated CIB, the local resource manager,
// the DC→node action RPC, the control socket used by `crm`, and the DC loop
// on the raft leader (see package crm/daemon).
//
// Usage:
//
//	crmd [flags]            run the daemon
//	crmd keygen FILE        write a new gossip key file (mode 0600)
//	crmd keepalived [ARGS]  run as a keepalived drop-in: read keepalived.conf
//	                        and run its VRRP instances (agents/vrrp/dropin;
//	                        keepalived's -f, -n, -l, -p ... flags)
//
// Ports (all on the --bind address): gossip UDP+TCP on PORT, raft on
// PORT+1, node action RPC on PORT+2. Logs go to stderr (log/slog text).
// With systemd (Type=notify) READY=1 is sent once this node's online state
// is in the CIB. SIGTERM or SIGINT shut down cleanly (resources moved away
// or stopped, gossip left, raft closed); a second signal exits at once.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdaemon "github.com/coreos/go-systemd/v22/daemon"
	"github.com/gocrm/gocrm/agents/vrrp/dropin"
	"github.com/gocrm/gocrm/crm/consensus"
	"github.com/gocrm/gocrm/crm/daemon"
	crmsandbox "github.com/gocrm/gocrm/crm/sandbox"
	"github.com/gocrm/gocrm/membership"
)

const (
	exitOK    = 0
	exitError = 1
	exitUsage = 64
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == dropin.GuardCommand { // hidden: spawned by `crmd keepalived`
		return dropin.GuardMain(args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "keepalived" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return dropin.Main(ctx, args[1:], os.Stdout, stderr)
	}
	if len(args) > 0 && args[0] == "keygen" {
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: crmd keygen FILE")
			return exitUsage
		}
		if err := keygen(args[1]); err != nil {
			fmt.Fprintln(stderr, "crmd keygen:", err)
			return exitError
		}
		return exitOK
	}
	host, _ := os.Hostname()
	fl := flag.NewFlagSet("crmd", flag.ContinueOnError)
	fl.SetOutput(stderr)
	name := fl.String("name", host, "node name (unique in the cluster)")
	cluster := fl.String("cluster-name", "gocrm", "cluster name (gossip label; clusters with different names never merge)")
	dataDir := fl.String("data-dir", "/var/lib/gocrm", "state directory (raft log, snapshots, agent state)")
	bind := fl.String("bind", "0.0.0.0:7946", "gossip ADDR:PORT; raft uses PORT+1, node RPC PORT+2")
	advertise := fl.String("advertise", "", "IP peers use to reach this node (default: the bind IP; required with 0.0.0.0 unless one non-loopback IP exists)")
	var join listFlag
	fl.Var(&join, "join", "gossip ADDR:PORT of a peer to join (repeatable)")
	expect := fl.Int("bootstrap-expect", 0, "bootstrap the raft cluster once this many voters are seen (same value on every initial node)")
	socket := fl.String("socket", "/run/gocrm/crmd.sock", "control socket path (its directory gets mode 0750)")
	keyfile := fl.String("keyfile", "/etc/gocrm/authkey", "gossip key file (mode 0600 or 0400; create one with: crmd keygen FILE)")
	tlsf := addTLSFlags(fl)
	arbiter := fl.Bool("arbiter", false, "raft voter and gossip member that never runs resources")
	level := fl.String("log-level", "info", "debug, info, warn or error")
	lease := fl.Duration("quorum-lease", 3*time.Second, "time without a raft leader before no-quorum-policy applies locally")
	detect := fl.Duration("failure-detection", membership.DefaultFailureDetection,
		"failure-detection budget: a crashed peer is declared dead after about this long (min 300ms; all nodes should agree)")
	raftTiming := fl.String("raft-timing", "default",
		"raft timing profile: default (leader loss noticed in 1-2 s, tolerates 1 s stalls), fast (0.5-1 s, only for lightly loaded hosts) or wan; all nodes should agree")
	if err := fl.Parse(args); err != nil {
		return exitUsage
	}
	timing, err := consensus.TimingByName(*raftTiming)
	if err != nil {
		fmt.Fprintf(stderr, "crmd: --raft-timing: %v\n", err)
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "crmd: unexpected argument %q\n", fl.Arg(0))
		return exitUsage
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(stderr, "crmd: --log-level: %v\n", err)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	bhost, bport, err := net.SplitHostPort(*bind)
	port, perr := strconv.Atoi(bport)
	if err != nil || perr != nil || port <= 0 || port > 65533 {
		fmt.Fprintf(stderr, "crmd: --bind %q: want ADDR:PORT with PORT <= 65533\n", *bind)
		return exitUsage
	}
	adv := *advertise
	if adv == "" {
		adv = bhost
		if ip := net.ParseIP(bhost); ip != nil && ip.IsUnspecified() {
			adv = guessAdvertise()
		}
	}
	cfg := daemon.Config{Name: *name, ClusterName: *cluster, DataDir: *dataDir, BindAddr: bhost,
		AdvertiseAddr: adv, GossipPort: port, Join: join, BootstrapExpect: *expect, SocketPath: *socket,
		KeyFile: *keyfile, KeyOwnerCheck: rootOrSelf, Arbiter: *arbiter, QuorumLease: *lease, FailureDetection: *detect,
		RaftTiming: timing,
		OnSuicide: func() {
			log.Error("no-quorum-policy: self-fencing (exit)")
			os.Exit(111)
		}, Logger: log}
	tlsf.apply(&cfg)
	if dir := os.Getenv(crmsandbox.EnvDir); dir != "" {
		// Started by `crm sandbox`: the sandbox fence device kills the
		// target node's crmd (found through the sandbox directory).
		cfg.Killer = crmsandbox.NewKiller(dir, log)
	}
	d, err := daemon.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "crmd:", err)
		tlsf.hint(stderr, cfg, err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = d.Start(sctx)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "crmd:", err)
		return exitError
	}
	go func() {
		select {
		case <-d.Joined():
			if _, err := sdaemon.SdNotify(false, sdaemon.SdNotifyReady); err != nil {
				log.Warn("sd_notify", "err", err)
			}
			log.Info("joined the cluster")
		case <-ctx.Done():
		}
	}()
	<-ctx.Done()
	stop()
	log.Info("shutting down")
	_, _ = sdaemon.SdNotify(false, sdaemon.SdNotifyStopping)
	hard, hardStop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer hardStop()
	sctx, cancel = context.WithTimeout(hard, 60*time.Second)
	defer cancel()
	if err := d.Shutdown(sctx); err != nil && !errors.Is(err, daemon.ErrShutdown) {
		fmt.Fprintln(stderr, "crmd: shutdown:", err)
		return exitError
	}
	return exitOK
}

// rootOrSelf accepts key files owned by root or by the user running crmd.
func rootOrSelf(path string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
		return nil
	}
	return membership.RequireRootOwner(path, fi)
}

// guessAdvertise returns the only non-loopback unicast IPv4 address, or
// "" (daemon.New then reports the missing --advertise).
func guessAdvertise() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	var found []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			found = append(found, n.IP.String())
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// keygen writes a new 32-byte (AES-256) gossip key to path, refusing to
// overwrite an existing file.
func keygen(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("random key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "# gocrm gossip key (AES-256); copy to every node with mode 0600\n%s\n", membership.EncodeKey(key)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
