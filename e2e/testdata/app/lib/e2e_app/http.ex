defmodule E2eApp.HTTP do
  @moduledoc """
  A minimal HTTP/1.1 listener: GET /healthz answers 200, anything else 404.
  Enough for Kubernetes-style probes.
  """
  use Task, restart: :permanent
  require Logger

  def start_link(port), do: Task.start_link(__MODULE__, :listen, [port])

  def listen(port) do
    {:ok, socket} =
      :gen_tcp.listen(port, [:binary, packet: :http_bin, active: false, reuseaddr: true])

    Logger.info("http: listening on port #{port}")
    accept(socket)
  end

  defp accept(socket) do
    {:ok, client} = :gen_tcp.accept(socket)
    pid = spawn(fn -> receive(do: (:go -> serve(client))) end)
    :ok = :gen_tcp.controlling_process(client, pid)
    send(pid, :go)
    accept(socket)
  end

  defp serve(client) do
    {status, body} =
      case :gen_tcp.recv(client, 0, 5_000) do
        {:ok, {:http_request, :GET, {:abs_path, "/healthz"}, _}} -> {"200 OK", "ok\n"}
        _ -> {"404 Not Found", "not found\n"}
      end

    skip_headers(client)

    :gen_tcp.send(client, [
      "HTTP/1.1 ", status, "\r\ncontent-type: text/plain\r\ncontent-length: ",
      Integer.to_string(byte_size(body)), "\r\nconnection: close\r\n\r\n", body
    ])

    :gen_tcp.close(client)
  end

  defp skip_headers(client) do
    case :gen_tcp.recv(client, 0, 5_000) do
      {:ok, {:http_header, _, _, _, _}} -> skip_headers(client)
      _ -> :ok
    end
  end
end
