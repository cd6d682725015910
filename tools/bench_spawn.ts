/**
 * Runs one command to completion and reads what it cost from the kernel:
 * wall time around `posix_spawnp` and `wait4`, and the child's own rusage
 * (user and system CPU in microseconds, peak resident memory). GNU time and
 * `/proc` round to 10 ms, too coarse for runs of 5 to 30 ms, and
 * `Deno.Command` does not expose rusage, so libc is called directly.
 *
 * The call blocks the whole benchmark process while the child runs: nothing
 * the child talks to may live in this process.
 */

/** What one run cost. */
export interface Cost {
  /** Exit status, or 128 plus the signal number. */
  status: number;
  wallMs: number;
  /** User plus system CPU time of the child and its waited-for children. */
  cpuMs: number;
  /** Peak resident set size in KiB (Linux reports `ru_maxrss` in KiB). */
  maxRssKiB: number;
}

const O_WRONLY = 1;
const RUSAGE_BYTES = 144;
// glibc's posix_spawn_file_actions_t is 80 bytes on 64-bit Linux; leave room.
const FILE_ACTIONS_BYTES = 256;

let libc: ReturnType<typeof openLibc> | undefined;

function openLibc() {
  return Deno.dlopen("libc.so.6", {
    posix_spawnp: {
      parameters: ["buffer", "buffer", "buffer", "pointer", "buffer", "buffer"],
      result: "i32",
    },
    posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
    posix_spawn_file_actions_addopen: {
      parameters: ["buffer", "i32", "buffer", "i32", "u32"],
      result: "i32",
    },
    posix_spawn_file_actions_destroy: {
      parameters: ["buffer"],
      result: "i32",
    },
    wait4: {
      parameters: ["i32", "buffer", "i32", "buffer"],
      result: "i32",
    },
  });
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text + "\0");
}

/** A NULL-terminated array of pointers to the strings, kept alive by `keep`. */
function pointerArray(
  strings: readonly string[],
  keep: Uint8Array[],
): BigUint64Array<ArrayBuffer> {
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((text, index) => {
    const bytes = cString(text);
    keep.push(bytes);
    array[index] = BigInt(
      Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)),
    );
  });
  return array;
}

/**
 * Runs `argv` (looked up on `PATH` of this process) with exactly `env`,
 * stdin, stdout and stderr on `/dev/null`, and waits for it.
 */
export function spawnAndMeasure(
  argv: readonly string[],
  env: Record<string, string>,
): Cost {
  libc ??= openLibc();
  const keep: Uint8Array[] = [];
  const args = pointerArray(argv, keep);
  const environment = pointerArray(
    Object.entries(env).map(([name, value]) => `${name}=${value}`),
    keep,
  );
  const devNull = cString("/dev/null");
  const actions = new Uint8Array(FILE_ACTIONS_BYTES);
  const pid = new Int32Array(1);
  const status = new Int32Array(1);
  const usage = new BigInt64Array(RUSAGE_BYTES / 8);

  const { symbols } = libc;
  check(symbols.posix_spawn_file_actions_init(actions), "file actions");
  for (const fd of [0, 1, 2]) {
    const flags = fd === 0 ? 0 : O_WRONLY;
    check(
      symbols.posix_spawn_file_actions_addopen(actions, fd, devNull, flags, 0),
      "redirect to /dev/null",
    );
  }

  const started = performance.now();
  const spawned = symbols.posix_spawnp(
    pid,
    cString(argv[0] ?? ""),
    actions,
    null,
    args,
    environment,
  );
  if (spawned !== 0) {
    symbols.posix_spawn_file_actions_destroy(actions);
    throw new Error(`Starting '${argv[0]}' failed with errno ${spawned}`);
  }
  const reaped = symbols.wait4(pid[0] as number, status, 0, usage);
  const wallMs = performance.now() - started;
  symbols.posix_spawn_file_actions_destroy(actions);
  if (reaped !== pid[0]) throw new Error(`wait4 on '${argv[0]}' failed`);

  // struct rusage: ru_utime {sec, usec}, ru_stime {sec, usec}, ru_maxrss, ...
  const micros = (seconds: bigint | undefined, us: bigint | undefined) =>
    Number(seconds ?? 0n) * 1e6 + Number(us ?? 0n);
  const cpuMs = (micros(usage[0], usage[1]) + micros(usage[2], usage[3])) /
    1000;
  const raw = status[0] as number;
  const signal = raw & 0x7f;
  return {
    status: signal === 0 ? (raw >> 8) & 0xff : 128 + signal,
    wallMs,
    cpuMs,
    maxRssKiB: Number(usage[4] ?? 0n),
  };
}

function check(result: number, what: string): void {
  if (result !== 0) throw new Error(`Preparing ${what} failed: ${result}`);
}
