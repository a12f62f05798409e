package release

// Secret is a value that must not end up in output or logs by accident:
// it prints as [redacted]. Reveal returns the value for the one place that
// is meant to write it.
type Secret struct{ value string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.value }

// String redacts the value.
func (s Secret) String() string { return "[redacted]" }

// GoString redacts the value under %#v too.
func (s Secret) GoString() string { return "release.Secret([redacted])" }

// MarshalJSON redacts the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
