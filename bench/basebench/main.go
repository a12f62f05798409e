package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/relgen/relgen/bench/synth"
	"github.com/relgen/relgen/release/image/abi"
	"github.com/relgen/relgen/release/image/deb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "basebench:", err)
		os.Exit(1)
	}
}

func run() error {
	debs := flag.String("debs", "", "directory of .deb files for the base")
	scale := flag.Float64("scale", 1, "size of the synthetic release (1 = ~60 MB, 17 = ~1 GB)")
	otp := flag.String("otp", "/usr/lib/erlang", "an OTP installation whose ERTS and NIFs are copied in")
	runs := flag.Int("runs", 5, "runs per measurement (the median is printed)")
	flag.Parse()
	files, err := filepath.Glob(filepath.Join(*debs, "*.deb"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("-debs %q: no .deb files", *debs)
	}
	work, err := os.MkdirTemp("", "relgen-basebench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(work) }()

	rel := filepath.Join(work, "rel")
	n, size, err := synth.Write(rel, synth.Options{Scale: *scale, Seed: 1})
	if err != nil {
		return err
	}
	elf, err := addNativeCode(rel, *otp)
	if err != nil {
		return err
	}
	fmt.Printf("release: %d files, %.0f MB, %d files of Debian's OTP copied in\n", n, float64(size)/1e6, elf)

	cold := measure(*runs, func() error {
		_, err := deb.BaseFromFiles(files, "")
		return err
	})
	cache := filepath.Join(work, "bases")
	if _, err := deb.BaseFromFiles(files, cache); err != nil {
		return err
	}
	warm := measure(*runs, func() error {
		img, err := deb.BaseFromFiles(files, cache)
		if err == nil {
			_, err = img.Digest()
		}
		return err
	})
	base, err := deb.BaseFromFiles(files, cache)
	if err != nil {
		return err
	}
	layers, _ := base.Layers()
	lsize, _ := layers[0].Size()
	fmt.Printf("base: %d packages, layer %.1f MB\n", len(files), float64(lsize)/1e6)
	fmt.Printf("  base build, no cache:   %v\n", cold)
	fmt.Printf("  base build, cache hit:  %v\n", warm)

	var objects int
	scan := measure(*runs, func() error {
		needs, err := abi.Scan(os.DirFS(rel))
		objects = len(needs.Objects)
		return err
	})
	read := measure(*runs, func() error {
		_, err := abi.ReadImage(base)
		return err
	})
	needs, _ := abi.Scan(os.DirFS(rel))
	root, _ := abi.ReadImage(base)
	var problems error
	check := measure(*runs, func() error {
		problems = abi.Check(needs, root, "bench")
		return nil
	})
	whole := measure(*runs, func() error {
		needs, err := abi.Scan(os.DirFS(rel))
		if err != nil {
			return err
		}
		root, err := abi.ReadImage(base)
		if err != nil {
			return err
		}
		_ = abi.Check(needs, root, "bench")
		return nil
	})
	abiCache := filepath.Join(work, "abi")
	if err := abi.CheckImage(needs, base, "bench", abiCache); err != nil {
		return err
	}
	remembered := measure(*runs, func() error {
		needs, err := abi.Scan(os.DirFS(rel))
		if err != nil {
			return err
		}
		return abi.CheckImage(needs, base, "bench", abiCache)
	})
	fmt.Printf("ABI check: %d ELF files in the release\n", objects)
	fmt.Printf("  scan the release:       %v\n", scan)
	fmt.Printf("  read the base:          %v\n", read)
	fmt.Printf("  compare:                %v\n", check)
	fmt.Printf("  whole check:            %v\n", whole)
	fmt.Printf("  remembered pass:        %v\n", remembered)
	if problems != nil {
		fmt.Printf("  (the check found: %v)\n", strings.ReplaceAll(problems.Error(), "\n", "; "))
	}
	return nil
}

// timing is a median wall time and the median CPU time (user + system)
// of the same runs; on a shared machine the CPU time is the steadier one.
type timing struct{ wall, cpu time.Duration }

func (t timing) String() string {
	return fmt.Sprintf("%8v wall, %8v CPU", t.wall, t.cpu)
}

// measure runs f n times and returns the medians.
func measure(n int, f func() error) timing {
	var walls, cpus []time.Duration
	for range n {
		c0 := cpuTime()
		start := time.Now()
		if err := f(); err != nil {
			fmt.Fprintln(os.Stderr, "basebench:", err)
			os.Exit(1)
		}
		walls = append(walls, time.Since(start))
		cpus = append(cpus, cpuTime()-c0)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	return timing{walls[len(walls)/2].Round(time.Millisecond), cpus[len(cpus)/2].Round(time.Millisecond)}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// addNativeCode replaces the synthetic ERTS binaries with otp's and adds
// otp's lib/*/priv directories (but odbc's) as applications of the release.
func addNativeCode(rel, otp string) (int, error) {
	copied := 0
	copyFile := func(src, dst string) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		copied++
		return os.WriteFile(dst, data, 0o755)
	}
	ertsSrc, _ := filepath.Glob(filepath.Join(otp, "erts-*", "bin"))
	ertsDst, _ := filepath.Glob(filepath.Join(rel, "erts-*", "bin"))
	if len(ertsSrc) != 1 || len(ertsDst) != 1 {
		return 0, fmt.Errorf("no ERTS in %s or %s", otp, rel)
	}
	bins, _ := os.ReadDir(ertsSrc[0])
	for _, b := range bins {
		if b.Type().IsRegular() {
			if err := copyFile(filepath.Join(ertsSrc[0], b.Name()), filepath.Join(ertsDst[0], b.Name())); err != nil {
				return 0, err
			}
		}
	}
	privs, _ := filepath.Glob(filepath.Join(otp, "lib", "*", "priv"))
	for _, p := range privs {
		if strings.HasPrefix(filepath.Base(filepath.Dir(p)), "odbc-") {
			continue // its port program links unixODBC, which the bench base lacks
		}
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			r, _ := filepath.Rel(otp, path)
			return copyFile(path, filepath.Join(rel, r))
		})
		if err != nil {
			return 0, err
		}
	}
	return copied, nil
}
