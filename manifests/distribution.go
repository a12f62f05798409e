package manifests

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/templates"
	"github.com/relgen/relgen/vmargs"
)

// ConfigMap keys of the distribution files, mounted under
// release.ConfigDir next to vm.args.
const (
	// SSLDistKey is the ssl_dist_optfile (cluster.tls).
	SSLDistKey = "ssl_dist.conf"
	// RemoteVMArgsKey is the vm.args of remote shells and rpc nodes, when
	// the nodes run TLS or no epmd.
	RemoteVMArgsKey = "remote.vm.args"
	volumeTLS       = "dist-tls"
)

// distFlags are the erl flags that choose how distribution connects.
// relgen sets them from cluster.epmd and cluster.tls, in vm.args and in
// the remote shells' vm.args alike; a template that sets one of its own
// would split the two, and the Services would open the wrong ports.
var distFlags = []string{"-proto_dist", "-ssl_dist_optfile", "-ssl_dist_opt", "-start_epmd", "-erl_epmd_port", "-epmd_module", "-dist_listen"}

// checkDistFlags refuses distribution flags in the user's vm.args.
func checkDistFlags(name, text string) error {
	args, err := vmargs.Parse(text)
	if err != nil {
		return nil // vmargs.Check reports it
	}
	var errs []error
	for _, a := range args {
		if slices.Contains(distFlags, a.Flag) {
			errs = append(errs, fmt.Errorf("%s: line %d: %s is set by relgen from cluster.epmd and cluster.tls (for the nodes and their remote shells alike); remove the line and set those keys", name, a.Line, a.Flag))
		}
	}
	return errors.Join(errs...)
}

// checkListenPorts refuses, without epmd, a vm.args that listens on
// another port than the one every peer dials (-erl_epmd_port, which is
// dist_port): the nodes would never reach each other.
func checkListenPorts(name, text string, s *release.Spec) error {
	if s.Distribution.EPMD {
		return nil
	}
	args, err := vmargs.Parse(text)
	if err != nil {
		return nil // vmargs.Check reports it
	}
	var errs []error
	want := strconv.Itoa(int(s.Topology.DistPort))
	for _, a := range vmargs.Find(args, "-kernel") {
		for i := 0; i+1 < len(a.Values); i += 2 {
			if k, v := a.Values[i], a.Values[i+1]; (k == "inet_dist_listen_min" || k == "inet_dist_listen_max") && v != want {
				errs = append(errs, fmt.Errorf("%s: line %d: %s %s: without epmd every node dials its peers on dist_port %s, so the nodes must listen there (use %s, or set cluster.dist_port)",
					name, a.Line, k, v, want, want))
			}
		}
	}
	return errors.Join(errs...)
}

// distArgs are the flags of the distribution mode, as vm.args lines.
func distArgs(s *release.Spec) []string {
	var out []string
	d, t := s.Distribution, s.Topology
	if !d.EPMD {
		// No epmd is started, and every node is reached on the one
		// distribution port; erl_epmd answers port lookups with it.
		out = append(out, "-start_epmd false", "-erl_epmd_port "+strconv.Itoa(int(t.DistPort)))
	}
	if d.TLS != nil {
		out = append(out, "-proto_dist inet_tls", "-ssl_dist_optfile "+release.ConfigDir+"/"+SSLDistKey)
	}
	return out
}

// distBlock is what relgen appends to the node's vm.args for a secured
// distribution mode.
func distBlock(s *release.Spec) string {
	args := distArgs(s)
	if len(args) == 0 {
		return ""
	}
	return "\n## Distribution (" + s.Distribution.Mode() + "), added by relgen from cluster.epmd and cluster.tls.\n" +
		strings.Join(args, "\n") + "\n"
}

// remoteVMArgs is the vm.args of `bin/<name> remote` and `rpc` inside the
// pod: the nodes' distribution flags, and, without epmd, no listener of
// its own, which would fight the node for the one distribution port.
func remoteVMArgs(s *release.Spec) string {
	if !s.Distribution.Secured() {
		return ""
	}
	args := distArgs(s)
	if !s.Distribution.EPMD {
		args = append(args, "-dist_listen false")
	}
	return "## vm.args of remote shells and rpc for " + s.Release.Name + " in " + s.Environment +
		", rendered by relgen.\n## The node's distribution flags (" + s.Distribution.Mode() + ").\n" +
		strings.Join(args, "\n") + "\n"
}

