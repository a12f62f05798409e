defmodule MyApp.Mixfile do
  use Mix.Project

  def project do
    [app: :myapp,
     version: "0.1.0",
     elixir: "~> 1.6",
     start_permanent: Mix.env == :prod,
     deps: deps()]
  end

  defp deps do
    [{:phoenix, "~> 1.3.0"},
     {:distillery, "~> 2.0"},
     {:peerage, "~> 1.0"}]
  end
end
