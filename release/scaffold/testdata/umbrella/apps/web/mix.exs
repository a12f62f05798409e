defmodule Web.MixProject do
  use Mix.Project

  def project do
    [
      app: :web,
      version: "3.1.4",
      build_path: "../../_build",
      deps: [{:phoenix, "~> 1.7"}, {:core, in_umbrella: true}]
    ]
  end
end
