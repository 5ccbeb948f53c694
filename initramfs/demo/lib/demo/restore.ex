defmodule Demo.Restore do
  @moduledoc """
  Hears PID 1 say that the VM was restored from a snapshot (docs/snapshots.md).

  PID 1 gives the BEAM the read end of a pipe in `$MICROBEAM_RESTORE_FD`; after each
  restore it has already stepped the clock and reseeded the kernel's random pool, and
  writes one line `restored N STEP_NS` there. This server reads it as a port (the fd
  driver: no scheduler blocks) and then runs the app's hook, the application
  environment key `:on_restore`, a `{module, function, args}` called with
  `args ++ [%{restores: n, clock_step_ns: step}]`.

  What is left to the app is state made before the snapshot that every copy now shares:
  `:rand` states of processes that were already running (re-seeded here for this
  process, the hook's job for others), tokens or nonces drawn ahead, caches keyed by
  time. Outside a MicroBEAM guest (no `$MICROBEAM_RESTORE_FD`) it does nothing.
  """
  use GenServer

  @spec start_link(term()) :: GenServer.on_start()
  def start_link(_arg), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @doc "How many restores this guest has seen, and the last clock step in ns."
  @spec info() :: %{restores: non_neg_integer(), clock_step_ns: integer()}
  def info do
    case Process.whereis(__MODULE__) do
      nil -> %{restores: 0, clock_step_ns: 0}
      pid -> GenServer.call(pid, :info)
    end
  end

  @doc "Parses PID 1's line: `restored N STEP_NS`."
  @spec parse(binary()) :: {:ok, map()} | :error
  def parse(line) do
    with ["restored", n, step] <- String.split(line, " "),
         {n, ""} when n > 0 <- Integer.parse(n),
         {step, ""} <- Integer.parse(step) do
      {:ok, %{restores: n, clock_step_ns: step}}
    else
      _ -> :error
    end
  end

  @impl true
  def init(nil) do
    port =
      with fd when is_binary(fd) <- System.get_env("MICROBEAM_RESTORE_FD"),
           {fd, ""} <- Integer.parse(fd) do
        Port.open({:fd, fd, fd}, [:in, :binary, {:line, 256}])
      else
        _ -> nil
      end

    {:ok, %{port: port, info: %{restores: 0, clock_step_ns: 0}}}
  end

  @impl true
  def handle_call(:info, _from, state), do: {:reply, state.info, state}

  @impl true
  def handle_info({port, {:data, {:eol, line}}}, %{port: port} = state) do
    case parse(line) do
      {:ok, info} ->
        :rand.seed(:exsss)
        run_hook(info)
        {:noreply, %{state | info: info}}

      :error ->
        IO.puts("demo: restore: unexpected line from PID 1: #{inspect(line)}")
        {:noreply, state}
    end
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp run_hook(info) do
    case Application.get_env(:demo, :on_restore) do
      {m, f, a} when is_atom(m) and is_atom(f) and is_list(a) ->
        try do
          apply(m, f, a ++ [info])
        catch
          kind, reason -> IO.puts("demo: on_restore hook failed: #{inspect({kind, reason})}")
        end

      nil ->
        :ok

      other ->
        IO.puts("demo: on_restore must be {module, function, args}, not #{inspect(other)}")
    end
  end
end
