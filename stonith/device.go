package stonith

import (
	"context"
	"errors"
	"fmt"

	"github.com/gocrm/gocrm/stonith/fsm"
)

// Action is a device action (reboot, off, on, status, list, monitor, metadata).
type Action = fsm.Action

// Device actions (re-exported from package fsm).
const (
	ActionReboot   = fsm.ActionReboot
	ActionOff      = fsm.ActionOff
	ActionOn       = fsm.ActionOn
	ActionStatus   = fsm.ActionStatus
	ActionList     = fsm.ActionList
	ActionMonitor  = fsm.ActionMonitor
	ActionMetadata = fsm.ActionMetadata
)

// Sentinel errors of devices and the registry; test with errors.Is.
var (
	// ErrInvalidParam wraps every configuration error (see fsm.ParamError).
	ErrInvalidParam = fsm.ErrInvalidParam
	// ErrUnknownType: no plugin is registered for a device type.
	ErrUnknownType = errors.New("unknown fence device type")
	// ErrNotInstalled: the device's executable or hardware is missing.
	ErrNotInstalled = errors.New("fence device not installed")
	// ErrNotSupported: the device does not implement the action.
	ErrNotSupported = errors.New("action not supported by fence device")
	// ErrCannotFence: the device cannot act on this target (e.g. pretends
	// to be unable, or a self-fencing device asked for another node).
	ErrCannotFence = errors.New("fence device cannot fence target")
	// ErrTimeout: the device action did not finish within its timeout.
	ErrTimeout = errors.New("fence device action timed out")
	// ErrFailed: the device ran and reported failure.
	ErrFailed = errors.New("fence device action failed")
	// ErrNoDevice: no device can fence the target.
	ErrNoDevice = fsm.ErrNoDevice
)

// PowerState is a target's state as reported by a device's status action.
type PowerState int

// Power states.
const (
	PowerUnknown PowerState = iota
	PowerOn
	PowerOff
)

func (s PowerState) String() string {
	switch s {
	case PowerOn:
		return "on"
	case PowerOff:
		return "off"
	}
	return "unknown"
}

// Device is one configured fencing device. Implementations are created by a
// Plugin from a primitive's parameters.
//
// Concurrency: the executor may call the methods of one Device from
// several goroutines at once (different targets, or a monitor during a
// fence); implementations must be safe for that. Every method must return
// promptly once ctx is done. Errors must not contain secret parameter
// values in clear (Registry.Configure wraps devices so that known secret
// values are masked anyway).
type Device interface {
	// Fence performs a fence action (reboot, off or on) on target and
	// returns nil only when the device confirmed it.
	Fence(ctx context.Context, target string, action Action) error
	// Status reports target's power state. A device that cannot tell
	// returns PowerUnknown and an error.
	Status(ctx context.Context, target string) (PowerState, error)
	// List returns the targets the device can fence (for
	// pcmk_host_check=dynamic-list); ErrNotSupported if it cannot tell.
	List(ctx context.Context) ([]string, error)
	// Monitor checks that the device is reachable and usable.
	Monitor(ctx context.Context) error
	// MetaData describes the device type and its parameters.
	MetaData(ctx context.Context) (MetaData, error)
}

// MetaData describes a device type (the fence-agents <resource-agent> XML).
type MetaData struct {
	Name      string
	ShortDesc string
	LongDesc  string
	Params    []ParamSpec
	Actions   []string
}

// Param returns the named parameter description.
func (m MetaData) Param(name string) (ParamSpec, bool) {
	for _, p := range m.Params {
		if p.Name == name {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// ParamSpec describes one device parameter.
type ParamSpec struct {
	Name      string
	Required  bool
	Secret    bool // never logged or shown (passwords, keys)
	Type      string
	Default   string
	ShortDesc string
}

// Result errors carry the device and action; DeviceError is what the
// executor records for a failed step.
type DeviceError struct {
	Device string
	Target string
	Action Action
	Err    error
}

func (e *DeviceError) Error() string {
	return fmt.Sprintf("fence device %s: %s %s: %v", e.Device, e.Action, e.Target, e.Err)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// Runnable is implemented by devices that need a background loop while
// they are configured (the watchdog feeds its timer). The daemon runs Run
// on a goroutine it owns and cancels ctx when the device is removed or the
// node shuts down.
type Runnable interface {
	Run(ctx context.Context) error
}
