/**
 * Counters, gauges and histograms kept as plain numbers, rendered in the
 * Prometheus text format by prom-client at scrape time. prom-client (about
 * 12 MB with its process metrics) is loaded on the first scrape, not at
 * start: an awake gateway is a per-user cost and most are never scraped.
 */
export type Labels = Readonly<Record<string, string>>;
export interface LabelledValue {
  labels: Labels;
  value: number;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(value: number): void;
}

export interface MetricBook {
  /** A monotonically growing count; name it `…_total`. */
  counter(name: string, help: string): Counter;
  /** A value read at scrape time (a number, or one value per label set). */
  gauge(name: string, help: string, read: () => number | LabelledValue[] | Promise<number | LabelledValue[]>): void;
  /** Observations counted in cumulative buckets (upper bounds, ascending). */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram;
  /** The whole book plus the process metrics, as Prometheus text. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** What prom-client's Registry reads from a registered metric (`get()`), in its own shape. */
interface MetricSource {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Array<{ value: number; labels: Labels; metricName?: string }> }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

export function createMetricBook(): MetricBook {
  const sources: MetricSource[] = [];
  let registry: Promise<{ metrics(): Promise<string>; contentType: string; registerMetric(m: MetricSource): void }> | null = null;

  function add(source: Omit<MetricSource, 'aggregator' | 'get'>, values: () => Promise<Array<{ value: number; labels: Labels; metricName?: string }>>): void {
    if (!NAME.test(source.name)) throw new TypeError(`invalid metric name ${source.name}`);
    if (sources.some((s) => s.name === source.name)) throw new TypeError(`metric ${source.name} is already in the book`);
    const full: MetricSource = {
      ...source,
      aggregator: 'sum',
      get: async () => ({ name: source.name, help: source.help, type: source.type, aggregator: 'sum', values: await values() }),
    };
    sources.push(full);
  }

  return {
    counter(name, help) {
      const counts = new Map<string, LabelledValue>();
      add({ name, help, type: 'counter' }, async () => (counts.size === 0 ? [{ labels: {}, value: 0 }] : [...counts.values()]));
      return {
        inc(labels = {}, by = 1) {
          if (!(by >= 0)) return;
          const key = labelKey(labels);
          const entry = counts.get(key);
          if (entry) entry.value += by;
          else counts.set(key, { labels: { ...labels }, value: by });
        },
      };
    },

    gauge(name, help, read) {
      add({ name, help, type: 'gauge' }, async () => {
        const value = await read();
        return typeof value === 'number' ? [{ labels: {}, value }] : value;
      });
    },

    histogram(name, help, buckets) {
      const bounds = [...buckets];
      const counts = bounds.map(() => 0);
      let sum = 0;
      let count = 0;
      add({ name, help, type: 'histogram' }, async () => [
        ...bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { le: String(le) }, value: counts[i] ?? 0 })),
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: {}, value: sum },
        { metricName: `${name}_count`, labels: {}, value: count },
      ]);
      return {
        observe(value) {
          if (!Number.isFinite(value)) return;
          sum += value;
          count += 1;
          bounds.forEach((le, i) => {
            if (value <= le) counts[i] = (counts[i] ?? 0) + 1;
          });
        },
      };
    },

    async render() {
      registry ??= import('prom-client').then((prom) => {
        const reg = new prom.Registry();
        prom.collectDefaultMetrics({ register: reg });
        return reg as unknown as { metrics(): Promise<string>; contentType: string; registerMetric(m: MetricSource): void };
      });
      const reg = await registry;
      // Registering the same object again is a no-op; a metric added after the first scrape joins here.
      for (const source of sources) reg.registerMetric(source);
      return { contentType: reg.contentType, body: await reg.metrics() };
    },
  };
}
