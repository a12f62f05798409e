# STAND-IN for the hex package peerage, written from scratch for relgen's
# end-to-end test (hex.pm is not reachable there). It is not the real
# library: it only mirrors the part relgen configures, the
# Peerage.Via.Dns provider and the polling server, and reads exactly the
# keys relgen's discovery.config sets: via, dns_name, app_name, interval.
defmodule Peerage.MixProject do
  use Mix.Project

  def project do
    [
      app: :peerage,
      version: "1.0.0-relgen-e2e-stand-in",
      elixir: "~> 1.14",
      deps: []
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {Peerage.Application, []}]
  end
end
