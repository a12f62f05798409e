# The release relgen's end-to-end test deploys: an HTTP listener for the
# probes, clustered by peerage, libcluster or DNSCluster, whichever the
# config it boots with configures. They are local stand-ins (../peerage,
# ../libcluster, ../dns_cluster), because the test runs without hex.pm;
# the dependencies are declared as paths so mix never needs Hex or rebar.
defmodule E2eApp.MixProject do
  use Mix.Project

  def project do
    [
      app: :e2e_app,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [
        {:peerage, path: "../peerage"},
        {:libcluster, path: "../libcluster"},
        {:dns_cluster, path: "../dns_cluster"}
      ],
      releases: [e2e_app: [include_executables_for: [:unix]]]
    ]
  end

  def application do
    # :ssl for TLS distribution (-proto_dist inet_tls), which the TLS
    # variant boots with. :ssl starts :crypto, which loads its NIF, linked
    # against OpenSSL's libcrypto, at boot: the image's base must provide it.
    [extra_applications: [:logger, :ssl], mod: {E2eApp.Application, []}]
  end
end
