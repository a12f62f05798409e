~w(rel plugins *.exs)
|> Path.join()
|> Path.wildcard()
|> Enum.map(&Code.eval_file(&1))

use Mix.Releases.Config,
  default_release: :default,
  default_environment: Mix.env()

environment :prod do
  set include_erts: true
  set include_src: false
  set vm_args: "rel/vm.args"
end

# release :old_name do
release :myapp do
  set version: current_version(:myapp)
  set applications: [:runtime_tools]
end
