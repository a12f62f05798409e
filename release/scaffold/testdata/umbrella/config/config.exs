import Config

# Build-time clustering config: with config/runtime.exs present, a mounted
# -config file could not override these keys.
config :libcluster,
  topologies: [platform: [strategy: Cluster.Strategy.Epmd, config: [hosts: []]]]

import_config "#{config_env()}.exs"
