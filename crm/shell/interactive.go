package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/peterh/liner"
)

// LineReader reads one line with a prompt (a terminal line editor or a
// plain reader).
type LineReader interface {
	// Prompt prints p and returns the line typed, io.EOF at end of input
	// and ErrInterrupted on Ctrl-C.
	Prompt(p string) (string, error)
	// AppendHistory records a line.
	AppendHistory(line string)
}

// ErrInterrupted: the user pressed Ctrl-C at the prompt.
var ErrInterrupted = errors.New("interrupted")

// RunInteractive reads and runs lines from in until quit or end of input.
// Ctrl-C drops the current line. Lines ending in "\" continue. At the end
// pending configure changes are asked about (committed with Force).
func (s *Shell) RunInteractive(ctx context.Context, in LineReader) error {
	var buf []string
	var failed bool
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := s.Prompt()
		if len(buf) > 0 {
			p = "> "
		}
		line, err := in.Prompt(p)
		if errors.Is(err, ErrInterrupted) {
			buf = nil
			continue
		}
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(s.o.Stdout)
			if ferr := s.Finish(ctx); ferr != nil {
				return ferr
			}
			if failed {
				return fmt.Errorf("%w: the last command failed", ErrCommandFailed)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read command: %w", err)
		}
		if strings.HasSuffix(line, `\`) {
			buf = append(buf, line)
			continue
		}
		buf = append(buf, line)
		logical := strings.Join(buf, "\n")
		buf = nil
		if strings.TrimSpace(logical) == "" {
			continue
		}
		in.AppendHistory(strings.ReplaceAll(logical, "\n", " "))
		err = s.execInterruptible(ctx, logical)
		if errors.Is(err, ErrQuit) {
			return nil
		}
		// quit with a failing commit stays in the shell; failures of
		// single commands only set the exit status
		failed = err != nil
	}
}

// execInterruptible runs one line; a value on Options.Interrupts (Ctrl-C
// while a command runs) cancels that command only.
func (s *Shell) execInterruptible(ctx context.Context, line string) error {
	if s.o.Interrupts == nil {
		return s.Exec(ctx, line, Source{})
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by this call: ends on interrupt or when the line is done
		defer wg.Done()
		select {
		case <-s.o.Interrupts:
			cancel()
		case <-stop:
		}
	}()
	err := s.Exec(lctx, line, Source{})
	close(stop)
	wg.Wait()
	return err
}

// Terminal is a LineReader on the process's terminal using liner, with
// history and tab completion. Close restores the terminal and saves the
// history.
type Terminal struct {
	st      *liner.State
	history string
}

// NewTerminal starts line editing on the terminal; history is loaded from
// historyFile ("" = none) and completion comes from complete (nil = none).
// Only one Terminal may be open at a time.
func NewTerminal(historyFile string, complete func(line string, pos int) (string, []string, string)) *Terminal {
	st := liner.NewLiner()
	st.SetCtrlCAborts(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	if complete != nil {
		st.SetWordCompleter(complete)
	}
	t := &Terminal{st: st, history: historyFile}
	if historyFile != "" {
		if f, err := os.Open(historyFile); err == nil {
			_, _ = st.ReadHistory(f)
			_ = f.Close()
		}
	}
	return t
}

// Prompt reads one line.
func (t *Terminal) Prompt(p string) (string, error) {
	line, err := t.st.Prompt(p)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", ErrInterrupted
	}
	return line, err
}

// AppendHistory records a line.
func (t *Terminal) AppendHistory(line string) { t.st.AppendHistory(line) }

// Ask asks a yes/no question on the terminal.
func (t *Terminal) Ask(q string) (yes, ok bool) {
	for {
		ans, err := t.st.Prompt(q)
		if err != nil {
			return false, false
		}
		switch strings.ToLower(strings.TrimSpace(ans)) {
		case "y", "yes":
			return true, true
		case "n", "no":
			return false, true
		}
	}
}

// Close restores the terminal and writes the history file.
func (t *Terminal) Close() error {
	var werr error
	if t.history != "" {
		f, err := os.OpenFile(t.history, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err == nil {
			_, werr = t.st.WriteHistory(f)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
		} else {
			werr = err
		}
	}
	if err := t.st.Close(); err != nil {
		return fmt.Errorf("restore terminal: %w", err)
	}
	if werr != nil {
		return fmt.Errorf("write history: %w", werr)
	}
	return nil
}
