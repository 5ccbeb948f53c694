defmodule Demo.Acceptor do
  @moduledoc """
  Accepts connections and hands each to a new `Demo.Conn` process under
  `Demo.ConnSup`, transferring socket ownership to it.
  """
  use Task, restart: :permanent

  def start_link({socket, config}), do: Task.start_link(__MODULE__, :loop, [socket, config])

  @doc false
  def loop(listen_socket, config) do
    case :gen_tcp.accept(listen_socket) do
      {:ok, socket} ->
        hand_off(socket, config)
        loop(listen_socket, config)

      {:error, :closed} ->
        exit(:listen_socket_closed)

      {:error, _transient} ->
        # e.g. emfile: back off briefly instead of spinning.
        Process.sleep(50)
        loop(listen_socket, config)
    end
  end

  defp hand_off(socket, config) do
    with {:ok, pid} <- DynamicSupervisor.start_child(Demo.ConnSup, {Demo.Conn, config}),
         :ok <- :gen_tcp.controlling_process(socket, pid) do
      send(pid, {:socket, socket})
    else
      _ -> :gen_tcp.close(socket)
    end
  end
end
