package release

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// PodConfig is how the pods are pulled, identified and placed. It sits
// flat in the deployment section (and so in each environment's).
type PodConfig struct {
	// ImagePullSecrets name Secrets of type kubernetes.io/dockerconfigjson.
	ImagePullSecrets []string `mapstructure:"image_pull_secrets"`
	// ServiceAccount runs the pods as an existing account, or one the
	// bundle creates.
	ServiceAccount *ServiceAccount `mapstructure:"service_account"`
	// PodAnnotations are added to the pod template.
	PodAnnotations map[string]string `mapstructure:"pod_annotations"`
	// Metrics exposes a Prometheus endpoint: a container port, the
	// prometheus.io scrape annotations and a NetworkPolicy rule for it.
	Metrics *Metrics `mapstructure:"metrics"`
	// NodeSelector, Tolerations, Affinity and PriorityClass place the
	// pods; Tolerations and Affinity are written as in a pod spec.
	NodeSelector  map[string]string `mapstructure:"node_selector"`
	Tolerations   any               `mapstructure:"tolerations"`
	Affinity      any               `mapstructure:"affinity"`
	PriorityClass string            `mapstructure:"priority_class"`
	// TopologySpread spreads the pods over nodes and zones when there is
	// more than one (default true).
	TopologySpread *bool `mapstructure:"topology_spread"`

	ShutdownConfig `mapstructure:",squash"`
}

// ServiceAccount names the pods' service account; Create adds it to the
// bundle.
type ServiceAccount struct {
	Name   string `mapstructure:"name"`
	Create bool   `mapstructure:"create"`
}

// Metrics is a Prometheus scrape endpoint of the app.
type Metrics struct {
	Port *int32 `mapstructure:"port"`
	Path string `mapstructure:"path"`
}

// DefaultMetricsPath is where Prometheus scrapes unless metrics.path says
// otherwise.
const DefaultMetricsPath = "/metrics"

// PodSpec is the resolved pod placement and identity.
type PodSpec struct {
	ImagePullSecrets []string
	// ServiceAccount is empty for the namespace's default account.
	ServiceAccount       string
	CreateServiceAccount bool
	Annotations          map[string]string
	// MetricsPort is 0 without metrics.
	MetricsPort    int32
	MetricsPath    string
	NodeSelector   map[string]string
	Tolerations    []corev1.Toleration
	Affinity       *corev1.Affinity
	PriorityClass  string
	TopologySpread bool
}

// pod merges the pod section of the environment over the base's.
func (m *merger) pod(base, override PodConfig, errs *fieldErrors) PodSpec {
	p := PodSpec{
		ImagePullSecrets: pick(m, "image_pull_secrets", "deployment.image_pull_secrets", nilIfEmpty(base.ImagePullSecrets), nilIfEmpty(override.ImagePullSecrets), nil),
		Annotations:      m.strMap("pod_annotations", "deployment.pod_annotations", base.PodAnnotations, override.PodAnnotations),
		NodeSelector:     m.strMap("node_selector", "deployment.node_selector", base.NodeSelector, override.NodeSelector),
		PriorityClass:    m.str("priority_class", "deployment.priority_class", base.PriorityClass, override.PriorityClass, ""),
		TopologySpread:   pick(m, "topology_spread", "deployment.topology_spread", base.TopologySpread, override.TopologySpread, true),
	}
	if sa := pick(m, "service_account", "deployment.service_account", base.ServiceAccount, override.ServiceAccount, ServiceAccount{}); sa.Name != "" || sa.Create {
		p.ServiceAccount, p.CreateServiceAccount = sa.Name, sa.Create
	}
	if mt := pick(m, "metrics", "deployment.metrics", base.Metrics, override.Metrics, Metrics{}); mt.Port != nil || mt.Path != "" {
		p.MetricsPort, p.MetricsPath = deref(mt.Port, 0), mt.Path
		if p.MetricsPath == "" {
			p.MetricsPath = DefaultMetricsPath
		}
	}
	tol := pick(m, "tolerations", "deployment.tolerations", nilIfNil(base.Tolerations), nilIfNil(override.Tolerations), nil)
	if tol != nil {
		if err := strictJSON(tol, &p.Tolerations); err != nil {
			errs.add(m.paths["tolerations"], "want a list of pod spec tolerations (key, operator, value, effect, tolerationSeconds): %v", err)
		}
	}
	aff := pick(m, "affinity", "deployment.affinity", nilIfNil(base.Affinity), nilIfNil(override.Affinity), nil)
	if aff != nil {
		p.Affinity = &corev1.Affinity{}
		if err := strictJSON(aff, p.Affinity); err != nil {
			errs.add(m.paths["affinity"], "want a pod spec affinity (nodeAffinity, podAffinity, podAntiAffinity): %v", err)
		}
	}
	return p
}

func nilIfNil(v any) *any {
	if v == nil {
		return nil
	}
	return &v
}

// strictJSON converts a value decoded from the config file into a
// Kubernetes API type, refusing fields the type does not have.
func strictJSON(v, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return JSONValueError(dec.Decode(into))
}

// checkPod validates the resolved pod section.
func (s *Spec) checkPod(add func(name, format string, args ...any)) {
	p := s.Deployment.Pod
	for _, n := range p.ImagePullSecrets {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			add("image_pull_secrets", "%q: %s", n, msg)
		}
	}
	if p.CreateServiceAccount && p.ServiceAccount == "" {
		add("service_account", "create: true needs a name")
	}
	if p.ServiceAccount != "" {
		for _, msg := range validation.IsDNS1123Subdomain(p.ServiceAccount) {
			add("service_account", "%q: %s", p.ServiceAccount, msg)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Annotations)) {
		for _, msg := range validation.IsQualifiedName(k) {
			add("pod_annotations", "annotation key %q: %s", k, msg)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.NodeSelector)) {
		for _, msg := range validation.IsQualifiedName(k) {
			add("node_selector", "label key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(p.NodeSelector[k]) {
			add("node_selector", "label %s value %q: %s", k, p.NodeSelector[k], msg)
		}
	}
	if p.PriorityClass != "" {
		for _, msg := range validation.IsDNS1123Subdomain(p.PriorityClass) {
			add("priority_class", "%q: %s", p.PriorityClass, msg)
		}
	}
	if p.MetricsPort != 0 || p.MetricsPath != "" {
		t := s.Topology
		switch mp := p.MetricsPort; {
		case mp == 0:
			add("metrics", "port is required")
		case mp < 1024 || mp > 65535:
			add("metrics", "port %d: want 1024-65535 (the container is non-root)", mp)
		case mp == t.HTTPPort || mp == t.DistPort || mp == t.EPMDPort:
			add("metrics", "port %d is already the app, distribution or epmd port; Prometheus scrapes a port of its own", mp)
		}
		if p.MetricsPath[0] != '/' {
			add("metrics", "path %q must start with /", p.MetricsPath)
		}
	}
}
