package release

import (
	"errors"
	"fmt"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
)

// SyntaxError is a config file that is not valid YAML, located at the
// line and column where the parser gave up, with that line's text.
type SyntaxError struct {
	File         string
	Line, Column int
	Msg          string
	// Text is the source line at Line.
	Text string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s, at %q", e.File, e.Line, e.Column, e.Msg, e.Text)
}

// locateSyntax finds where data stops being YAML. go.yaml.in/yaml reports
// only a line, and often the line where the construct began; goccy's
// parser gives line and column of the token it stopped at. It is only
// asked once yaml has refused data; nil when it finds nothing.
func locateSyntax(file string, data []byte) *SyntaxError {
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
		return nil
	}
	line, col := se.Token.Position.Line, se.Token.Position.Column
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return nil
	}
	msg := strings.ReplaceAll(se.Message, "\t", `\t`)
	if strings.Contains(se.Message, "'\t'") {
		msg += " (YAML indents with spaces, not tabs)"
	}
	return &SyntaxError{File: file, Line: line, Column: col, Msg: msg, Text: strings.TrimRight(lines[line-1], "\r")}
}
