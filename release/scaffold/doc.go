// Package scaffold writes the first relgen.yaml of a project, the work of
// `relgen init`: it reads what it can from the Mix project (release name,
// version, Distillery or mix release, the clustering library among the
// deps) and renders a commented config from the embedded template, with
// placeholders where only the user knows the answer.
//
// Reading mix.exs is deliberately shallow: a few regular expressions over
// the source with comments removed, not an Elixir parser. Anything it
// cannot read falls back to a default the generated comments explain.
package scaffold
