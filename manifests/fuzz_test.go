package manifests

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgen/relgen/manifests/discovery"
	"github.com/relgen/relgen/release"
)

// fuzzSpec resolves the test config with the fuzzed values, or reports
// false when relgen refuses them (which is the right answer to most).
func fuzzSpec(t *testing.T, name, namespace, key, value string, mix bool, strategy, replicas uint8, envRoute bool) (*release.Spec, bool) {
	kind := release.KindDistillery
	if mix {
		kind = release.KindMix
	}
	c := config(kind)
	names := discovery.Names()
	c.Release.Name = name
	c.Cluster.Discovery = names[int(strategy)%len(names)]
	if envRoute {
		c.Cluster.DiscoveryConfig = release.DiscoveryConfigEnv
	}
	c.Deployment.Env = release.PlainEnv(map[string]string{key: value})
	r := int32(replicas)
	c.Deployment.Replicas = &r
	c.Environments = map[string]release.Environment{"prod": {Namespace: namespace}}
	s, err := c.Resolve("prod", discovery.Registry{})
	return s, err == nil
}

// FuzzBundleRoundTrip generates bundles from fuzzed config values: what
// Generate accepts must write as YAML that Decode reads back strictly into
// equal objects, and that check --bundle's checks accept too.
func FuzzBundleRoundTrip(f *testing.F) {
	f.Add("myapp", "default", "HOST", "example.com", false, uint8(0), uint8(2), false)
	f.Add("my_app", "shop", "URL", "http://$(HOST):4000/x", true, uint8(2), uint8(3), true)
	f.Add("chat", "prod", "MSG", "é \"quoted\" ${X} 010 true null", true, uint8(3), uint8(1), false)
	f.Fuzz(func(t *testing.T, name, namespace, key, value string, mix bool, strategy, replicas uint8, envRoute bool) {
		s, ok := fuzzSpec(t, name, namespace, key, value, mix, strategy, replicas, envRoute)
		if !ok {
			return
		}
		b, err := Generate(s, Options{Image: pinned})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := b.WriteYAML(&buf); err != nil {
			t.Fatalf("WriteYAML: %v", err)
		}
		objs, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("Decode of Generate's output: %v\n%s", err, buf.String())
		}
		if len(objs) != len(b.Objects) {
			t.Fatalf("Decode read %d objects, Generate made %d", len(objs), len(b.Objects))
		}
		for i := range objs {
			want, err := plain(b.Objects[i])
			if err != nil {
				t.Fatal(err)
			}
			got, err := plain(objs[i])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s %s changed in the round trip (-want +got):\n%s", kindOf(objs[i]), objs[i].GetName(), diff)
			}
		}
		if rep := CheckObjects(objs, CheckOptions{Domain: s.Topology.Domain}); len(rep.Problems) > 0 {
			t.Fatalf("check --bundle refuses a bundle Generate accepted: %v\n%s", rep.Problems, buf.String())
		}
	})
}

// FuzzVMArgsTemplate renders fuzzed vm.args templates through Generate:
// template errors and refusals are fine, panics are not, and an accepted
// template yields a bundle whose vm.args is the rendered text.
func FuzzVMArgsTemplate(f *testing.F) {
	for _, kind := range []string{"distillery", "mix"} {
		data, err := os.ReadFile(filepath.Join("..", "templates", "vmargs", kind+".tmpl"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), kind == "mix")
	}
	f.Add("-name {{ .Topology.Basename }}@${MY_POD_IP}\n{{ range $i, $e := .Missing }}{{ end }}", false)
	f.Fuzz(func(t *testing.T, text string, mix bool) {
		s, ok := fuzzSpec(t, "myapp", "default", "HOST", "example.com", mix, 0, 2, false)
		if !ok {
			t.Fatal("the base config does not resolve")
		}
		b, err := Generate(s, Options{Image: pinned, VMArgsName: "vm.args.tmpl", VMArgsTemplate: text})
		if err != nil {
			return
		}
		if b.VMArgs == "" {
			t.Fatalf("Generate accepted template %q with an empty vm.args", text)
		}
	})
}

// FuzzCheckBundle feeds arbitrary bytes to check --bundle: it must never
// panic, and every problem it reports must say something.
func FuzzCheckBundle(f *testing.F) {
	files, _ := filepath.Glob("testdata/check/*.yaml")
	more, _ := filepath.Glob("../examples/*/expected/*.yaml")
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := CheckBundle(bytes.NewReader(data), CheckOptions{}, nil)
		if err != nil {
			return
		}
		for _, p := range append(rep.Problems, rep.Warnings...) {
			if p.Err == nil || p.Error() == "" {
				t.Fatalf("empty finding %+v", p)
			}
		}
	})
}
