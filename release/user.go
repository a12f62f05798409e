package release

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// User is image.user parsed: the numeric uid and gid that own the
// release's files in the image and that the pod runs as. It is parsed
// once, here; the image builder and the manifests read UID and GID.
type User struct {
	UID, GID int64
	// group records whether the config named the group ("1000:1000") or
	// let it follow the uid ("1000"); String gives the text back as
	// written, so the image config does not change.
	group bool
}

// Errors ParseUser returns, each wrapped with the value.
var (
	// ErrUserNotNumeric: Kubernetes can only enforce runAsNonRoot for a
	// numeric user, and a name would need the image's /etc/passwd.
	ErrUserNotNumeric = errors.New("want a numeric uid or uid:gid (Kubernetes can only enforce runAsNonRoot for numeric users)")
	// ErrUserRoot: pods run as non-root, so neither uid 0 nor gid 0 (the
	// root group, which owns much of a base image) is allowed.
	ErrUserRoot = errors.New("must not be root: uid and gid 0 are refused because the pod runs as non-root")
)

// DefaultImageUser is DefaultUser parsed.
var DefaultImageUser = User{UID: 65532, GID: 65532}

// ParseUser reads "uid" or "uid:gid"; a lone uid is also the gid. Both
// are whole numbers from 1 to 2^31-1 (Linux ids, as Kubernetes' int64
// fields hold them).
func ParseUser(s string) (User, error) {
	u, g, group := strings.Cut(s, ":")
	if !group {
		g = u
	}
	uid, err1 := strconv.ParseInt(u, 10, 32)
	gid, err2 := strconv.ParseInt(g, 10, 32)
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return User{}, fmt.Errorf("%q: %w", s, ErrUserNotNumeric)
	}
	if uid == 0 || gid == 0 {
		return User{}, fmt.Errorf("%q: %w", s, ErrUserRoot)
	}
	return User{UID: uid, GID: gid, group: group}, nil
}

// String is the user as the image config's User field takes it: "uid"
// or "uid:gid", as written in the config.
func (u User) String() string {
	if !u.group && u.GID == u.UID {
		return strconv.FormatInt(u.UID, 10)
	}
	return fmt.Sprintf("%d:%d", u.UID, u.GID)
}

// User is image.user parsed, DefaultUser when the config leaves it out.
// A bad value is a FieldError naming image.user.
func (c *Config) User() (User, error) {
	s := c.Image.User
	if s == "" {
		s = DefaultUser
	}
	u, err := ParseUser(s)
	if err != nil {
		return User{}, c.Origin.wrapf("image.user", err)
	}
	return u, nil
}

// ReleaseKind is release.kind, DefaultKind when the config leaves it out.
func (c *Config) ReleaseKind() string {
	if c.Release.Kind != "" {
		return c.Release.Kind
	}
	return DefaultKind
}

// Equal reports whether u and v are the same user written the same way.
func (u User) Equal(v User) bool { return u == v }
