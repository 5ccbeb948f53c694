defmodule Demo.HaltTest do
  use ExUnit.Case, async: true

  alias Demo.Test.HTTPClient, as: C

  test "halt is refused (403) unless allow_halt is true" do
    socket = C.connect()

    assert {403, _, body} =
             C.request(socket, "POST /halt/0 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")

    assert body =~ "disabled"
    assert {403, _, _} = C.request(socket, "POST /halt/abort HTTP/1.1\r\n\r\n")
    :gen_tcp.close(socket)
  end

  test "parse" do
    assert Demo.Halt.parse("0") == {:ok, 0}
    assert Demo.Halt.parse("255") == {:ok, 255}
    assert Demo.Halt.parse("abort") == {:ok, :abort}
    for bad <- ["256", "-1", "", "1x", "0255", "abc"], do: assert(Demo.Halt.parse(bad) == :error)
  end

  # A separate emulator started the way the guest is: `-demo allow_halt true`.
  test "with -demo allow_halt true, POST /halt/N replies 202 then exits with N" do
    dir = C.scratch_dir("halt")
    {port, node} = start_node(dir)
    socket = C.connect(port)
    assert {400, _, _} = C.request(socket, "POST /halt/300 HTTP/1.1\r\n\r\n")

    assert {202, h, body} =
             C.request(socket, "POST /halt/7 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")

    assert h["connection"] == "close"
    assert body == ~s({"halt":7}\n)
    assert wait_exit(node) == 7
  end

  test "POST /halt/abort aborts the emulator" do
    dir = C.scratch_dir("halt")
    {port, node} = start_node(dir)
    assert {202, _, _} = C.request(C.connect(port), "POST /halt/abort HTTP/1.1\r\n\r\n")
    # abort() ends the process with SIGABRT: 128 + 6
    assert wait_exit(node) == 134
  end

  defp start_node(dir) do
    erl = System.find_executable("erl")

    args =
      ~w(-noshell -pa) ++
        [
          Path.dirname(:code.which(Demo.Application)),
          "-pa",
          List.to_string(:code.lib_dir(:elixir, :ebin))
        ] ++
        ~w(-demo allow_halt true -demo port 0 -eval) ++
        ["{ok, _} = application:ensure_all_started(demo)"]

    # cd into the tmp dir so a core dump from abort cannot land in the tree.
    node =
      Port.open({:spawn_executable, erl}, [
        :binary,
        :exit_status,
        {:line, 1024},
        args: args,
        cd: dir
      ])

    {wait_listening(node), node}
  end

  defp wait_listening(node) do
    receive do
      {^node, {:data, {:eol, "demo: listening on port " <> port}}} -> String.to_integer(port)
      {^node, {:data, _other}} -> wait_listening(node)
      {^node, {:exit_status, status}} -> flunk("node exited with #{status} before listening")
    after
      15_000 -> flunk("node did not start listening")
    end
  end

  defp wait_exit(node) do
    receive do
      {^node, {:exit_status, status}} -> status
      {^node, {:data, _}} -> wait_exit(node)
    after
      10_000 -> flunk("node did not halt")
    end
  end
end
