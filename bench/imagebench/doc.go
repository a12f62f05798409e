// Command imagebench drives the image benchmark (see bench/image.sh): it
// generates a synthetic release and runs single builds, reporting wall time
// and its own peak RSS, so that each phase is measured in a fresh process.
package main
