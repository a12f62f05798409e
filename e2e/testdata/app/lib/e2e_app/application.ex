defmodule E2eApp.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    port = Application.fetch_env!(:e2e_app, :http_port)
    Supervisor.start_link([{E2eApp.HTTP, port}], strategy: :one_for_one, name: E2eApp.Supervisor)
  end
end
