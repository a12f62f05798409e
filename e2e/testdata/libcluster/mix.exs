# STAND-IN for the hex package libcluster, written from scratch for
# relgen's end-to-end test (hex.pm is not reachable there). It is not the
# real library: it mirrors only what relgen configures, Cluster.Supervisor
# over the :topologies it is given and the Kubernetes.DNS and
# Kubernetes.DNSSRV strategies, and reads exactly the settings the real
# strategies read (service, application_name, polling_interval, and for
# DNSSRV namespace and the CLUSTER_DOMAIN environment variable) and
# resolves exactly the names they resolve. Like the real ones, they name
# nodes application_name@<A record IP> and application_name@<SRV target>.
defmodule Libcluster.MixProject do
  use Mix.Project

  def project do
    [
      app: :libcluster,
      version: "3.3.0-relgen-e2e-stand-in",
      elixir: "~> 1.14",
      deps: []
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end
end
