import Config

# Read at every boot, in the guest, from the environment PID 1 sets: microbeam.env=NAME=VALUE
# on the kernel command line, or the image's /etc/microbeam.env.
config :greeting,
  greeting: System.get_env("GREETING", "hello"),
  port: String.to_integer(System.get_env("PORT", "8080"))
