defmodule Cluster.Supervisor do
  @moduledoc """
  Stand-in for libcluster's supervisor (see mix.exs): one child per
  topology, running the topology's strategy with its config.
  """
  use Supervisor

  def start_link([topologies, opts]) do
    Supervisor.start_link(__MODULE__, topologies, opts)
  end

  @impl true
  def init(topologies) do
    children =
      for {name, spec} <- topologies do
        strategy = Keyword.fetch!(spec, :strategy)
        config = Keyword.get(spec, :config, [])
        %{id: name, start: {strategy, :start_link, [[name, config]]}}
      end

    Supervisor.init(children, strategy: :one_for_one)
  end
end
