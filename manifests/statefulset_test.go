package manifests

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// dnssrvConfig is config(kind) switched to libcluster-dnssrv, whose nodes
// are named by their StatefulSet pod's DNS name.
func dnssrvConfig(kind string) *release.Config {
	c := config(kind)
	c.Cluster.Discovery = discovery.LibclusterDNSSRV
	return c
}

func statefulSetOf(t *testing.T, b *Bundle) *appsv1.StatefulSet {
	t.Helper()
	var sts *appsv1.StatefulSet
	for _, o := range b.Objects {
		switch o := o.(type) {
		case *appsv1.StatefulSet:
			sts = o
		case *appsv1.Deployment:
			t.Errorf("bundle has a Deployment %s besides the StatefulSet", o.Name)
		}
	}
	if sts == nil {
		t.Fatal("bundle has no StatefulSet")
	}
	return sts
}

func TestStatefulSetForDNSSRV(t *testing.T) {
	b, err := Generate(resolve(t, dnssrvConfig("mix"), "staging"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	sts := statefulSetOf(t, b)
	spec := sts.Spec
	if spec.ServiceName != "myapp-service-headless" {
		t.Errorf("serviceName = %q, want the headless Service myapp-service-headless", spec.ServiceName)
	}
	if spec.PodManagementPolicy != appsv1.ParallelPodManagement || spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		t.Errorf("podManagementPolicy, updateStrategy = %s, %s; want Parallel, RollingUpdate", spec.PodManagementPolicy, spec.UpdateStrategy.Type)
	}
	if spec.Replicas == nil || *spec.Replicas != release.DefaultReplicas {
		t.Errorf("replicas = %v, want %d", spec.Replicas, release.DefaultReplicas)
	}
	if diff := cmp.Diff(map[string]string{"app": "myapp"}, spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if sts.Name != "myapp" || sts.Namespace != "staging" {
		t.Errorf("StatefulSet %s/%s, want staging/myapp", sts.Namespace, sts.Name)
	}

	env := spec.Template.Spec.Containers[0].Env
	var names []string
	values := map[string]corev1.EnvVar{}
	for _, e := range env {
		names = append(names, e.Name)
		values[e.Name] = e
	}
	wantOrder := []string{"MY_POD_IP", "POD_NAME", "RELEASE_COOKIE", "RELEASE_DISTRIBUTION", "RELEASE_NODE", "RELEASE_VM_ARGS", "RELEASE_TMP", "CLUSTER_DOMAIN", "HOST"}
	if diff := cmp.Diff(wantOrder, names); diff != "" {
		t.Errorf("env order (-want +got):\n%s", diff)
	}
	if f := values["POD_NAME"].ValueFrom; f == nil || f.FieldRef == nil || f.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("POD_NAME = %+v, want the Downward API metadata.name", values["POD_NAME"])
	}
	if got, want := values["RELEASE_NODE"].Value, "myapp@$(POD_NAME).myapp-service-headless.staging.svc.cluster.local"; got != want {
		t.Errorf("RELEASE_NODE = %q, want %q", got, want)
	}
	if got := values["CLUSTER_DOMAIN"].Value; got != "cluster.local." {
		t.Errorf("CLUSTER_DOMAIN = %q, want the absolute cluster domain", got)
	}
	if b.Plan.DNSName != "myapp-service-headless.staging.svc.cluster.local" {
		t.Errorf("Plan.DNSName = %q", b.Plan.DNSName)
	}
	for _, term := range []string{`{service, <<"myapp-service-headless">>}`, `{namespace, <<"staging">>}`, `{application_name, <<"myapp">>}`} {
		if !strings.Contains(b.DiscoveryConfig, term) {
			t.Errorf("discovery config lacks %s:\n%s", term, b.DiscoveryConfig)
		}
	}
}

func TestStatefulSetDistilleryNodeName(t *testing.T) {
	b, err := Generate(resolve(t, dnssrvConfig("distillery"), "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	want := "-name myapp@${POD_NAME}.myapp-service-headless.default.svc.cluster.local\n"
	if !strings.Contains(b.VMArgs, want) {
		t.Errorf("vm.args lacks %q:\n%s", want, b.VMArgs)
	}
	statefulSetOf(t, b)
}

func TestStatefulSetAutoscaling(t *testing.T) {
	c := dnssrvConfig("mix")
	c.Deployment.Resources = &release.Resources{Requests: map[string]string{"cpu": "500m"}}
	c.Environments["prod"] = release.Environment{Namespace: "default", DeploymentConfig: release.DeploymentConfig{
		Autoscaling: &release.Autoscaling{Min: ptr(int32(2)), Max: ptr(int32(5))},
	}}
	b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	sts := statefulSetOf(t, b)
	if sts.Spec.Replicas != nil {
		t.Errorf("the StatefulSet sets replicas although an autoscaler owns them")
	}
	hpa := objectOf[*autoscalingv2.HorizontalPodAutoscaler](b)
	objectOf[*policyv1.PodDisruptionBudget](b) // min > 1 keeps a disruption budget
	want := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name}
	if diff := cmp.Diff(want, hpa.Spec.ScaleTargetRef); diff != "" {
		t.Errorf("HPA scaleTargetRef (-want +got):\n%s", diff)
	}
}

func TestStatefulSetCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(b *Bundle)
		wantErr string
	}{
		{name: "serviceName", wantErr: `spec.serviceName: "other" is not the headless Service`,
			breakIt: func(b *Bundle) { objectOf[*appsv1.StatefulSet](b).Spec.ServiceName = "other" }},
		{name: "node host", wantErr: `libcluster-dnssrv connects to the pods' DNS names (SRV targets), but the node's host is "<pod-IP>"`,
			breakIt: func(b *Bundle) {
				env := objectOf[*appsv1.StatefulSet](b).Spec.Template.Spec.Containers[0].Env
				for i := range env {
					if env[i].Name == "RELEASE_NODE" {
						env[i].Value = "myapp@$(MY_POD_IP)"
					}
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(resolve(t, dnssrvConfig("mix"), "staging"), Options{Image: pinned})
			if err != nil {
				t.Fatal(err)
			}
			tc.breakIt(b)
			if err := b.Check(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Check() = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDNSSRVVMArgsHost(t *testing.T) {
	for _, tc := range []struct {
		name, vmArgs, wantErr string
	}{
		{name: "pod DNS name", vmArgs: "-name myapp@${POD_NAME}.myapp-service-headless.staging.svc.cluster.local\n-kernel inet_dist_listen_min 9000 inet_dist_listen_max 9000\n"},
		{name: "pod IP", vmArgs: "-name myapp@${MY_POD_IP}\n",
			wantErr: "node host ${MY_POD_IP} is not the pod's stable DNS name; libcluster-dnssrv connects to myapp@<pod>.myapp-service-headless.staging.svc.cluster.local"},
		{name: "bare hostname", vmArgs: "-name myapp@${POD_NAME}\n", wantErr: "is not the pod's stable DNS name"},
		{name: "other FQDN", vmArgs: "-name myapp@${POD_NAME}.elsewhere.staging.svc.cluster.local\n", wantErr: "is not the pod's stable DNS name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(resolve(t, dnssrvConfig("distillery"), "staging"), Options{Image: pinned, VMArgsName: "vm.args.tmpl", VMArgsTemplate: tc.vmArgs})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Generate() = %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Generate() = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}