// sslDist renders the ssl_dist_optfile.
func sslDist(s *release.Spec) (string, error) {
	t := s.Distribution.TLS
	if t == nil {
		return "", nil
	}
	var versions []string
	for _, v := range t.Versions() {
		versions = append(versions, "'"+v+"'")
	}
	name, text := templates.SSLDist()
	out, err := templates.Render(name, text, map[string]string{
		"Release":     s.Release.Name,
		"Environment": s.Environment,
		"CertFile":    release.TLSDir + "/" + release.TLSCertKey,
		"KeyFile":     release.TLSDir + "/" + release.TLSKeyKey,
		"CAFile":      release.TLSDir + "/" + release.TLSCAKey,
		"Identity":    t.Identity,
		"Versions":    strings.Join(versions, ", "),
	})
	if err != nil {
		return "", fmt.Errorf("rendering %s: %w", SSLDistKey, err)
	}
	return out, nil
}

// distEnv points remote shells at remote.vm.args: mix's start script
// reads RELEASE_REMOTE_VM_ARGS for remote and rpc; Distillery's remote
// commands start through `elixir`, which passes ELIXIR_ERL_OPTIONS to erl
// (its foreground boot does not read it).
func distEnv(s *release.Spec) []corev1.EnvVar {
	if !s.Distribution.Secured() {
		return nil
	}
	path := release.ConfigDir + "/" + RemoteVMArgsKey
	if s.Release.Kind == release.KindDistillery {
		return []corev1.EnvVar{{Name: release.ElixirERLOptionsEnv, Value: "-args_file " + path}}
	}
	return []corev1.EnvVar{{Name: release.RemoteVMArgsEnv, Value: path}}
}

// tlsVolume mounts the certificate Secret read-only, readable by the
// pod's group only.
func tlsVolume(s *release.Spec) ([]corev1.Volume, []corev1.VolumeMount) {
	t := s.Distribution.TLS
	if t == nil {
		return nil, nil
	}
	mode := int32(0o440)
	return []corev1.Volume{{Name: volumeTLS, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  t.Secret,
			DefaultMode: &mode,
		}}}},
		[]corev1.VolumeMount{{Name: volumeTLS, MountPath: release.TLSDir, ReadOnly: true}}
}

// distPorts are the container ports of distribution: epmd's only when
// the nodes run it.
func distPorts(s *release.Spec) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	if t := s.Topology; t.EPMDPort != 0 {
		out = append(out, corev1.ContainerPort{Name: PortEPMD, ContainerPort: t.EPMDPort, Protocol: corev1.ProtocolTCP})
	}
	return append(out, corev1.ContainerPort{Name: PortDist, ContainerPort: s.Topology.DistPort, Protocol: corev1.ProtocolTCP})
}

// distServicePorts are the headless Service's distribution ports.
func distServicePorts(s *release.Spec) []corev1.ServicePort {
	var out []corev1.ServicePort
	if t := s.Topology; t.EPMDPort != 0 {
		out = append(out, servicePort(PortEPMD, t.EPMDPort))
	}
	return append(out, servicePort(PortDist, s.Topology.DistPort))
}

// distPortNames are the named ports the NetworkPolicy opens to the
// release's own pods only.
func distPortNames(s *release.Spec) []string {
	if s.Topology.EPMDPort == 0 {
		return []string{PortDist}
	}
	return []string{PortEPMD, PortDist}
}

// DistributionMode reads the distribution mode the nodes boot with from
// their vm.args: release.DistributionSpec.Mode's names, "tcp, epmd" when
// vm.args sets nothing.
func DistributionMode(vmArgs string) string {
	d := release.DistributionSpec{EPMD: true}
	args, _ := vmargs.Parse(vmArgs)
	for _, a := range args {
		switch {
		case a.Flag == "-proto_dist" && slices.Contains(a.Values, "inet_tls"):
			d.TLS = &release.TLSSpec{}
		case a.Flag == "-start_epmd" && slices.Contains(a.Values, "false"):
			d.EPMD = false
		}
	}
	return d.Mode()
}
