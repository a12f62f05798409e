# STAND-IN for the hex package dns_cluster, written from scratch for
# relgen's end-to-end test (hex.pm is not reachable there). It is not the
# real library: it mirrors what a Phoenix app starts, DNSCluster with the
# :query option (:ignore starts nothing), and queries exactly what the
# real one queries: A, AAAA and SRV records of the query with
# `:inet_res.getbyname/2`, connecting to <own basename>@<address> every
# :interval milliseconds (default 5000).
defmodule DNSCluster.MixProject do
  use Mix.Project

  def project do
    [
      app: :dns_cluster,
      version: "0.1.3-relgen-e2e-stand-in",
      elixir: "~> 1.14",
      deps: []
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end
end
