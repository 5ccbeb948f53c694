defmodule Greeting.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    port = Application.fetch_env!(:greeting, :port)
    Supervisor.start_link([{Greeting.Server, port}], strategy: :one_for_one, name: Greeting.Supervisor)
  end
end
