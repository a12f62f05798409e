defmodule Peerage.Server do
  @moduledoc """
  Stand-in for peerage's server (see mix.exs): every `interval` seconds it
  asks the `via` provider for node names and connects to each of them.

  Without a `via` it does nothing, so a cluster only forms when relgen's
  discovery.config reached the VM.
  """
  use GenServer
  require Logger

  def start_link(_arg), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil) do
    send(self(), :poll)
    {:ok, %{warned: false}}
  end

  @impl true
  def handle_info(:poll, state) do
    state =
      case Application.get_env(:peerage, :via) do
        nil ->
          unless state.warned, do: Logger.warning("peerage: no :via configured, not looking for peers")
          %{state | warned: true}

        via ->
          via.poll() |> Enum.each(&connect/1)
          state
      end

    # interval is in seconds, as in the real library.
    Process.send_after(self(), :poll, Application.get_env(:peerage, :interval, 10) * 1000)
    {:noreply, state}
  end

  defp connect(name) do
    if name != node() and name not in Node.list() and Node.connect(name) == true do
      Logger.info("peerage: connected to #{name}")
    end
  end
end
