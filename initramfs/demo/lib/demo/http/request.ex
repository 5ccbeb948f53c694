defmodule Demo.HTTP.Request do
  @moduledoc """
  Reads one HTTP/1.x request from a passive socket in `packet: :http_bin` mode.
  The body is read by Content-Length in raw mode; then `:http_bin` is restored.
  A line longer than the listen socket's `packet_size` makes the inet driver
  close the connection (`{:error, :emsgsize}`), so no reply is possible then.
  """

  defstruct method: "GET", path: "/", query: "", version: {1, 1}, headers: [], body: ""

  @type t :: %__MODULE__{
          method: String.t(),
          path: String.t(),
          query: String.t(),
          version: {non_neg_integer(), non_neg_integer()},
          headers: [{String.t(), String.t()}],
          body: binary()
        }

  @max_headers 100

  @doc """
  `{:ok, request}`; `{:error, {:status, code}}` when a reply should be sent
  before closing; `{:error, reason}` (closed, timeout) when there is no one to
  answer.
  """
  @spec read(:gen_tcp.socket(), timeout(), non_neg_integer()) ::
          {:ok, t()} | {:error, {:status, 400..599}} | {:error, term()}
  def read(socket, timeout, max_body) do
    with {:ok, request} <- read_request_line(socket, timeout),
         {:ok, headers} <- read_headers(socket, timeout, [], 0),
         request = %{request | headers: headers},
         {:ok, body} <- read_body(socket, request, timeout, max_body) do
      {:ok, %{request | body: body}}
    end
  end

  @doc "HTTP/1.1 stays open unless `Connection: close`; HTTP/1.0 only with `keep-alive`."
  @spec keep_alive?(t()) :: boolean()
  def keep_alive?(%__MODULE__{version: version} = request) do
    tokens = connection_tokens(request)

    case version do
      {1, 1} -> "close" not in tokens
      _ -> "keep-alive" in tokens
    end
  end

  @doc "All values of a header (name in lower case), in order."
  @spec header_values(t(), String.t()) :: [String.t()]
  def header_values(%__MODULE__{headers: headers}, name) do
    for {^name, value} <- headers, do: value
  end

  defp connection_tokens(request) do
    request
    |> header_values("connection")
    |> Enum.flat_map(&String.split(&1, ","))
    |> Enum.map(&(&1 |> String.trim() |> String.downcase(:ascii)))
  end

  # Up to a few empty lines before the request line are ignored (RFC 9112 2.2).
  defp read_request_line(socket, timeout, empty_lines \\ 0) do
    case :gen_tcp.recv(socket, 0, timeout) do
      {:ok, {:http_error, line}} when line in ["\r\n", "\n"] and empty_lines < 4 ->
        read_request_line(socket, timeout, empty_lines + 1)

      {:ok, {:http_request, method, target, version}} ->
        with {:ok, version} <- check_version(version),
             {:ok, path, query} <- split_target(target) do
          {:ok,
           %__MODULE__{method: method_name(method), path: path, query: query, version: version}}
        end

      {:ok, _garbage} ->
        {:error, {:status, 400}}

      {:error, reason} ->
        {:error, reason}
    end
  end

  defp check_version({1, minor} = version) when minor in [0, 1], do: {:ok, version}
  defp check_version({1, _minor}), do: {:ok, {1, 1}}
  defp check_version(_other), do: {:error, {:status, 505}}

  defp method_name(method) when is_atom(method), do: Atom.to_string(method)
  defp method_name(method) when is_binary(method), do: method

  defp split_target({:abs_path, target}), do: split_query(target)
  defp split_target({:absoluteURI, _scheme, _host, _port, target}), do: split_query(target)
  defp split_target(_other), do: {:error, {:status, 400}}

  defp split_query(target) do
    case :binary.split(target, "?") do
      [path, query] -> {:ok, path, query}
      [path] -> {:ok, path, ""}
    end
  end

  defp read_headers(_socket, _timeout, _acc, count) when count > @max_headers,
    do: {:error, {:status, 431}}

  defp read_headers(socket, timeout, acc, count) do
    case :gen_tcp.recv(socket, 0, timeout) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, timeout, [{header_name(name), value} | acc], count + 1)

      {:ok, :http_eoh} ->
        {:ok, Enum.reverse(acc)}

      {:ok, _garbage} ->
        {:error, {:status, 400}}

      {:error, reason} ->
        {:error, reason}
    end
  end

  # Field names and the tokens compared here are ASCII, case-insensitive as ASCII (RFC
  # 9110 5.1): :ascii folding is the right one, and it keeps String.Unicode (Elixir's
  # largest string module) off the first request's path.
  defp header_name(name) when is_atom(name), do: name |> Atom.to_string() |> String.downcase(:ascii)
  defp header_name(name) when is_binary(name), do: String.downcase(name, :ascii)

  defp read_body(socket, request, timeout, max_body) do
    cond do
      header_values(request, "transfer-encoding") != [] ->
        {:error, {:status, 501}}

      true ->
        case content_length(request) do
          {:ok, 0} -> {:ok, ""}
          {:ok, length} when length > max_body -> {:error, {:status, 413}}
          {:ok, length} -> continue(socket, request) && recv_raw(socket, length, timeout)
          :error -> {:error, {:status, 400}}
        end
    end
  end

  defp content_length(request) do
    case request |> header_values("content-length") |> Enum.uniq() do
      [] -> {:ok, 0}
      [value] -> parse_length(String.trim(value))
      _conflicting -> :error
    end
  end

  defp parse_length(value) do
    if value != "" and digits?(value), do: {:ok, String.to_integer(value)}, else: :error
  end

  defp digits?(value), do: value |> :binary.bin_to_list() |> Enum.all?(&(&1 in ?0..?9))

  # A client that sent `Expect: 100-continue` waits for this before the body.
  defp continue(socket, request) do
    if Enum.any?(header_values(request, "expect"), &(String.downcase(&1, :ascii) == "100-continue")),
      do: :gen_tcp.send(socket, "HTTP/1.1 100 Continue\r\n\r\n")

    true
  end

  defp recv_raw(socket, length, timeout) do
    with :ok <- :inet.setopts(socket, packet: :raw),
         {:ok, body} <- :gen_tcp.recv(socket, length, timeout),
         :ok <- :inet.setopts(socket, packet: :http_bin) do
      {:ok, body}
    end
  end
end
