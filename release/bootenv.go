package release

import "slices"

// BootPaths are where the pod mounts what a release reads at boot.
type BootPaths struct {
	// VMArgs is the rendered vm.args; Tmp a writable scratch directory;
	// Mutable where Distillery writes the vm.args it substituted.
	VMArgs, Tmp, Mutable string
}

// BootEnv is the env relgen sets so a release of kind boots with the
// rendered vm.args and the node name of t: mix releases read RELEASE_*,
// Distillery substitutes ${VAR} in vm.args when REPLACE_OS_VARS is set.
// The pod gets exactly these, and ReservedEnv is derived from them, so
// what user env may not set cannot drift from what is set.
func BootEnv(kind string, t Topology, p BootPaths) []EnvVar {
	switch kind {
	case KindDistillery:
		return []EnvVar{
			{Name: "REPLACE_OS_VARS", Value: "true"},
			{Name: "VMARGS_PATH", Value: p.VMArgs},
			{Name: "RELEASE_MUTABLE_DIR", Value: p.Mutable},
			// Distillery's rpc, remote_console and ping start
			// distribution before they set the cookie, so OTP reads, and
			// failing that creates, $HOME/.erlang.cookie. The root
			// filesystem is read-only and the kubelet's default HOME is
			// /, so without a writable HOME they crash ("Failed to
			// create cookie file") and operators get no shell.
			{Name: "HOME", Value: p.Tmp},
		}
	case KindMix:
		return []EnvVar{
			{Name: "RELEASE_DISTRIBUTION", Value: "name"},
			{Name: "RELEASE_NODE", Value: t.NodeNameEnv()},
			{Name: "RELEASE_VM_ARGS", Value: p.VMArgs},
			{Name: "RELEASE_TMP", Value: p.Tmp},
		}
	}
	return nil
}

// ReservedEnv lists the container env vars relgen sets whatever the
// discovery strategy (whose own vars its Strategy.Env lists) and the
// release kind: the cookie, every kind's BootEnv, and ERL_FLAGS, which
// would add VM flags behind vm.args' back. User env may not set them, or
// the two would silently disagree.
func ReservedEnv() []string {
	names := []string{CookieEnv, "ERL_FLAGS"}
	for _, kind := range kinds {
		for _, e := range BootEnv(kind, Topology{}, BootPaths{}) {
			if !slices.Contains(names, e.Name) {
				names = append(names, e.Name)
			}
		}
	}
	return names
}
