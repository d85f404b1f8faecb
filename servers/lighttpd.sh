#!/bin/sh
# Runs lighttpd in the foreground on 127.0.0.1, serving the stages' page as a
# static file (see lighttpd.conf): `servers/lighttpd.sh --port 5000`. It takes
# `--port N` and `--read-timeout SECONDS` as the stages do, so stage-check's
# --exec can start it.
set -eu
port=5000
read_timeout=30
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=$2; shift 2 ;;
        --read-timeout) read_timeout=$2; shift 2 ;;
        *) echo "usage: $0 [--port N] [--read-timeout SECONDS]" >&2; exit 2 ;;
    esac
done
command -v lighttpd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
here=$(cd "$(dirname "$0")" && pwd)
# lighttpd's working folder: its config and the page.
prefix="${TMPDIR:-/tmp}/stage-lighttpd-$port"
rm -rf "$prefix"
mkdir -p "$prefix/html"
printf '%s' '<html><body>Hello World</body></html>' >"$prefix/html/index.html"
sed -e "s/{port}/$port/" -e "s/{read_timeout}/$read_timeout/" -e "s|{prefix}|$prefix|" \
    "$here/lighttpd.conf" >"$prefix/lighttpd.conf"
chmod -R a+rX "$prefix"
exec lighttpd -D -f "$prefix/lighttpd.conf"
