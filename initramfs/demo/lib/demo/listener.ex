defmodule Demo.Listener do
  @moduledoc "Owns the listen socket (0.0.0.0, `packet: :http_bin`)."
  use GenServer

  @socket_opts [
    :binary,
    packet: :http_bin,
    packet_size: 8192,
    active: false,
    reuseaddr: true,
    nodelay: true,
    backlog: 128,
    ip: {0, 0, 0, 0}
  ]

  def start_link(config), do: GenServer.start_link(__MODULE__, config, name: __MODULE__)

  @doc "The listen socket, for the acceptors."
  def socket, do: GenServer.call(__MODULE__, :socket)

  @doc "The port actually bound (differs from the configured one when that is 0)."
  def port, do: GenServer.call(__MODULE__, :port)

  @impl true
  def init(%{port: port}) do
    case :gen_tcp.listen(port, @socket_opts) do
      {:ok, socket} ->
        {:ok, bound} = :inet.port(socket)
        {:ok, %{socket: socket, port: bound}}

      {:error, reason} ->
        IO.puts("demo: cannot listen on port #{port}: #{:inet.format_error(reason)}")
        {:stop, {:listen_failed, port, reason}}
    end
  end

  @impl true
  def handle_call(:socket, _from, state), do: {:reply, state.socket, state}
  def handle_call(:port, _from, state), do: {:reply, state.port, state}
end
