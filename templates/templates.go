package templates

import (
	"bytes"
	"embed"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

//go:embed vmargs/*.tmpl dist/*.tmpl
var builtin embed.FS

// VMArgs returns the built-in vm.args template for a release kind
// (distillery or mix) and the name to report it under.
func VMArgs(kind string) (name, text string, err error) {
	name = "vmargs/" + kind + ".tmpl"
	b, err := builtin.ReadFile(name)
	if err != nil {
		return "", "", fmt.Errorf("no built-in vm.args template for release kind %q", kind)
	}
	return "built-in " + name, string(b), nil
}

// SSLDist returns the template of the ssl_dist_optfile relgen renders for
// TLS distribution, and the name to report it under.
func SSLDist() (name, text string) {
	name = "dist/ssl_dist.conf.tmpl"
	b, err := builtin.ReadFile(name)
	if err != nil {
		panic(err) // embedded above: a missing file is a build defect
	}
	return "built-in " + name, string(b)
}

// Render executes the template text, named name in errors, with data.
func Render(name, text string, data any) (string, error) {
	t, err := template.New(name).
		Funcs(sprig.HermeticTxtFuncMap()).
		Option("missingkey=error").
		Parse(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fieldError(err, data)
	}
	return buf.String(), nil
}

// noField is text/template's "can't evaluate field X in type T", where T
// is a Go type name the template's author never sees.
var noField = regexp.MustCompile(`can't evaluate field (\w+) in type .*$`)

// fieldError rewords a missing field as the fields there are; text/template
// gives no typed error for it.
func fieldError(err error, data any) error {
	msg := err.Error()
	m := noField.FindStringSubmatchIndex(msg)
	if m == nil {
		return err
	}
	var fields []string
	if t := reflect.TypeOf(data); t != nil && t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				fields = append(fields, "."+f.Name)
			}
		}
	}
	return fmt.Errorf("%s.%s is not a field there (the template data has %s)", msg[:m[0]], msg[m[2]:m[3]], strings.Join(fields, ", "))
}
