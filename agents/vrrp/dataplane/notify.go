package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gocrm/gocrm/agents/vrrp/fsm"
	"github.com/gocrm/gocrm/agents/vrrp/track"
)

// notifyTimeout bounds one notify script run.
const notifyTimeout = 60 * time.Second

// stateWord is keepalived's spelling of a state in notifications.
func stateWord(s fsm.State) string {
	switch s {
	case fsm.Master:
		return "MASTER"
	case fsm.Backup:
		return "BACKUP"
	case fsm.Fault:
		return "FAULT"
	case fsm.Stopped:
		return "STOP"
	}
	return s.String()
}

// notifyArgv returns the commands to run for a state change, keepalived
// style: the state's own script as configured, then `notify` with
// "INSTANCE|GROUP NAME STATE PRIORITY" appended.
func notifyArgv(n Notify, group bool, name string, a fsm.Action) [][]string {
	var out [][]string
	var own []string
	switch a.State {
	case fsm.Master:
		own = n.Master
	case fsm.Backup:
		own = n.Backup
	case fsm.Fault:
		own = n.Fault
	case fsm.Stopped:
		own = n.Stop
	}
	if len(own) > 0 {
		out = append(out, append([]string(nil), own...))
	}
	if len(n.Any) > 0 {
		kind := "INSTANCE"
		if group {
			kind = "GROUP"
		}
		argv := append(append([]string(nil), n.Any...), kind, name, stateWord(a.State), strconv.Itoa(int(a.Priority)))
		out = append(out, argv)
	}
	return out
}

// notify runs the scripts for a state change in the background and writes
// the FIFO line.
func (l *loop) notify(n Notify, group bool, name string, a fsm.Action) {
	for _, argv := range notifyArgv(n, group, name, a) {
		l.bgWG.Add(1)
		go func() {
			defer l.bgWG.Done()
			ctx, cancel := context.WithTimeout(l.bgCtx, notifyTimeout)
			defer cancel()
			if err := l.d.deps.Runner.Run(ctx, argv); err != nil {
				l.log.Warn("notify script failed", "name", name, "argv", argv, "err", err)
			}
		}()
	}
	if l.fifo != nil {
		kind := "INSTANCE"
		if group {
			kind = "GROUP"
		}
		l.fifo.write(fmt.Sprintf("%s %q %s %d\n", kind, name, stateWord(a.State), a.Priority))
	}
}

// fifo is keepalived's notify_fifo: one line per state change, written
// without blocking (a line is dropped, and logged, when nobody reads).
type fifo struct {
	f      *os.File
	log    *slog.Logger
	mu     sync.Mutex
	cancel context.CancelFunc // ends the FIFO script
	wg     sync.WaitGroup
}

func openFIFO(path string, script []string, runner track.Runner, log *slog.Logger) (*fifo, error) {
	if st, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			return nil, fmt.Errorf("create notify fifo %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("notify fifo %s: %w", path, err)
	} else if st.Mode()&os.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("notify fifo %s is not a FIFO", path)
	}
	// O_RDWR: opening never blocks and writes never fail for lack of a
	// reader; O_NONBLOCK: a full pipe drops a line instead of stalling VRRP.
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open notify fifo %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ff := &fifo{f: f, log: log, cancel: cancel}
	if len(script) > 0 {
		argv := append(append([]string(nil), script...), path)
		ff.wg.Add(1)
		go func() {
			defer ff.wg.Done()
			if err := runner.Run(ctx, argv); err != nil && ctx.Err() == nil {
				log.Warn("notify fifo script ended", "argv", argv, "err", err)
			}
		}()
	}
	return ff, nil
}

func (f *fifo) write(line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := syscall.Write(int(f.f.Fd()), []byte(line)); err != nil {
		f.log.Warn("notify fifo write dropped", "err", err)
	}
}

func (f *fifo) close() {
	f.cancel()
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.f.Close()
}
