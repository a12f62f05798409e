package manifests

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/relgen/relgen/release"
)

// bootPaths are where the pod mounts what the release reads at boot.
var bootPaths = release.BootPaths{VMArgs: release.ConfigDir + "/" + VMArgsKey, Tmp: tmpDir, Mutable: MutableDir}

// Volumes and where they are mounted.
const (
	volumeRuntime = "runtime"
	volumeTmp     = "tmp"
	volumeVar     = "release-var"
	tmpDir        = "/tmp"
	// MutableDir is where Distillery writes the substituted vm.args (with
	// the cookie in clear): the default <release>/var, on a memory-backed
	// emptyDir because the root filesystem is read-only.
	MutableDir = release.Root + "/var"
)

// workload is the object that runs the pods: a StatefulSet when nodes are
// named by their pod's stable DNS name (only a StatefulSet gives pods one),
// else a Deployment.
func workload(s *release.Spec, b *Bundle, cm *corev1.ConfigMap) Object {
	pod := podTemplate(s, b, cm)
	if s.Topology.NamedByHostname() {
		return statefulSetObject(s, pod)
	}
	return deploymentObject(s, pod)
}

// WorkloadPod returns the pod template and selector of o when o is a
// workload relgen emits (Deployment or StatefulSet).
func WorkloadPod(o Object) (*corev1.PodTemplateSpec, *metav1.LabelSelector, bool) {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template, o.Spec.Selector, true
	case *appsv1.StatefulSet:
		return &o.Spec.Template, o.Spec.Selector, true
	}
	return nil, nil, false
}

func podTemplate(s *release.Spec, b *Bundle, cm *corev1.ConfigMap) corev1.PodTemplateSpec {
	uid, gid := s.User.UID, s.User.GID
	yes, no := true, false
	grace := int64(s.Deployment.TerminationGracePeriod.Seconds())
	volumes, mounts := volumes(s)
	// Only a strategy that asks the Kubernetes API gets a token.
	automount := b.Plan.ServiceAccount != ""
	pod := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      standardLabels(s),
			Annotations: map[string]string{ConfigHashAnnotation: runtimeHash(cm.Data)},
		},
		Spec: corev1.PodSpec{
			// The VM stops on SIGTERM (init:stop); give it time to leave
			// the cluster cleanly.
			TerminationGracePeriodSeconds: &grace,
			ServiceAccountName:            b.Plan.ServiceAccount,
			AutomountServiceAccountToken:  &automount,
			EnableServiceLinks:            &no,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   &yes,
				RunAsUser:      &uid,
				RunAsGroup:     &gid,
				FSGroup:        &gid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            ContainerName,
				Image:           b.Image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Env:             containerEnv(s, b),
				EnvFrom:         envFrom(s.Deployment.EnvFrom),
				Ports: append([]corev1.ContainerPort{
					{Name: PortHTTP, ContainerPort: s.Topology.HTTPPort, Protocol: corev1.ProtocolTCP},
				}, distPorts(s)...),
				StartupProbe:   probe(s, 2, 60),
				ReadinessProbe: probe(s, 5, 3),
				LivenessProbe:  probe(s, 10, 6),
				Resources:      resources(s.Deployment.Resources),
				VolumeMounts:   mounts,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no,
					ReadOnlyRootFilesystem:   &yes,
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Volumes: volumes,
		},
	}
	place(s, &pod)
	return pod
}

// containerEnv lists the env in dependency order: Kubernetes expands
// $(VAR) only from entries defined earlier, so the pod IP (and name) and
// Downward API fields come first, then the cookie, relgen's boot settings and the
// user's env.
func containerEnv(s *release.Spec, b *Bundle) []corev1.EnvVar {
	field := fieldEnv
	plain := func(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }
	t := s.Topology
	env := []corev1.EnvVar{field(t.PodIPEnv, "status.podIP")}
	if t.NamedByHostname() {
		env = append(env, field(t.PodNameEnv, "metadata.name"))
	}
	for _, e := range s.Deployment.FieldEnv {
		env = append(env, field(e.Name, e.Value))
	}
	env = append(env, corev1.EnvVar{Name: release.CookieEnv, ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: s.Release.Cookie.Secret},
			Key:                  s.Release.Cookie.Key,
		},
	}})
	for _, e := range release.BootEnv(s.Release.Kind, t, bootPaths) {
		env = append(env, plain(e.Name, e.Value))
	}
	env = append(env, distEnv(s)...)
	env = append(env, b.Plan.Env...)
	for _, e := range s.Deployment.Env {
		env = append(env, userEnvVar(e))
	}
	return env
}

func volumes(s *release.Spec) ([]corev1.Volume, []corev1.VolumeMount) {
	mode := int32(0o444)
	memory := func(name, size string) corev1.Volume {
		limit := resource.MustParse(size)
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &limit},
		}}
	}
	vols := []corev1.Volume{
		{Name: volumeRuntime, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(s)},
			DefaultMode:          &mode,
		}}},
		memory(volumeTmp, "64Mi"),
	}
	mounts := []corev1.VolumeMount{
		{Name: volumeRuntime, MountPath: release.ConfigDir, ReadOnly: true},
		{Name: volumeTmp, MountPath: tmpDir},
	}
	if s.Release.Kind == release.KindDistillery {
		vols = append(vols, memory(volumeVar, "16Mi"))
		mounts = append(mounts, corev1.VolumeMount{Name: volumeVar, MountPath: MutableDir})
	}
	tv, tm := tlsVolume(s)
	return append(vols, tv...), append(mounts, tm...)
}

// probe checks the app port: over HTTP when deployment.health_path is set,
// else that it accepts connections.
func probe(s *release.Spec, period, failures int32) *corev1.Probe {
	h := corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(PortHTTP)}}
	if s.Deployment.HealthPath != "" {
		h = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: s.Deployment.HealthPath, Port: intstr.FromString(PortHTTP)}}
	}
	return &corev1.Probe{ProbeHandler: h, PeriodSeconds: period, FailureThreshold: failures}
}

func resources(r *release.Resources) corev1.ResourceRequirements {
	var out corev1.ResourceRequirements
	if r == nil {
		return out
	}
	list := func(m map[string]string) corev1.ResourceList {
		if len(m) == 0 {
			return nil
		}
		l := corev1.ResourceList{}
		for k, v := range m {
			l[corev1.ResourceName(k)] = resource.MustParse(v) // validated by release
		}
		return l
	}
	out.Requests, out.Limits = list(r.Requests), list(r.Limits)
	return out
}
