package watchdog

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Linux watchdog ioctls (linux/watchdog.h).
const (
	wdiocKeepalive  = 0x80045705 // _IOR('W', 5, int)
	wdiocSetTimeout = 0xC0045706 // _IOWR('W', 6, int)
	wdiocGetTimeout = 0x80045707 // _IOR('W', 7, int)
)

// LinuxOpener opens Linux watchdog character devices (/dev/watchdog*).
// Opening arms the watchdog.
type LinuxOpener struct{}

// Open implements Opener.
func (LinuxOpener) Open(path string) (Dev, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	return &linuxDev{f: f}, nil
}

type linuxDev struct{ f *os.File }

func (d *linuxDev) Keepalive() error {
	if _, err := unix.IoctlGetInt(int(d.f.Fd()), wdiocKeepalive); err != nil {
		// Some drivers lack the ioctl; any write feeds them too.
		if _, werr := d.f.Write([]byte{0}); werr != nil {
			return fmt.Errorf("keepalive: %w", werr)
		}
	}
	return nil
}

func (d *linuxDev) SetTimeout(t time.Duration) (time.Duration, error) {
	secs := int(t.Round(time.Second) / time.Second)
	if err := unix.IoctlSetPointerInt(int(d.f.Fd()), wdiocSetTimeout, secs); err != nil {
		return 0, fmt.Errorf("WDIOC_SETTIMEOUT %d: %w", secs, err)
	}
	got, err := unix.IoctlGetInt(int(d.f.Fd()), wdiocGetTimeout)
	if err != nil {
		return t, nil
	}
	return time.Duration(got) * time.Second, nil
}

func (d *linuxDev) MagicClose() error {
	_, werr := d.f.Write([]byte("V"))
	cerr := d.f.Close()
	if werr != nil {
		return fmt.Errorf("magic close: %w", werr)
	}
	return cerr
}

func (d *linuxDev) Close() error { return d.f.Close() }
