// Command distbench measures the connection setup time of Erlang
// distribution over TCP and over TLS as relgen configures it (see
// bench/dist.sh): one node certificate and CA from `relgen secret --tls`
// (manifests.NewTLSSecret), the ssl_dist_optfile relgen renders, no epmd.
// A driver node connects to a target node, waits until the connection is
// up, disconnects, and repeats; it reports the median and 90th percentile
// per mode. Both nodes run on loopback addresses of this machine.
package main
