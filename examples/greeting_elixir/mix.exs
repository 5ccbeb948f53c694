defmodule Greeting.MixProject do
  use Mix.Project

  # A Mix release configured at boot, the way Phoenix apps are: config/runtime.exs reads
  # the environment (GREETING, PORT), and Elixir's config provider writes the result into
  # a new sys.config and restarts the VM before the app starts
  # (reboot_system_after_config). No deps: it builds offline (build.sh).
  def project do
    [
      app: :greeting,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: [],
      releases: [
        greeting: [
          # The release ships its own erts-13.1.5 (mix's default): MicroBEAM does not use
          # it (the ERTS is inside /init) and its size report says so.
          include_erts: true,
          include_executables_for: [:unix],
          strip_beams: true,
          reboot_system_after_config: true,
          applications: [sasl: :none, iex: :none]
        ]
      ]
    ]
  end

  def application do
    [mod: {Greeting.Application, []}, extra_applications: []]
  end
end
