import Config

# Evaluated at boot by the release's config provider. Discovery is
# deliberately NOT configured here or in any other config/*.exs: the
# peerage keys must come from relgen's /etc/relgen/discovery.config, and
# the test shows they survive the provider.
config :e2e_app, http_port: String.to_integer(System.get_env("HTTP_PORT", "4000"))
