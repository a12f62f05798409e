package synth

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Options size the release. The zero value gives the default shape of
// about 60 MB in about 3000 files.
type Options struct {
	// Scale multiplies the number of applications and .beam files (and so
	// the size) of the default shape; 0 means 1.
	Scale float64
	// Seed makes the content reproducible.
	Seed uint64
}

// Release names used by the generated tree.
const (
	Name    = "benchapp"
	Version = "0.1.0"
	ERTS    = "14.2.5"
)

// OwnBeam is a file of the own app a benchmark can change to simulate a
// code-only rebuild.
var OwnBeam = filepath.Join("lib", Name+"-"+Version, "ebin", "Elixir.Benchapp.Module7.beam")

// writer produces file content: a mix of incompressible bytes and text
// drawn from a small vocabulary, like compiled code with its literal and
// debug chunks.
type writer struct {
	rnd    *rand.Rand
	corpus []byte // compressible text to cut slices from
	files  int
	bytes  int64
}

func newWriter(seed uint64) *writer {
	w := &writer{rnd: rand.New(rand.NewPCG(seed, 0x5eed))}
	words := []string{"defmodule", "def", "end", "do", "Enum", "map", "reduce", "Kernel", "erlang",
		"module_info", "Elixir", "GenServer", "handle_call", "handle_info", "state", "self", "send",
		"receive", "case", "when", "nil", "true", "false", "binary", "list", "atom", "pid", "ref",
		"Plug.Conn", "assign", "render", "Phoenix", "Ecto.Schema", "field", "string", "integer",
		"ok", "error", "reply", "noreply", "stop", "init", "start_link", "child_spec", "Supervisor"}
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString(words[w.rnd.IntN(len(words))])
		if w.rnd.IntN(8) == 0 {
			b.WriteString("\n")
		} else {
			b.WriteByte(' ')
		}
	}
	w.corpus = []byte(b.String())
	return w
}

// content returns n bytes of which the fraction random is incompressible.
func (w *writer) content(n int, random float64) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		chunk := min(n-len(out), 512+w.rnd.IntN(3584))
		if w.rnd.Float64() < random {
			b := make([]byte, chunk)
			for i := range b {
				b[i] = byte(w.rnd.Uint32())
			}
			out = append(out, b...)
		} else {
			off := w.rnd.IntN(len(w.corpus) - chunk)
			out = append(out, w.corpus[off:off+chunk]...)
		}
	}
	return out
}

func (w *writer) write(root, rel string, data []byte, mode os.FileMode) error {
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	w.files++
	w.bytes += int64(len(data))
	return nil
}

