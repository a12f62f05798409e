package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/relgen/relgen/release"
)

// keptAsWritten refuses a text value (a key such as release.version, or an
// entry of env, labels, field_env or resources) that the file did not
// write as text and whose text relgen would change:
// unquoted, YAML reads true as a boolean (which would become "1"), 010 as
// the number 8 and null as no value at all. A number whose text is its
// value (4000, 0.5) is kept as written; anything else must be quoted, and
// the message shows how. Values an override replaces are not the file's.
func keptAsWritten(src *release.Source, overridden map[string]string) error {
	cfg := release.Config{Origin: src.Origin}
	over := map[string]bool{}
	for k := range overridden {
		over[strings.ToLower(k)] = true
	}
	var errs []error
	src.EachText(func(path string, v any) {
		if over[strings.ToLower(path)] {
			return
		}
		written, known := src.Written[path]
		var parsed string
		switch v := v.(type) {
		case string:
			return
		case nil:
			errs = append(errs, cfg.Errorf(path, "has no value (null); write \"\" for an empty value, or remove the key"))
			return
		case bool:
			parsed = "the boolean " + strconv.FormatBool(v)
		case json.Number:
			if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return // JSON has one way to write an integer
			}
			written, known, parsed = string(v), true, "a number"
		case int, int64, uint64:
			if known && written == fmt.Sprint(v) {
				return
			}
			parsed = fmt.Sprintf("the number %v", v)
		case float64:
			if known && written == strconv.FormatFloat(v, 'f', -1, 64) {
				return
			}
			parsed = "the number " + strconv.FormatFloat(v, 'f', -1, 64)
		default:
			parsed = fmt.Sprintf("a %T", v)
		}
		if !known {
			written = fmt.Sprint(v)
		}
		errs = append(errs, cfg.Errorf(path, "%s is read as %s, not as text; quote it (%q) to keep it as written", written, parsed, written))
	})
	return errors.Join(errs...)
}
