"""The original tool's stack, for `deno task bench`: python3 and requests
asking /v1/sys/leader under the address given as the only argument, exiting
0 when the answer says this node is the active one."""

import sys

import requests

answer = requests.get(sys.argv[1] + "/v1/sys/leader", timeout=1).json()
sys.exit(0 if answer.get("ha_enabled") and answer.get("is_self") else 1)
