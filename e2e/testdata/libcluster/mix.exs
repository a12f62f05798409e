# STAND-IN for the hex package libcluster, written from scratch for
# relgen's end-to-end test (hex.pm is not reachable there). It is not the
# real library: it mirrors only what relgen configures, Cluster.Supervisor
# over the :topologies it is given and the Kubernetes.DNS strategy, and
# reads exactly the settings the real strategy reads (service,
# application_name, polling_interval) and resolves exactly the name it
# resolves.
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
