package discovery

import (
	"fmt"
	"strings"
	"time"

	"github.com/relgen/relgen/release"
)

// libclusterSetup is what a libcluster user adds to the application: the
// dependency and a Cluster.Supervisor reading the topologies relgen's
// config file sets.
const libclusterSetup = `Add {:libcluster, "~> 3.3"} to the deps in mix.exs and start
{Cluster.Supervisor, [Application.get_env(:libcluster, :topologies), [name: MyApp.ClusterSupervisor]]}
in your application's supervision tree; relgen's config (the mounted file, or on the env
route the config/runtime.exs block) sets :topologies.`

// topology is the name of the libcluster topology relgen writes.
const topologyName = "relgen"

// libcluster builds the plan parts every libcluster strategy shares: the
// :libcluster config with one topology for module, whose config holds
// the settings, as a file, as compile-time config and as the env route.
func libcluster(t release.Topology, module string, settings []setting) Plan {
	snippet := func(render func(setting) string) string {
		return fmt.Sprintf("config :libcluster,\n  topologies: [\n    %s: [\n      strategy: %s,\n      config: [\n        %s\n      ]\n    ]\n  ]\n",
			topologyName, module, strings.Join(elixirLines(settings, render), ",\n        "))
	}
	return Plan{
		Config: configFile(fmt.Sprintf("Peer discovery for %s in namespace %s, written by relgen.\n"+
			"Loaded after the release's sys.config, so these keys win.", t.Basename, t.Namespace),
			pair{"libcluster", proplist{{"topologies", proplist{
				{topologyName, proplist{{"strategy", elixirModule(module)}, {"config", entries(settings)}}},
			}}}}),
		App:        "libcluster",
		Elixir:     snippet(setting.literal),
		Setup:      libclusterSetup,
		Basename:   t.Basename,
		envRoute:   settings,
		runtimeExs: runtimeExs(settings, snippet(setting.read)),
	}
}

func millis(d time.Duration) int64 { return int64(d / time.Millisecond) }

// pollingInterval is libcluster's polling_interval, in milliseconds.
func pollingInterval(t release.Topology) setting {
	return numberSetting("polling_interval", "LIBCLUSTER_POLLING_INTERVAL", millis(t.Interval))
}
