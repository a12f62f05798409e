package manifests

import (
	"fmt"
	"regexp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/relgen/relgen/release"
)

// checkDistribution cross-checks the parts of a secured distribution
// mode: without epmd nothing may still open its port (a stale rule
// is a hole, and a sign the parts disagree); with TLS the certificates
// must be mounted where the ssl_dist_optfile reads them, the trust
// anchor must be the mounted CA, remote shells must boot with the same
// flags, and a cert-manager Certificate must fill the mounted Secret
// with the identity the nodes check.
func (b *Bundle) checkDistribution(pod *corev1.PodTemplateSpec) []error {
	s := b.Spec
	var errs []error
	fail := func(key, format string, args ...any) { errs = append(errs, s.Errorf(key, format, args...)) }
	d := s.Distribution
	if mode := DistributionMode(b.VMArgs); mode != d.Mode() {
		fail("vm_args", "the nodes boot in distribution mode %q, but cluster.epmd and cluster.tls ask for %q", mode, d.Mode())
	}
	if !d.EPMD {
		for _, where := range b.epmdOpenings(pod) {
			fail("epmd", "is false, but %s still opens epmd's port %d; nothing listens there", where, release.EPMDPort)
		}
	}
	ctr := &pod.Spec.Containers[0]
	if d.Secured() {
		want := distEnv(s)[0]
		i := slices.IndexFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == want.Name })
		if i < 0 || ctr.Env[i].Value != want.Value || b.RemoteVMArgs == "" {
			fail("vm_args", "remote shells (bin/%s remote, rpc) would not boot in distribution mode %q: the pod needs %s=%s and %s in the ConfigMap",
				s.Release.Name, d.Mode(), want.Name, want.Value, RemoteVMArgsKey)
		}
	}
	if d.TLS == nil {
		return errs
	}
	errs = append(errs, b.checkTLSMount(pod)...)
	if c := b.certificate(); c != nil {
		secret, names := certificateFields(c)
		if secret != d.TLS.Secret {
			fail("tls", "the Certificate %s writes Secret %q, but the pods mount %q", c.GetName(), secret, d.TLS.Secret)
		}
		if !slices.Contains(names, d.TLS.Identity) {
			fail("tls", "the Certificate %s names %v, but the nodes accept only peers that carry %s", c.GetName(), names, d.TLS.Identity)
		}
	} else if d.TLS.Issuer != "" {
		fail("tls", "issuer %s is set, but the bundle has no Certificate to fill Secret %s", d.TLS.Issuer, d.TLS.Secret)
	}
	return errs
}

// optfilePath finds the file an ssl_dist_optfile option points at.
var optfilePath = regexp.MustCompile(`\{(certfile|keyfile|cacertfile), "([^"]*)"\}`)

// checkTLSMount proves that the Secret is mounted read-only at
// release.TLSDir with the keys the ssl_dist_optfile reads, and that the
// optfile's trust anchor is the mounted CA.
func (b *Bundle) checkTLSMount(pod *corev1.PodTemplateSpec) []error {
	s, t := b.Spec, b.Spec.Distribution.TLS
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, s.Errorf("tls", format, args...)) }
	var vol *corev1.Volume
	for i, v := range pod.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == t.Secret {
			vol = &pod.Spec.Volumes[i]
		}
	}
	var mount *corev1.VolumeMount
	if vol != nil {
		for i, m := range pod.Spec.Containers[0].VolumeMounts {
			if m.Name == vol.Name {
				mount = &pod.Spec.Containers[0].VolumeMounts[i]
			}
		}
	}
	if mount == nil {
		fail("the pods do not mount the certificate Secret %s, so TLS distribution would find no certificates and the nodes would not boot", t.Secret)
		return errs
	}
	if !mount.ReadOnly || mount.SubPath != "" {
		fail("the certificate Secret %s must be mounted read-only and whole (no subPath, so rotated certificates reach the pod)", t.Secret)
	}
	files := map[string]string{}
	for _, m := range optfilePath.FindAllStringSubmatch(b.SSLDist, -1) {
		files[m[1]] = m[2]
	}
	for opt, key := range map[string]string{"certfile": release.TLSCertKey, "keyfile": release.TLSKeyKey, "cacertfile": release.TLSCAKey} {
		want := mount.MountPath + "/" + key
		if got := files[opt]; got != want {
			fail("%s's %s is %q, but the Secret %s puts its %s at %q", SSLDistKey, opt, got, t.Secret, key, want)
		}
		if len(vol.Secret.Items) > 0 && !slices.ContainsFunc(vol.Secret.Items, func(k corev1.KeyToPath) bool { return k.Key == key && k.Path == key }) {
			fail("the certificate volume leaves out %s of Secret %s", key, t.Secret)
		}
	}
	return errs
}

// epmdOpenings lists where the bundle still opens epmd's port.
func (b *Bundle) epmdOpenings(pod *corev1.PodTemplateSpec) []string {
	var out []string
	isEPMD := func(name string, port int32) bool { return name == PortEPMD || port == release.EPMDPort }
	for _, p := range pod.Spec.Containers[0].Ports {
		if isEPMD(p.Name, p.ContainerPort) {
			out = append(out, "the container's port "+p.Name)
		}
	}
	for _, o := range b.Objects {
		switch o := o.(type) {
		case *corev1.Service:
			for _, p := range o.Spec.Ports {
				if isEPMD(p.Name, p.Port) || p.TargetPort.String() == PortEPMD {
					out = append(out, fmt.Sprintf("Service %s (port %s)", o.Name, p.Name))
				}
			}
		case *networkingv1.NetworkPolicy:
			for _, r := range o.Spec.Ingress {
				for _, p := range r.Ports {
					if p.Port != nil && (p.Port.String() == PortEPMD || p.Port.IntValue() == release.EPMDPort) {
						out = append(out, "NetworkPolicy "+o.Name)
					}
				}
			}
		}
	}
	return out
}

// certificate is the bundle's cert-manager Certificate, if any.
func (b *Bundle) certificate() *unstructured.Unstructured {
	for _, o := range b.Objects {
		if u, ok := o.(*unstructured.Unstructured); ok && u.GetKind() == "Certificate" {
			return u
		}
	}
	return nil
}
