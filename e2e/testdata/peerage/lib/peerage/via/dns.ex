defmodule Peerage.Via.Dns do
  @moduledoc """
  Stand-in for peerage's DNS provider (see mix.exs): resolves `dns_name`
  (A records) and names a node `app_name@IP` for every address.

  Like the real one it calls `String.to_charlist/1` on `dns_name`, so the
  value must be a binary, not an Erlang string.
  """

  def poll do
    app_name = Application.fetch_env!(:peerage, :app_name)
    dns_name = Application.fetch_env!(:peerage, :dns_name) |> String.to_charlist()

    for ip <- :inet_res.lookup(dns_name, :in, :a) do
      :"#{app_name}@#{:inet.ntoa(ip)}"
    end
  end
end
