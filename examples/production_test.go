package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/relgen/relgen/cmd/relgen/cli"
	"github.com/relgen/relgen/manifests"
)

// TestExamplesProduction reads every expected bundle back and checks what
// a production rollout relies on beyond clustering: every pod (Jobs too)
// passes the Pod Security restricted level, Jobs run the pods' image and
// never cluster, an Ingress reaches the app and agrees with its host
// variable, scraped metrics are admitted, and relgen check lists every
// Secret and ConfigMap the bundle reads.
func TestExamplesProduction(t *testing.T) {
	t.Setenv("RELEASE_COOKIE", cookie)
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := psapi.LevelVersion{Level: psapi.LevelRestricted, Version: psapi.LatestVersion()}
	for _, ex := range examples {
		for _, env := range ex.envs {
			t.Run(ex.dir+"/"+env, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join(ex.dir, "expected", env+".yaml"))
				if err != nil {
					t.Fatal(err)
				}
				objs, err := manifests.Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				var pod *corev1.PodTemplateSpec
				for _, o := range objs {
					if p, _, ok := manifests.WorkloadPod(o); ok {
						pod = p
					}
				}
				for _, o := range objs {
					spec := podSpec(o)
					if spec == nil {
						continue
					}
					meta := &pod.ObjectMeta
					if j, ok := o.(*batchv1.Job); ok {
						meta = &j.Spec.Template.ObjectMeta
					}
					for _, r := range eval.EvaluatePod(restricted, meta, spec) {
						if !r.Allowed {
							t.Errorf("%s %s violates Pod Security restricted: %s: %s", kind(o), o.GetName(), r.ForbiddenReason, r.ForbiddenDetail)
						}
					}
				}
				for _, o := range objs {
					switch o := o.(type) {
					case *batchv1.Job:
						checkJob(t, objs, o, pod)
					case *networkingv1.Ingress:
						checkIngress(t, objs, o, pod)
					case *corev1.Namespace:
						if ns := objs[len(objs)-1].GetNamespace(); o.Name != ns {
							t.Errorf("bundle creates Namespace %s, but its objects are in %s", o.Name, ns)
						}
					}
				}
				checkMetrics(t, objs, pod)
				checkNeeds(t, ex, env, objs)
			})
		}
	}
}

func podSpec(o manifests.Object) *corev1.PodSpec {
	if p, _, ok := manifests.WorkloadPod(o); ok {
		return &p.Spec
	}
	if j, ok := o.(*batchv1.Job); ok {
		return &j.Spec.Template.Spec
	}
	return nil
}

// distributionEnv are the variables that would make a VM a node of the
// cluster or feed it discovery settings.
func isDistributionEnv(name string) bool {
	return slices.Contains([]string{"RELEASE_NODE", "DNS_CLUSTER_QUERY", "CLUSTER_DOMAIN", "VMARGS_PATH", "RELEASE_VM_ARGS"}, name) ||
		strings.HasPrefix(name, "PEERAGE_") || strings.HasPrefix(name, "LIBCLUSTER_")
}

// checkJob: the Job runs the pods' image with their security context and
// Secrets, never joins the cluster, and no Service selects its pod.
func checkJob(t *testing.T, objs []manifests.Object, j *batchv1.Job, pod *corev1.PodTemplateSpec) {
	t.Helper()
	jc, pc := j.Spec.Template.Spec.Containers[0], pod.Spec.Containers[0]
	if jc.Image != pc.Image || !strings.Contains(jc.Image, "@sha256:") {
		t.Errorf("Job %s runs %s, want the pods' pinned image %s", j.Name, jc.Image, pc.Image)
	}
	if digest := strings.SplitN(jc.Image, "@sha256:", 2)[1]; !strings.HasSuffix(j.Name, "-"+digest[:10]) {
		t.Errorf("Job %s is not named after the image digest %s", j.Name, digest[:10])
	}
	if !cmp.Equal(jc.SecurityContext, pc.SecurityContext) || !cmp.Equal(jc.Resources, pc.Resources) {
		t.Errorf("Job %s: security context or resources differ from the pods'", j.Name)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil {
		t.Errorf("Job %s: restartPolicy %s, backoffLimit %v", j.Name, j.Spec.Template.Spec.RestartPolicy, j.Spec.BackoffLimit)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range jc.Env {
		env[e.Name] = e
		if isDistributionEnv(e.Name) {
			t.Errorf("Job %s sets %s", j.Name, e.Name)
		}
	}
	if env["RELEASE_DISTRIBUTION"].Value != "none" && env["REPLACE_OS_VARS"].Value == "" {
		t.Errorf("Job %s: RELEASE_DISTRIBUTION = %q, want none", j.Name, env["RELEASE_DISTRIBUTION"].Value)
	}
	if c := env["RELEASE_COOKIE"]; c.ValueFrom != nil {
		t.Errorf("Job %s reads the cluster's cookie from %v", j.Name, c.ValueFrom)
	}
	// Every Secret the pods read, the Job reads too (the release boots
	// with the same config/runtime.exs).
	for _, e := range pc.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.Name != "RELEASE_COOKIE" && !cmp.Equal(env[e.Name].ValueFrom, e.ValueFrom) {
			t.Errorf("Job %s lacks the pods' %s from Secret %s", j.Name, e.Name, e.ValueFrom.SecretKeyRef.Name)
		}
	}
	podLabels := labels.Set(j.Spec.Template.Labels)
	for _, o := range objs {
		if svc, ok := o.(*corev1.Service); ok && labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("Service %s selects the pod of Job %s", svc.Name, j.Name)
		}
	}
}

