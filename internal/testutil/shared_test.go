package testutil

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSharedFillsOneAtATime: fills of one shared directory never overlap,
// and what the first one made, the others find.
func TestSharedFillsOneAtATime(t *testing.T) {
	t.Setenv(SharedEnv, t.TempDir())
	var running, overlaps, made atomic.Int32
	fill := func(dir string) error {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		f := filepath.Join(dir, "thing")
		if _, err := os.Stat(f); err == nil {
			return nil
		}
		made.Add(1)
		return os.WriteFile(f, []byte("made once"), 0o644)
	}
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	for i := range dirs {
		wg.Go(func() { dirs[i] = Shared(t, "things", fill) })
	}
	wg.Wait()
	if overlaps.Load() != 0 || made.Load() != 1 {
		t.Errorf("%d fills overlapped, %d made the file; want 0 and 1", overlaps.Load(), made.Load())
	}
	for _, d := range dirs {
		if want := filepath.Join(os.Getenv(SharedEnv), "things"); d != want {
			t.Errorf("Shared = %s, want %s", d, want)
		}
	}
}
