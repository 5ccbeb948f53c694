defmodule Demo.Halt do
  @moduledoc "Halts the emulator shortly after the HTTP reply has gone out."

  @delay_ms 100

  @doc "`\"0\"`..`\"255\"` or `\"abort\"`."
  @spec parse(String.t()) :: {:ok, 0..255 | :abort} | :error
  def parse("abort"), do: {:ok, :abort}

  def parse(arg) do
    case Integer.parse(arg) do
      {status, ""} when status in 0..255 and byte_size(arg) <= 3 -> {:ok, status}
      _ -> :error
    end
  end

  @spec schedule(0..255 | :abort) :: pid()
  def schedule(status) do
    spawn(fn ->
      Process.sleep(@delay_ms)
      IO.puts("demo: halting with #{inspect(status)} as requested over HTTP")
      :erlang.halt(status)
    end)
  end
end
