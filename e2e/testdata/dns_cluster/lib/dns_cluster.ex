defmodule DNSCluster do
  @moduledoc """
  Stand-in for DNSCluster (see mix.exs).
  """
  use GenServer
  require Logger

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    case Keyword.fetch!(opts, :query) do
      :ignore ->
        :ignore

      query when is_binary(query) ->
        [basename, _host] = String.split(Atom.to_string(node()), "@")
        send(self(), :discover)
        {:ok, %{query: query, basename: basename, interval: Keyword.get(opts, :interval, 5_000)}}
    end
  end

  @impl true
  def handle_info(:discover, state) do
    known = MapSet.new(Node.list(:visible), &Atom.to_string/1)

    for address <- lookup(state.query, :a) ++ lookup(state.query, :aaaa) ++ srv(state.query),
        name = "#{state.basename}@#{:inet.ntoa(address)}",
        name != Atom.to_string(node()) and not MapSet.member?(known, name) do
      if Node.connect(String.to_atom(name)) == true, do: Logger.info("dns_cluster: connected to #{name}")
    end

    Process.send_after(self(), :discover, state.interval)
    {:noreply, state}
  end

  defp lookup(query, type) do
    case :inet_res.getbyname(String.to_charlist(query), type) do
      {:ok, {:hostent, _name, _aliases, _type, _len, addresses}} -> addresses
      {:error, _} -> []
    end
  end

  # SRV targets, each resolved to its addresses.
  defp srv(query) do
    for {_prio, _weight, _port, host} <- lookup(query, :srv),
        {:ok, {:hostent, _, _, _, _, addresses}} <- [:inet.gethostbyname(host)],
        address <- addresses,
        do: address
  end
end
