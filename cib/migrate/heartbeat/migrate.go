package heartbeat

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
)

// Inputs are the heartbeat v1 files to migrate. Names are used in messages
// only.
type Inputs struct {
	HAResources     []byte
	HAResourcesName string
	HACF            []byte
	HACFName        string
	// Authkeys is optional (nil: not given). AuthkeysMode is the file's mode
	// on disk; group/other access is a problem like in heartbeat.
	Authkeys     []byte
	AuthkeysName string
	AuthkeysMode fs.FileMode
	// Logger receives debug records (never secrets); nil discards them.
	Logger *slog.Logger
}

// Result is the outcome of a migration.
type Result struct {
	// CRM is the crm configure text (load it with "crm configure load update").
	CRM string
	// Warnings are everything a human should review, in input order:
	// haresources, ha.cf, translation, timing, authkeys.
	Warnings []Warning
	// Timing is the membership timing derived from ha.cf.
	Timing Timing
	// Transport is the gossip transport derived from the ha.cf media.
	Transport Transport
	// Explanation says in plain text how each ha.cf timer and medium was
	// mapped.
	Explanation string

	HAResources *HAResources
	HACF        *HACF
	// Authkeys and ClusterKey are nil when no authkeys was given;
	// ClusterKey is also nil when the active key is crc (no secret): a new
	// random key must be generated then (a warning says so).
	Authkeys   *Authkeys
	ClusterKey *ClusterKey
}

// LoadInputs reads the files through fsys (paths as fs.ValidPath expects;
// authkeys may be "" for none). The authkeys mode is taken from fs.Stat.
func LoadInputs(fsys fs.FS, haresources, hacf, authkeys string) (Inputs, error) {
	in := Inputs{HAResourcesName: haresources, HACFName: hacf, AuthkeysName: authkeys}
	var err error
	if in.HAResources, err = fs.ReadFile(fsys, haresources); err != nil {
		return Inputs{}, fmt.Errorf("read haresources: %w", err)
	}
	if in.HACF, err = fs.ReadFile(fsys, hacf); err != nil {
		return Inputs{}, fmt.Errorf("read ha.cf: %w", err)
	}
	if authkeys != "" {
		st, err := fs.Stat(fsys, authkeys)
		if err != nil {
			return Inputs{}, fmt.Errorf("stat authkeys: %w", err)
		}
		in.AuthkeysMode = st.Mode()
		if in.Authkeys, err = fs.ReadFile(fsys, authkeys); err != nil {
			return Inputs{}, fmt.Errorf("read authkeys: %w", err)
		}
	}
	return in, nil
}

// Migrate parses the inputs, translates haresources + ha.cf to crm text,
// maps the ha.cf timers and, when authkeys is given, validates it and
// derives the cluster key. Any parse error, an authkeys problem or a
// CRM-enabled ha.cf (ErrCRMEnabled) fails the migration. Migrate is pure and
// safe for concurrent use.
func Migrate(in Inputs) (Result, error) {
	log := in.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	names := func(n, def string) string {
		if n == "" {
			return def
		}
		return n
	}
	hrName, cfName, akName := names(in.HAResourcesName, "haresources"), names(in.HACFName, "ha.cf"), names(in.AuthkeysName, "authkeys")

	var res Result
	cf, err := ParseHACF(cfName, in.HACF)
	if err != nil {
		return Result{}, fmt.Errorf("migrate heartbeat: %w", err)
	}
	res.HACF = cf
	if cf.CRMEnabled {
		return Result{}, fmt.Errorf("migrate heartbeat: %w", crmEnabledErr(cf))
	}
	hr, err := ParseHAResources(hrName, in.HAResources)
	if err != nil {
		return Result{}, fmt.Errorf("migrate heartbeat: %w", err)
	}
	res.HAResources = hr
	log.LogAttrs(context.Background(), slog.LevelDebug, "heartbeat inputs parsed",
		slog.Int("groups", len(hr.Groups)), slog.Int("nodes", len(cf.Nodes)), slog.Int("media", len(cf.Media)))

	var akWarns []Warning
	if in.Authkeys != nil {
		ak, err := ParseAuthkeys(akName, in.Authkeys, in.AuthkeysMode)
		if err != nil {
			return Result{}, fmt.Errorf("migrate heartbeat: %w", err)
		}
		res.Authkeys = ak
		key, err := DeriveClusterKey(ak)
		switch {
		case err == nil:
			res.ClusterKey = &key
			log.LogAttrs(context.Background(), slog.LevelDebug, "cluster key derived", slog.String("fingerprint", key.Fingerprint()))
		default:
			// only ErrNoSecret can happen here: problems were rejected above.
			akWarns = append(akWarns, Warning{akName, 0, err.Error()})
		}
		if k, ok := ak.Active(); ok && k.Method != "sha1" {
			akWarns = append(akWarns, Warning{akName, k.Line, fmt.Sprintf("active key uses %s, which gives little or no security; gocrm encrypts gossip with the derived key", k.Method)})
		}
	}

	crm, twarns, err := Translate(hr, cf)
	if err != nil {
		return Result{}, fmt.Errorf("migrate heartbeat: %w", err)
	}
	res.CRM = crm
	timing, expl, tmw := MapTiming(cf)
	transport, texpl, trw := MapTransport(cf)
	res.Timing, res.Transport, res.Explanation = timing, transport, expl+texpl

	res.Warnings = append(res.Warnings, hr.Warnings...)
	res.Warnings = append(res.Warnings, cf.Warnings...)
	res.Warnings = append(res.Warnings, twarns...)
	res.Warnings = append(res.Warnings, tmw...)
	res.Warnings = append(res.Warnings, trw...)
	res.Warnings = append(res.Warnings, akWarns...)
	log.LogAttrs(context.Background(), slog.LevelDebug, "heartbeat migration done", slog.Int("warnings", len(res.Warnings)))
	return res, nil
}
