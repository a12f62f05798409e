package discovery

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Delivered is what a bundle gives a discovery library at runtime, read
// from the objects rather than from relgen.yaml: the discovery config file
// the VM loads (parsed, nil when there is none) and the release
// container's env with $(VAR) references expanded as far as the objects
// tell.
type Delivered struct {
	Config any
	// ConfigAt names where the config file comes from, for messages
	// (ConfigMap myapp-runtime: data.discovery.config).
	ConfigAt string
	// Env holds the values; EnvAt names the field of each variable.
	Env   map[string]string
	EnvAt map[string]string
}

// Value is one setting as the library will read it, and where the bundle
// sets it.
type Value struct {
	Text string
	At   string
}

// Use is one discovery library configured in a bundle, with the settings
// it will run with.
type Use struct {
	// Strategy is the cluster.discovery name (peerage, ...).
	Strategy string
	// Query is the DNS name the library resolves, built as the library
	// builds it; empty for strategies that ask the Kubernetes API.
	Query Value
	// SRV reports that the library connects to the targets of SRV
	// records (the pods' DNS names) rather than to A records (pod IPs).
	SRV bool
	// Basename is the node basename it connects to; empty when the
	// library takes the node's own (dns_cluster).
	Basename Value
	// Namespace and Selector are where and how a strategy that asks the
	// Kubernetes API lists the pods; API reports such a strategy.
	API                 bool
	Namespace, Selector Value
	// Mode is how an API strategy names the nodes it connects to: ip
	// (basename@<pod IP>), hostname (basename@<pod hostname>.<service>...)
	// or dns (basename@<a-b-c-d>.<namespace>.pod...).
	Mode string
	// Lists is the resource an API strategy lists with the selector:
	// pods, or endpoints (whose labels are their Service's).
	Lists Value
	// Faults are settings the library would choke on or misread (a
	// charlist where it calls String functions, an interval in the wrong
	// unit); Warning marks those that work, badly.
	Faults []Fault
}

// Fault is a setting the library cannot use as written, at At.
type Fault struct {
	At, Msg string
	Warning bool
}

// rawConfig is the term at path in the config file, and where it is.
func (d Delivered) rawConfig(path ...string) (any, string, bool) {
	t, ok := Lookup(d.Config, path...)
	return t, d.ConfigAt + ": {" + strings.Join(path, ", ") + "}", ok
}

// wholeNumber adds a fault unless the setting at path, when the file
// has it, is an integer; what names the unit for the message.
func (d Delivered) wholeNumber(faults *[]Fault, what string, path ...string) (int64, bool) {
	t, at, ok := d.rawConfig(path...)
	if !ok {
		return 0, false
	}
	n, isNum := t.(Number)
	v, err := strconv.ParseInt(string(n), 10, 64)
	if !isNum || err != nil || v < 0 {
		*faults = append(*faults, Fault{At: at, Msg: fmt.Sprintf("%s must be a whole number of %s; the library passes it to Process.send_after and crashes on anything else", path[len(path)-1], what)})
		return 0, false
	}
	return v, true
}

// Find lists the discovery libraries a bundle configures, with their
// settings, in registration order.
func Find(d Delivered) []Use {
	var out []Use
	for _, name := range Names() {
		s, _ := For(name)
		if u, ok := s.Find(d); ok {
			u.Strategy = name
			out = append(out, u)
		}
	}
	return out
}

// config reads the setting at path in the config file, e.g.
// ("peerage", "dns_name").
func (d Delivered) config(path ...string) (Value, bool) {
	t, ok := Lookup(d.Config, path...)
	if !ok {
		return Value{}, false
	}
	s, ok := Text(t)
	if n, isNum := t.(Number); isNum {
		s, ok = string(n), true
	}
	if !ok {
		return Value{}, false
	}
	return Value{Text: s, At: d.ConfigAt + ": {" + strings.Join(path, ", ") + "}"}, true
}

// env reads variable name of the container env.
func (d Delivered) env(name string) (Value, bool) {
	v, ok := d.Env[name]
	if !ok {
		return Value{}, false
	}
	return Value{Text: v, At: d.EnvAt[name]}, true
}

// setting reads key from the config file at path, else the env route's
// variable.
func (d Delivered) setting(path []string, key, env string) Value {
	if v, ok := d.config(append(slices.Clone(path), key)...); ok {
		return v
	}
	v, _ := d.env(env)
	return v
}

func libclusterTopology(d Delivered, module string, env ...string) ([]string, bool) {
	if tops, ok := Lookup(d.Config, "libcluster", "topologies"); ok {
		list, _ := tops.(List)
		for _, e := range list {
			tup, ok := e.(Tuple)
			if !ok || len(tup) != 2 {
				continue
			}
			name, _ := Text(tup[0])
			if s, ok := Lookup(tup[1], "strategy"); ok && s == Atom("Elixir."+module) {
				return []string{"libcluster", "topologies", name, "config"}, true
			}
		}
		return nil, false
	}
	for _, name := range env {
		if _, ok := d.Env[name]; !ok {
			return nil, false
		}
	}
	return nil, true
}

// pollingInterval checks a libcluster topology's polling_interval: whole
// milliseconds; a small one is most likely meant as seconds.
func (d Delivered) pollingInterval(u *Use, path []string) {
	if path == nil {
		return
	}
	p := append(slices.Clone(path), "polling_interval")
	if v, ok := d.wholeNumber(&u.Faults, "milliseconds", p...); ok && v < 100 {
		_, at, _ := d.rawConfig(p...)
		u.Faults = append(u.Faults, Fault{At: at, Warning: true, Msg: fmt.Sprintf("polling_interval %d is in milliseconds: the library polls %d times a second; write %d for %d seconds", v, 1000/max(v, 1), v*1000, v)})
	}
}
