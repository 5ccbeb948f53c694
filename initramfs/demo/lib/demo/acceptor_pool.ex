defmodule Demo.AcceptorPool do
  @moduledoc "A fixed number of `Demo.Acceptor` processes sharing the listen socket."
  use Supervisor

  def start_link(config), do: Supervisor.start_link(__MODULE__, config, name: __MODULE__)

  @impl true
  def init(%{acceptors: count} = config) do
    socket = Demo.Listener.socket()

    children =
      for i <- 1..count do
        Supervisor.child_spec({Demo.Acceptor, {socket, config}}, id: {Demo.Acceptor, i})
      end

    Supervisor.init(children, strategy: :one_for_one)
  end
end
