/**
 * Runs one simulated Vault or OpenBao node as its own process, switchable
 * through HTTP on a unix socket, which reaches across network namespaces.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write \
 *   tests/support/simulator_main.ts --hostname 127.0.0.1 --port 8200 \
 *   --product vault --state active --control /tmp/vault-a.sock
 * ```
 *
 * Once both sockets listen it prints `ready <url>` on stdout and nothing
 * else; it stops on SIGTERM or SIGINT. Control requests:
 *
 * - `GET /state`: the current settings, as JSON
 * - `POST /state` with a JSON change such as `{"state":"sealed"}`,
 *   `{"behaviour":"hang"}` or `{"behaviour":"slow","delayMs":500}`: the new
 *   settings, or 400 `{"error":"..."}`
 * - `GET /requests`: every recorded request, as a JSON list
 * - `DELETE /requests`: forgets them and answers `[]`
 */

import { parseArgs } from "node:util";
import {
  type NodeStateName,
  type Product,
  type Simulator,
  type SimulatorChange,
  startSimulator,
} from "./simulator.ts";
import { removeSocket } from "./simulator_wire.ts";

const USAGE = "Usage: simulator_main.ts [--hostname ADDRESS] " +
  "[--port PORT | --path SOCKET] [--product vault|openbao] [--state NAME] " +
  "[--cert FILE --key FILE [--ca-cert FILE --require-client-cert]] " +
  "[--control SOCKET]";

/** Runs the simulator until a signal; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(args);
  } catch (error) {
    return fail(error, 2);
  }

  let simulator: Simulator;
  let control: Deno.HttpServer | null;
  try {
    simulator = await startSimulator(await listenOptions(options));
    control = options.control === undefined
      ? null
      : serveControl(options.control, simulator);
  } catch (error) {
    const usage = error instanceof RangeError || error instanceof TypeError;
    return fail(error, usage ? 2 : 1);
  }

  // deno-lint-ignore no-console
  console.log(`ready ${simulator.url}`);
  await untilStopped();

  await control?.shutdown();
  if (options.control !== undefined) removeSocket(options.control);
  await simulator.close();
  return 0;
}

function readOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
      path: { type: "string" },
      product: { type: "string", default: "vault" },
      state: { type: "string", default: "active" },
      cert: { type: "string" },
      key: { type: "string" },
      "ca-cert": { type: "string" },
      "require-client-cert": { type: "boolean", default: false },
      control: { type: "string" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port must be 0 to 65535, not "${values.port}"`);
  }
  return { ...values, port };
}

async function listenOptions(options: ReturnType<typeof readOptions>) {
  const read = (path: string | undefined) =>
    path === undefined ? undefined : Deno.readTextFile(path);
  const [cert, key, caCert] = await Promise.all([
    read(options.cert),
    read(options.key),
    read(options["ca-cert"]),
  ]);
  return {
    hostname: options.hostname,
    port: options.port,
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(caCert === undefined ? {} : { caCert }),
    requireClientCert: options["require-client-cert"],
    product: options.product as Product,
    state: options.state as NodeStateName,
  };
}

/** Serves the control requests on a unix socket at `path`. */
function serveControl(path: string, simulator: Simulator): Deno.HttpServer {
  return Deno.serve(
    { path, onListen: () => {} },
    (request) => answerControl(request, simulator),
  );
}

async function answerControl(
  request: Request,
  simulator: Simulator,
): Promise<Response> {
  const route = `${request.method} ${new URL(request.url).pathname}`;
  try {
    switch (route) {
      case "GET /state":
        return Response.json(simulator.settings);
      case "POST /state":
        return Response.json(simulator.set(readChange(await request.json())));
      case "GET /requests":
        return Response.json(simulator.requests);
      case "DELETE /requests":
        simulator.clearRequests();
        return Response.json([]);
      default:
        return Response.json(
          { error: `Unknown control request "${route}"` },
          { status: 404 },
        );
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return Response.json({ error: message }, { status: 400 });
  }
}

/** The fields of a state change and whether a value fits each. */
const CHANGE_FIELDS: Readonly<Record<string, (field: unknown) => boolean>> = {
  product: (field) => typeof field === "string",
  state: (field) => typeof field === "string",
  behaviour: (field) => typeof field === "string",
  delayMs: (field) => typeof field === "number",
  location: (field) => typeof field === "string",
};

/** Checks the fields and types of a change; `set` checks the names. */
function readChange(value: unknown): SimulatorChange {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("A state change must be a JSON object");
  }
  for (const [name, field] of Object.entries(value)) {
    const fits = Object.hasOwn(CHANGE_FIELDS, name)
      ? CHANGE_FIELDS[name]
      : undefined;
    if (fits === undefined) {
      throw new TypeError(`Unknown field "${name}" in a state change`);
    }
    if (!fits(field)) {
      const expected = name === "delayMs" ? "number" : "string";
      throw new TypeError(`Field "${name}" must be a ${expected}`);
    }
  }
  return value as SimulatorChange;
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGTERM", stop);
      Deno.removeSignalListener("SIGINT", stop);
      resolve();
    };
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
  });
}

function fail(error: unknown, status: number): number {
  const message = error instanceof Error ? error.message : String(error);
  // deno-lint-ignore no-console
  console.error(`error: ${message}\n${USAGE}`);
  return status;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
