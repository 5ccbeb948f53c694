defmodule Demo.RestoreTest do
  use ExUnit.Case, async: false

  alias Demo.Test.HTTPClient, as: C

  test "parse reads PID 1's line and rejects anything else" do
    assert Demo.Restore.parse("restored 2 -1500") == {:ok, %{restores: 2, clock_step_ns: -1500}}
    assert Demo.Restore.parse("restored 0 5") == :error
    assert Demo.Restore.parse("restored 1") == :error
    assert Demo.Restore.parse("restored x 5") == :error
    assert Demo.Restore.parse("hello") == :error
  end

  test "outside a guest nothing was restored" do
    assert Demo.Restore.info() == %{restores: 0, clock_step_ns: 0}
  end

  test "GET /instance gives 16 fresh bytes of the kernel's pool and the clocks" do
    {200, _, body1} = C.get("/instance")
    {200, _, body2} = C.get("/instance")
    {:ok, a} = Demo.JSON.decode(body1)
    {:ok, b} = Demo.JSON.decode(body2)
    assert String.length(a["urandom"]) == 32 and a["urandom"] != b["urandom"]
    assert b["monotonic_ns"] > a["monotonic_ns"]
    assert abs(a["os_time_ns"] - :os.system_time(:nanosecond)) < 5_000_000_000
    assert is_integer(a["erlang_time_ns"])
    assert a["restores"] == 0
  end

  test "the on_restore hook gets the restore's info" do
    me = self()
    Application.put_env(:demo, :on_restore, {Kernel, :send, [me]})
    pid = Process.whereis(Demo.Restore)
    # Outside a guest there is no port; feed the line as the fd driver would.
    :sys.replace_state(pid, fn s -> %{s | port: :fake} end)
    send(pid, {:fake, {:data, {:eol, "restored 1 42"}}})
    assert_receive %{restores: 1, clock_step_ns: 42}
    assert Demo.Restore.info() == %{restores: 1, clock_step_ns: 42}
  after
    Application.delete_env(:demo, :on_restore)
    pid = Process.whereis(Demo.Restore)
    :sys.replace_state(pid, fn s -> %{s | port: nil, info: %{restores: 0, clock_step_ns: 0}} end)
  end
end