// checkIngress: the Ingress reaches a port of a Service that selects the
// pods, and its host is what the app is told (PHX_HOST).
func checkIngress(t *testing.T, objs []manifests.Object, in *networkingv1.Ingress, pod *corev1.PodTemplateSpec) {
	t.Helper()
	for _, rule := range in.Spec.Rules {
		for _, p := range rule.HTTP.Paths {
			b := p.Backend.Service
			found := false
			for _, o := range objs {
				svc, ok := o.(*corev1.Service)
				if !ok || b == nil || svc.Name != b.Name || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
					continue
				}
				for _, sp := range svc.Spec.Ports {
					found = found || sp.Name == b.Port.Name && svc.Spec.ClusterIP != corev1.ClusterIPNone
				}
			}
			if !found {
				t.Errorf("Ingress %s routes %s%s to %+v, no ClusterIP Service port that selects the pods", in.Name, rule.Host, p.Path, b)
			}
		}
		host := ""
		for _, e := range pod.Spec.Containers[0].Env {
			if e.Name == "PHX_HOST" {
				host = e.Value
			}
		}
		if host != rule.Host {
			t.Errorf("Ingress serves %s, the pods' PHX_HOST is %q", rule.Host, host)
		}
		for _, tls := range in.Spec.TLS {
			if !slices.Contains(tls.Hosts, rule.Host) {
				t.Errorf("TLS Secret %s does not cover %s", tls.SecretName, rule.Host)
			}
		}
	}
}

// checkMetrics: a port Prometheus is told to scrape is a container port
// the NetworkPolicy admits from outside the release.
func checkMetrics(t *testing.T, objs []manifests.Object, pod *corev1.PodTemplateSpec) {
	t.Helper()
	port := pod.Annotations["prometheus.io/port"]
	if port == "" {
		return
	}
	name := ""
	for _, p := range pod.Spec.Containers[0].Ports {
		if strconv.Itoa(int(p.ContainerPort)) == port {
			name = p.Name
		}
	}
	if name == "" {
		t.Fatalf("prometheus.io/port %s is no container port", port)
	}
	for _, o := range objs {
		np, ok := o.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		admitted := false
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				admitted = admitted || len(rule.From) == 0 && p.Port != nil && p.Port.StrVal == name
			}
		}
		if !admitted {
			t.Errorf("NetworkPolicy %s does not admit Prometheus to port %s (%s)", np.Name, name, port)
		}
	}
}

// checkNeeds: relgen check -o json lists exactly the Secrets and
// ConfigMaps (and keys) the bundle reads and does not create, found here
// by walking the objects independently.
func checkNeeds(t *testing.T, ex example, env string, objs []manifests.Object) {
	t.Helper()
	own := map[string]bool{}
	for _, o := range objs {
		own[kind(o)+" "+o.GetName()] = true
		if u, ok := o.(*unstructured.Unstructured); ok && kind(o) == "Certificate" {
			secret, _, _ := unstructured.NestedString(u.Object, "spec", "secretName")
			own["Secret "+secret] = true // cert-manager writes it
		}
	}
	want := map[string]bool{}
	add := func(kind, name, key string) {
		if !own[kind+" "+name] {
			want[fmt.Sprintf("%s %s %s", kind, name, key)] = true
		}
	}
	for _, o := range objs {
		if spec := podSpec(o); spec != nil {
			for _, e := range spec.Containers[0].Env {
				if f := e.ValueFrom; f != nil && f.SecretKeyRef != nil {
					add("Secret", f.SecretKeyRef.Name, f.SecretKeyRef.Key)
				} else if f != nil && f.ConfigMapKeyRef != nil {
					add("ConfigMap", f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key)
				}
			}
			for _, f := range spec.Containers[0].EnvFrom {
				if f.SecretRef != nil {
					add("Secret", f.SecretRef.Name, "")
				} else if f.ConfigMapRef != nil {
					add("ConfigMap", f.ConfigMapRef.Name, "")
				}
			}
			for _, v := range spec.Volumes {
				if v.ConfigMap != nil {
					add("ConfigMap", v.ConfigMap.Name, "")
				}
				if v.Secret != nil {
					add("Secret", v.Secret.SecretName, "")
				}
			}
			for _, s := range spec.ImagePullSecrets {
				add("Secret", s.Name, "")
			}
		}
		if in, ok := o.(*networkingv1.Ingress); ok {
			for _, tls := range in.Spec.TLS {
				add("Secret", tls.SecretName, "")
			}
		}
	}
	args := []string{"check", "-f", filepath.Join(ex.dir, "relgen.yaml"), "--env", env, "--image", ex.image, "-o", "json"}
	var results []struct {
		Needs []manifests.Need `json:"needs"`
	}
	if err := json.Unmarshal(run(t, args...), &results); err != nil || len(results) != 1 {
		t.Fatalf("relgen check -o json: %v", err)
	}
	got := map[string]bool{}
	for _, n := range results[0].Needs {
		if n.Namespace != objs[len(objs)-1].GetNamespace() {
			t.Errorf("need %+v is in another namespace", n)
		}
		got[fmt.Sprintf("%s %s %s", n.Kind, n.Name, n.Key)] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("relgen check lists (-want +got):\n%s", diff)
	}
}

// run runs relgen and returns its stdout, failing the test on an error.
func run(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Execute(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("relgen %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.Bytes()
}
