/**
 * The floor of a fetch-based check, for `deno task bench`: one `fetch` of
 * `/v1/sys/leader` under the address given as the only argument, then exit
 * 0 on a 2xx answer. No options, no deadline, no decision.
 */

const response = await fetch(`${Deno.args[0]}/v1/sys/leader`);
await response.text();
Deno.exit(response.ok ? 0 : 1);
