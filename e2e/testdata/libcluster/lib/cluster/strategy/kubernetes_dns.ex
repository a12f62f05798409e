defmodule Cluster.Strategy.Kubernetes.DNS do
  @moduledoc """
  Stand-in for libcluster's Kubernetes.DNS strategy (see mix.exs): every
  polling_interval milliseconds (default 5000) it resolves the A records
  of `service`, as given, with `:inet_res.getbyname/2`, and connects to
  `application_name@IP` for each address.
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

    case :inet_res.getbyname(to_charlist(service), :a) do
      {:ok, {:hostent, _name, _aliases, :inet, _len, addresses}} ->
        for ip <- addresses,
            name = :"#{app_name}@#{:inet_parse.ntoa(ip)}",
            name != node() and name not in Node.list() do
          if Node.connect(name) == true, do: Logger.info("[libcluster:#{topology}] connected to #{name}")
        end

      {:error, reason} ->
        Logger.error("[libcluster:#{topology}] lookup against #{service} failed: #{inspect(reason)}")
    end

    Process.send_after(self(), :load, Keyword.get(config, :polling_interval, 5_000))
    {:noreply, state}
  end
end
