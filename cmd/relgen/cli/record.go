package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// recordReference reads the image reference from a build record.
// TODO(image): replace with image.ReadRecordFile once release/image lands.
func recordReference(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading build record: %w", err)
	}
	var r struct {
		Reference string `json:"reference"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if !strings.Contains(r.Reference, "@sha256:") {
		return "", fmt.Errorf("%s: reference %q is not pinned by digest", path, r.Reference)
	}
	return r.Reference, nil
}
