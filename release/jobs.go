package release

import (
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of a release command Job.
const (
	DefaultJobBackoffLimit int32 = 1
	DefaultJobTTL                = 24 * time.Hour
	// JobNameMax is the longest Job name: Kubernetes copies it into the
	// job-name label of its pods, and label values hold 63 characters.
	JobNameMax = validation.LabelValueMaxLength
	// JobHashLen is how many hex digits of the image digest end a Job's
	// name, after a '-'.
	JobHashLen = 10
)

// Job is a release command run once per image and environment before the
// rollout, e.g. database migrations: jobs: {migrate: {eval:
// "Shop.Release.migrate()"}}. It runs in the release image with the pods'
// env, Secrets, security context and resources, but never joins the
// cluster.
type Job struct {
	// Eval is an Elixir expression run with `bin/NAME eval`.
	Eval string `mapstructure:"eval"`
	// Command replaces the image's entrypoint (a container's command).
	Command []string `mapstructure:"command"`
	// Env is merged over deployment.env for this Job.
	Env map[string]EnvValue `mapstructure:"env"`
	// BackoffLimit is how many times a failed run is retried.
	BackoffLimit *int32 `mapstructure:"backoff_limit"`
	// TTLAfterFinished is how long a finished Job is kept; 0s keeps it.
	TTLAfterFinished *time.Duration `mapstructure:"ttl_after_finished"`
	// Timeout bounds the Job's run time (activeDeadlineSeconds).
	Timeout *time.Duration `mapstructure:"timeout"`
}

// JobSpec is one resolved Job.
type JobSpec struct {
	// Name is the key under jobs, e.g. migrate.
	Name    string
	Eval    string
	Command []string
	// Env is the Job's env: deployment.env with the Job's env merged
	// over it, ordered like DeploymentSpec.Env.
	Env          []EnvVar
	BackoffLimit int32
	// TTLAfterFinished is zero when a finished Job is kept.
	TTLAfterFinished time.Duration
	Timeout          time.Duration
}

// distributionEnv are variables that would give a Job's VM a node name
// or the cookie: a Job must never join the cluster. The discovery
// strategy's own variables are refused too (checkJobs gets them).
var distributionEnv = []string{"RELEASE_NODE", "RELEASE_DISTRIBUTION", CookieEnv}

// erlFlagEnv are the variables erl reads extra flags from.
var erlFlagEnv = []string{"ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS"}

// jobs merges the environment's jobs over the base section's, job by job,
// and resolves each over env (the deployment's merged env).
func (m *merger) jobs(base, override map[string]Job, env map[string]EnvValue) ([]JobSpec, []error) {
	m.paths["jobs"] = "deployment.jobs"
	if len(override) > 0 {
		m.paths["jobs"] = m.envPath("jobs")
	}
	var out []JobSpec
	var errs []error
	merged := map[string]Job{}
	set := func(k, path string, j Job) {
		merged[k] = j
		m.paths["jobs."+k] = path
		m.paths["jobs."+k+".env"] = path + ".env"
		for name := range j.Env {
			m.paths["jobs."+k+".env."+name] = path + ".env." + name
		}
	}
	for k, j := range base {
		set(k, "deployment.jobs."+k, j)
	}
	for k, j := range override {
		set(k, m.envPath("jobs")+"."+k, j)
	}
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		j := merged[name]
		jobEnv := maps.Clone(env)
		if jobEnv == nil {
			jobEnv = map[string]EnvValue{}
		}
		maps.Copy(jobEnv, j.Env)
		ordered, err := withRefs(jobEnv)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, JobSpec{
			Name:             name,
			Eval:             j.Eval,
			Command:          j.Command,
			Env:              ordered,
			BackoffLimit:     deref(j.BackoffLimit, DefaultJobBackoffLimit),
			TTLAfterFinished: deref(j.TTLAfterFinished, DefaultJobTTL),
			Timeout:          deref(j.Timeout, 0),
		})
	}
	return out, errs
}

// checkJobs validates the resolved jobs.
// strategyEnv are the discovery strategy's env vars, which a Job must not
// set either.
func (s *Spec) checkJobs(add func(name, format string, args ...any), strategyEnv []string) {
	for _, j := range s.Deployment.Jobs {
		key := "jobs." + j.Name
		for _, msg := range validation.IsDNS1123Label(j.Name) {
			add(key, "job name %q: %s", j.Name, msg)
		}
		if n := len(s.Deployment.Name) + 1 + len(j.Name) + 1 + JobHashLen; n > JobNameMax {
			add(key, "the Job's name %s-%s-<image hash> would have %d characters, more than %d; shorten the job name or deployment.name",
				s.Deployment.Name, j.Name, n, JobNameMax)
		}
		switch {
		case j.Eval == "" && len(j.Command) == 0:
			add(key, "set eval (an expression for bin/%s eval) or command", s.Release.Name)
		case j.Eval != "" && len(j.Command) > 0:
			add(key, "set one of eval and command, not both")
		}
		if j.BackoffLimit < 0 {
			add(key, "backoff_limit must not be negative, got %d", j.BackoffLimit)
		}
		if j.TTLAfterFinished < 0 || j.TTLAfterFinished%time.Second != 0 {
			add(key, "ttl_after_finished %s must be a non-negative whole number of seconds", j.TTLAfterFinished)
		}
		if j.Timeout < 0 || j.Timeout%time.Second != 0 {
			add(key, "timeout %s must be a non-negative whole number of seconds", j.Timeout)
		}
		for _, e := range j.Env {
			// What the Job inherits from deployment.env is checked there.
			if !slices.ContainsFunc(s.Deployment.Env, func(d EnvVar) bool { return sameEnvVar(d, e) }) {
				s.checkJobEnv(add, key, e, strategyEnv)
			}
		}
	}
}

// checkJobEnv refuses what would make a Job's VM a cluster node.
func (s *Spec) checkJobEnv(add func(name, format string, args ...any), key string, e EnvVar, strategyEnv []string) {
	if slices.Contains(distributionEnv, e.Name) || slices.Contains(strategyEnv, e.Name) {
		add(key+".env."+e.Name, "a Job runs without distribution and must not join the cluster; remove it")
		return
	}
	if slices.Contains(erlFlagEnv, e.Name) {
		for _, f := range strings.Fields(e.Value) {
			if f == "-name" || f == "-sname" || f == "-setcookie" {
				add(key+".env."+e.Name, "%s would start distribution; a Job must not join the cluster", f)
				return
			}
		}
	}
	if slices.Contains(ReservedEnv(), e.Name) {
		add(key+".env."+e.Name, "%s is set by relgen; remove it", e.Name)
	}
}

func sameEnvVar(a, b EnvVar) bool {
	if a.Name != b.Name || a.Value != b.Value || (a.From == nil) != (b.From == nil) {
		return false
	}
	return a.From == nil || *a.From == *b.From
}

// JobBootEnv is BootEnv for a release command Job: the same settings
// minus the node name and the runtime vm.args (the Job runs before the
// bundle's ConfigMap is applied), with distribution off.
func JobBootEnv(kind string, p BootPaths) []EnvVar {
	var out []EnvVar
	for _, e := range BootEnv(kind, Topology{}, p) {
		switch e.Name {
		case "RELEASE_NODE", "RELEASE_VM_ARGS", "VMARGS_PATH":
			continue
		case "RELEASE_DISTRIBUTION":
			e.Value = "none"
		}
		out = append(out, e)
	}
	return out
}
