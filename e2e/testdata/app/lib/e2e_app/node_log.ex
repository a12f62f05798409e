defmodule E2eApp.NodeLog do
  @moduledoc false
  # Prints every change of the node's visible connections to stdout, so
  # the test reads from the pod log whether a node ever connected, even
  # for a moment between two looks at Node.list().
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil) do
    :ok = :net_kernel.monitor_nodes(true)
    # Discovery starts with its own application, before this one, and may
    # have connected nodes already (one that connects meanwhile is printed
    # twice).
    for node <- Node.list(), do: IO.puts("nodeup #{node}")
    {:ok, nil}
  end

  @impl true
  def handle_info({event, node}, state) when event in [:nodeup, :nodedown] do
    IO.puts("#{event} #{node}")
    {:noreply, state}
  end
end
