defmodule Demo.HTTPServerTest do
  use ExUnit.Case, async: true

  alias Demo.Test.HTTPClient, as: C

  test "GET / answers plain text" do
    {200, headers, body} = C.get("/")
    assert body == "hello from MicroBEAM\n"
    assert headers["content-type"] =~ "text/plain"
    assert headers["connection"] == "close"
  end

  test "HTTP/1.1 keep-alive: two requests on one socket, then Connection: close" do
    socket = C.connect()
    {200, h1, "hello from MicroBEAM\n"} = C.request(socket, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert h1["connection"] == "keep-alive"
    {200, _, body} = C.request(socket, "GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert body == ~s({"status":"ok"}\n)
    {200, h3, _} = C.request(socket, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert h3["connection"] == "close"
    assert C.closed?(socket)
  end

  test "pipelined requests are answered in order" do
    socket = C.connect()
    :ok = :gen_tcp.send(socket, "GET /health HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert {200, _, ~s({"status":"ok"}\n)} = C.read_response(socket)
    assert {200, _, "hello from MicroBEAM\n"} = C.read_response(socket)
    :gen_tcp.close(socket)
  end

  test "HTTP/1.0 closes by default and keeps alive on request" do
    socket = C.connect()
    {200, h, _} = C.request(socket, "GET / HTTP/1.0\r\n\r\n")
    assert h["connection"] == "close"
    assert C.closed?(socket)

    socket = C.connect()
    {200, h, _} = C.request(socket, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
    assert h["connection"] == "keep-alive"
    {200, _, _} = C.request(socket, "GET / HTTP/1.0\r\n\r\n")
    assert C.closed?(socket)
  end

  test "idle keep-alive connections are closed after the read timeout" do
    socket = C.connect()
    {200, _, _} = C.request(socket, "GET / HTTP/1.1\r\n\r\n")
    # read_timeout_ms is 500 in test_helper.exs
    assert C.closed?(socket, 3_000)
  end

  test "unknown path is 404, wrong method is 405 with Allow" do
    assert {404, _, _} = C.get("/nope")
    socket = C.connect()
    {405, h, _} = C.request(socket, "DELETE /metrics HTTP/1.1\r\n\r\n")
    assert h["allow"] == "GET, HEAD"
    {405, h, _} = C.request(socket, "GET /halt/0 HTTP/1.1\r\n\r\n")
    assert h["allow"] == "POST"
    :gen_tcp.close(socket)
  end

  test "HEAD gets headers without a body" do
    socket = C.connect()
    :ok = :gen_tcp.send(socket, "HEAD / HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n")
    :ok = :inet.setopts(socket, packet: :http_bin)
    {:ok, {:http_response, _, 200, _}} = :gen_tcp.recv(socket, 0, 2_000)
    {:ok, {:http_header, _, :"Content-Length", _, "21"}} = skip_to_length(socket)
    # the next response follows directly: no body bytes in between
    assert {200, _, ~s({"status":"ok"}\n)} = C.read_response(socket)
  end

  defp skip_to_length(socket) do
    case :gen_tcp.recv(socket, 0, 2_000) do
      {:ok, {:http_header, _, :"Content-Length", _, _}} = found ->
        drain_headers(socket)
        found

      {:ok, {:http_header, _, _, _, _}} ->
        skip_to_length(socket)
    end
  end

  defp drain_headers(socket) do
    case :gen_tcp.recv(socket, 0, 2_000) do
      {:ok, :http_eoh} -> :ok
      {:ok, _} -> drain_headers(socket)
    end
  end

  test "garbage gets 400 and the connection is closed" do
    for garbage <- [
          "this is not http\r\n\r\n",
          "GET / HTTP/1.1\r\nno-colon-header\r\n\r\n",
          "\x00\x01\x02\r\n\r\n",
          "GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
          "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx"
        ] do
      socket = C.connect()
      assert {400, h, _} = C.request(socket, garbage), "for #{inspect(garbage)}"
      assert h["connection"] == "close"
      assert C.closed?(socket)
    end
  end

  test "empty lines before the request line are ignored" do
    socket = C.connect()
    assert {200, _, _} = C.request(socket, "\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n")
  end

  test "an overlong request line (> packet_size 8192) closes the connection" do
    # The emulator's HTTP parser fails with emsgsize and the inet driver
    # closes the socket itself: no reply can be sent.
    socket = C.connect()
    :ok = :gen_tcp.send(socket, "GET /" <> String.duplicate("a", 20_000) <> " HTTP/1.1\r\n\r\n")
    assert C.closed?(socket)
  end

  test "unsupported versions and transfer codings" do
    socket = C.connect()
    assert {505, _, _} = C.request(socket, "GET / HTTP/2.0\r\n\r\n")
    socket = C.connect()

    assert {501, _, _} =
             C.request(
               socket,
               "POST /halt/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
             )
  end

  test "a body read by Content-Length does not disturb the next request" do
    socket = C.connect()
    body = String.duplicate("x", 70_000)
    req = "POST / HTTP/1.1\r\nContent-Length: #{byte_size(body)}\r\n\r\n" <> body
    {405, _, _} = C.request(socket, req <> "GET /health HTTP/1.1\r\n\r\n")
    assert {200, _, ~s({"status":"ok"}\n)} = C.read_response(socket)
    :gen_tcp.close(socket)
  end

  test "Expect: 100-continue gets a 100 before the body is sent" do
    socket = C.connect()

    :ok =
      :gen_tcp.send(
        socket,
        "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
      )

    assert {:ok, "HTTP/1.1 100 Continue\r\n\r\n"} = :gen_tcp.recv(socket, 0, 2_000)
    :ok = :gen_tcp.send(socket, "abc")
    assert {405, _, _} = C.read_response(socket)
    :gen_tcp.close(socket)
  end

  test "too large a body is refused" do
    socket = C.connect()
    assert {413, _, _} = C.request(socket, "POST /x HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
    assert C.closed?(socket)
  end

  test "many concurrent connections" do
    1..50
    |> Task.async_stream(fn _ -> C.get("/health") end, max_concurrency: 50)
    |> Enum.each(fn {:ok, response} -> assert {200, _, _} = response end)
  end
end
