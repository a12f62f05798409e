package vmargs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/templates"
)

// Data is what a vm.args template sees.
type Data struct {
	Release struct {
		Name, Version, Kind string
	}
	// Environment is the environment's name, e.g. prod.
	Environment string
	Namespace   string
	Topology    release.Topology
	// NodeName is the long node name with the pod IP placeholder,
	// e.g. myapp@${POD_IP}, or on the pod's stable DNS name when the
	// topology names nodes by hostname (release.Topology.NodeName).
	NodeName string
	// CookieEnv is the env var holding the cookie at runtime.
	CookieEnv    string
	CookieSecret string
}

// NewData builds the template data for one environment's spec.
func NewData(s *release.Spec) Data {
	d := Data{
		Environment:  s.Environment,
		Namespace:    s.Topology.Namespace,
		Topology:     s.Topology,
		NodeName:     s.Topology.NodeName(),
		CookieEnv:    release.CookieEnv,
		CookieSecret: s.Release.Cookie.Secret,
	}
	d.Release.Name, d.Release.Version, d.Release.Kind = s.Release.Name, s.Release.Version, s.Release.Kind
	return d
}

// Render renders the vm.args template text (named name in errors) for s.
// An empty text selects the built-in template of the release kind.
func Render(name, text string, s *release.Spec) (string, error) {
	if text == "" {
		var err error
		if name, text, err = templates.VMArgs(s.Release.Kind); err != nil {
			return "", err
		}
	}
	out, err := templates.Render(name, text, NewData(s))
	if err != nil {
		return "", fmt.Errorf("rendering vm.args: %w", err)
	}
	return out, nil
}

// Check verifies that rendered vm.args boots a node that can join the
// cluster under the release kind's rules: long names with the topology's
// basename on the pod IP (or, when the topology names nodes by hostname,
// exactly on the pod's stable DNS name), no cookie literal, and no
// placeholder the kind's boot script would not substitute. name labels
// the errors.
func Check(name, text string, s *release.Spec) error {
	args, err := Parse(text)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ph, err := Placeholders(text)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var errs []error
	fail := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: line %d: %s", name, line, fmt.Sprintf(format, a...)))
	}
	for _, a := range Find(args, "-sname") {
		fail(a.Line, "-sname gives a short node name that other pods cannot reach; use -name %s", s.Topology.NodeName())
	}
	for _, a := range Find(args, "-setcookie") {
		if len(a.Values) != 1 || !isPlaceholder(a.Values[0]) {
			fail(a.Line, "-setcookie must take the cookie from the runtime (${%s}), never a literal", release.CookieEnv)
		}
	}
	switch s.Release.Kind {
	case release.KindMix:
		for _, flag := range []string{"-name", "-setcookie"} {
			for _, a := range Find(args, flag) {
				fail(a.Line, "%s: mix releases set the node name and cookie from RELEASE_NODE/RELEASE_COOKIE; remove this line", flag)
			}
		}
		for _, p := range ph {
			if !p.InComment {
				fail(p.Line, "${%s}: mix releases do not substitute ${VAR} in vm.args (erl reads it literally); use an env var route such as RELEASE_NODE or ERL_FLAGS", p.Name)
			}
		}
	case release.KindDistillery:
		names := Find(args, "-name")
		if len(names) == 0 && len(Find(args, "-sname")) == 0 {
			fail(1, "no -name line: add -name %s", s.Topology.NodeName())
		}
		for _, a := range names {
			errs = append(errs, checkNodeName(name, a, s)...)
		}
		for i, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "$${") {
				fail(i+1, "$${ is not an escape for Distillery, which would substitute the variable anyway; remove the line or the placeholder")
			}
		}
		for _, p := range ph {
			if p.HasDefault {
				fail(p.Line, "${%s:-%s}: Distillery's REPLACE_OS_VARS does not know defaults and would substitute an empty string; give %s a value in the pod env instead", p.Name, p.Default, p.Name)
			}
		}
	}
	return errors.Join(errs...)
}

func checkNodeName(name string, a Arg, s *release.Spec) []error {
	fail := func(format string, v ...any) []error {
		return []error{fmt.Errorf("%s: line %d: %s", name, a.Line, fmt.Sprintf(format, v...))}
	}
	if len(a.Values) != 1 {
		return fail("-name takes exactly one node name, got %d values", len(a.Values))
	}
	base, host, ok := NodeName(a.Values[0])
	if !ok {
		return fail("-name %s has no host part; use -name %s", a.Values[0], s.Topology.NodeName())
	}
	if base != s.Topology.Basename {
		return fail("node basename %q does not match release.name %q, which discovery (%s) expects", base, s.Topology.Basename, s.Discovery)
	}
	want := s.Topology.NodeHost()
	switch {
	case host == want:
	case s.Topology.NamedByHostname():
		// The strategy connects to <basename>@<SRV target>, and a node
		// answers only to its own name.
		return fail("node host %s is not the pod's stable DNS name; %s connects to %s@<pod>.%s, so use -name %s",
			host, s.Discovery, base, s.Topology.FQDN(), s.Topology.NodeName())
	case strings.Contains(host, "."):
		// A literal FQDN or IP: allowed, if unusual.
	case isPlaceholder(host):
		return fail("node host %s is not the pod IP; use %s (cluster.pod_ip_env), since a bare pod hostname does not resolve in cluster DNS", host, want)
	default:
		return fail("node host %q is a bare hostname that other pods cannot resolve; use %s", host, want)
	}
	return nil
}

func isPlaceholder(s string) bool {
	return strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && strings.Count(s, "${") == 1
}
