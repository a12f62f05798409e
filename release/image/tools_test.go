package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/relgen/relgen/release"
)

// Integration tests with the tools a user would point at relgen's output.
// CI installs them from Debian and sets RELGEN_REQUIRE_TOOLS=1, which turns
// a missing tool into a failure instead of a skip.

func requireTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found (apt-get install %s)", tool, pkg)
	if os.Getenv("RELGEN_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s, and RELGEN_REQUIRE_TOOLS=1", msg)
	}
	t.Skipf("%s; set RELGEN_REQUIRE_TOOLS=1 to fail instead of skipping", msg)
	return ""
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return out
}

// skopeoInspect is the part of `skopeo inspect` output the tests read.
type skopeoInspect struct {
	Digest string
	Layers []string
	Labels map[string]string
}

func inspectWithSkopeo(t *testing.T, skopeo string, args ...string) skopeoInspect {
	t.Helper()
	var got skopeoInspect
	if err := json.Unmarshal(run(t, skopeo, append([]string{"inspect"}, args...)...), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestToolsReadLayoutAndTarball(t *testing.T) {
	skopeo := requireTool(t, "skopeo", "skopeo")
	umoci := requireTool(t, "umoci", "umoci")
	dir := newRelease(t)
	res := mustBuild(t, dir, WithCreationTime(epoch), WithUser(release.User{UID: 1000, GID: 1001}))
	out := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(context.Background(), out, res, "0.1.0"); err != nil {
		t.Fatal(err)
	}

	got := inspectWithSkopeo(t, skopeo, "oci:"+out+":0.1.0")
	if got.Digest != res.Digest.String() || len(got.Layers) != 4 || got.Labels[LabelVersion] != "0.1.0" {
		t.Errorf("skopeo inspect oci: = %+v, want digest %s, 4 layers, version label", got, res.Digest)
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	args := []string{"unpack", "--image", out + ":0.1.0", bundle}
	if os.Geteuid() != 0 {
		args = append([]string{"--rootless"}, args...)
		args[0], args[1] = args[1], args[0]
	}
	run(t, umoci, args...)
	rootfs := filepath.Join(bundle, "rootfs")
	if diff := cmp.Diff(releaseTree(t, dir, "app"), releaseTree(t, filepath.Join(rootfs, "app"), "app")); diff != "" {
		t.Errorf("umoci unpack tree (-release +unpacked):\n%s", diff)
	}
	if os.Geteuid() == 0 {
		fi, err := os.Lstat(filepath.Join(rootfs, "app/bin/myapp"))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("unpacked bin/myapp owned by %d:%d, want 1000:1001", st.Uid, st.Gid)
		}
	}

	file := filepath.Join(t.TempDir(), "image.tar")
	tag, _ := name.NewTag("registry.example.com/acme/myapp:0.1.0")
	if err := WriteTarball(context.Background(), file, res, tag); err != nil {
		t.Fatal(err)
	}
	if got := inspectWithSkopeo(t, skopeo, "docker-archive:"+file); len(got.Layers) != 4 {
		t.Errorf("skopeo inspect docker-archive: %d layers, want 4", len(got.Layers))
	}
}

// TestToolsDockerRegistry pushes to Debian's docker-registry (the CNCF
// distribution registry) and reads the image back with skopeo.
func TestToolsDockerRegistry(t *testing.T) {
	skopeo := requireTool(t, "skopeo", "skopeo")
	reg := requireTool(t, "docker-registry", "docker-registry")
	host := startDockerRegistry(t, reg)

	res := mustBuild(t, newRelease(t), WithBase(randomBase(t)))
	ref, err := Push(context.Background(), res, host+"/acme/myapp", WithTags("0.1.0"), anonymous)
	if err != nil {
		t.Fatalf("Push() = %v", err)
	}
	for _, r := range []string{ref.String(), host + "/acme/myapp:0.1.0"} {
		got := inspectWithSkopeo(t, skopeo, "--tls-verify=false", "docker://"+r)
		if got.Digest != res.Digest.String() || len(got.Layers) != 6 {
			t.Errorf("skopeo inspect %s = digest %s with %d layers, want %s with 6", r, got.Digest, len(got.Layers), res.Digest)
		}
	}
	// Pushing again uploads nothing and keeps the digest.
	if again, err := Push(context.Background(), res, host+"/acme/myapp", anonymous); err != nil || again != ref {
		t.Errorf("second Push() = %v, %v, want %s", again, err, ref)
	}
}

func startDockerRegistry(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	_ = l.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), host)
	writeFile(t, filepath.Join(dir, "config.yml"), cfg, 0o644)
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	var logs bytes.Buffer // shown when the test fails
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("docker-registry output:\n%s", logs.String())
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			_ = resp.Body.Close()
			return host
		}
		select {
		case <-exited:
			t.Fatalf("docker-registry exited: %v\n%s", waitErr, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v", host, err)
		}
	}
}
