# The options every script here takes, as the stages do, so that
# stage-check's --exec can start it: `--port N`, `--read-timeout SECONDS`,
# and `--keep-alive-timeout SECONDS` (part 9 on; 0, the default, closes
# every connection after one answer, as the stages up to part 8 do).
# Sourced, `. options.sh`, it reads the arguments of the script that sources
# it, and sets `port`, `read_timeout` and `keep_alive_timeout`.
port=5000
read_timeout=30
keep_alive_timeout=0
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=$2; shift 2 ;;
        --read-timeout) read_timeout=$2; shift 2 ;;
        --keep-alive-timeout) keep_alive_timeout=$2; shift 2 ;;
        *) echo "usage: $0 [--port N] [--read-timeout SECONDS] [--keep-alive-timeout SECONDS]" >&2
           exit 2 ;;
    esac
done
