package release

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Shutdown defaults.
const (
	// DefaultPreStop is how long a terminating pod waits before SIGTERM
	// reaches the VM, so that endpoints and load balancers stop sending it
	// requests first.
	DefaultPreStop = 5 * time.Second
	// DefaultShutdown is the time the VM is expected to need after SIGTERM
	// (init:stop runs every application's shutdown; Phoenix drains
	// connections for up to 5s by default).
	DefaultShutdown = 10 * time.Second
)

// ShutdownConfig is how a pod stops. It sits flat in the deployment
// section.
type ShutdownConfig struct {
	// PreStop is a sleep before SIGTERM; 0s turns it off (for an image
	// without a sleep binary).
	PreStop *time.Duration `mapstructure:"pre_stop"`
	// Shutdown is how long the VM needs to stop after SIGTERM; preStop
	// plus this must fit in termination_grace_period.
	Shutdown *time.Duration `mapstructure:"shutdown"`
}

// ShutdownSpec is the resolved shutdown section.
type ShutdownSpec struct {
	PreStop, Shutdown time.Duration
}

func (m *merger) shutdown(base, override ShutdownConfig) ShutdownSpec {
	return ShutdownSpec{
		PreStop:  pick(m, "pre_stop", "deployment.pre_stop", base.PreStop, override.PreStop, DefaultPreStop),
		Shutdown: pick(m, "shutdown", "deployment.shutdown", base.Shutdown, override.Shutdown, DefaultShutdown),
	}
}

// Schedulers is the scheduler count relgen pins with +S, or 0 to leave
// it to the VM. OTP sizes its schedulers from the cgroup CPU quota only
// when the quota is at least one CPU; below that it starts one scheduler
// per host core, which then fight over a fraction of one. So a CPU limit
// below one core gets one scheduler.
func (d DeploymentSpec) Schedulers() int {
	if d.Resources == nil {
		return 0
	}
	q, err := resource.ParseQuantity(d.Resources.Limits["cpu"])
	if err != nil || q.Sign() <= 0 || q.MilliValue() >= 1000 {
		return 0
	}
	return 1
}

func (s *Spec) checkShutdown(add func(name, format string, args ...any)) {
	d := s.Deployment
	sd := d.Shutdown
	for _, k := range []struct {
		name string
		v    time.Duration
	}{{"pre_stop", sd.PreStop}, {"shutdown", sd.Shutdown}} {
		if k.v < 0 || k.v%time.Second != 0 {
			add(k.name, "%s must be a non-negative whole number of seconds", k.v)
		}
	}
	validGrace := d.TerminationGracePeriod >= 0 && d.TerminationGracePeriod%time.Second == 0
	if total := sd.PreStop + sd.Shutdown; validGrace && total > d.TerminationGracePeriod {
		add("termination_grace_period", "%s is shorter than pre_stop (%s) plus the VM's shutdown (%s): Kubernetes would kill the VM before it stops; raise it to at least %s",
			d.TerminationGracePeriod, sd.PreStop, sd.Shutdown, total)
	}
	if r := d.Resources; r != nil {
		if v, ok := r.Limits["cpu"]; ok {
			if q, err := resource.ParseQuantity(v); err == nil && q.Sign() <= 0 {
				add("resources.limits", "cpu: %q: a CPU limit must be positive (leave it out for no limit)", v)
			}
		}
	}
}
