// Package e2e holds relgen's end-to-end proof (see README.md): a real
// `mix release` (also in Distillery's shape, and with config/runtime.exs)
// is packed into an image by `relgen build`, deployed from the bundle
// `relgen manifests` prints onto simulated pods (one network, mount, PID
// and UTS namespace each, a DNS server answering for the headless Service
// as CoreDNS does, every pod's environment computed from the Deployment
// or StatefulSet the way kubelet computes it), and the nodes must form one BEAM cluster, grow with a
// scale-up, rejoin it after SIGKILL and SIGTERM and refuse a node with the
// wrong cookie. Bundles broken on purpose must fail with a diagnosis that
// names the mismatch.
//
// The package has tests only; README.md says what is simulated and what
// is not.
package e2e
