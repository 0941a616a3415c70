/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for tests: every line must be a HELP, a TYPE, a comment or a sample of a
 * declared family; names, label escapes and values are checked; histogram
 * buckets must be cumulative and end in `+Inf` equal to `_count`. Throws on
 * the first fault with its line number.
 */
export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  name: string;
  type: PromType;
  help: string | null;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  // As Prometheus reads it (Go's ParseFloat): Inf and NaN in any case; prom-client writes `Nan`.
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function familyOf(sample: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const direct = families.get(sample);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const family = families.get(sample.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

/** Reads `{a="x",b="y"}` from `line` at `start`; returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') return { labels, end: i + 1 };
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without =`);
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value must be quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\') {
        const next = line[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape \\${next ?? ''}`);
      } else value += line[j];
    }
    if (j >= line.length) throw new Error(`${where}: unterminated label value`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
  }
}

function checkHistogram(family: PromFamily): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      entry.buckets.push([parseValue(le, family.name), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
  }
  for (const { buckets, count } of series.values()) {
    const last = buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${family.name}: no +Inf bucket`);
    for (let i = 1; i < buckets.length; i++) {
      const [prevLe, prevCount] = buckets[i - 1] as [number, number];
      const [le, n] = buckets[i] as [number, number];
      if (!(le > prevLe)) throw new Error(`${family.name}: buckets not ascending`);
      if (n < prevCount) throw new Error(`${family.name}: buckets not cumulative`);
    }
    if (count !== last[1]) throw new Error(`${family.name}: _count ${String(count)} differs from the +Inf bucket ${last[1]}`);
  }
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const where = `line ${index + 1}`;
    const line = raw;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name ${JSON.stringify(name)}`);
      let family = families.get(name);
      if (kind === 'TYPE') {
        if (family && family.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (family && family.type !== 'untyped') throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest as PromType)) throw new Error(`${where}: unknown type ${rest}`);
        if (family) family.type = rest as PromType;
        else families.set(name, { name, type: rest as PromType, help: null, samples: [] });
      } else {
        if (family?.help != null) throw new Error(`${where}: second HELP for ${name}`);
        if (/\\[^n\\]/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        if (!family) {
          family = { name, type: 'untyped', help: null, samples: [] };
          families.set(name, family);
        }
        family.help = rest;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`${where}: not a sample: ${JSON.stringify(line.slice(0, 80))}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i, where));
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length > 2 || parts[0] === undefined) throw new Error(`${where}: extra text after the value`);
    const value = parseValue(parts[0], where);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
    const family = familyOf(name, families);
    if (!family) throw new Error(`${where}: sample ${name} of no declared family`);
    const seriesKey = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(seriesKey)) throw new Error(`${where}: series ${name} twice`);
    seen.add(seriesKey);
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is negative`);
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}
