# STAND-IN for Distillery 2.1's `rpc` command, written for relgen's
# end-to-end test. It does what the real control module does, in its
# order: start distribution under <name>_maint_@<host> with long names,
# and only then set the cookie from vm.args, so OTP's auth reads (and,
# failing that, creates) $HOME/.erlang.cookie first; then connect hidden
# to the node, evaluate the expression there and print the result.
[node, cookie, expr] = System.argv()
[base, host] = String.split(node, "@", parts: 2)

case :net_kernel.start([String.to_atom(base <> "_maint_@" <> host), :longnames]) do
  {:ok, _} ->
    :ok

  {:error, reason} ->
    IO.puts(:stderr, "Could not start distribution: #{inspect(reason)}")
    System.halt(1)
end

Node.set_cookie(String.to_atom(cookie))
peer = String.to_atom(node)

unless :net_kernel.hidden_connect_node(peer) and :net_adm.ping(peer) == :pong do
  IO.puts(:stderr, "Received 'pang' from #{peer}!")
  System.halt(1)
end

case :rpc.call(peer, Code, :eval_quoted, [Code.string_to_quoted!(expr)], :infinity) do
  {:badrpc, reason} ->
    IO.puts(:stderr, "Remote call failed with: #{inspect(reason)}")
    System.halt(1)

  {result, _bindings} ->
    IO.inspect(result)
end
