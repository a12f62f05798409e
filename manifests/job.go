package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/relgen/relgen/release"
)

// Labels and annotations of release command Jobs.
const (
	// JobLabel names the job (jobs.NAME) on the Job and its pod.
	JobLabel = "relgen.dev/job"
	// ArgoHookAnnotation makes Argo CD run the Job before it syncs the
	// rest of the bundle, and ArgoHookDeleteAnnotation replaces the Job
	// of an earlier sync.
	ArgoHookAnnotation       = "argocd.argoproj.io/hook"
	ArgoHookDeleteAnnotation = "argocd.argoproj.io/hook-delete-policy"
	// JobCookie is the Job's RELEASE_COOKIE: not a secret, and not the
	// cookie of any node.
	JobCookie = "relgen-job-without-distribution"
)

// jobs renders the environment's release command Jobs from the workload's
// pod template, so they run the same image with the same security
// context, resources and placement as the pods.
func jobs(s *release.Spec, b *Bundle, work Object) []Object {
	tmpl, _, _ := WorkloadPod(work)
	var out []Object
	for _, j := range s.Deployment.Jobs {
		out = append(out, job(s, b, j, tmpl))
	}
	return out
}

// job is one release command as a batch/v1 Job. Its pod is the workload's
// pod minus everything that makes a node: no node name, cookie, discovery
// settings, distribution ports or certificates, no runtime ConfigMap (which
// may not exist yet: the Job runs before the rest is applied), and labels
// no Service or discovery selector matches.
func job(s *release.Spec, b *Bundle, j release.JobSpec, tmpl *corev1.PodTemplateSpec) *batchv1.Job {
	pod := tmpl.DeepCopy()
	pod.Labels = jobLabels(s, j)
	for _, a := range []string{ConfigHashAnnotation, PrometheusScrape, PrometheusPort, PrometheusPath} {
		delete(pod.Annotations, a)
	}
	if len(pod.Annotations) == 0 {
		pod.Annotations = nil
	}
	spec := &pod.Spec
	spec.RestartPolicy = corev1.RestartPolicyNever
	if b.Plan.ServiceAccount != "" && spec.ServiceAccountName == b.Plan.ServiceAccount {
		no := false
		spec.ServiceAccountName, spec.AutomountServiceAccountToken = "", &no
	}
	spec.TopologySpreadConstraints = nil
	// Neither the runtime ConfigMap nor the distribution certificates.
	node := func(name string) bool { return name == volumeRuntime || name == volumeTLS }
	spec.Volumes = slices.DeleteFunc(spec.Volumes, func(v corev1.Volume) bool { return node(v.Name) })
	c := &spec.Containers[0]
	c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return node(m.Name) })
	c.Ports, c.StartupProbe, c.ReadinessProbe, c.LivenessProbe, c.Lifecycle = nil, nil, nil, nil, nil
	c.Env = jobEnv(s, j)
	if j.Eval != "" {
		c.Args = []string{"eval", j.Eval}
	} else {
		c.Command = j.Command
	}

	o := &batchv1.Job{
		TypeMeta:   typeMeta("batch/v1", "Job"),
		ObjectMeta: meta(s, JobName(s, j, b.Image)),
		Spec: batchv1.JobSpec{
			BackoffLimit: &j.BackoffLimit,
			Template:     *pod,
		},
	}
	o.Labels = jobLabels(s, j)
	o.Annotations = map[string]string{
		ArgoHookAnnotation:       "PreSync",
		ArgoHookDeleteAnnotation: "BeforeHookCreation",
	}
	if ttl := int32(j.TTLAfterFinished.Seconds()); ttl > 0 {
		o.Spec.TTLSecondsAfterFinished = &ttl
	}
	if d := int64(j.Timeout.Seconds()); d > 0 {
		o.Spec.ActiveDeadlineSeconds = &d
	}
	return o
}

// JobName is <deployment>-<job>-<image hash>: a new image gets a new Job,
// and applying the same bundle again does not re-run a finished one. The
// hash is the image digest's first hex digits, or, for an image not
// pinned by digest, those of the reference's SHA-256.
func JobName(s *release.Spec, j release.JobSpec, image string) string {
	hash := ""
	if _, digest, ok := strings.Cut(image, "@sha256:"); ok && len(digest) >= release.JobHashLen {
		hash = digest
	} else {
		sum := sha256.Sum256([]byte(image))
		hash = hex.EncodeToString(sum[:])
	}
	return fmt.Sprintf("%s-%s-%s", s.Deployment.Name, j.Name, hash[:release.JobHashLen])
}

// jobLabels are the standard labels without the selector's keys, so that
// no Service, PodDisruptionBudget or discovery selector picks the Job's
// pod, plus the job's name.
func jobLabels(s *release.Spec, j release.JobSpec) map[string]string {
	l := standardLabels(s)
	for k := range s.Topology.Selector {
		delete(l, k)
	}
	if _, ok := s.Topology.Selector["app.kubernetes.io/part-of"]; !ok {
		l["app.kubernetes.io/part-of"] = release.ObjectName(s.Release.Name)
	}
	l["app.kubernetes.io/component"] = j.Name
	l[JobLabel] = j.Name
	return l
}

