# The options every script here takes, as the stages do, so that
# stage-check's --exec can start it: `--port N` and `--read-timeout SECONDS`.
# Sourced, `. options.sh`, it reads the arguments of the script that sources
# it, and sets `port` and `read_timeout`.
port=5000
read_timeout=30
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=$2; shift 2 ;;
        --read-timeout) read_timeout=$2; shift 2 ;;
        *) echo "usage: $0 [--port N] [--read-timeout SECONDS]" >&2; exit 2 ;;
    esac
done
