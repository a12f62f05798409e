defmodule E2eApp.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    # Read here rather than in config/runtime.exs: the fixture has no
    # runtime.exs unless the test adds relgen's block for the env route.
    port = String.to_integer(System.get_env("HTTP_PORT", "4000"))
    Supervisor.start_link([{E2eApp.HTTP, port}], strategy: :one_for_one, name: E2eApp.Supervisor)
  end
end
