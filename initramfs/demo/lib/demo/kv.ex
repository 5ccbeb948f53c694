defmodule Demo.KV do
  @moduledoc """
  A key-value store in files on the data volume (`/data`, PID 1 mounts it when the
  VM has a data disk: docs/persistent-data.md).

  `put/2` answers only once the value is durable: the body goes to a fresh file in
  `kv.tmp/`, which is fsync'ed, renamed over `kv/KEY`, and fsync'ed again. On ext4
  with its journal, that second fsync commits the transaction holding the rename (the
  rename changed the inode), so the name is durable too; a power cut at any moment
  leaves the old value or the new one, never a torn file.

  Keys are file names, as they appear in the path: not empty, at most 200 bytes, not
  `.`, no `/`, no `..`, no NUL.
  """

  @max_key 200

  @doc "The data directory: the `:demo` env's `data_dir` (default `/data`)."
  @spec data_dir() :: String.t()
  def data_dir, do: Demo.Config.path(:data_dir, "/data")

  @doc "Whether there is a data volume to keep values on."
  @spec available?(String.t()) :: boolean()
  def available?(dir \\ data_dir()), do: File.dir?(dir)

  @spec valid_key?(binary()) :: boolean()
  def valid_key?(key) when is_binary(key) do
    byte_size(key) in 1..@max_key and key != "." and
      not String.contains?(key, ["/", "..", <<0>>])
  end

  def valid_key?(_key), do: false

  @doc """
  Stores `value` under `key`; `:ok` once it is durable. `{:error, :bad_key}` writes
  nothing; `{:error, :enospc}` (or `:edquot`) when the volume is full, with no partial
  file left behind; `{:error, posix}` otherwise.
  """
  @spec put(binary(), iodata(), String.t()) :: :ok | {:error, atom()}
  def put(key, value, dir \\ data_dir()) do
    if valid_key?(key) do
      tmp_dir = Path.join(dir, "kv.tmp")
      tmp = Path.join(tmp_dir, "#{:erlang.unique_integer([:positive])}")

      with :ok <- ensure_dir(Path.join(dir, "kv")),
           :ok <- ensure_dir(tmp_dir),
           {:ok, fd} <- :file.open(tmp, [:write, :raw, :binary, :exclusive]) do
        result = write_durably(fd, tmp, Path.join([dir, "kv", key]), value)
        _ = :file.close(fd)
        if result != :ok, do: _ = :file.delete(tmp)
        result
      end
    else
      {:error, :bad_key}
    end
  end

  defp write_durably(fd, tmp, final, value) do
    with :ok <- :file.write(fd, value),
         :ok <- :file.sync(fd),
         :ok <- :file.rename(tmp, final),
         do: :file.sync(fd)
  end

  @doc "The value under `key`: `{:ok, binary}`, `{:error, :not_found}` or `{:error, posix}`."
  @spec get(binary(), String.t()) :: {:ok, binary()} | {:error, atom()}
  def get(key, dir \\ data_dir()) do
    if valid_key?(key) do
      case :file.read_file(Path.join([dir, "kv", key])) do
        {:ok, value} -> {:ok, value}
        {:error, :enoent} -> {:error, :not_found}
        {:error, reason} -> {:error, reason}
      end
    else
      {:error, :bad_key}
    end
  end

  @doc "Removes what an interrupted `put/2` left in `kv.tmp/` (at start)."
  @spec clean(String.t()) :: :ok
  def clean(dir \\ data_dir()) do
    tmp_dir = Path.join(dir, "kv.tmp")

    case :file.list_dir(tmp_dir) do
      {:ok, names} -> Enum.each(names, &:file.delete(Path.join(tmp_dir, &1)))
      {:error, _} -> :ok
    end
  end

  defp ensure_dir(path) do
    case :file.make_dir(path) do
      :ok -> :ok
      {:error, :eexist} -> :ok
      {:error, reason} -> {:error, reason}
    end
  end
end
