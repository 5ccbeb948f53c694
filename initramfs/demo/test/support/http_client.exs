defmodule Demo.Test.HTTPClient do
  @moduledoc "Raw-socket helpers for the server tests (no HTTP client library)."

  def connect(port \\ Demo.Listener.port()) do
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, packet: :raw])
    socket
  end

  @doc "Sends raw bytes and reads one response; returns {status, headers, body}."
  def request(socket, raw) do
    :ok = :gen_tcp.send(socket, raw)
    read_response(socket)
  end

  def read_response(socket) do
    :ok = :inet.setopts(socket, packet: :http_bin)
    {:ok, {:http_response, {1, 1}, status, _reason}} = :gen_tcp.recv(socket, 0, 2_000)
    headers = read_headers(socket, [])
    length = headers |> Map.get("content-length", "0") |> String.to_integer()
    :ok = :inet.setopts(socket, packet: :raw)
    body = if length > 0, do: elem(:gen_tcp.recv(socket, length, 2_000), 1), else: ""
    {status, headers, body}
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0, 2_000) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, [{String.downcase(to_string(name)), value} | acc])

      {:ok, :http_eoh} ->
        Map.new(acc)
    end
  end

  @doc "True when the server has closed the connection."
  def closed?(socket, timeout \\ 1_000) do
    :inet.setopts(socket, packet: :raw)
    :gen_tcp.recv(socket, 0, timeout) == {:error, :closed}
  end

  @doc "A fresh scratch directory outside the source tree (ExUnit's tmp_dir would use ./tmp)."
  def scratch_dir(name) do
    dir = Path.join(System.tmp_dir!(), "demo-test-#{name}-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf(dir) end)
    dir
  end

  def get(path, extra \\ "") do
    socket = connect()

    response =
      request(socket, "GET #{path} HTTP/1.1\r\nHost: t\r\n#{extra}Connection: close\r\n\r\n")

    :gen_tcp.close(socket)
    response
  end
end