// jobEnv is the pods' env without distribution: the pod IP and Downward
// API fields (user values may refer to them), the boot settings a
// one-off VM needs, and the user's env with the job's own merged over it.
// mix's eval starts no distribution; RELEASE_DISTRIBUTION=none says so for
// every command.
func jobEnv(s *release.Spec, j release.JobSpec) []corev1.EnvVar {
	env := []corev1.EnvVar{fieldEnv(s.Topology.PodIPEnv, "status.podIP")}
	for _, e := range s.Deployment.FieldEnv {
		env = append(env, fieldEnv(e.Name, e.Value))
	}
	// The boot scripts want a cookie (mix's exits without one, as the
	// image has no releases/COOKIE); the Job gets a placeholder, never the
	// cluster's cookie, so even a VM that started distribution could not
	// connect to a node.
	env = append(env, corev1.EnvVar{Name: release.CookieEnv, Value: JobCookie})
	for _, e := range release.JobBootEnv(s.Release.Kind, bootPaths) {
		env = append(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	user := false
	for _, e := range j.Env {
		env = append(env, userEnvVar(e))
		user = user || e.Name == erlAFlags
	}
	// The Job does not mount vm.args; under a CPU limit below one core
	// its VM gets the same scheduler count through ERL_AFLAGS, unless the
	// user's env sets that variable.
	if n := s.Deployment.Schedulers(); n > 0 && !user {
		env = append(env, corev1.EnvVar{Name: erlAFlags, Value: fmt.Sprintf("+S %d:%d", n, n)})
	}
	return env
}

// erlAFlags is the variable erl appends extra emulator flags from.
const erlAFlags = "ERL_AFLAGS"

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

// checkJobs proves that every Job runs the pods' image and stays out of
// the cluster: no node name, cookie or discovery env, distribution off for
// mix releases, and no Service or discovery selector matching its pod.
func (b *Bundle) checkJobs(image string) []error {
	s := b.Spec
	var errs []error
	fail := func(name, format string, args ...any) { errs = append(errs, s.Errorf(name, format, args...)) }
	banned := []string{"RELEASE_NODE", "VMARGS_PATH", "RELEASE_VM_ARGS", release.RemoteVMArgsEnv, release.ElixirERLOptionsEnv}
	for _, e := range b.Plan.Env {
		banned = append(banned, e.Name)
	}
	for _, o := range b.Objects {
		j, ok := o.(*batchv1.Job)
		if !ok {
			continue
		}
		key := "jobs." + j.Labels[JobLabel]
		pod := j.Spec.Template
		c := pod.Spec.Containers[0]
		if c.Image != image {
			fail(key, "Job %s runs image %s, not the pods' %s", j.Name, c.Image, image)
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name == volumeTLS {
				fail(key, "Job %s mounts the distribution certificates", j.Name)
			}
		}
		if len(j.Name) > release.JobNameMax {
			fail(key, "Job name %s is longer than %d characters", j.Name, release.JobNameMax)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
			if slices.Contains(banned, e.Name) {
				fail(key, "Job %s sets %s, which would make its VM a node of the cluster", j.Name, e.Name)
			}
			if e.Name == release.CookieEnv && e.Value != JobCookie {
				fail(key, "Job %s must not hold the cluster's cookie (%s)", j.Name, release.CookieEnv)
			}
		}
		if s.Release.Kind == release.KindMix && env["RELEASE_DISTRIBUTION"] != "none" {
			fail(key, "Job %s must run with RELEASE_DISTRIBUTION=none, not %q", j.Name, env["RELEASE_DISTRIBUTION"])
		}
		podLabels := labels.Set(pod.Labels)
		for _, other := range b.Objects {
			if svc, ok := other.(*corev1.Service); ok && len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
				fail(key, "Service %s selects the pod of Job %s: %v", svc.Name, j.Name, svc.Spec.Selector)
			}
		}
		if sel := b.Plan.Selector; sel != "" {
			if ls, err := labels.Parse(sel); err == nil && ls.Matches(podLabels) {
				fail(key, "%s lists the pod of Job %s as a node (selector %q)", s.Discovery, j.Name, sel)
			}
		}
	}
	return errs
}

// WithoutJobs returns the bundle without its Jobs, and OnlyJobs with only
// them: CI applies the Jobs first, waits for them, then the rest.
func (b *Bundle) WithoutJobs() *Bundle {
	return b.filter(func(o Object) bool { return kindOf(o) != "Job" })
}

// OnlyJobs returns the bundle's Jobs; see WithoutJobs. The namespace, the
// Secrets and a ServiceAccount the bundle creates must exist before the
// Jobs run (the Secrets need the namespace anyway); only Jobs are
// printed, so that kubectl wait -f can wait for every object.
func (b *Bundle) OnlyJobs() *Bundle {
	return b.filter(func(o Object) bool { return kindOf(o) == "Job" })
}

func (b *Bundle) filter(keep func(Object) bool) *Bundle {
	c := *b
	c.Objects = slices.DeleteFunc(slices.Clone(b.Objects), func(o Object) bool { return !keep(o) })
	return &c
}
