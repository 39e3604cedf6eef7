package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gocrm/gocrm/agents/vip"
	"github.com/gocrm/gocrm/internal/clock"
)

// AddrDeleter deletes addresses (agents/vip's Netlink and FakeAddrLinker
// satisfy it). Implementations must be safe for concurrent use.
type AddrDeleter interface {
	// AddrDel removes the address; an absent one yields an error wrapping
	// vip.ErrAddrNotFound.
	AddrDel(link vip.Link, a vip.Addr) error
}

// Sender sends one farewell advert. Implementations must be safe for
// concurrent use.
type Sender interface {
	Send(d Datagram) error
}

// Listener opens advert listeners (the guard watches for the successor's
// first advert). Implementations must be safe for concurrent use.
type Listener interface {
	Listen(dev string, ipv6 bool) (AdvertConn, error)
}

// AdvertConn yields the VRRP adverts received on one interface. Next is
// called by one goroutine; Close unblocks it (it then returns an error).
type AdvertConn interface {
	// Next returns the VRID and priority of the next advert received.
	Next() (vrid, prio uint8, err error)
	Close() error
}

// Deps are Serve's injected dependencies.
type Deps struct {
	Addrs AddrDeleter
	// Sender may be nil: farewell adverts are then skipped (addresses are
	// still deleted after their linger).
	Sender Sender
	// Listener, if set, lets the guard delete an instance's addresses
	// Drain after its successor's first advert instead of waiting the
	// whole linger.
	Listener Listener
	// Drain is how long the addresses stay after the successor's advert
	// (default 50 ms: its gratuitous ARPs follow the advert at once).
	Drain  time.Duration
	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default: discard
}

// Outcome says how Serve ended.
type Outcome int

// Outcomes.
const (
	// OutcomeBye: the daemon said bye; nothing was touched.
	OutcomeBye Outcome = iota
	// OutcomeOrphaned: the daemon vanished; the plan was carried out.
	OutcomeOrphaned
	// OutcomeAborted: protocol error or ctx ended while the daemon lived;
	// nothing was touched.
	OutcomeAborted
)

