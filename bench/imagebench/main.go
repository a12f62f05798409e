package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/release/image"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: imagebench gen|build|touch [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "build":
		err = build(os.Args[2:])
	case "touch":
		err = touch(os.Args[2:])
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

// touch changes one .beam of the own app, as a code-only change does.
func touch(args []string) error {
	fs := flag.NewFlagSet("touch", flag.ExitOnError)
	dir := fs.String("release", "", "release directory")
	_ = fs.Parse(args)
	f, err := os.OpenFile(*dir+"/"+synth.OwnBeam, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "changed %d\n", time.Now().UnixNano())
	return f.Close()
}

// build runs one Build and WriteLayout and prints
// "seconds maxrss_kib layers_bytes".
func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	dir := fs.String("release", "", "release directory")
	cache := fs.String("cache", "", "layer cache directory")
	layout := fs.String("oci-layout", "", "OCI layout to write")
	_ = fs.Parse(args)
	start := time.Now()
	res, err := image.Build(context.Background(), *dir, image.WithCacheDir(*cache))
	if err != nil {
		return err
	}
	defer func() { _ = res.Close() }()
	if err := image.WriteLayout(context.Background(), *layout, res, synth.Version); err != nil {
		return err
	}
	elapsed := time.Since(start)
	var size int64
	for _, l := range res.Manifests[0].Layers {
		size += l.Size
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("%.3f %d %d\n", elapsed.Seconds(), ru.Maxrss, size)
	return nil
}
