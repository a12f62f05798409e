import Config
# Peer discovery is configured by relgen at runtime (discovery.config in
# the environment's ConfigMap); keep it out of config/*.exs.
