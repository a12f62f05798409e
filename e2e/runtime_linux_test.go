package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// The container runtime of the simulation. The test binary re-executes
// itself as `ip netns exec POD_NETNS <test binary> relgen-e2e-pod SPEC`
// in fresh PID, UTS and IPC namespaces (ip adds a mount namespace);
// podHelper then builds the container's root filesystem, mounts its
// volumes, switches to the pod's user and execs the entrypoint, which
// thereby becomes PID 1 of the pod's PID namespace as in a real container.

const podHelperArg = "relgen-e2e-pod"

// runtimeSpec is everything podHelper needs, written as JSON by the test.
type runtimeSpec struct {
	// Layers are the image's unpacked layers on the host, top first.
	Layers []string
	// Scratch is an empty host directory; podHelper mounts a tmpfs on it
	// (in the container's mount namespace only) for the root filesystem.
	Scratch  string
	Hostname string
	Mounts   []mountSpec
	Process  process
}

// mountSpec is one mount into the container, in order.
type mountSpec struct {
	// Target is the path inside the container.
	Target string
	// Type is bind, tmpfs, proc, sysfs or dev (a minimal /dev).
	Type     string
	Source   string
	Options  string
	ReadOnly bool
}

// podHelper runs in the pod's namespaces and never returns on success.
func podHelper(args []string) int {
	if err := runContainer(args); err != nil {
		fmt.Fprintf(os.Stderr, "relgen-e2e container runtime: %v\n", err)
		return 127
	}
	return 0
}

func runContainer(args []string) error {
	// Process attributes such as no_new_privs are per thread; keep the
	// setup and the final exec on one thread.
	runtime.LockOSThread()
	if len(args) != 1 {
		return fmt.Errorf("usage: %s SPEC.json", podHelperArg)
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var s runtimeSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	// ip netns exec made the mount namespace a slave of the host's; make
	// it private so nothing done here can ever reach the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	root, err := rootfs(&s)
	if err != nil {
		return err
	}
	for _, m := range s.Mounts {
		if err := mountInto(root, m); err != nil {
			return fmt.Errorf("mounting %s on %s: %w", m.Type, m.Target, err)
		}
	}
	if err := syscall.Chroot(root); err != nil {
		return err
	}
	if err := os.Chdir(s.Process.Dir); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if err := syscall.Sethostname([]byte(s.Hostname)); err != nil {
		return err
	}
	return execProcess(&s.Process)
}

// rootfs assembles the container's root: a read-only overlay of the
// mount points (created here, as runc creates them) over the image's
// layers, base included, as containerd's overlayfs snapshotter stacks
// them; nothing of the host's root is visible, so the release runs on the
// image's loader and libraries alone. The layers are shared by every
// container that runs them and never written: only the tmpfs holds what
// a container writes.
func rootfs(s *runtimeSpec) (string, error) {
	if err := syscall.Mount("tmpfs", s.Scratch, "tmpfs", 0, "mode=0700"); err != nil {
		return "", fmt.Errorf("scratch tmpfs: %w", err)
	}
	points, root := filepath.Join(s.Scratch, "mountpoints"), filepath.Join(s.Scratch, "root")
	for _, dir := range []string{points, root} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", err
		}
	}
	for _, m := range s.Mounts {
		if err := mountPoint(points, m); err != nil {
			return "", err
		}
	}
	opts := "lowerdir=" + strings.Join(append([]string{points}, s.Layers...), ":")
	flags := uintptr(syscall.MS_RDONLY)
	if !s.Process.ReadOnlyRoot {
		upper, work := filepath.Join(s.Scratch, "upper"), filepath.Join(s.Scratch, "work")
		for _, dir := range []string{upper, work} {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return "", err
			}
		}
		opts += ",upperdir=" + upper + ",workdir=" + work
		flags = 0
	}
	if err := syscall.Mount("overlay", root, "overlay", flags, opts); err != nil {
		return "", fmt.Errorf("root overlay (%s): %w", opts, err)
	}
	return root, nil
}

// mountPoint creates the target of m in the mount point layer: a file
// when a file is bind-mounted, else a directory.
func mountPoint(layer string, m mountSpec) error {
	p := filepath.Join(layer, m.Target)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if m.Type == "bind" {
		if fi, err := os.Stat(m.Source); err != nil {
			return err
		} else if !fi.IsDir() {
			return os.WriteFile(p, nil, 0o644)
		}
	}
	return os.MkdirAll(p, 0o755)
}

func mountInto(root string, m mountSpec) error {
	target := filepath.Join(root, m.Target)
	const nosuidNodev = syscall.MS_NOSUID | syscall.MS_NODEV
	var flags uintptr
	if m.ReadOnly {
		flags |= syscall.MS_RDONLY
	}
	switch m.Type {
	case "proc":
		return syscall.Mount("proc", target, "proc", nosuidNodev|syscall.MS_NOEXEC, "")
	case "sysfs":
		return syscall.Mount("sysfs", target, "sysfs", nosuidNodev|syscall.MS_NOEXEC|syscall.MS_RDONLY, "")
	case "tmpfs":
		return syscall.Mount("tmpfs", target, "tmpfs", nosuidNodev|flags, m.Options)
	case "dev":
		return mountDev(target)
	case "bind":
		if err := syscall.Mount(m.Source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return err
		}
		if m.ReadOnly {
			return syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|nosuidNodev, "")
		}
		return nil
	}
	return fmt.Errorf("unknown mount type %q", m.Type)
}

// mountDev gives the container the small /dev runc gives it.
func mountDev(dev string) error {
	if err := syscall.Mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID|syscall.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := filepath.Join(dev, name)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := syscall.Mount("/dev/"+name, p, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("/dev/%s: %w", name, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return err
	}
	return syscall.Mount("shm", shm, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=1777,size=65536k")
}

// execProcess drops to the container's user and privileges and execs it.
func execProcess(p *process) error {
	const (
		prSetPdeathsig  = 1
		prCapbsetDrop   = 24
		prSetNoNewPrivs = 38
	)
	if p.DropAllCaps {
		for c := uintptr(0); c < 64; c++ {
			if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, c, 0); errno == syscall.EINVAL {
				break // past the last capability this kernel knows
			}
		}
	}
	groups := make([]int, len(p.Groups))
	for i, g := range p.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(int(p.GID)); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(int(p.UID)); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	// Changing credentials cleared the parent-death signal the test set.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return fmt.Errorf("parent-death signal: %w", errno)
	}
	if p.NoNewPrivs {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); errno != 0 {
			return fmt.Errorf("no_new_privs: %w", errno)
		}
	}
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return err
	}
	return fmt.Errorf("exec %s: %w", path, syscall.Exec(path, p.Args, p.Env))
}

// lookPath resolves a command without a slash on the container's PATH.
func lookPath(cmd string, env []string) (string, error) {
	if strings.Contains(cmd, "/") {
		return cmd, nil
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(v) {
				p := filepath.Join(dir, cmd)
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
					return p, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%s: not found on the container's PATH", cmd)
}
