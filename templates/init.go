package templates

import _ "embed" // the relgen init template

//go:embed init/relgen.yaml.tmpl
var initConfig string

// InitConfig returns the template `relgen init` renders a project's first
// relgen.yaml from, and the name to report it under.
func InitConfig() (name, text string) {
	return "built-in init/relgen.yaml.tmpl", initConfig
}
