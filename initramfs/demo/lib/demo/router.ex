defmodule Demo.Router do
  @moduledoc """
  Maps a request to `{status, headers, body, after_reply}`; `after_reply` is
  `:none` or `{:halt, status}` (run by the connection once the reply is sent).
  """

  alias Demo.HTTP.Request

  @text {"content-type", "text/plain; charset=utf-8"}
  @json {"content-type", "application/json"}

  @spec handle(Request.t()) ::
          {pos_integer(), [{String.t(), String.t()}], iodata(), :none | {:halt, term()}}
  def handle(%Request{method: method, path: "/kv/" <> key, body: body}), do: kv(method, key, body)
  def handle(%Request{method: method, path: path}), do: route(method, path)

  defp route(method, "/halt/" <> arg), do: only(method, "POST", fn -> halt(arg) end)
  defp route(method, "/"), do: get(method, fn -> text(200, "hello from MicroBEAM\n") end)
  defp route(method, "/health"), do: get(method, fn -> json(200, %{status: "ok"}) end)
  defp route(method, "/metrics"), do: get(method, fn -> json(200, Demo.Metrics.snapshot()) end)
  defp route(method, "/boot"), do: get(method, fn -> json(200, Demo.BootTimeline.report()) end)
  defp route(method, "/instance"), do: get(method, fn -> json(200, instance()) end)
  defp route(_method, _path), do: text(404, "not found\n")

  defp get(method, fun) when method in ["GET", "HEAD"], do: fun.()
  defp get(_method, _fun), do: not_allowed("GET, HEAD")

  defp only(method, method, fun), do: fun.()
  defp only(_method, allowed, _fun), do: not_allowed(allowed)

  defp not_allowed(allow) do
    {status, headers, body, after_reply} = text(405, "method not allowed\n")
    {status, [{"allow", allow} | headers], body, after_reply}
  end

  defp halt(arg) do
    cond do
      not Demo.Config.allow_halt?() ->
        json(403, %{error: "halt is disabled (start with -demo allow_halt true)"})

      true ->
        case Demo.Halt.parse(arg) do
          {:ok, status} -> put_elem(json(202, %{halt: status}), 3, {:halt, status})
          :error -> json(400, %{error: "halt status must be an integer 0..255 or abort"})
        end
    end
  end

  # What must differ between copies restored from one snapshot, and the clocks:
  # 16 bytes of the kernel's pool, the OS and Erlang wall clocks, Erlang's monotonic time.
  defp instance do
    Map.merge(Demo.Restore.info(), %{
      urandom: urandom_hex(16),
      os_time_ns: :os.system_time(:nanosecond),
      erlang_time_ns: :erlang.system_time(:nanosecond),
      monotonic_ns: :erlang.monotonic_time(:nanosecond)
    })
  end

  defp urandom_hex(n) do
    case File.open("/dev/urandom", [:read, :raw, :binary], &IO.binread(&1, n)) do
      {:ok, bytes} when is_binary(bytes) -> Base.encode16(bytes, case: :lower)
      _ -> nil
    end
  end

  # /kv/KEY on the data volume (Demo.KV): PUT answers 204 once the value is durable.
  defp kv(method, key, body) when method in ["GET", "HEAD", "PUT"] do
    cond do
      not Demo.KV.available?() -> json(503, %{error: "no data volume at #{Demo.KV.data_dir()}"})
      not Demo.KV.valid_key?(key) -> json(400, %{error: "bad key (1..200 bytes, no / or ..)"})
      method == "PUT" -> kv_put(key, body)
      true -> kv_get(key)
    end
  end

  defp kv(_method, _key, _body), do: not_allowed("GET, HEAD, PUT")

  defp kv_put(key, body) do
    case Demo.KV.put(key, body) do
      :ok -> {204, [], "", :none}
      {:error, full} when full in [:enospc, :edquot] -> json(507, %{error: "data volume full"})
      {:error, :erofs} -> json(503, %{error: "data volume is read-only"})
      {:error, reason} -> json(500, %{error: "write failed: #{reason}"})
    end
  end

  defp kv_get(key) do
    case Demo.KV.get(key) do
      {:ok, value} -> {200, [{"content-type", "application/octet-stream"}], value, :none}
      {:error, :not_found} -> text(404, "not found\n")
      {:error, reason} -> json(500, %{error: "read failed: #{reason}"})
    end
  end

  defp text(status, body), do: {status, [@text], body, :none}
  defp json(status, term), do: {status, [@json], [Demo.JSON.encode!(term), "\n"], :none}
end
