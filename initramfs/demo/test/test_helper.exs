# The app runs on an ephemeral port with a short idle timeout; halting stays
# disabled (subprocess tests in halt_test.exs enable it on their own node).
Application.load(:demo)
Application.put_env(:demo, :port, 0)
Application.put_env(:demo, :read_timeout_ms, 500)
Application.put_env(:demo, :allow_halt, false)
Application.put_env(:demo, :boot_timeline_file, "/nonexistent/microbeam/boot.json")
Application.put_env(:demo, :last_exit_file, "/nonexistent/microbeam/last-exit.json")
Application.put_env(:demo, :data_dir, "/nonexistent/data")
{:ok, _} = Application.ensure_all_started(:demo)

Code.require_file("support/http_client.exs", __DIR__)
ExUnit.start()
