/**
 * What `deno task bench` prints: medians per variant, ratios against the
 * baselines, the goals, as a Markdown table and as a JSON record.
 */

/** The measurements of one variant across all rounds. */
export interface Samples {
  name: string;
  /** How the variant was run, for the reader of the report. */
  command: string;
  /** Whether this variant is one of ours (held to the goals). */
  ours: boolean;
  wallMs: number[];
  cpuMs: number[];
  /** Empty when GNU time is missing. */
  maxRssKiB: number[];
}

/** A variant that could not be measured here, and why. */
export interface Skipped {
  name: string;
  reason: string;
}

/** The median, or null for no samples. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The goals a check of ours is held to, as ratios to a baseline. */
export const GOALS = {
  wallVsFloor: 1.15,
  cpuVsFloor: 1.15,
  rssVsFloor: 1.05,
  wallVsPython: 0.25,
  cpuVsPython: 0.25,
} as const;

const BASELINES = ["fetch floor", "curl", "python3 + requests"] as const;

interface Row {
  name: string;
  command: string;
  ours: boolean;
  runs: number;
  wall_ms: number | null;
  cpu_ms: number | null;
  max_rss_mib: number | null;
  ratios: Record<string, Record<string, number | null>>;
  goals?: Record<string, boolean | null>;
}

/** Builds the JSON record of a benchmark run. */
export function buildRecord(
  samples: readonly Samples[],
  skipped: readonly Skipped[],
  context: Record<string, unknown>,
): Record<string, unknown> {
  const medians = new Map(samples.map((variant) => [variant.name, {
    wall: median(variant.wallMs),
    cpu: median(variant.cpuMs),
    rss: median(variant.maxRssKiB),
  }]));
  const ratio = (value: number | null, base: number | null | undefined) =>
    value === null || base === null || base === undefined || base === 0
      ? null
      : round(value / base, 2);

  const rows: Row[] = samples.map((variant) => {
    const own = medians.get(variant.name)!;
    const ratios: Row["ratios"] = {};
    for (const baseline of BASELINES) {
      const base = medians.get(baseline);
      if (base === undefined || baseline === variant.name) continue;
      ratios[baseline] = {
        wall: ratio(own.wall, base.wall),
        cpu: ratio(own.cpu, base.cpu),
        max_rss: ratio(own.rss, base.rss),
      };
    }
    const row: Row = {
      name: variant.name,
      command: variant.command,
      ours: variant.ours,
      runs: variant.wallMs.length,
      wall_ms: own.wall === null ? null : round(own.wall, 1),
      cpu_ms: own.cpu === null ? null : round(own.cpu, 1),
      max_rss_mib: own.rss === null ? null : round(own.rss / 1024, 1),
      ratios,
    };
    if (variant.ours) row.goals = goalsMet(ratios);
    return row;
  });
  return { ...context, goals: GOALS, variants: rows, skipped };
}

function goalsMet(ratios: Row["ratios"]): Record<string, boolean | null> {
  const floor = ratios["fetch floor"];
  const python = ratios["python3 + requests"];
  const atMost = (value: number | null | undefined, limit: number) =>
    value === null || value === undefined ? null : value <= limit;
  return {
    wall_vs_floor: atMost(floor?.wall, GOALS.wallVsFloor),
    cpu_vs_floor: atMost(floor?.cpu, GOALS.cpuVsFloor),
    max_rss_vs_floor: atMost(floor?.max_rss, GOALS.rssVsFloor),
    wall_vs_python: atMost(python?.wall, GOALS.wallVsPython),
    cpu_vs_python: atMost(python?.cpu, GOALS.cpuVsPython),
  };
}

/** Renders the record as a Markdown table plus notes. */
export function renderMarkdown(record: Record<string, unknown>): string {
  const rows = record.variants as Row[];
  const skipped = record.skipped as Skipped[];
  const show = (value: number | null, digits = 1) =>
    value === null ? "n/a" : value.toFixed(digits);
  const times = (value: number | null | undefined) =>
    value === null || value === undefined ? "n/a" : `${value.toFixed(2)}x`;
  const lines = [
    "| variant | wall ms | CPU ms | max RSS MiB | vs fetch floor (wall / CPU / RSS) | vs python3 + requests (wall / CPU / RSS) | vs curl (wall / CPU / RSS) |",
    "| --- | ---: | ---: | ---: | --- | --- | --- |",
  ];
  for (const row of rows) {
    const against = (baseline: string) => {
      const r = row.ratios[baseline];
      return r === undefined
        ? "-"
        : `${times(r.wall)} / ${times(r.cpu)} / ${times(r.max_rss)}`;
    };
    lines.push(
      `| ${row.name} | ${show(row.wall_ms)} | ${show(row.cpu_ms)} | ${
        show(row.max_rss_mib)
      } | ${against("fetch floor")} | ${against("python3 + requests")} | ${
        against("curl")
      } |`,
    );
  }
  lines.push("");
  for (const row of rows) {
    if (!row.goals) continue;
    const missed = Object.entries(row.goals)
      .filter(([, met]) => met === false)
      .map(([goal]) => goal);
    lines.push(
      `- ${row.name}: ${
        missed.length === 0 ? "meets every goal" : `misses ${missed.join(", ")}`
      }`,
    );
  }
  for (const skip of skipped) {
    lines.push(`- ${skip.name}: skipped, ${skip.reason}`);
  }
  return lines.join("\n");
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
