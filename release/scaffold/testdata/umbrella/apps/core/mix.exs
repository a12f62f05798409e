defmodule Core.MixProject do
  use Mix.Project

  def project do
    [
      app: :core,
      version: "3.1.4",
      build_path: "../../_build",
      deps_path: "../../deps",
      deps: [{:libcluster, "~> 3.3"}, {:ecto_sql, "~> 3.10"}]
    ]
  end
end
