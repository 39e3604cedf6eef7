package dataplane

import (
	"context"
	"sort"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/track"
)

// close ends every goroutine the loop started and releases its sockets.
func (l *loop) close() {
	if l.trackCancel != nil {
		l.trackCancel()
	}
	for _, s := range l.socks {
		close(s.done)
		s.conn.Close()
	}
	l.socks = map[sockKey]*sock{}
	l.ref.stop()
	l.rxWG.Wait()
	l.trackWG.Wait()
	l.watchWG.Wait()
	if l.fifo != nil {
		l.fifo.close()
		l.fifo = nil
	}
	// Let notify scripts (stop notifications) finish, within reason.
	done := make(chan struct{})
	go func() { l.bgWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		l.log.Warn("notify scripts still running at exit; killing them")
	}
	l.bgCancel()
	<-done
	l.d.deps.Frames.Close()
}

func (l *loop) startWatchers(ctx context.Context) {
	if l.d.deps.Links == nil {
		return
	}
	l.watchWG.Add(1)
	go func() {
		defer l.watchWG.Done()
		err := l.d.deps.Links.Watch(ctx, func(name string, up bool) {
			select {
			case l.evc <- trackEvent{link: &fsm.InterfaceChanged{Name: name, Up: up}}:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			l.log.Error("link watcher stopped; track_interface no longer updated", "err", err)
		}
	}()
}

func (l *loop) restartTracking(cfg Config) {
	if l.trackCancel != nil {
		l.trackCancel()
		l.trackWG.Wait()
	}
	ctx, cancel := context.WithCancel(l.bgCtx)
	l.trackCancel = cancel
	t := &track.Tracker{Runner: l.d.deps.Runner, Logger: l.log, Now: l.d.deps.Clock.Now}
	for _, s := range cfg.Scripts {
		l.trackWG.Add(1)
		go func() {
			defer l.trackWG.Done()
			err := t.RunScript(ctx, s, func(r fsm.ScriptResult) {
				select {
				case l.evc <- trackEvent{script: &r}:
				case <-ctx.Done():
				}
			})
			if err != nil && ctx.Err() == nil {
				l.log.Error("vrrp_script stopped", "script", s.Name, "err", err)
			}
		}()
	}
	for _, f := range cfg.Files {
		l.trackWG.Add(1)
		go func() {
			defer l.trackWG.Done()
			err := t.WatchFile(ctx, f, func(v fsm.FileValue) {
				select {
				case l.evc <- trackEvent{file: &v}:
				case <-ctx.Done():
				}
			})
			if err != nil && ctx.Err() == nil {
				l.log.Error("track_file stopped", "file", f.Name, "err", err)
			}
		}()
	}
}

// run is the event loop: packets, tracking events, reloads and the
// earliest instance deadline, until ctx ends.
func (l *loop) run(ctx context.Context) {
	var (
		armed  time.Time
		timerC <-chan time.Time
	)
	for {
		next := l.nextDeadline()
		if !next.Equal(armed) {
			armed = next
			timerC = nil
			if !next.IsZero() {
				d := next.Sub(l.d.deps.Clock.Now())
				if d < 0 {
					d = 0
				}
				timerC = l.d.deps.Clock.After(d)
			}
		}
		select {
		case <-ctx.Done():
			return
		case p := <-l.rxc:
			l.dispatch(p)
		case ev := <-l.evc:
			l.track(ev)
		case req := <-l.d.reloadc:
			req.done <- l.apply(req.cfg)
		case <-timerC:
			armed, timerC = time.Time{}, nil
			l.timerFired()
		case <-l.ref.ready:
			l.refreshed()
		}
	}
}

// timerFired handles the loop's timer: every instance whose deadline has
// passed gets TimerExpired, after the adverts already read (received
// before the timer fired; they may push a master down timer back).
func (l *loop) timerFired() {
	l.drainReceived()
	now := l.now()
	for _, in := range l.sortedInsts() {
		if dl := in.r.Instance().Deadline(); !dl.IsZero() && !dl.After(now) {
			before := in.r.Instance().State()
			l.step(in, fsm.TimerExpired{At: now})
			if before == fsm.Backup && in.r.Instance().State() == fsm.Master {
				l.log.Debug("master down timer fired", "instance", in.name, "late", now.Sub(dl),
					"done_after", l.d.deps.Clock.Now().Sub(now))
			}
		}
	}
}

// drainReceived dispatches the datagrams already queued by the readers,
// without blocking.
func (l *loop) drainReceived() {
	for {
		select {
		case p := <-l.rxc:
			l.dispatch(p)
		default:
			return
		}
	}
}

// sortedInsts returns the instances by unit name, then configuration
// order, so that simultaneous events are handled in a stable order.
func (l *loop) sortedInsts() []*instState {
	names := make([]string, 0, len(l.units))
	for n := range l.units {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*instState
	for _, n := range names {
		out = append(out, l.units[n].insts...)
	}
	return out
}

func (l *loop) nextDeadline() time.Time {
	var next time.Time
	for _, in := range l.insts {
		dl := in.r.Instance().Deadline()
		if !dl.IsZero() && (next.IsZero() || dl.Before(next)) {
			next = dl
		}
	}
	return next
}
