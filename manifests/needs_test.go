package manifests

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
)

func TestEnvFromSecretsAndNeeds(t *testing.T) {
	c := config("mix")
	c.Deployment.Env = map[string]release.EnvValue{
		"HOST":         release.Plain("example.com"),
		"DB_PASSWORD":  {Secret: "myapp-db", Key: "password"},
		"DATABASE_URL": release.Plain("ecto://app:$(DB_PASSWORD)@db/app"),
		"FLAGS":        {ConfigMap: "myapp-flags", Key: "flags", Optional: true},
		"FLAGS_TOO":    {ConfigMap: "myapp-flags", Key: "flags"},
	}
	c.Deployment.EnvFrom = []release.EnvFrom{{Secret: "myapp-extra", Optional: true}, {ConfigMap: "myapp-settings", Prefix: "APP_"}}
	b, err := Generate(resolve(t, c, "prod"), Options{Image: pinned})
	if err != nil {
		t.Fatal(err)
	}
	var pod *corev1.PodTemplateSpec
	for _, o := range b.Objects {
		if p, _, ok := WorkloadPod(o); ok {
			pod = p
		}
	}
	c0 := pod.Spec.Containers[0]
	idx := map[string]int{}
	for i, e := range c0.Env {
		idx[e.Name] = i
	}
	if idx["DB_PASSWORD"] > idx["DATABASE_URL"] {
		t.Errorf("DATABASE_URL (at %d) refers to DB_PASSWORD (at %d), which must come first", idx["DATABASE_URL"], idx["DB_PASSWORD"])
	}
	wantRef := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "myapp-db"}, Key: "password"}
	if got := c0.Env[idx["DB_PASSWORD"]].ValueFrom; got == nil || !cmp.Equal(got.SecretKeyRef, wantRef) {
		t.Errorf("DB_PASSWORD valueFrom = %+v, want secretKeyRef %+v", got, wantRef)
	}
	if got := c0.EnvFrom; len(got) != 2 || got[0].SecretRef == nil || got[0].SecretRef.Name != "myapp-extra" || got[1].Prefix != "APP_" {
		t.Errorf("envFrom = %+v, want the Secret and the prefixed ConfigMap", got)
	}

	want := []Need{
		{Kind: "ConfigMap", Namespace: "default", Name: "myapp-flags", Key: "flags", For: []string{"env FLAGS", "env FLAGS_TOO"}},
		{Kind: "ConfigMap", Namespace: "default", Name: "myapp-settings", For: []string{"env_from"}},
		{Kind: "Secret", Namespace: "default", Name: "myapp-cookie", Key: "cookie", For: []string{"env RELEASE_COOKIE"}},
		{Kind: "Secret", Namespace: "default", Name: "myapp-db", Key: "password", For: []string{"env DB_PASSWORD"}},
		{Kind: "Secret", Namespace: "default", Name: "myapp-extra", Optional: true, For: []string{"env_from"}},
	}
	if diff := cmp.Diff(want, b.Needs()); diff != "" {
		t.Errorf("Needs() (-want +got):\n%s", diff)
	}
}
