defmodule Demo.JSONTest do
  use ExUnit.Case, async: true

  import Demo.JSON, only: [encode!: 1]

  test "scalars" do
    assert encode!(nil) == "null"
    assert encode!(true) == "true"
    assert encode!(false) == "false"
    assert encode!(0) == "0"
    assert encode!(-42) == "-42"
    assert encode!(123_456_789_012_345_678_901_234_567_890) == "123456789012345678901234567890"
    assert encode!(1.5) == "1.5"
    assert encode!(-0.25) == "-0.25"
    assert encode!(1.0e300) == "1.0e300"
    assert encode!(:ok) == ~s("ok")
  end

  test "strings are escaped and UTF-8 is kept" do
    assert encode!("plain") == ~s("plain")
    assert encode!("") == ~s("")
    assert encode!(~s(a"b\\c)) == ~S("a\"b\\c")
    assert encode!("line\nbreak\ttab\r\b\f") == ~S("line\nbreak\ttab\r\b\f")
    assert encode!(<<0, 1, 31>>) == ~S("\u0000\u0001\u001F")
    assert encode!("héllo ✓ 😀") == ~s("héllo ✓ 😀")
    assert encode!("/") == ~s("/")
  end

  test "invalid UTF-8 raises" do
    assert_raise ArgumentError, fn -> encode!(<<0xFF, 0xFE>>) end
  end

  test "lists" do
    assert encode!([]) == "[]"
    assert encode!([1, "a", nil, [true]]) == ~s([1,"a",null,[true]])
  end

  test "maps with atom, binary and integer keys, sorted" do
    assert encode!(%{}) == "{}"
    assert encode!(%{b: 1, a: [2]}) == ~s({"a":[2],"b":1})
    assert encode!(%{"k" => %{1 => nil}}) == ~s({"k":{"1":null}})
  end

  test "unsupported terms raise" do
    assert_raise ArgumentError, fn -> encode!({:tuple}) end
    assert_raise ArgumentError, fn -> encode!(self()) end
    assert_raise ArgumentError, fn -> encode!(%{{:a} => 1}) end
    assert_raise ArgumentError, fn -> encode!(%{nil => 1}) end
    assert_raise ArgumentError, fn -> encode!(~D[2020-01-01]) end
  end

  test "output decodes back to the same term" do
    term = %{"list" => [1, 2.5, "x\u0001y", nil, false], "nested" => %{"deep" => "✓"}}
    assert {:ok, ^term} = term |> encode!() |> Demo.JSON.decode()
  end
end
