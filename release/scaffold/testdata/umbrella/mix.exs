defmodule Platform.MixProject do
  use Mix.Project

  def project do
    [
      apps_path: "apps",
      version: "3.1.4",
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      releases: [
        platform: [
          applications: [core: :permanent, web: :permanent],
          steps: [:assemble, :tar]
        ],
        worker: [applications: [core: :permanent]]
      ]
    ]
  end

  defp deps do
    []
  end
end
