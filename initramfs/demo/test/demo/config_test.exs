defmodule Demo.ConfigTest do
  # Changes the :demo env for a moment: not alongside the other tests.
  use ExUnit.Case, async: false

  test "a path from the env as a string, whether a binary or a charlist" do
    on_exit(fn -> Application.put_env(:demo, :data_dir, "/nonexistent/data") end)
    assert Demo.Config.path(:no_such_key, "/data") == "/data"

    for {value, want} <- [{"/srv/x", "/srv/x"}, {~c"/srv/y", "/srv/y"}] do
      Application.put_env(:demo, :data_dir, value)
      assert Demo.KV.data_dir() == want
    end
  end
end
