package manifests

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

func TestAutoscaling(t *testing.T) {
	c := config("mix")
	c.Deployment.Resources = &release.Resources{Requests: map[string]string{"cpu": "500m"}}
	c.Environments["prod"] = release.Environment{Namespace: "default", DeploymentConfig: release.DeploymentConfig{
		Autoscaling: &release.Autoscaling{Min: ptr(int32(3)), Max: ptr(int32(9))},
	}}
	b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	hpa := objectOf[*autoscalingv2.HorizontalPodAutoscaler](b)
	objectOf[*policyv1.PodDisruptionBudget](b) // min > 1 keeps a disruption budget
	if *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 9 || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != release.DefaultAutoscalingCPU {
		t.Errorf("HPA spec = %+v", hpa.Spec)
	}
	if hpa.Spec.ScaleTargetRef.Name != deploymentOf(b).Name {
		t.Errorf("HPA scales %s, want the Deployment %s", hpa.Spec.ScaleTargetRef.Name, deploymentOf(b).Name)
	}
	if deploymentOf(b).Spec.Replicas != nil {
		t.Errorf("Deployment replicas = %d, want unset under an autoscaler", *deploymentOf(b).Spec.Replicas)
	}

	// staging has no autoscaler: fixed replicas, no HPA.
	b, err = Generate(resolve(t, c, "staging"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	if r := deploymentOf(b).Spec.Replicas; r == nil || *r != release.DefaultReplicas {
		t.Errorf("staging replicas = %v, want %d", r, release.DefaultReplicas)
	}
	for _, o := range b.Objects {
		if kindOf(o) == "HorizontalPodAutoscaler" {
			t.Errorf("staging got an autoscaler")
		}
	}
}

func TestAutoscalingErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a        release.Autoscaling
		requests map[string]string
		want     string
	}{
		{name: "no max", a: release.Autoscaling{Min: ptr(int32(2))}, requests: map[string]string{"cpu": "1"}, want: "max is required"},
		{name: "max below min", a: release.Autoscaling{Min: ptr(int32(5)), Max: ptr(int32(3))}, requests: map[string]string{"cpu": "1"}, want: "max 3 is below min 5"},
		{name: "cpu out of range", a: release.Autoscaling{Max: ptr(int32(3)), CPU: ptr(int32(150))}, requests: map[string]string{"cpu": "1"}, want: "percent (1-100), got 150"},
		{name: "no cpu request", a: release.Autoscaling{Max: ptr(int32(3))}, want: "needs deployment.resources.requests.cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("mix")
			c.Deployment.Resources = &release.Resources{Requests: tc.requests}
			c.Deployment.Autoscaling = &tc.a
			_, err := c.Resolve("prod", discovery.Registry{})
			if err == nil || !strings.Contains(err.Error(), "deployment.autoscaling: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Resolve() = %v, want deployment.autoscaling: ...%s", err, tc.want)
			}
		})
	}
}
