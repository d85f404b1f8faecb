#!/bin/sh
# Runs lighttpd in the foreground on 127.0.0.1, serving the stages' page as a
# static file (see lighttpd.conf): `servers/lighttpd.sh --port 5000`. It takes
# `--port N` and `--read-timeout SECONDS` as the stages do, so stage-check's
# --exec can start it, and `--keep-alive-timeout SECONDS` as part 9 does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/options.sh"
command -v lighttpd >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
# lighttpd's working folder: its config and the page.
prefix="${TMPDIR:-/tmp}/stage-lighttpd-$port"
rm -rf "$prefix"
mkdir -p "$prefix/html"
printf '%s' '<html><body>Hello World</body></html>' >"$prefix/html/index.html"
requests=1000
[ "$keep_alive_timeout" -gt 0 ] || requests=0
sed -e "s/{port}/$port/" -e "s/{read_timeout}/$read_timeout/" -e "s|{prefix}|$prefix|" \
    -e "s/{keep_alive_timeout}/$keep_alive_timeout/" -e "s/{max_keep_alive_requests}/$requests/" \
    "$here/lighttpd.conf" >"$prefix/lighttpd.conf"
chmod -R a+rX "$prefix"
exec lighttpd -D -f "$prefix/lighttpd.conf"
