defmodule Demo.Conn do
  @moduledoc """
  One process per connection: read a request, route it, reply, and loop while
  the connection is kept alive. Idle connections close after `read_timeout_ms`.
  """
  use Task, restart: :temporary

  alias Demo.HTTP.{Request, Response}

  def start_link(config), do: Task.start_link(__MODULE__, :run, [config])

  @doc false
  def run(config) do
    receive do
      {:socket, socket} -> serve(socket, config)
    after
      5_000 -> :ok
    end
  end

  defp serve(socket, config) do
    case Request.read(socket, config.read_timeout_ms, config.max_body_bytes) do
      {:ok, request} ->
        {status, headers, body, after_reply} = Demo.Router.handle(request)
        keep_alive? = after_reply == :none and Request.keep_alive?(request)

        reply =
          Response.build(status, headers, body, keep_alive?, head?: request.method == "HEAD")

        sent = :gen_tcp.send(socket, reply)
        if sent == :ok, do: Demo.BootTimeline.mark_request_served()

        case sent do
          :ok when keep_alive? ->
            serve(socket, config)

          _ ->
            :gen_tcp.close(socket)
            run_after_reply(after_reply)
        end

      {:error, {:status, status}} ->
        body = Response.reason(status) <> "\n"
        _ = :gen_tcp.send(socket, Response.build(status, [text_plain()], body, false))
        lingering_close(socket)

      {:error, _closed_or_timeout} ->
        :gen_tcp.close(socket)
    end
  end

  # Closing with unread input makes the kernel send RST, which can destroy the
  # error reply before the client reads it: stop writing, drain briefly, close.
  defp lingering_close(socket) do
    _ = :gen_tcp.shutdown(socket, :write)
    _ = :inet.setopts(socket, packet: :raw)
    drain(socket, System.monotonic_time(:millisecond) + 1_000, 1_048_576)
    :gen_tcp.close(socket)
  end

  defp drain(socket, deadline, budget) when budget > 0 do
    wait = deadline - System.monotonic_time(:millisecond)

    with true <- wait > 0,
         {:ok, data} <- :gen_tcp.recv(socket, 0, wait) do
      drain(socket, deadline, budget - byte_size(data))
    end
  end

  defp drain(_socket, _deadline, _budget), do: :ok

  defp run_after_reply(:none), do: :ok
  defp run_after_reply({:halt, status}), do: Demo.Halt.schedule(status)

  defp text_plain, do: {"content-type", "text/plain; charset=utf-8"}
end
