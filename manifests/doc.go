// Package manifests builds one environment's Kubernetes bundle from a
// resolved release.Spec: Deployment, headless and ClusterIP Services,
// the ConfigMap that carries the rendered vm.args and discovery config,
// PodDisruptionBudget, NetworkPolicy and whatever the discovery strategy
// adds. Objects are k8s.io/api types; Bundle.Check cross-checks them
// against each other before anything is written.
package manifests
