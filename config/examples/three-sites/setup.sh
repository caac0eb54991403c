#!/usr/bin/env sh
# Makes the three example sites under ROOT (default /tmp/entente-three-sites) and puts each
# site's configuration in place. Then run each node in a terminal of its own:
#   bin/entente node --config ROOT/site-a/node.yaml   (and site-b, site-c)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
entente="$here/../../../bin/entente"
root=${1:-/tmp/entente-three-sites}
"$entente" init --data-dir "$root/site-a" --name site-a --new-domain --listen 127.0.0.1:7401 --admin-listen 127.0.0.1:7481
"$entente" init --data-dir "$root/site-b" --name site-b --listen 127.0.0.1:7402 --admin-listen 127.0.0.1:7482
"$entente" init --data-dir "$root/site-c" --name site-c --listen 127.0.0.1:7403 --admin-listen 127.0.0.1:7483
for s in a b c; do
  cp "$here/site-$s/node.yaml" "$root/site-$s/node.yaml"
  "$entente" config check --config "$root/site-$s/node.yaml"
done
echo "now run: $entente node --config $root/site-a/node.yaml   (and site-b, site-c, each in its own terminal)"
