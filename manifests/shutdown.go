package manifests

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/relgen/relgen/release"
	"github.com/relgen/relgen/vmargs"
)

// preStop delays SIGTERM by deployment.pre_stop: a terminating pod leaves
// the Service's endpoints at once, but kube-proxy and ingress controllers
// learn it a moment later and keep sending requests meanwhile. The sleep
// runs the image's sleep binary.
func preStop(s *release.Spec, c *corev1.Container) {
	d := s.Deployment.Shutdown.PreStop
	if d <= 0 {
		return
	}
	c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
		Exec: &corev1.ExecAction{Command: []string{"sleep", strconv.Itoa(int(d.Seconds()))}},
	}}
}

// withSchedulers appends +S to vm.args when the CPU limit is below one
// core (see release.DeploymentSpec.Schedulers), unless the vm.args
// already sets +S.
func withSchedulers(s *release.Spec, text string) string {
	n := s.Deployment.Schedulers()
	if n == 0 {
		return text
	}
	if args, err := vmargs.Parse(text); err != nil || len(vmargs.Find(args, "+S")) > 0 {
		return text
	}
	return strings.TrimRight(text, "\n") + fmt.Sprintf("\n\n## CPU limit %s is below one core, where OTP does not size its schedulers from the\n"+
		"## cgroup quota and would start one per host core; added by relgen.\n+S %d:%d\n",
		s.Deployment.Resources.Limits["cpu"], n, n)
}
