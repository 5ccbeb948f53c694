defmodule Demo.JSON.DecoderTest do
  use ExUnit.Case, async: true

  import Demo.JSON.Decoder, only: [decode: 1]

  test "values" do
    assert decode(" null ") == {:ok, nil}
    assert decode("true") == {:ok, true}
    assert decode("false") == {:ok, false}
    assert decode("0") == {:ok, 0}
    assert decode("-12") == {:ok, -12}
    assert decode("1.25") == {:ok, 1.25}
    assert decode("1e3") == {:ok, 1000.0}
    assert decode("-2.5E-1") == {:ok, -0.25}
    assert decode(~s("a\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00")) == {:ok, "a\"b\\c/\né😀"}
  end

  test "containers" do
    assert decode("[]") == {:ok, []}
    assert decode("{}") == {:ok, %{}}

    assert decode(~s({"marks": {"kernel": 1, "init": [1, 2]}, "x": null})) ==
             {:ok, %{"marks" => %{"kernel" => 1, "init" => [1, 2]}, "x" => nil}}
  end

  test "rejects malformed input" do
    for bad <- [
          "",
          "{",
          "[1,]",
          "{\"a\":1,}",
          "01",
          "1.",
          ".5",
          "-",
          "1e",
          "tru",
          "\"\u0001\"",
          "\"abc",
          "{a:1}",
          "[1] x",
          "\"\\x\"",
          "\"\\ud800\"",
          "\"\\u12G4\"",
          <<?", 0xFF, ?">>,
          "1e999"
        ] do
      assert {:error, reason} = decode(bad), "accepted #{inspect(bad)}"
      assert is_binary(reason)
    end
  end
end
