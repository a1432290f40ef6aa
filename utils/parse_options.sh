#!/usr/bin/env bash
# Kaldi-style option parsing, sourced by scripts after their option variables are set:
#   nj=4; cmd=utils/run.pl; . utils/parse_options.sh
# Every variable declared before sourcing can be set as --name value or --name=value (dashes in the option
# stand for underscores in the variable). A variable whose value is true/false only takes true/false.
# --config FILE sources FILE (shell assignments) first. --help prints $help_message and the options with
# their current values, then exits 0. Parsing stops at the first argument not starting with --.

__po_print_help() {
  [ -n "${help_message:-}" ] && printf '%s\n' "$help_message" >&2
  echo "Options (current values):" >&2
  local v
  for v in "${__po_vars[@]}"; do
    printf '  --%-28s %s\n' "${v//_/-}" "${!v}" >&2
  done
}

# Variables declared so far that look like options (set, not starting with _ or upper case).
__po_vars=()
while IFS= read -r __po_line; do
  __po_name=${__po_line%%=*}
  case $__po_name in
    [a-z]*) __po_vars+=("$__po_name") ;;
  esac
done < <(set -o posix; set | grep -E '^[a-z][a-z0-9_]*=')

while true; do
  [ $# -eq 0 ] && break
  case "$1" in
    --help|-h)
      __po_print_help; exit 0 ;;
    --config=*)
      __po_cfg=${1#--config=}; shift
      [ -f "$__po_cfg" ] || { echo "$0: no such config file $__po_cfg" >&2; exit 1; }
      . "$__po_cfg" ;;
    --config)
      [ $# -ge 2 ] || { echo "$0: --config needs a file" >&2; exit 1; }
      [ -f "$2" ] || { echo "$0: no such config file $2" >&2; exit 1; }
      . "$2"; shift 2 ;;
    --*=*)
      __po_opt=${1%%=*}; __po_val=${1#*=}; shift
      __po_name=${__po_opt#--}; __po_name=${__po_name//-/_}
      set -- "--${__po_name}" "$__po_val" "$@"
      ;;
    --*)
      __po_name=${1#--}; __po_name=${__po_name//-/_}
      if ! declare -p "$__po_name" >/dev/null 2>&1 || [[ ! $__po_name =~ ^[a-z][a-z0-9_]*$ ]]; then
        echo "$0: invalid option $1" >&2; __po_print_help; exit 1
      fi
      [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      __po_old=${!__po_name}
      if [ "$__po_old" = true ] || [ "$__po_old" = false ]; then
        if [ "$2" != true ] && [ "$2" != false ]; then
          echo "$0: option $1 takes true or false, got '$2'" >&2; exit 1
        fi
      fi
      printf -v "$__po_name" '%s' "$2"
      shift 2 ;;
    *) break ;;
  esac
done
unset __po_line __po_name __po_cfg __po_opt __po_val __po_old __po_vars
true
