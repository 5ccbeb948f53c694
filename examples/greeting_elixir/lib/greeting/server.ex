defmodule Greeting.Server do
  @moduledoc """
  A small HTTP/1.1 server on `:gen_tcp` (no deps): `GET /` answers with the greeting that
  config/runtime.exs read from the environment, and what the release saw at boot.
  """
  use Task, restart: :permanent

  def start_link(port), do: Task.start_link(__MODULE__, :listen, [port])

  def listen(port) do
    {:ok, socket} =
      :gen_tcp.listen(port, [:binary, packet: :http_bin, active: false, reuseaddr: true])

    IO.puts("greeting: listening on port #{port}")
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
    case read_request(client, nil) do
      {:ok, path} -> respond(client, path)
      :error -> :ok
    end

    :gen_tcp.close(client)
  end

  # The request line, then headers until the empty line (bodies are not read).
  defp read_request(client, path) do
    case :gen_tcp.recv(client, 0, 15_000) do
      {:ok, {:http_request, _method, {:abs_path, p}, _version}} -> read_request(client, p)
      {:ok, {:http_header, _, _, _, _}} -> read_request(client, path)
      {:ok, :http_eoh} when path != nil -> {:ok, path}
      _ -> :error
    end
  end

  defp respond(client, "/") do
    reply(client, "200 OK", body())
  end

  defp respond(client, _path), do: reply(client, "404 Not Found", "not found\n")

  defp reply(client, status, body) do
    :gen_tcp.send(client, [
      "HTTP/1.1 ", status, "\r\ncontent-type: text/plain\r\ncontent-length: ",
      Integer.to_string(byte_size(body)), "\r\nconnection: close\r\n\r\n", body
    ])
  end

  defp body do
    env = fn name -> System.get_env(name, "") end

    """
    #{Application.fetch_env!(:greeting, :greeting)}
    port=#{Application.fetch_env!(:greeting, :port)}
    config_provider_booted=#{inspect(Application.get_env(:elixir, :config_provider_booted))}
    release=#{env.("RELEASE_NAME")}-#{env.("RELEASE_VSN")} root=#{env.("RELEASE_ROOT")} mode=#{env.("RELEASE_MODE")}
    sys_config=#{env.("RELEASE_SYS_CONFIG")} tmp=#{env.("RELEASE_TMP")} node=#{env.("RELEASE_NODE")}
    cookie_set=#{env.("RELEASE_COOKIE") != ""} os_pid=#{System.pid()}
    secret_key_base_bytes=#{byte_size(env.("SECRET_KEY_BASE"))}
    """
  end
end
