package stonith

import (
	"errors"
	"log/slog"
	"sort"
	"strings"
)

// Mask replaces secret values in logs, errors and String output.
const Mask = "******"

// IsSecretName reports whether a parameter name denotes a secret by its
// name alone: passwords (passwd, password, ...), keys, tokens, secrets
// and SNMP communities. Plugins mark further parameters secret in their
// metadata (ParamSpec.Secret).
func IsSecretName(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "_script") || strings.HasSuffix(n, "_file") || strings.HasSuffix(n, "_path") {
		return false // names a file or script, not the secret itself
	}
	for _, w := range []string{"passw", "secret", "token", "community", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "key" || strings.HasSuffix(n, "_key") || strings.HasPrefix(n, "key_")
}

// Params are a device's parameters with their secrecy. The zero value is
// empty. A Params value is immutable and safe for concurrent use; its
// String and LogValue never show secret values.
type Params struct {
	values map[string]string
	secret map[string]bool
}

// NewParams copies values; names for which IsSecretName holds, or listed
// in extraSecret, are secret.
func NewParams(values map[string]string, extraSecret ...string) Params {
	p := Params{values: make(map[string]string, len(values)), secret: map[string]bool{}}
	for k, v := range values {
		p.values[k] = v
		if IsSecretName(k) {
			p.secret[k] = true
		}
	}
	for _, k := range extraSecret {
		p.secret[k] = true
	}
	return p
}

// Get returns the value of name ("" if absent).
func (p Params) Get(name string) string { return p.values[name] }

// Lookup returns the value of name and whether it is set.
func (p Params) Lookup(name string) (string, bool) {
	v, ok := p.values[name]
	return v, ok
}

// Names returns the parameter names, sorted.
func (p Params) Names() []string {
	out := make([]string, 0, len(p.values))
	for k := range p.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsSecret reports whether name is a secret parameter.
func (p Params) IsSecret(name string) bool { return p.secret[name] }

// Map returns a copy of the values, secrets included in clear. Use it only
// to hand parameters to the device itself.
func (p Params) Map() map[string]string {
	out := make(map[string]string, len(p.values))
	for k, v := range p.values {
		out[k] = v
	}
	return out
}

// String renders "k=v k2=v2" sorted by name, secrets masked.
func (p Params) String() string {
	var b strings.Builder
	for i, k := range p.Names() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		if p.secret[k] {
			b.WriteString(Mask)
		} else {
			b.WriteString(p.values[k])
		}
	}
	return b.String()
}

// LogValue implements slog.LogValuer with secrets masked.
func (p Params) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(p.values))
	for _, k := range p.Names() {
		v := p.values[k]
		if p.secret[k] {
			v = Mask
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

// Redact masks every secret value occurring in s. Longer secrets are
// replaced first so that a secret containing another is fully masked.
func (p Params) Redact(s string) string {
	var secrets []string
	for k := range p.secret {
		if v := p.values[k]; v != "" {
			secrets = append(secrets, v)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// RedactError returns err unchanged when its message holds no secret,
// else an error with the masked message that still matches the original
// chain with errors.Is (but does not expose it through Unwrap).
func (p Params) RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := p.Redact(msg); red != msg {
		return &redactedError{msg: red, inner: err}
	}
	return err
}

type redactedError struct {
	msg   string
	inner error
}

func (e *redactedError) Error() string { return e.msg }

// Is lets errors.Is see the sentinels of the hidden original error.
func (e *redactedError) Is(target error) bool { return errors.Is(e.inner, target) }
