package manifests

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

func jobsOf(b *Bundle) []*batchv1.Job {
	var out []*batchv1.Job
	for _, o := range b.Objects {
		if j, ok := o.(*batchv1.Job); ok {
			out = append(out, j)
		}
	}
	return out
}

func TestJobs(t *testing.T) {
	for _, kind := range []string{release.KindMix, release.KindDistillery} {
		t.Run(kind, func(t *testing.T) {
			c := config(kind)
			c.Cluster.Discovery = discovery.LibclusterKubernetes
			c.Deployment.Resources = &release.Resources{Requests: map[string]string{"cpu": "500m"}, Limits: map[string]string{"memory": "1Gi"}}
			c.Deployment.Env["DB_PASSWORD"] = release.EnvValue{Secret: "myapp-db", Key: "password"}
			ttl := time.Hour
			c.Deployment.Jobs = map[string]release.Job{
				"migrate": {Eval: "MyApp.Release.migrate()", Env: release.PlainEnv(map[string]string{"POOL_SIZE": "2"})},
				"seed":    {Command: []string{"/app/bin/seed", "--all"}, TTLAfterFinished: &ttl, Timeout: ptr(10 * time.Minute)},
			}
			b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
			if err != nil {
				t.Fatal(err)
			}
			pod := podOf(t, b)
			jobs := jobsOf(b)
			if len(jobs) != 2 {
				t.Fatalf("%d Jobs, want migrate and seed", len(jobs))
			}
			migrate, seed := jobs[0], jobs[1]
			if migrate.Name != "myapp-migrate-0123456789" || seed.Name != "myapp-seed-0123456789" {
				t.Errorf("Job names = %s, %s, want <deployment>-<job>-<digest prefix>", migrate.Name, seed.Name)
			}
			if got := migrate.Annotations[ArgoHookAnnotation]; got != "PreSync" {
				t.Errorf("Argo CD hook = %q, want PreSync", got)
			}
			if *migrate.Spec.BackoffLimit != 1 || *migrate.Spec.TTLSecondsAfterFinished != 86400 || migrate.Spec.ActiveDeadlineSeconds != nil {
				t.Errorf("migrate backoffLimit/ttl/deadline = %d/%d/%v", *migrate.Spec.BackoffLimit, *migrate.Spec.TTLSecondsAfterFinished, migrate.Spec.ActiveDeadlineSeconds)
			}
			if *seed.Spec.TTLSecondsAfterFinished != 3600 || *seed.Spec.ActiveDeadlineSeconds != 600 {
				t.Errorf("seed ttl/deadline = %d/%d, want 3600/600", *seed.Spec.TTLSecondsAfterFinished, *seed.Spec.ActiveDeadlineSeconds)
			}
			mc := migrate.Spec.Template.Spec.Containers[0]
			if diff := cmp.Diff([]string{"eval", "MyApp.Release.migrate()"}, mc.Args); diff != "" || mc.Command != nil {
				t.Errorf("migrate command %v args (-want +got):\n%s", mc.Command, diff)
			}
			if sc := seed.Spec.Template.Spec.Containers[0]; !cmp.Equal(sc.Command, []string{"/app/bin/seed", "--all"}) || sc.Args != nil {
				t.Errorf("seed command = %v %v", sc.Command, sc.Args)
			}

			// The same image, security context and resources as the pods.
			pc := pod.Spec.Containers[0]
			for _, j := range jobs {
				spec := j.Spec.Template.Spec
				jc := spec.Containers[0]
				if jc.Image != pc.Image || !cmp.Equal(jc.SecurityContext, pc.SecurityContext) || !cmp.Equal(jc.Resources, pc.Resources) ||
					!cmp.Equal(spec.SecurityContext, pod.Spec.SecurityContext) {
					t.Errorf("Job %s differs from the pods in image, security context or resources", j.Name)
				}
				if spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("Job %s restartPolicy = %s", j.Name, spec.RestartPolicy)
				}
				// Never the discovery service account, ports, probes or
				// the runtime ConfigMap.
				if spec.ServiceAccountName != "" || *spec.AutomountServiceAccountToken || jc.Ports != nil || jc.ReadinessProbe != nil {
					t.Errorf("Job %s keeps the pods' service account, ports or probes", j.Name)
				}
				for _, v := range spec.Volumes {
					if v.ConfigMap != nil {
						t.Errorf("Job %s mounts ConfigMap %s, which may not exist yet when it runs", j.Name, v.ConfigMap.Name)
					}
				}
				env := map[string]corev1.EnvVar{}
				for _, e := range jc.Env {
					env[e.Name] = e
				}
				for _, name := range []string{"RELEASE_NODE", "RELEASE_VM_ARGS", "VMARGS_PATH", "LIBCLUSTER_SELECTOR"} {
					if _, ok := env[name]; ok {
						t.Errorf("Job %s sets %s", j.Name, name)
					}
				}
				if e := env[release.CookieEnv]; e.Value != JobCookie || e.ValueFrom != nil {
					t.Errorf("Job %s RELEASE_COOKIE = %+v, want the placeholder, never the Secret", j.Name, e)
				}
				if kind == release.KindMix && env["RELEASE_DISTRIBUTION"].Value != "none" {
					t.Errorf("Job %s RELEASE_DISTRIBUTION = %q, want none", j.Name, env["RELEASE_DISTRIBUTION"].Value)
				}
				if e := env["DB_PASSWORD"]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "myapp-db" {
					t.Errorf("Job %s lacks the pods' Secret env DB_PASSWORD", j.Name)
				}
				// No Service or discovery selector picks the Job's pod.
				if labels.SelectorFromSet(b.Spec.Topology.Selector).Matches(labels.Set(j.Spec.Template.Labels)) {
					t.Errorf("Job %s pod labels %v match the pod selector", j.Name, j.Spec.Template.Labels)
				}
			}
			if i := slices.IndexFunc(mc.Env, func(e corev1.EnvVar) bool { return e.Name == "POOL_SIZE" }); i < 0 || mc.Env[i].Value != "2" {
				t.Errorf("migrate lacks its own env POOL_SIZE=2: %v", mc.Env)
			}

			// The check catches a Job that would join the cluster.
			migrate.Spec.Template.Spec.Containers[0].Env = append(mc.Env, corev1.EnvVar{Name: "RELEASE_NODE", Value: "myapp@x"})
			migrate.Spec.Template.Labels = pod.Labels
			err = b.Check()
			for _, want := range []string{"sets RELEASE_NODE, which would make its VM a node of the cluster", "Service myapp selects the pod of Job myapp-migrate-0123456789"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Check() = %v, want %q", err, want)
				}
			}
			if only := b.OnlyJobs(); len(only.Objects) != 2 || len(b.WithoutJobs().Objects) != len(b.Objects)-2 {
				t.Errorf("OnlyJobs/WithoutJobs split %d objects into %d and %d", len(b.Objects), len(only.Objects), len(b.WithoutJobs().Objects))
			}
		})
	}
}