func (o Outcome) String() string {
	switch o {
	case OutcomeBye:
		return "bye"
	case OutcomeOrphaned:
		return "orphaned"
	case OutcomeAborted:
		return "aborted"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Serve is the guard: it greets the daemon on conn, follows its messages
// and returns when the daemon says bye (OutcomeBye) or the connection ends
// without one (OutcomeOrphaned, after sending the farewell adverts and
// deleting the held addresses, each after its linger). A protocol error
// returns OutcomeAborted and an error without touching anything (a live
// daemon's addresses are never removed). If ctx ends while the daemon
// lives, Serve returns OutcomeAborted; if it ends while lingering, the
// remaining addresses are deleted at once.
//
// Serve closes conn before returning and leaves no goroutine behind.
func Serve(ctx context.Context, conn io.ReadWriteCloser, d Deps) (Outcome, error) {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Drain <= 0 {
		d.Drain = 50 * time.Millisecond
	}
	// Close conn when ctx ends, to unblock the read; the goroutine ends
	// with Serve.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			conn.Close()
		case <-stop:
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		conn.Close()
	}()

	if err := WriteFrame(conn, Message{Kind: KindHello, Version: protoVersion}); err != nil {
		return OutcomeAborted, err
	}
	st := NewState()
	for {
		m, err := ReadFrame(conn)
		if err != nil {
			if ctx.Err() != nil {
				return OutcomeAborted, ctx.Err()
			}
			if errors.Is(err, ErrProtocol) {
				d.Logger.Error("vip guard: bad message from the daemon; exiting without touching anything", "err", err)
				return OutcomeAborted, err
			}
			// EOF, a connection reset or a cut frame: the daemon is gone.
			if !errors.Is(err, io.EOF) {
				d.Logger.Warn("vip guard: daemon connection broken", "err", err)
			}
			execute(ctx, st.Plan(), d)
			return OutcomeOrphaned, nil
		}
		if err := st.Apply(m); err != nil {
			d.Logger.Error("vip guard: unexpected message; exiting without touching anything", "err", err)
			return OutcomeAborted, err
		}
		switch m.Kind {
		case KindBye:
			d.Logger.Debug("vip guard: daemon said bye")
			return OutcomeBye, nil
		case KindHold:
			d.Logger.Debug("vip guard: holding", "instance", m.Hold.Instance, "addrs", len(m.Hold.Addrs),
				"adverts", len(m.Hold.Farewell), "linger", m.Hold.Linger)
		case KindRelease:
			d.Logger.Debug("vip guard: released", "instance", m.Instance)
		}
	}
}

// heard is one advert seen by a listener.
type heard struct {
	key  AdvertKey
	prio uint8
}

// execute carries out the plan: farewell adverts now, deletions at their
// deadline or Drain after their successor's advert (all at once if ctx
// ends). The listener goroutines it starts end before it returns.
func execute(ctx context.Context, p Plan, d Deps) {
	if len(p.Remove) == 0 {
		d.Logger.Info("vip guard: daemon gone; it held no addresses")
		return
	}
	t0 := d.Clock.Now()
	heardc := make(chan heard, 64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var conns []AdvertConn
	defer func() {
		close(stop)
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	// Listen before the farewell goes out: the successor answers within
	// its skew time.
	if d.Listener != nil && d.Sender != nil {
		type lk struct {
			dev string
			v6  bool
		}
		opened := map[lk]bool{}
		for _, r := range p.Remove {
			if r.Successor == nil || opened[lk{r.Successor.Dev, r.Successor.IPv6}] {
				continue
			}
			k := lk{r.Successor.Dev, r.Successor.IPv6}
			opened[k] = true
			c, err := d.Listener.Listen(k.dev, k.v6)
			if err != nil {
				d.Logger.Warn("vip guard: cannot watch for the successor; lingering the full time", "dev", k.dev, "err", err)
				continue
			}
			conns = append(conns, c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					vrid, prio, err := c.Next()
					if err != nil {
						return
					}
					select {
					case heardc <- heard{AdvertKey{k.dev, k.v6, vrid}, prio}:
					case <-stop:
						return
					}
				}
			}()
		}
	}
	for _, g := range p.Send {
		if d.Sender == nil {
			break
		}
		if err := d.Sender.Send(g); err != nil {
			d.Logger.Error("vip guard: send priority-0 advert", "dev", g.Dev, "dst", g.Dst.String(), "err", err)
			continue
		}
		d.Logger.Info("vip guard: daemon gone; sent priority-0 advert for it", "dev", g.Dev, "dst", g.Dst.String())
	}
	due := make([]time.Time, len(p.Remove))
	for i, r := range p.Remove {
		due[i] = t0.Add(r.After)
	}
	done := make([]bool, len(p.Remove))
	left := len(p.Remove)
	for left > 0 {
		now := d.Clock.Now()
		next := -1
		for i := range p.Remove {
			if !done[i] && (next < 0 || due[i].Before(due[next])) {
				next = i
			}
		}
		if wait := due[next].Sub(now); wait > 0 && ctx.Err() == nil {
			t := d.Clock.NewTimer(wait)
			select {
			case <-t.C():
			case <-ctx.Done():
			case h := <-heardc:
				t.Stop()
				if h.prio == 0 {
					continue
				}
				at := d.Clock.Now()
				for i, r := range p.Remove {
					if !done[i] && r.Successor != nil && *r.Successor == h.key && at.Add(d.Drain).Before(due[i]) {
						due[i] = at.Add(d.Drain)
						d.Logger.Info("vip guard: successor advert heard; removing the VIPs after the drain",
							"instance", r.Instance, "after", at.Sub(t0), "drain", d.Drain)
					}
				}
				continue
			}
			t.Stop()
		}
		remove(p.Remove[next], d, t0)
		done[next] = true
		left--
	}
}

func remove(r Removal, d Deps, t0 time.Time) {
	for _, a := range r.Addrs {
		err := d.Addrs.AddrDel(vip.Link{Name: a.Dev, Index: a.Index}, vip.Addr{Prefix: a.Prefix})
		switch {
		case err == nil:
			d.Logger.Info("vip guard: daemon gone; VIP removed", "instance", r.Instance, "vip", a.Prefix.String(),
				"dev", a.Dev, "after", d.Clock.Now().Sub(t0))
		case errors.Is(err, vip.ErrAddrNotFound), errors.Is(err, vip.ErrLinkNotFound):
			d.Logger.Info("vip guard: VIP already gone", "instance", r.Instance, "vip", a.Prefix.String(), "dev", a.Dev)
		default:
			d.Logger.Error("vip guard: remove VIP", "instance", r.Instance, "vip", a.Prefix.String(), "dev", a.Dev, "err", err)
		}
	}
}
