package examples_test

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/relgen/relgen/manifests"
)

// TestPodSecurityRestricted: the pods of every example bundle (every
// strategy, both release kinds, Deployment and StatefulSet) pass the
// Kubernetes Pod Security "restricted" level, evaluated offline with the
// admission plugin's own policy checks, so a namespace labelled
// pod-security.kubernetes.io/enforce=restricted admits them.
func TestPodSecurityRestricted(t *testing.T) {
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	files, err := filepath.Glob("*/expected/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pods int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := manifests.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, o := range objs {
			pod, _, ok := manifests.WorkloadPod(o)
			if !ok {
				continue
			}
			pods++
			for _, r := range eval.EvaluatePod(restricted, &pod.ObjectMeta, &pod.Spec) {
				if !r.Allowed {
					t.Errorf("%s: %s %s is not Pod Security restricted: %s: %s", f, o.GetObjectKind().GroupVersionKind().Kind, o.GetName(), r.ForbiddenReason, r.ForbiddenDetail)
				}
			}
		}
	}
	if pods < 10 {
		t.Errorf("evaluated %d pod templates, want every example's (10 or more)", pods)
	}
}
