package manifests

import (
	"testing"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

func TestTopologySpread(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name     string
		replicas int32
		auto     *release.Autoscaling
		spread   *bool
		want     int
	}{
		{name: "several replicas", replicas: 3, want: 2},
		{name: "one replica", replicas: 1, want: 0},
		{name: "one replica, autoscaled to more", replicas: 1, auto: &release.Autoscaling{Min: ptr(int32(1)), Max: ptr(int32(4))}, want: 2},
		{name: "switched off", replicas: 3, spread: &off, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("mix")
			c.Deployment.Replicas = &tc.replicas
			c.Deployment.TopologySpread = tc.spread
			if tc.auto != nil {
				c.Deployment.Autoscaling = tc.auto
				c.Deployment.Resources = &release.Resources{Requests: map[string]string{"cpu": "1"}}
			}
			b, err := Generate(resolve(t, c, "staging"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := podOf(t, b).Spec.TopologySpreadConstraints
			if len(got) != tc.want {
				t.Fatalf("%d topologySpreadConstraints, want %d: %+v", len(got), tc.want, got)
			}
			for _, c := range got {
				if c.WhenUnsatisfiable != "ScheduleAnyway" || c.MaxSkew != 1 || c.LabelSelector.MatchLabels["app"] != "myapp" {
					t.Errorf("constraint %+v: want maxSkew 1, ScheduleAnyway, over the pod selector", c)
				}
			}
		})
	}
}

func TestServiceAccountClashesWithDiscovery(t *testing.T) {
	c := config("mix")
	c.Cluster.Discovery = discovery.LibclusterKubernetes
	c.Deployment.ServiceAccount = &release.ServiceAccount{Name: "shop"}
	_, err := Generate(resolve(t, c, "staging"), Options{})
	want := "relgen.yaml: deployment.service_account: discovery libcluster-kubernetes runs the pods as its own ServiceAccount myapp-discovery, bound to the Role it needs; remove service_account"
	if err == nil || err.Error() != want {
		t.Errorf("Generate() = %v, want %q", err, want)
	}
}
