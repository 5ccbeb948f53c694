defmodule Demo.KVTest do
  use ExUnit.Case, async: false

  alias Demo.Test.HTTPClient, as: C

  setup do
    dir = C.scratch_dir("kv")
    Application.put_env(:demo, :data_dir, dir)
    on_exit(fn -> Application.put_env(:demo, :data_dir, "/nonexistent/data") end)
    {:ok, dir: dir}
  end

  defp put(path, body) do
    socket = C.connect()

    response =
      C.request(
        socket,
        "PUT #{path} HTTP/1.1\r\nHost: t\r\nContent-Length: #{byte_size(body)}\r\n" <>
          "Connection: close\r\n\r\n" <> body
      )

    :gen_tcp.close(socket)
    response
  end

  test "PUT answers 204 without a body, GET returns the value, then 404 for others", %{dir: dir} do
    {204, h, ""} = put("/kv/answer", "42\n")
    refute Map.has_key?(h, "content-length")
    assert File.read!(Path.join([dir, "kv", "answer"])) == "42\n"
    assert {200, _, "42\n"} = C.get("/kv/answer")
    {204, _, ""} = put("/kv/answer", "43")
    assert {200, _, "43"} = C.get("/kv/answer")
    assert {404, _, _} = C.get("/kv/question")
    assert File.ls!(Path.join(dir, "kv.tmp")) == []
  end

  test "bad keys get 400 and nothing is written", %{dir: dir} do
    long = String.duplicate("k", 201)

    for key <- ["a..b", "..", ".", long, "a%00b" |> URI.decode()] do
      assert {400, _, _} = put("/kv/" <> key, "x"), key
    end

    assert {400, _, _} = put("/kv/a/b", "x")
    assert {400, _, _} = put("/kv/", "x")
    assert {204, _, _} = put("/kv/" <> String.duplicate("k", 200), "x")
    assert File.ls!(Path.join(dir, "kv")) == [String.duplicate("k", 200)]
    assert {400, _, _} = C.get("/kv/..")
  end

  test "key checks" do
    assert Demo.KV.valid_key?("a.b")
    assert Demo.KV.valid_key?(".hidden")
    refute Demo.KV.valid_key?("")
    refute Demo.KV.valid_key?("a/b")
    refute Demo.KV.valid_key?("a..")
    refute Demo.KV.valid_key?(<<"a", 0>>)
    refute Demo.KV.valid_key?(:atom)
  end

  test "without a data volume: 503, and other methods 405" do
    Application.put_env(:demo, :data_dir, "/nonexistent/data")
    assert {503, _, body} = C.get("/kv/x")
    assert body =~ "no data volume"
    {405, h, _} = C.request(C.connect(), "DELETE /kv/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert h["allow"] == "GET, HEAD, PUT"
  end

  test "a write that fails for another reason is a 500, and nothing is left", %{dir: dir} do
    File.write!(Path.join(dir, "kv"), "not a directory")
    assert {500, _, body} = put("/kv/k", "v")
    assert body =~ "write failed"
    assert File.ls!(Path.join(dir, "kv.tmp")) == []
  end

  test "clean removes what an interrupted put left", %{dir: dir} do
    File.mkdir_p!(Path.join(dir, "kv.tmp"))
    File.write!(Path.join([dir, "kv.tmp", "123"]), "half")
    :ok = Demo.KV.clean(dir)
    assert File.ls!(Path.join(dir, "kv.tmp")) == []
  end
end
