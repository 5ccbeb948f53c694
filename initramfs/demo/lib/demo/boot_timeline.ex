defmodule Demo.BootTimeline do
  @moduledoc """
  `GET /boot`: the PID 1's boot timeline file wrapped with the app's own
  readiness. Shape (see README.md):

      {"pid1": <the file's JSON, or null>,
       "pid1_file": "/run/microbeam/boot.json",
       "pid1_error": null | "enoent" | "invalid JSON" | ...,
       "app_ready_ms": <ms since emulator start when the listener was up>,
       "app_ready_monotonic_ms": <CLOCK_MONOTONIC in ms at that moment, or null>,
       "first_request_ms": <ms since emulator start when the first reply went out, or null>,
       "first_request_monotonic_ms": <CLOCK_MONOTONIC in ms at that moment, or null>,
       "uptime_ms": <ms since emulator start, now>,
       "last_exit": <PID 1's record of how the run before this one ended, or null>,
       "last_exit_error": null | "enoent" | "invalid JSON: ..." | ...}

  `last_exit` is what PID 1 found on `/data` at boot (docs/records.md): the report
  of the last shutdown, or `{"record": "missing", ...}` when that run did not shut
  down; no file (`enoent`) without a data disk.

  When the first reply has gone out, the whole timeline goes to the console as one
  line: PID 1's marks, then `release_started` and `first_request`, all on the
  guest's monotonic clock (time since the kernel started, which PID 1's
  CLOCK_BOOTTIME equals in a VM that never suspends).
  """

  @key {__MODULE__, :ready}
  @first_key {__MODULE__, :first_request}
  @max_file_bytes 1_048_576

  @doc "Records the moment the app became ready (called once at start)."
  @spec mark_ready() :: :ok
  def mark_ready do
    {wall_ms, _} = :erlang.statistics(:wall_clock)
    # One flag, so that exactly one connection records the first request.
    first = :atomics.new(1, [])
    :persistent_term.put(@key, %{wall_ms: wall_ms, monotonic_ms: os_monotonic_ms(), first: first})
  end

  @doc """
  Records the first request served and prints the timeline line; cheap and a
  no-op for every later request (one atomic compare-and-swap).
  """
  @spec mark_request_served() :: :ok
  def mark_request_served do
    case :persistent_term.get(@key, nil) do
      %{first: first} ->
        if :atomics.compare_exchange(first, 1, 0, 1) == :ok do
          {wall_ms, _} = :erlang.statistics(:wall_clock)
          :persistent_term.put(@first_key, %{wall_ms: wall_ms, monotonic_ms: os_monotonic_ms()})
          IO.puts(console_line(report()))
        end

        :ok

      nil ->
        :ok
    end
  end

  @doc "The one-line timeline: PID 1's marks, then the app's, in ms on the monotonic clock."
  @spec console_line(map()) :: String.t()
  def console_line(report) do
    pid1_marks =
      case report.pid1 do
        %{"marks_ms" => marks} when is_map(marks) ->
          marks |> Enum.sort_by(fn {_, ms} -> ms end) |> Enum.map(fn {k, ms} -> {k, ms} end)

        _ ->
          []
      end

    app_marks = [
      {"release_started", report.app_ready_monotonic_ms},
      {"first_request", report.first_request_monotonic_ms}
    ]

    marks =
      for {name, ms} <- pid1_marks ++ app_marks, is_number(ms) do
        "#{name}=#{:erlang.float_to_binary(ms / 1, decimals: 1)}ms"
      end

    Enum.join(["demo: boot timeline:" | marks], " ")
  end

  @spec report(Path.t()) :: map()
  def report(file \\ Demo.Config.boot_timeline_file()) do
    ready = :persistent_term.get(@key, %{wall_ms: nil, monotonic_ms: nil})
    first = :persistent_term.get(@first_key, %{wall_ms: nil, monotonic_ms: nil})
    {uptime_ms, _} = :erlang.statistics(:wall_clock)
    {pid1, error} = read_json(file)
    {last_exit, last_exit_error} = read_json(Demo.Config.last_exit_file())

    %{
      pid1: pid1,
      pid1_file: file,
      pid1_error: error,
      app_ready_ms: ready.wall_ms,
      app_ready_monotonic_ms: ready.monotonic_ms,
      first_request_ms: first.wall_ms,
      first_request_monotonic_ms: first.monotonic_ms,
      uptime_ms: uptime_ms,
      last_exit: last_exit,
      last_exit_error: last_exit_error
    }
  end

  defp read_json(file) do
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
