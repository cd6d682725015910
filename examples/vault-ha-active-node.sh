#!/bin/sh
# Runs the Vault active-node check with its Deno permissions baked in and a
# cache filled at install time, for keepalived's vrrp_script. Install as
# /usr/local/bin/vault-ha-active-node, owned by root, mode 0755.
DENO=/usr/bin/deno
DENO_DIR=/usr/local/lib/vault-ha-active-node/cache
export DENO_DIR
exec "$DENO" run --quiet --no-prompt --no-config --cached-only \
  --allow-env=VAULT_ADDR --allow-net \
  /usr/local/lib/vault-ha-active-node/main.ts "$@"