func TestJobNameUnpinned(t *testing.T) {
	s := resolve(t, config("mix"), "staging")
	j := release.JobSpec{Name: "migrate"}
	a, b := JobName(s, j, "registry.example.com/acme/myapp:1.0"), JobName(s, j, "registry.example.com/acme/myapp:1.1")
	if a == b || !strings.HasPrefix(a, "myapp-migrate-") || len(a) != len("myapp-migrate-")+release.JobHashLen {
		t.Errorf("JobName for two tags = %s, %s; want distinct <deployment>-migrate-<hash>", a, b)
	}
}

// TestJobWithoutDistributionSecurity: under TLS distribution without
// epmd, the Job gets neither the certificates nor the remote shells'
// settings.
func TestJobWithoutDistributionSecurity(t *testing.T) {
	c := config("mix")
	c.Cluster.Discovery = discovery.DNSCluster
	off := false
	c.Cluster.EPMD = &off
	c.Cluster.TLS = &release.TLSConfig{Secret: "myapp-dist-tls"}
	c.Deployment.Jobs = map[string]release.Job{"migrate": {Eval: "x"}}
	b, err := Generate(resolve(t, c, "staging"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	j := jobsOf(b)[0]
	spec := j.Spec.Template.Spec
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			t.Errorf("Job mounts Secret %s", v.Secret.SecretName)
		}
	}
	for _, e := range spec.Containers[0].Env {
		if e.Name == release.RemoteVMArgsEnv || e.Name == release.ElixirERLOptionsEnv {
			t.Errorf("Job sets %s", e.Name)
		}
	}
	// The pods do mount it, so the test would notice a renamed volume.
	mounted := false
	for _, v := range podOf(t, b).Spec.Volumes {
		mounted = mounted || v.Secret != nil && v.Secret.SecretName == "myapp-dist-tls"
	}
	if !mounted {
		t.Errorf("the pods do not mount the TLS Secret; the test no longer tests anything")
	}
}

func TestJobRefusesDiscoveryEnv(t *testing.T) {
	c := config("mix")
	c.Cluster.Discovery = discovery.DNSCluster
	c.Deployment.Jobs = map[string]release.Job{"migrate": {Eval: "x", Env: release.PlainEnv(map[string]string{"DNS_CLUSTER_QUERY": "myapp-service-headless.default.svc.cluster.local"})}}
	_, err := c.Resolve("staging", discovery.Registry{})
	want := "relgen.yaml: deployment.jobs.migrate.env.DNS_CLUSTER_QUERY: a Job runs without distribution and must not join the cluster; remove it"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Resolve() = %v, want %q", err, want)
	}
}
