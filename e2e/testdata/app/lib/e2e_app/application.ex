defmodule E2eApp.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    # Read here rather than in config/runtime.exs: the fixture has no
    # runtime.exs unless the test adds relgen's block for the env route.
    port = String.to_integer(System.get_env("HTTP_PORT", "4000"))
    # What relgen's setup text for each strategy says to add: libcluster's
    # supervisor over the :topologies relgen's config sets, and DNSCluster
    # with the query the runtime.exs relgen prints reads (:ignore when the
    # app is clustered otherwise).
    libcluster =
      case Application.get_env(:libcluster, :topologies) do
        nil -> []
        topologies -> [{Cluster.Supervisor, [topologies, [name: E2eApp.ClusterSupervisor]]}]
      end

    children =
      [E2eApp.NodeLog, {E2eApp.HTTP, port}] ++
        libcluster ++
        [{DNSCluster, query: Application.get_env(:e2e_app, :dns_cluster_query) || :ignore}]

    Supervisor.start_link(children, strategy: :one_for_one, name: E2eApp.Supervisor)
  end
end
