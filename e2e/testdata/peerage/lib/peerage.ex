defmodule Peerage.Application do
  @moduledoc """
  Stand-in for peerage (see mix.exs): starts the polling server.

  Nothing is configured at compile time; the keys come from the config
  file relgen mounts at /etc/relgen/discovery.config.
  """
  use Application

  @impl true
  def start(_type, _args) do
    Supervisor.start_link([Peerage.Server], strategy: :one_for_one, name: Peerage.Supervisor)
  end
end
