// Package manifests builds one environment's Kubernetes bundle from a
// resolved release.Spec: Deployment, headless and ClusterIP Services,
// the ConfigMap that carries the rendered vm.args and discovery config,
// PodDisruptionBudget, NetworkPolicy and whatever the discovery strategy
// adds, plus what the config asks for: HorizontalPodAutoscaler, Ingress,
// Namespace, ServiceAccount and release command Jobs. Objects are
// k8s.io/api types; Bundle.Check cross-checks them against each other
// before anything is written (the Ingress reaches a Service port and
// agrees with the app's host variable; a Job runs the pods' image and
// can never join the cluster), and Bundle.Needs lists the Secrets and
// ConfigMaps the objects read but the bundle does not hold.
//
// The distribution mode (release.DistributionSpec: epmd or not, TCP or
// TLS) shapes several parts at once, so distribution.go derives all of
// them from the spec: the flags appended to vm.args, remote shells'
// vm.args and the env var that points them at it, the ssl_dist_optfile,
// the certificate Secret's mount, and the distribution ports of the
// container, headless Service and NetworkPolicy. certificate.go adds
// cert-manager's Certificate (as an unstructured object built from a
// small typed spec), tlssecret.go the self-signed alternative that
// `relgen secret --tls` prints, and distcheck.go the cross-checks.
package manifests
