defmodule Demo.JSON.Decoder do
  @moduledoc """
  A small strict JSON decoder (RFC 8259): objects become maps with binary
  keys, arrays lists, `null` `nil`. Used to check and re-emit the PID 1's boot
  timeline file.
  """

  @ws [?\s, ?\t, ?\n, ?\r]

  @spec decode(binary()) :: {:ok, term()} | {:error, String.t()}
  def decode(bin) when is_binary(bin) do
    {value, rest} = value(skip_ws(bin))

    case skip_ws(rest) do
      "" -> {:ok, value}
      _ -> {:error, "trailing data"}
    end
  catch
    {:json_error, reason} -> {:error, reason}
  end

  defp fail(reason), do: throw({:json_error, reason})

  defp skip_ws(<<c, rest::binary>>) when c in @ws, do: skip_ws(rest)
  defp skip_ws(bin), do: bin

  defp value(<<?{, rest::binary>>), do: object(skip_ws(rest), %{})
  defp value(<<?[, rest::binary>>), do: array(skip_ws(rest), [])
  defp value(<<?", rest::binary>>), do: string(rest, [])
  defp value(<<"true", rest::binary>>), do: {true, rest}
  defp value(<<"false", rest::binary>>), do: {false, rest}
  defp value(<<"null", rest::binary>>), do: {nil, rest}
  defp value(<<c, _::binary>> = bin) when c == ?- or c in ?0..?9, do: number(bin)
  defp value(<<>>), do: fail("unexpected end of input")
  defp value(<<c, _::binary>>), do: fail("unexpected character #{inspect(<<c>>)}")

  defp object(<<?}, rest::binary>>, acc) when acc == %{}, do: {acc, rest}

  defp object(<<?", rest::binary>>, acc) do
    {key, rest} = string(rest, [])

    case skip_ws(rest) do
      <<?:, rest::binary>> ->
        {value, rest} = value(skip_ws(rest))
        acc = Map.put(acc, key, value)

        case skip_ws(rest) do
          <<?,, rest::binary>> -> object(skip_ws(rest), acc)
          <<?}, rest::binary>> -> {acc, rest}
          _ -> fail("expected , or } in object")
        end

      _ ->
        fail("expected : after object key")
    end
  end

  defp object(_bin, _acc), do: fail("expected string key in object")

  defp array(<<?], rest::binary>>, []), do: {[], rest}

  defp array(bin, acc) do
    {value, rest} = value(bin)

    case skip_ws(rest) do
      <<?,, rest::binary>> -> array(skip_ws(rest), [value | acc])
      <<?], rest::binary>> -> {Enum.reverse([value | acc]), rest}
      _ -> fail("expected , or ] in array")
    end
  end

  defp string(<<?", rest::binary>>, acc) do
    bin = acc |> Enum.reverse() |> IO.iodata_to_binary()
    if String.valid?(bin), do: {bin, rest}, else: fail("invalid UTF-8 in string")
  end

  defp string(<<?\\, ?u, hex::binary-size(4), rest::binary>>, acc) do
    case {hex_value(hex), rest} do
      {high, <<?\\, ?u, low_hex::binary-size(4), rest2::binary>>} when high in 0xD800..0xDBFF ->
        low = hex_value(low_hex)
        unless low in 0xDC00..0xDFFF, do: fail("unpaired surrogate")
        code = 0x10000 + Bitwise.bsl(high - 0xD800, 10) + (low - 0xDC00)
        string(rest2, [<<code::utf8>> | acc])

      {code, _} when code in 0xD800..0xDFFF ->
        fail("unpaired surrogate")

      {code, _} ->
        string(rest, [<<code::utf8>> | acc])
    end
  end

  defp string(<<?\\, c, rest::binary>>, acc) do
    case c do
      ?" -> string(rest, [?" | acc])
      ?\\ -> string(rest, [?\\ | acc])
      ?/ -> string(rest, [?/ | acc])
      ?b -> string(rest, [?\b | acc])
      ?f -> string(rest, [?\f | acc])
      ?n -> string(rest, [?\n | acc])
      ?r -> string(rest, [?\r | acc])
      ?t -> string(rest, [?\t | acc])
      _ -> fail("bad escape in string")
    end
  end

  defp string(<<c, _::binary>>, _acc) when c < 0x20, do: fail("control character in string")
  defp string(<<c, rest::binary>>, acc), do: string(rest, [c | acc])
  defp string(<<>>, _acc), do: fail("unterminated string")

  defp hex_value(hex) do
    if Enum.all?(:binary.bin_to_list(hex), &hex_digit?/1),
      do: String.to_integer(hex, 16),
      else: fail("bad \\u escape")
  end

  defp hex_digit?(c), do: c in ?0..?9 or c in ?a..?f or c in ?A..?F

  # -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  defp number(bin) do
    {sign, rest} = take_sign(bin)
    {int, rest} = take_int(rest)
    {frac, rest} = take_frac(rest)
    {exp, rest} = take_exp(rest)

    value =
      if frac == "" and exp == "",
        do: String.to_integer(sign <> int),
        else: :erlang.binary_to_float(sign <> int <> "." <> default(frac, "0") <> exp_part(exp))

    {value, rest}
  rescue
    ArgumentError -> fail("number out of range")
  end

  defp take_sign(<<?-, rest::binary>>), do: {"-", rest}
  defp take_sign(bin), do: {"", bin}

  defp take_int(<<?0, rest::binary>>), do: {"0", rest}
  defp take_int(<<c, _::binary>> = bin) when c in ?1..?9, do: take_digits(bin)
  defp take_int(_), do: fail("bad number")

  defp take_frac(<<?., c, _::binary>> = bin) when c in ?0..?9 do
    <<?., rest::binary>> = bin
    take_digits(rest)
  end

  defp take_frac(<<?., _::binary>>), do: fail("bad number")
  defp take_frac(bin), do: {"", bin}

  defp take_exp(<<e, rest::binary>>) when e in [?e, ?E] do
    {sign, rest} =
      case rest do
        <<s, r::binary>> when s in [?+, ?-] -> {<<s>>, r}
        _ -> {"", rest}
      end

    case rest do
      <<c, _::binary>> when c in ?0..?9 ->
        {digits, rest} = take_digits(rest)
        {sign <> digits, rest}

      _ ->
        fail("bad number")
    end
  end

  defp take_exp(bin), do: {"", bin}

  defp take_digits(bin), do: take_digits(bin, 0, bin)

  defp take_digits(<<c, rest::binary>>, n, orig) when c in ?0..?9,
    do: take_digits(rest, n + 1, orig)

  defp take_digits(rest, n, orig), do: {binary_part(orig, 0, n), rest}

  defp default("", d), do: d
  defp default(v, _), do: v

  defp exp_part(""), do: ""
  defp exp_part(exp), do: "e" <> exp
end
