package release

import (
	"errors"
	"testing"
)

func TestParseUser(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    User
		wantErr error
	}{
		{name: "uid is also the gid", in: "1000", want: User{UID: 1000, GID: 1000}},
		{name: "uid and gid", in: "1000:2000", want: User{UID: 1000, GID: 2000, group: true}},
		{name: "group not numeric", in: "1000:abc", wantErr: ErrUserNotNumeric},
		{name: "name", in: "abc", wantErr: ErrUserNotNumeric},
		{name: "empty group", in: "1000:", wantErr: ErrUserNotNumeric},
		{name: "negative", in: "-5", wantErr: ErrUserNotNumeric},
		{name: "too large", in: "4294967296", wantErr: ErrUserNotNumeric},
		{name: "root", in: "0", wantErr: ErrUserRoot},
		{name: "root group", in: "1000:0", wantErr: ErrUserRoot},
		{name: "root user, other group", in: "0:1000", wantErr: ErrUserRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUser(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("ParseUser(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("ParseUser(%q).String() = %q, want it as written", tt.in, got.String())
			}
		})
	}
	if u, err := ParseUser(DefaultUser); err != nil || u != DefaultImageUser {
		t.Errorf("ParseUser(DefaultUser) = %+v, %v; want DefaultImageUser %+v", u, err, DefaultImageUser)
	}
}

// TestUserOneRule: Validate, Resolve and Config.User refuse a bad
// image.user the same way, naming the key.
func TestUserOneRule(t *testing.T) {
	for _, in := range []string{"1000:abc", "abc", "0", "1000:0"} {
		t.Run(in, func(t *testing.T) {
			cfg := minimal()
			cfg.Image.User = in
			for name, err := range map[string]error{"Validate": cfg.Validate(fakeStrategies{}), "Resolve": second(cfg.Resolve("prod", fakeStrategies{})), "User": second(cfg.User())} {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Path != "image.user" {
					t.Errorf("%s with image.user %q = %v, want a FieldError at image.user", name, in, err)
				}
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }
