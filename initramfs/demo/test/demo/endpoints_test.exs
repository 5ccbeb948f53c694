defmodule Demo.EndpointsTest do
  use ExUnit.Case, async: false

  alias Demo.Test.HTTPClient, as: C

  test "GET /health" do
    {200, h, body} = C.get("/health")
    assert h["content-type"] == "application/json"
    assert Demo.JSON.decode(body) == {:ok, %{"status" => "ok"}}
  end

  test "GET /metrics has the keys with the right types" do
    {200, _, body} = C.get("/metrics")
    {:ok, m} = Demo.JSON.decode(body)

    for key <- ~w(os_pid emu_flavor otp_release kernel_release erts_version),
        do: assert(is_binary(m[key]), key)

    for key <- ~w(schedulers process_count memory_total uptime_ms),
        do: assert(is_integer(m[key]) and m[key] >= 0, key)

    assert m["os_pid"] == List.to_string(:os.getpid())
    assert m["emu_flavor"] in ["jit", "emu"]
    assert m["otp_release"] == "27"
    assert m["schedulers"] >= 1
  end

  test "os_memory_kib reads MemTotal and MemAvailable, nil when it cannot" do
    dir = C.scratch_dir("meminfo")
    file = Path.join(dir, "meminfo")
    File.write!(file, "MemTotal:         120000 kB\nMemFree:  1 kB\nMemAvailable:      90000 kB\n")
    assert Demo.Metrics.os_memory_kib(file) == %{total: 120_000, available: 90_000, used: 30_000}
    File.write!(file, "MemTotal: 12 kB\n")
    assert Demo.Metrics.os_memory_kib(file) == nil
    assert Demo.Metrics.os_memory_kib("/nonexistent") == nil
    assert %{used: used} = Demo.Metrics.os_memory_kib()
    assert is_integer(used) and used > 0
  end

  test "kernel_release reads the file and falls back to unknown" do
    assert Demo.Metrics.kernel_release() == String.trim(File.read!("/proc/sys/kernel/osrelease"))
    assert Demo.Metrics.kernel_release("/nonexistent") == "unknown"
  end

  test "the console line lists PID 1's marks in time order, then the app's" do
    line =
      Demo.BootTimeline.console_line(%{
        pid1: %{"marks_ms" => %{"mounts_done" => 20.26, "init_entered" => 10.0}},
        app_ready_monotonic_ms: 900,
        first_request_monotonic_ms: 1200
      })

    assert line ==
             "demo: boot timeline: init_entered=10.0ms mounts_done=20.3ms " <>
               "release_started=900.0ms first_request=1200.0ms"

    assert Demo.BootTimeline.console_line(%{
             pid1: nil,
             app_ready_monotonic_ms: 900,
             first_request_monotonic_ms: nil
           }) == "demo: boot timeline: release_started=900.0ms"
  end

  test "GET /boot wraps the PID 1 timeline file" do
    dir = C.scratch_dir("boot")
    file = Path.join(dir, "boot.json")

    {200, _, body} = C.get("/boot")
    {:ok, r} = Demo.JSON.decode(body)
    assert r["pid1"] == nil
    assert r["pid1_error"] == "enoent"
    assert is_integer(r["app_ready_ms"]) and r["app_ready_ms"] <= r["uptime_ms"]
    assert is_integer(r["app_ready_monotonic_ms"])

    # The first reply is recorded just after it went out, so look until it shows.
    {200, _, _} = C.get("/health")
    r = first_request_seen(50)
    assert is_integer(r["first_request_ms"]) and r["first_request_ms"] >= r["app_ready_ms"]
    assert r["first_request_monotonic_ms"] >= r["app_ready_monotonic_ms"]

    File.write!(file, ~s({"marks": {"kernel_to_init_ms": 612, "erl_start_ms": 640}}\n))
    Application.put_env(:demo, :boot_timeline_file, file)

    try do
      {200, _, body} = C.get("/boot")
      {:ok, r} = Demo.JSON.decode(body)
      assert r["pid1"] == %{"marks" => %{"kernel_to_init_ms" => 612, "erl_start_ms" => 640}}
      assert r["pid1_error"] == nil
      assert r["pid1_file"] == file

      File.write!(file, "{not json")
      {200, _, body} = C.get("/boot")
      {:ok, r} = Demo.JSON.decode(body)
      assert r["pid1"] == nil
      assert r["pid1_error"] =~ "invalid JSON"
    after
      Application.put_env(:demo, :boot_timeline_file, "/nonexistent/microbeam/boot.json")
    end
  end

  test "GET /boot serves PID 1's record of the last exit" do
    file = Path.join(C.scratch_dir("last_exit"), "last-exit.json")

    {200, _, body} = C.get("/boot")
    {:ok, r} = Demo.JSON.decode(body)
    assert r["last_exit"] == nil
    assert r["last_exit_error"] == "enoent"

    File.write!(file, ~s({"version":1,"record":"shutdown","how":"halted","status":3,"crash_slogan":"boom"}\n))
    Application.put_env(:demo, :last_exit_file, file)

    try do
      {200, _, body} = C.get("/boot")
      {:ok, r} = Demo.JSON.decode(body)
      assert r["last_exit"]["how"] == "halted"
      assert r["last_exit"]["status"] == 3
      assert r["last_exit"]["crash_slogan"] == "boom"
      assert r["last_exit_error"] == nil
    after
      Application.put_env(:demo, :last_exit_file, "/nonexistent/microbeam/last-exit.json")
    end
  end

  defp first_request_seen(tries) do
    {200, _, body} = C.get("/boot")
    {:ok, r} = Demo.JSON.decode(body)

    if r["first_request_ms"] == nil and tries > 0 do
      Process.sleep(10)
      first_request_seen(tries - 1)
    else
      r
    end
  end
end
