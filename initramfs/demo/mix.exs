defmodule Demo.MixProject do
  use Mix.Project

  # Build output never goes into the source tree: callers set MIX_BUILD_ROOT
  # (or MIX_BUILD_PATH) and pass `mix release --path DIR`. See README.md.
  def project do
    [
      app: :demo,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      aliases: aliases(),
      releases: releases()
    ]
  end

  def application do
    [
      mod: {Demo.Application, []},
      # No :logger: the demo logs nothing through Elixir's Logger.
      extra_applications: [],
      env: [
        port: 8080,
        allow_halt: false,
        boot_timeline_file: "/run/microbeam/boot.json",
        acceptors: 4,
        read_timeout_ms: 15_000,
        max_body_bytes: 1_048_576
      ]
    ]
  end

  # The app is started by test_helper.exs on an ephemeral port, not by mix.
  defp aliases, do: [test: "test --no-start"]

  defp releases do
    [
      demo: [
        include_erts: false,
        strip_beams: true,
        include_executables_for: [],
        # What runs: kernel, stdlib, elixir, demo, and compiler, because
        # elixir's .app lists it and the application controller will not
        # start elixir without it. mix release adds sasl (permanent) and iex
        # (none) on its own: both set to :none here, and apps of type none
        # are left out of the guest by initramfs/release/assemble.escript.
        applications: [sasl: :none, iex: :none]
      ]
    ]
  end
end
