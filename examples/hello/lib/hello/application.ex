defmodule Hello.Application do
  @moduledoc "Starts a tiny TCP responder on PORT so the pod's probes pass."
  use Application

  @impl true
  def start(_type, _args) do
    port = String.to_integer(System.get_env("PORT", "4000"))
    children = [{Task, fn -> listen(port) end}]
    Supervisor.start_link(children, strategy: :one_for_one, name: Hello.Supervisor)
  end

  defp listen(port) do
    {:ok, socket} = :gen_tcp.listen(port, [:binary, active: false, reuseaddr: true])
    accept(socket)
  end

  defp accept(socket) do
    {:ok, client} = :gen_tcp.accept(socket)
    body = "hello from #{node()}, connected to #{inspect(Node.list())}\n"
    :gen_tcp.send(client, "HTTP/1.1 200 OK\r\ncontent-length: #{byte_size(body)}\r\n\r\n" <> body)
    :gen_tcp.close(client)
    accept(socket)
  end
end
