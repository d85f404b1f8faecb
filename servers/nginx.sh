#!/bin/sh
# Runs nginx in the foreground on 127.0.0.1, serving the stages' page the way
# the stages do (see nginx.conf): `servers/nginx.sh --port 5000`. It takes
# `--port N` and `--read-timeout SECONDS` as the stages do, so stage-check's
# --exec can start it, and `--keep-alive-timeout SECONDS` as part 9 does:
# with it, nginx keeps connections open (`--keep-alive-timeout 5`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/options.sh"
command -v nginx >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
# nginx's working folder: its config, the page, and its temporary files.
prefix="${TMPDIR:-/tmp}/stage-nginx-$port"
rm -rf "$prefix"
mkdir -p "$prefix/html" "$prefix/tmp"
printf '%s' '<html><body>Hello World</body></html>' >"$prefix/html/index.html"
sed -e "s/{port}/$port/" -e "s/{read_timeout}/$read_timeout/" \
    -e "s/{keep_alive_timeout}/$keep_alive_timeout/" "$here/nginx.conf" >"$prefix/nginx.conf"
# nginx's workers may run as another user: let them read the page.
chmod -R a+rX "$prefix"
exec nginx -e stderr -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;'
