defmodule Demo.BootTimeline do
  @moduledoc """
  `GET /boot`: the PID 1's boot timeline file wrapped with the app's own
  readiness. Shape (see README.md):

      {"pid1": <the file's JSON, or null>,
       "pid1_file": "/run/microbeam/boot.json",
       "pid1_error": null | "enoent" | "invalid JSON" | ...,
       "app_ready_ms": <ms since emulator start when the listener was up>,
       "app_ready_monotonic_ms": <CLOCK_MONOTONIC in ms at that moment, or null>,
       "uptime_ms": <ms since emulator start, now>}
  """

  @key {__MODULE__, :ready}
  @max_file_bytes 1_048_576

  @doc "Records the moment the app became ready (called once at start)."
  @spec mark_ready() :: :ok
  def mark_ready do
    {wall_ms, _} = :erlang.statistics(:wall_clock)
    :persistent_term.put(@key, %{wall_ms: wall_ms, monotonic_ms: os_monotonic_ms()})
  end

  @spec report(Path.t()) :: map()
  def report(file \\ Demo.Config.boot_timeline_file()) do
    ready = :persistent_term.get(@key, %{wall_ms: nil, monotonic_ms: nil})
    {uptime_ms, _} = :erlang.statistics(:wall_clock)
    {pid1, error} = read_timeline(file)

    %{
      pid1: pid1,
      pid1_file: file,
      pid1_error: error,
      app_ready_ms: ready.wall_ms,
      app_ready_monotonic_ms: ready.monotonic_ms,
      uptime_ms: uptime_ms
    }
  end

  defp read_timeline(file) do
    case File.read(file) do
      {:ok, contents} when byte_size(contents) > @max_file_bytes ->
        {nil, "file larger than #{@max_file_bytes} bytes"}

      {:ok, contents} ->
        case Demo.JSON.decode(contents) do
          {:ok, term} -> {term, nil}
          {:error, reason} -> {nil, "invalid JSON: #{reason}"}
        end

      {:error, reason} ->
        {nil, Atom.to_string(reason)}
    end
  end

  # CLOCK_MONOTONIC as the OS sees it (in the guest: time since kernel boot),
  # the clock a C++ PID 1 reads with std::chrono::steady_clock.
  defp os_monotonic_ms do
    case List.keyfind(:erlang.system_info(:os_monotonic_time_source), :time, 0) do
      {:time, native} -> :erlang.convert_time_unit(native, :native, :millisecond)
      nil -> nil
    end
  end
end
