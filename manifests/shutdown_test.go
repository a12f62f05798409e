package manifests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

func TestSchedulersFromCPULimit(t *testing.T) {
	for _, tc := range []struct {
		name, limit, template string
		want                  []string
	}{
		{name: "below one core", limit: "500m", want: []string{"1:1"}},
		{name: "one core", limit: "1", want: nil},
		{name: "two cores", limit: "2", want: nil},
		{name: "no limit", want: nil},
		{name: "template sets +S", limit: "250m", template: "+S 2:2\n", want: []string{"2:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config("mix")
			if tc.limit != "" {
				c.Deployment.Resources = &release.Resources{Limits: map[string]string{"cpu": tc.limit}}
			}
			rt, err := NewRuntime(resolve(t, c, "staging"), Options{VMArgsName: "vm.args", VMArgsTemplate: tc.template})
			if err != nil {
				t.Fatal(err)
			}
			args, err := vmargs.Parse(rt.VMArgs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range vmargs.Find(args, "+S") {
				got = append(got, strings.Join(a.Values, " "))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("+S in vm.args (-want +got):\n%s\n%s", diff, rt.VMArgs)
			}
		})
	}
}

func TestPreStop(t *testing.T) {
	c := config("mix")
	b, err := Generate(resolve(t, c, "staging"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := podOf(t, b).Spec.Containers[0].Lifecycle
	if h == nil || h.PreStop == nil || !cmp.Equal(h.PreStop.Exec.Command, []string{"sleep", "5"}) {
		t.Errorf("lifecycle = %+v, want preStop sleep 5", h)
	}
	for _, j := range jobsOf(b) {
		if j.Spec.Template.Spec.Containers[0].Lifecycle != nil {
			t.Errorf("Job %s has a preStop hook", j.Name)
		}
	}

	zero := time.Duration(0)
	c.Deployment.PreStop = &zero
	b, err = Generate(resolve(t, c, "staging"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := podOf(t, b).Spec.Containers[0].Lifecycle; h != nil {
		t.Errorf("pre_stop: 0s still gives lifecycle %+v", h)
	}
}

func TestJobSchedulersFromCPULimit(t *testing.T) {
	c := config("mix")
	c.Deployment.Resources = &release.Resources{Limits: map[string]string{"cpu": "500m"}}
	c.Deployment.Jobs = map[string]release.Job{
		"migrate": {Eval: "x"},
		"own":     {Eval: "x", Env: release.PlainEnv(map[string]string{"ERL_AFLAGS": "+S 2:2"})},
	}
	b, err := Generate(resolve(t, c, "staging"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"migrate": "+S 1:1", "own": "+S 2:2"}
	for _, j := range jobsOf(b) {
		got := ""
		for _, e := range j.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "ERL_AFLAGS" {
				got += e.Value
			}
		}
		if name := j.Labels[JobLabel]; got != want[name] {
			t.Errorf("Job %s ERL_AFLAGS = %q, want %q", name, got, want[name])
		}
	}
}
