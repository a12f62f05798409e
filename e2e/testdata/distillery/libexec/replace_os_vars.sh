# Part of the Distillery STAND-IN (see ../e2e_app), sourced by it.
#
# replace_os_vars SRC DST copies SRC to DST with every ${VAR} replaced by
# the value of the environment variable VAR, and by nothing when VAR is
# unset, on every line, comments included; $VAR and $(VAR) stay as they
# are. This is the behaviour of Distillery 2.1 under REPLACE_OS_VARS that
# relgen's checks are built on (docs/runtime.md, Distillery).
replace_os_vars() {
  awk '{
    out = ""
    while (match($0, /[$][{][A-Za-z_][A-Za-z0-9_]*[}]/)) {
      out = out substr($0, 1, RSTART - 1) ENVIRON[substr($0, RSTART + 2, RLENGTH - 3)]
      $0 = substr($0, RSTART + RLENGTH)
    }
    print out $0
  }' "$1" >"$2"
}
