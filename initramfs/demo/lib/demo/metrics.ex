defmodule Demo.Metrics do
  @moduledoc "A snapshot of the running system for `GET /metrics`."

  @spec snapshot() :: map()
  def snapshot do
    {uptime_ms, _since_last} = :erlang.statistics(:wall_clock)

    %{
      os_pid: List.to_string(:os.getpid()),
      emu_flavor: Atom.to_string(:erlang.system_info(:emu_flavor)),
      otp_release: List.to_string(:erlang.system_info(:otp_release)),
      erts_version: List.to_string(:erlang.system_info(:version)),
      schedulers: :erlang.system_info(:schedulers_online),
      process_count: :erlang.system_info(:process_count),
      memory_total: :erlang.memory(:total),
      uptime_ms: uptime_ms,
      kernel_release: kernel_release(),
      os_memory_kib: os_memory_kib()
    }
  end

  @doc """
  The guest's memory as its kernel sees it, in KiB: `total` (MemTotal), `available`
  (MemAvailable) and `used` (their difference: what the system holds that it could
  not give back), or nil if /proc/meminfo cannot be read.
  """
  @spec os_memory_kib(Path.t()) :: map() | nil
  def os_memory_kib(file \\ "/proc/meminfo") do
    with {:ok, text} <- File.read(file),
         %{"MemTotal" => total, "MemAvailable" => available} <- meminfo_fields(text) do
      %{total: total, available: available, used: total - available}
    else
      _ -> nil
    end
  end

  defp meminfo_fields(text) do
    for line <- String.split(text, "\n"),
        [key, value] <- [String.split(line, ":", parts: 2)],
        key in ["MemTotal", "MemAvailable"],
        {kib, _} <- [Integer.parse(String.trim(value))],
        into: %{},
        do: {key, kib}
  end

  @doc "The running kernel's release string, or `\"unknown\"` if it cannot be read."
  @spec kernel_release(Path.t()) :: String.t()
  def kernel_release(file \\ "/proc/sys/kernel/osrelease") do
    case File.read(file) do
      {:ok, contents} ->
        case String.trim(contents) do
          "" -> "unknown"
          release -> release
        end

      {:error, _} ->
        "unknown"
    end
  end
end
