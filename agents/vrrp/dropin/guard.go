package dropin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/agents/vrrp/dataplane"
	"github.com/gocrm/gocrm/agents/vrrp/guard"
)

// GuardCommand is the hidden subcommand that runs the VIP guard: a binary
// embedding Main must dispatch `BINARY vip-guard [-D]` to GuardMain (crmd
// and test/vrrp/cmd/gocrm-keepalived do).
const GuardCommand = "vip-guard"

// guardEnv marks the guard's environment: a binary that does not dispatch
// GuardCommand and so runs Main again must not start a guard of its own.
const guardEnv = "GOCRM_VIP_GUARD"

// guardNice is the guard's nice value.
const guardNice = -10

// Guard modes (--vip-guard).
const (
	guardHandover = "handover" // priority-0 adverts, VIPs removed one interval later
	guardRemove   = "remove"   // VIPs removed at once
	guardOff      = "off"      // no guard: the VIP lifetime only
)

// GuardMain runs the VIP guard process (see agents/vrrp/guard) on the
// socket passed as fd 3 by the daemon; it returns the exit code. It
// ignores SIGINT, SIGTERM and SIGHUP: its life is tied to the daemon's
// socket (bye, or end-of-file when the daemon died). It runs at nice -10
// (when allowed) so that it acts in time on a loaded host.
func GuardMain(args []string, stderr io.Writer) int {
	level := slog.LevelInfo
	for _, a := range args {
		switch a {
		case "-D":
			level = slog.LevelDebug
		default:
			fmt.Fprintf(stderr, "crmd %s: unexpected argument %q (started by `crmd keepalived` only)\n", GuardCommand, a)
			return ExitError
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})).With("sub", "vip-guard", "pid", os.Getpid())
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// It sleeps until the daemon dies and must then act within an advert
	// interval even on a busy host: a larger CPU share (best effort).
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, guardNice); err != nil {
		log.Debug("cannot raise the guard's priority", "err", err)
	}
	conn, err := guard.ConnFromFD()
	if err != nil {
		log.Error("no daemon connection", "err", err)
		return ExitError
	}
	nl, err := vip.NewNetlink()
	if err != nil {
		conn.Close()
		log.Error("netlink", "err", err)
		return ExitError
	}
	defer nl.Close()
	snd := &dataplane.FarewellSender{}
	defer snd.Close()
	out, err := guard.Serve(context.Background(), conn, guard.Deps{Addrs: nl, Sender: snd,
		Listener: dataplane.AdvertListener{}, Logger: log})
	if err != nil {
		log.Error("VIP guard stopped", "outcome", out.String(), "err", err)
		return ExitError
	}
	log.Debug("VIP guard done", "outcome", out.String())
	return ExitOK
}

// startGuard spawns the VIP guard for a daemon that runs VRRP instances;
// nil (logged) when the mode is off or the guard cannot start.
func startGuard(o Options, stderr io.Writer, log *slog.Logger) *guard.Client {
	if o.VIPGuard == guardOff {
		return nil
	}
	if os.Getenv(guardEnv) != "" {
		log.Error("this binary does not dispatch the " + GuardCommand + " subcommand; running without a VIP guard")
		return nil
	}
	f, _ := stderr.(*os.File)
	args := []string{GuardCommand}
	if o.Debug {
		args = append(args, "-D")
	}
	c, err := guard.Spawn(guard.SpawnConfig{Args: args, Env: []string{guardEnv + "=1"}, Stderr: f, Logger: log})
	if err != nil {
		log.Error("VIP guard not started: a SIGKILL of this daemon leaves its VIPs until their lifetime ends", "err", err)
		return nil
	}
	return c
}
