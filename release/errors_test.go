package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestSplit(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	got := Split(errors.Join(a, errors.Join(b, c)))
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("Split(join(a, join(b, c))) = %v, want [a b c]", got)
	}
	wrapped := fmt.Errorf("x: %w", a)
	if got := Split(wrapped); len(got) != 1 || got[0] != wrapped {
		t.Errorf("Split(one error) = %v, want it alone", got)
	}
}

// TestFieldErrorKeepsCause: an error formatted with %w into a FieldError
// is still found by errors.Is, one cause or several.
func TestFieldErrorKeepsCause(t *testing.T) {
	cfg := Config{Origin: Origin{File: "relgen.yaml", Lines: map[string]int{"image.base": 4}}}
	err := cfg.Errorf("image.base", "pulling: %w", fmt.Errorf("fetch: %w", context.Canceled))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Errorf(%%w context.Canceled) = %v, does not match context.Canceled", err)
	}
	if want := "relgen.yaml:4: image.base: pulling: fetch: context canceled"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	err = cfg.Errorf("image.base", "%w and %w", context.Canceled, fs.ErrNotExist)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Errorf with two %%w = %v, lost a cause", err)
	}
	if err := cfg.Errorf("image.base", "%v", context.Canceled); errors.Is(err, context.Canceled) {
		t.Errorf("Errorf(%%v) kept the cause; only %%w should")
	}
}
