defmodule Cluster.Strategy.Kubernetes.DNSSRV do
  @moduledoc """
  Stand-in for libcluster's Kubernetes.DNSSRV strategy (see mix.exs):
  every polling_interval milliseconds (default 5000) it asks for the SRV
  records of `<service>.<namespace>.svc.<domain>`, the domain being the
  CLUSTER_DOMAIN environment variable or "cluster.local." when unset,
  with `:inet_res.getbyname/2`, and connects to
  `application_name@<target>` for each record's target: a StatefulSet
  pod's DNS name. `service`, `namespace` and `application_name` are
  required.
  """
  use GenServer
  require Logger

  def start_link([topology, config]), do: GenServer.start_link(__MODULE__, {topology, config})

  @impl true
  def init(state) do
    send(self(), :load)
    {:ok, state}
  end

  @impl true
  def handle_info(:load, {topology, config} = state) do
    app_name = Keyword.fetch!(config, :application_name)
    service = Keyword.fetch!(config, :service)
    namespace = Keyword.fetch!(config, :namespace)
    query = "#{service}.#{namespace}.svc.#{System.get_env("CLUSTER_DOMAIN", "cluster.local.")}"

    case :inet_res.getbyname(to_charlist(query), :srv) do
      {:ok, {:hostent, _name, _aliases, :srv, _len, records}} ->
        # One record per pod and Service port: the same target repeats.
        targets = records |> Enum.map(fn {_priority, _weight, _port, target} -> target end) |> Enum.uniq()

        for target <- targets,
            name = :"#{app_name}@#{target}",
            name != node() and name not in Node.list() do
          if Node.connect(name) == true, do: Logger.info("[libcluster:#{topology}] connected to #{name}")
        end

      {:error, reason} ->
        Logger.error("[libcluster:#{topology}] SRV lookup of #{query} failed: #{inspect(reason)}")
    end

    Process.send_after(self(), :load, Keyword.get(config, :polling_interval, 5_000))
    {:noreply, state}
  end
end
