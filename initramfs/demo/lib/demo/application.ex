defmodule Demo.Application do
  @moduledoc """
  Starts the HTTP server and prints `demo: listening on port N` once it accepts.

  Supervision tree (rest_for_one): connection supervisor, listener (owns the
  listen socket), acceptor pool. A dead listener takes the acceptors with it.
  """
  use Application

  @impl true
  def start(_type, _args) do
    case Demo.Config.load() do
      {:ok, config} ->
        start_tree(config)

      {:error, message} ->
        IO.puts("demo: bad configuration: #{message}")
        {:error, {:bad_config, message}}
    end
  end

  defp start_tree(config) do
    if Demo.KV.available?(), do: Demo.KV.clean()

    children = [
      Demo.Restore,
      {DynamicSupervisor, name: Demo.ConnSup, strategy: :one_for_one},
      {Demo.Listener, config},
      {Demo.AcceptorPool, config}
    ]

    opts = [strategy: :rest_for_one, name: Demo.Supervisor]

    with {:ok, pid} <- Supervisor.start_link(children, opts) do
      Demo.BootTimeline.mark_ready()
      IO.puts("demo: listening on port #{Demo.Listener.port()}")
      {:ok, pid}
    end
  end
end