// Write creates the release in dir and returns the number of files and
// bytes written.
func Write(dir string, o Options) (files int, bytes int64, err error) {
	scale := o.Scale
	if scale <= 0 {
		scale = 1
	}
	w := newWriter(o.Seed)
	erts := "erts-" + ERTS
	// ERTS: big native binaries, compressing about 2.5x like real ones.
	bins := []struct {
		name string
		size int
	}{
		{"beam.smp", 9 << 20}, {"erlexec", 80 << 10}, {"epmd", 120 << 10}, {"erl_child_setup", 60 << 10},
		{"inet_gethost", 90 << 10}, {"heart", 40 << 10}, {"escript", 70 << 10}, {"erlc", 110 << 10},
		{"run_erl", 50 << 10}, {"to_erl", 40 << 10}, {"dyn_erl", 30 << 10}, {"erl_call", 130 << 10},
		{"yielding_c_fun", 200 << 10},
	}
	for _, b := range bins {
		if err := w.write(dir, erts+"/bin/"+b.name, w.content(int(float64(b.size)*scale), 0.35), 0o755); err != nil {
			return 0, 0, err
		}
	}
	for i := range int(60 * scale) {
		rel := fmt.Sprintf("%s/include/erl_header_%d.h", erts, i)
		if err := w.write(dir, rel, w.content(6<<10, 0.02), 0o644); err != nil {
			return 0, 0, err
		}
	}
	for _, lib := range []string{"liberts_internal.a", "libethread.a", "liberts.a"} {
		if err := w.write(dir, erts+"/lib/"+lib, w.content(int(1.5*float64(1<<20)*scale), 0.35), 0o644); err != nil {
			return 0, 0, err
		}
	}

	// Third-party applications: OTP, Elixir and hex dependencies.
	apps := int(40 * scale)
	for a := range apps {
		app := fmt.Sprintf("dep%02d-1.%d.0", a, a%7)
		beams := 35 + w.rnd.IntN(70)
		if err := w.write(dir, "lib/"+app+"/ebin/"+strings.Split(app, "-")[0]+".app", w.content(1<<10, 0), 0o644); err != nil {
			return 0, 0, err
		}
		for b := range beams {
			rel := fmt.Sprintf("lib/%s/ebin/Elixir.Dep%02d.Module%d.beam", app, a, b)
			if err := w.write(dir, rel, w.content(2<<10+w.rnd.IntN(26<<10), 0.3), 0o644); err != nil {
				return 0, 0, err
			}
		}
		if a%5 == 0 {
			if err := w.write(dir, "lib/"+app+"/priv/data.bin", w.content(200<<10, 0.8), 0o644); err != nil {
				return 0, 0, err
			}
		}
	}

	// The project's own app.
	own := "lib/" + Name + "-" + Version
	if err := w.write(dir, own+"/ebin/"+Name+".app", w.content(2<<10, 0), 0o644); err != nil {
		return 0, 0, err
	}
	for b := range 120 {
		rel := fmt.Sprintf("%s/ebin/Elixir.Benchapp.Module%d.beam", own, b)
		if err := w.write(dir, rel, w.content(4<<10+w.rnd.IntN(12<<10), 0.3), 0o644); err != nil {
			return 0, 0, err
		}
	}
	for i := range 20 {
		if err := w.write(dir, fmt.Sprintf("%s/priv/static/assets/app-%d.js", own, i), w.content(40<<10, 0.05), 0o644); err != nil {
			return 0, 0, err
		}
	}

	// releases/ and bin/.
	rel := "releases/" + Version
	small := [][2]string{
		{"releases/start_erl.data", ERTS + " " + Version + "\n"},
		{"releases/COOKIE", "BENCHCOOKIE"},
		{rel + "/vm.args", "-name " + Name + "@${POD_IP}\n"},
		{rel + "/remote.vm.args", "-name remote@127.0.0.1\n"},
		{rel + "/sys.config", "[].\n"},
		{rel + "/env.sh", "#!/bin/sh\n"},
		{rel + "/" + Name + ".rel", "{release, {\"" + Name + "\", \"" + Version + "\"}, {erts, \"" + ERTS + "\"}, []}.\n"},
		{"bin/" + Name, "#!/bin/sh\nexec \"$(dirname \"$0\")/../releases/" + Version + "/elixir\" \"$@\"\n"},
	}
	for _, f := range small {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(f[0], "bin/") || strings.HasSuffix(f[0], ".sh") {
			mode = 0o755
		}
		if err := w.write(dir, f[0], []byte(f[1]), mode); err != nil {
			return 0, 0, err
		}
	}
	for _, boot := range []string{"start.boot", "start_clean.boot", "start.script", "start_clean.script"} {
		if err := w.write(dir, rel+"/"+boot, w.content(60<<10, 0.1), 0o644); err != nil {
			return 0, 0, err
		}
	}
	for i := range 30 {
		if err := w.write(dir, fmt.Sprintf("%s/consolidated/Elixir.Proto%d.beam", rel, i), w.content(3<<10, 0.3), 0o644); err != nil {
			return 0, 0, err
		}
	}
	return w.files, w.bytes, nil
}

// ChangeCode changes one .beam of the own app in place (OwnBeam), as an
// edit that bypasses `mix release` would: every other file keeps its stat
// data.
func ChangeCode(dir, stamp string) error {
	f, err := os.OpenFile(filepath.Join(dir, OwnBeam), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(stamp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MixOverwrite does to the release what `mix release --overwrite` does
// after a code change: every file under lib/, releases/ and bin/ is
// rewritten with its old bytes (new mtime and ctime; ERTS keeps its own),
// and the own app's Module1* .beam files get new content.
func MixOverwrite(dir, stamp string) error {
	own := filepath.Join(dir, "lib", Name+"-"+Version, "ebin")
	for _, top := range []string{"lib", "releases", "bin"} {
		err := filepath.WalkDir(filepath.Join(dir, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if filepath.Dir(p) == own && strings.HasPrefix(filepath.Base(p), "Elixir.Benchapp.Module1") {
				data = append(data, stamp...)
			}
			return os.WriteFile(p, data, 0)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
