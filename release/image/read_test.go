package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyFile reads files of every size against the buffer, and refuses
// one whose size is not the planned one.
func TestCopyFile(t *testing.T) {
	buf := make([]byte, 8)
	tests := []struct {
		name    string
		content string
		size    int64
		wantErr string
	}{
		{name: "empty", content: "", size: 0},
		{name: "smaller than the buffer", content: "abc", size: 3},
		{name: "the buffer's size", content: "abcdefgh", size: 8},
		{name: "several buffers", content: strings.Repeat("0123456789", 5), size: 50},
		{name: "grew", content: "abcdefghij", size: 9, wantErr: "grew past 9 bytes"},
		{name: "grew by a buffer", content: strings.Repeat("x", 24), size: 16, wantErr: "grew past 16 bytes"},
		{name: "shrank", content: "abc", size: 20, wantErr: "(3 bytes, want 20)"},
		{name: "emptied", content: "", size: 1, wantErr: "(0 bytes, want 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := copyFile(&out, p, tt.size, buf)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("copyFile() = %v", err)
			case tt.wantErr == "" && out.String() != tt.content:
				t.Errorf("copyFile() wrote %q, want %q", out.String(), tt.content)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("copyFile() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
	if err := copyFile(&bytes.Buffer{}, filepath.Join(t.TempDir(), "missing"), 1, buf); !os.IsNotExist(err) {
		t.Errorf("copyFile(missing) = %v, want a not-exist error", err)
	}
}
