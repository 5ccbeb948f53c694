defmodule Demo.JSON do
  @moduledoc """
  A small JSON encoder: maps, lists, binaries (UTF-8), atoms, integers,
  floats, `true`/`false`, and `nil` as `null`. Map keys may be binaries,
  atoms or integers. Anything else raises `ArgumentError`.

  `decode/1` is in `Demo.JSON.Decoder`; it is delegated from here.
  """

  @spec encode!(term()) :: binary()
  def encode!(term), do: term |> encode_to_iodata() |> IO.iodata_to_binary()

  @spec encode_to_iodata(term()) :: iodata()
  def encode_to_iodata(nil), do: "null"
  def encode_to_iodata(true), do: "true"
  def encode_to_iodata(false), do: "false"
  def encode_to_iodata(atom) when is_atom(atom), do: string(Atom.to_string(atom))
  def encode_to_iodata(int) when is_integer(int), do: Integer.to_string(int)
  def encode_to_iodata(float) when is_float(float), do: :erlang.float_to_binary(float, [:short])
  def encode_to_iodata(bin) when is_binary(bin), do: string(bin)
  def encode_to_iodata(list) when is_list(list), do: array(list)
  def encode_to_iodata(map) when is_map(map) and not is_struct(map), do: object(map)

  def encode_to_iodata(other),
    do: raise(ArgumentError, "cannot encode #{inspect(other)} as JSON")

  defdelegate decode(binary), to: Demo.JSON.Decoder

  defp array([]), do: "[]"

  defp array([first | rest]) do
    [?[, encode_to_iodata(first), Enum.map(rest, &[?,, encode_to_iodata(&1)]), ?]]
  end

  defp object(map) when map_size(map) == 0, do: "{}"

  defp object(map) do
    [{key, value} | rest] = map |> Enum.map(fn {k, v} -> {key(k), v} end) |> Enum.sort()
    pair = fn {k, v} -> [string(k), ?:, encode_to_iodata(v)] end
    [?{, pair.({key, value}), Enum.map(rest, &[?,, pair.(&1)]), ?}]
  end

  defp key(key) when is_binary(key), do: key
  defp key(key) when is_atom(key) and key not in [nil, true, false], do: Atom.to_string(key)
  defp key(key) when is_integer(key), do: Integer.to_string(key)
  defp key(key), do: raise(ArgumentError, "cannot encode #{inspect(key)} as a JSON object key")

  defp string(bin) do
    unless String.valid?(bin), do: raise(ArgumentError, "invalid UTF-8 in #{inspect(bin)}")
    [?", escape(bin, bin, 0, 0, []), ?"]
  end

  # Copies runs of characters that need no escaping as sub-binaries.
  defp escape(<<>>, original, start, len, acc),
    do: Enum.reverse([binary_part(original, start, len) | acc])

  defp escape(<<c, rest::binary>>, original, start, len, acc)
       when c < 0x20 or c == ?" or c == ?\\ do
    run = binary_part(original, start, len)
    escape(rest, original, start + len + 1, 0, [escape_char(c), run | acc])
  end

  defp escape(<<_c, rest::binary>>, original, start, len, acc),
    do: escape(rest, original, start, len + 1, acc)

  defp escape_char(?"), do: "\\\""
  defp escape_char(?\\), do: "\\\\"
  defp escape_char(?\n), do: "\\n"
  defp escape_char(?\r), do: "\\r"
  defp escape_char(?\t), do: "\\t"
  defp escape_char(?\b), do: "\\b"
  defp escape_char(?\f), do: "\\f"

  defp escape_char(c) do
    hex = c |> Integer.to_string(16) |> String.pad_leading(4, "0")
    ["\\u", hex]
  end
end
