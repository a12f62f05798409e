// Package vmargs owns the Erlang VM args file (vm.args): it renders the
// file from a template for one resolved environment, checks the result
// boots a node that can join the cluster, parses it back, and handles the
// ${VAR} placeholders that a release leaves in it for the runtime.
//
// vm.args holds the flags the VM boots with: one or more whitespace-separated
// tokens per line, where a token starting with '-' or '+' begins a flag and
// the tokens after it on the same line are its values, for example
//
//	-name myapp@${MY_POD_IP}
//	-setcookie ${RELEASE_COOKIE}
//	+K true
//	-kernel inet_dist_listen_min 9000 inet_dist_listen_max 9000
//
// A '#' at the start of a token (at line start or after whitespace) starts a
// comment that runs to the end of the line; blank lines are ignored.
//
// relgen deals with two kinds of placeholder and never confuses them. The
// {{ ... }} Go template is rendered first: Render gives it Data (the
// release, cluster and environment values of a release.Spec) through
// templates.Render, the one helper every relgen template goes through,
// and the built-in template when the config names none. Parse, Check and
// the placeholder functions work on the file after that rendering. What
// remains are the runtime placeholders:
//
//   - ${VAR} is replaced from the pod's environment at boot (the Distillery
//     REPLACE_OS_VARS convention, which replaces them anywhere in the file,
//     comments included);
//   - ${VAR:-default} is the same with a default used when VAR is unset or
//     empty.
//
// VAR matches [A-Za-z_][A-Za-z0-9_]*. $$ stands for a literal '$', so $${X} is
// the text ${X} and not a placeholder. $VAR and $(VAR) are plain text: the
// runtime does not expand them in vm.args. Any other use of ${ is a syntax
// error, reported as a *SyntaxError with its line and column.
//
// Render and Check make the file; Placeholders lists the placeholders so
// that callers can prove each one has a source in the target environment;
// Resolve substitutes them strictly, which shows exactly what a node will
// boot with; Parse splits the file into flags.
package vmargs
