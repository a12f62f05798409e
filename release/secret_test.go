package release

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretRedacts(t *testing.T) {
	s := NewSecret("mymagiccookie")
	j, err := json.Marshal(struct{ Cookie Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), string(j)} {
		if strings.Contains(out, "mymagiccookie") {
			t.Errorf("formatted secret %q reveals the value", out)
		}
	}
	if s.Reveal() != "mymagiccookie" {
		t.Errorf("Reveal() = %q", s.Reveal())
	}
}
