package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/release/image"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: imagebench run|gen|build|change|copy|push [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "build":
		err = build(os.Args[2:])
	case "change":
		err = change(os.Args[2:])
	case "copy":
		err = copyCmd(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imagebench:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "release directory to create")
	scale := fs.Float64("scale", 1, "size multiplier (1 = ~60 MB)")
	_ = fs.Parse(args)
	files, bytes, err := synth.Write(*out, synth.Options{Scale: *scale, Seed: 1})
	if err != nil {
		return err
	}
	fmt.Printf("%d files, %.1f MB\n", files, float64(bytes)/1e6)
	return nil
}

// change applies one of the edits a rebuild follows: "code" (one own-app
// .beam changed in place, synth.ChangeCode) or "mix-overwrite"
// (synth.MixOverwrite).
func change(args []string) error {
	flags := flag.NewFlagSet("change", flag.ExitOnError)
	dir := flags.String("release", "", "release directory")
	how := flags.String("how", "code", "code or mix-overwrite")
	_ = flags.Parse(args)
	stamp := fmt.Sprintf("changed %d\n", time.Now().UnixNano())
	switch *how {
	case "code":
		return synth.ChangeCode(*dir, stamp)
	case "mix-overwrite":
		return synth.MixOverwrite(*dir, stamp)
	}
	return fmt.Errorf("unknown change %q", *how)
}

// copyCmd copies a release to a new path with new inodes and times, as a
// CI checkout that rebuilds the release does.
func copyCmd(args []string) error {
	fs := flag.NewFlagSet("copy", flag.ExitOnError)
	src := fs.String("from", "", "release directory")
	dst := fs.String("to", "", "new directory")
	_ = fs.Parse(args)
	return os.CopyFS(*dst, os.DirFS(*src))
}

// result is one build's measurements, printed as a JSON line.
type result struct {
	Seconds float64 `json:"seconds"`
	RSSKiB  int64   `json:"rss_kib"`
	// ImageBytes is the size of the release's layers (compressed).
	ImageBytes int64 `json:"image_bytes"`
	// Read and Written are the bytes this process read and wrote through
	// system calls (/proc/self/io rchar and wchar): release files, cache
	// entries, blobs and the layout.
	Read    int64 `json:"read"`
	Written int64 `json:"written"`
	// Compressed is the size of the layers that were compressed anew.
	Compressed int64 `json:"compressed"`
	// Layers is one word per layer saying how it was obtained.
	Layers []string `json:"layers"`
}

// build runs one Build and WriteLayout and prints a result.
func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	dir := fs.String("release", "", "release directory")
	cache := fs.String("cache", "", "layer cache directory")
	layout := fs.String("oci-layout", "", "OCI layout to write")
	_ = fs.Parse(args)
	r0, w0 := procIO()
	start := time.Now()
	var hows []string
	res, err := image.Build(context.Background(), *dir, image.WithCacheDir(*cache),
		image.WithProgress(func(msg string) { hows = append(hows, msg) }))
	if err != nil {
		return err
	}
	defer func() { _ = res.Close() }()
	if err := image.WriteLayout(context.Background(), *layout, res, synth.Version); err != nil {
		return err
	}
	r := result{Seconds: time.Since(start).Seconds(), Layers: []string{}}
	r1, w1 := procIO()
	r.Read, r.Written = r1-r0, w1-w0
	for _, l := range res.Manifests[0].Layers {
		r.ImageBytes += l.Size
		for _, msg := range hows {
			if strings.Contains(msg, strings.TrimPrefix(l.Digest, "sha256:")[:12]) {
				how := howOf(msg)
				r.Layers = append(r.Layers, how)
				if how == "compressed" {
					r.Compressed += l.Size
				}
				break
			}
		}
	}
	r.RSSKiB = peakRSS()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// howOf shortens a progress line's ending to one word.
func howOf(msg string) string {
	switch {
	case strings.HasSuffix(msg, "compressed"):
		return "compressed"
	case strings.Contains(msg, "unchanged"):
		return "stat"
	case strings.Contains(msg, "same content"):
		return "content"
	}
	return "other"
}

// peakRSS is this process's peak resident set in KiB: VmHWM of
// /proc/self/status where there is one. getrusage is the fallback only: on
// Linux its maxrss also counts the parent's memory when the process was
// started with vfork+exec, as os/exec does.
func peakRSS() int64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				return n
			}
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

// procIO returns rchar and wchar of /proc/self/io (0 where unavailable).
func procIO() (read, written int64) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			read = n
		case "wchar":
			written = n
		}
	}
	return read, written
}

// push measures what a code-only rebuild uploads: it pushes the release to
// an in-process registry on loopback, applies the mix-overwrite change,
// rebuilds with the same cache and pushes again, and prints
// "image_bytes pushed_bytes" for the second push.
func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	dir := fs.String("release", "", "release directory (changed in place)")
	cache := fs.String("cache", "", "layer cache directory")
	project := fs.String("mix", "", "the mix project of the release: change it with `mix release`")
	_ = fs.Parse(args)
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/bench/app"
	counter := &countingTransport{rt: http.DefaultTransport}
	once := func() (int64, error) {
		res, err := image.Build(context.Background(), *dir, image.WithCacheDir(*cache))
		if err != nil {
			return 0, err
		}
		defer func() { _ = res.Close() }()
		if _, err := image.Push(context.Background(), res, repo,
			image.WithKeychain(authn.NewMultiKeychain()), image.WithTransport(counter)); err != nil {
			return 0, err
		}
		var size int64
		for _, l := range res.Manifests[0].Layers {
			size += l.Size
		}
		return size, nil
	}
	if _, err := once(); err != nil {
		return err
	}
	var err error
	if *project != "" {
		err = mixRelease(*project)
	} else {
		err = change([]string{"-release", *dir, "-how", "mix-overwrite"})
	}
	if err != nil {
		return err
	}
	counter.n.Store(0)
	size, err := once()
	if err != nil {
		return err
	}
	fmt.Printf("%d %d\n", size, counter.n.Load())
	return nil
}

// countingTransport counts request body bytes sent.
type countingTransport struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &countingBody{ReadCloser: req.Body, n: &c.n}
	}
	return c.rt.RoundTrip(req)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
