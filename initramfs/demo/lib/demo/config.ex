defmodule Demo.Config do
  @moduledoc """
  Reads and checks the `:demo` application environment.

  Values may come from the `.app` defaults, sys.config, or the emulator
  command line (`-demo allow_halt true -demo port 8081`).
  """

  @type t :: %{
          port: 0..65535,
          acceptors: pos_integer(),
          read_timeout_ms: pos_integer(),
          max_body_bytes: non_neg_integer()
        }

  @spec load() :: {:ok, t()} | {:error, String.t()}
  def load do
    with {:ok, port} <- fetch(:port, 8080, &(is_integer(&1) and &1 in 0..65535)),
         {:ok, acceptors} <- fetch(:acceptors, 4, &(is_integer(&1) and &1 > 0)),
         {:ok, timeout} <- fetch(:read_timeout_ms, 15_000, &(is_integer(&1) and &1 > 0)),
         {:ok, max_body} <- fetch(:max_body_bytes, 1_048_576, &(is_integer(&1) and &1 >= 0)) do
      {:ok,
       %{port: port, acceptors: acceptors, read_timeout_ms: timeout, max_body_bytes: max_body}}
    end
  end

  @doc "True only when `allow_halt` is exactly `true`."
  @spec allow_halt?() :: boolean()
  def allow_halt?, do: Application.get_env(:demo, :allow_halt, false) == true

  @spec boot_timeline_file() :: String.t()
  def boot_timeline_file, do: path(:boot_timeline_file, "/run/microbeam/boot.json")

  @doc "PID 1's copy of the last exit's record (/data/microbeam/last-exit.json, read at boot)."
  @spec last_exit_file() :: String.t()
  def last_exit_file, do: path(:last_exit_file, "/run/microbeam/last-exit.json")

  @doc """
  A path from the `:demo` env (`default` when unset), as a string: sys.config gives
  a binary, `-demo KEY "..."` on the emulator command line a charlist.
  """
  @spec path(atom(), String.t()) :: String.t()
  def path(key, default) do
    case Application.get_env(:demo, key, default) do
      file when is_binary(file) -> file
      file when is_list(file) -> List.to_string(file)
    end
  end

  defp fetch(key, default, valid?) do
    value = Application.get_env(:demo, key, default)

    if valid?.(value),
      do: {:ok, value},
      else: {:error, "#{key} = #{inspect(value)} is not allowed"}
  end
end
