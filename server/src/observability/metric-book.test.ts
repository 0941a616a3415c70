import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../testing';
import { createMetricBook } from './metric-book';

describe('metric book', () => {
  it('renders counters, gauges, histograms and process metrics as valid Prometheus text', async () => {
    const book = createMetricBook();
    const turns = book.counter('autoclaw_test_turns_total', 'Turns.');
    book.gauge('autoclaw_test_instances', 'Instances by state.', async () => [
      { labels: { state: 'running' }, value: 3 },
      { labels: { state: 'say "hi"\n\\' }, value: 1 },
    ]);
    const latency = book.histogram('autoclaw_test_turn_seconds', 'Turn time.', [0.1, 1, 10]);
    turns.inc({ status: 'done' });
    turns.inc({ status: 'done' }, 2);
    turns.inc({ status: 'failed' });
    latency.observe(0.05);
    latency.observe(2);
    latency.observe(100);
    const { body, contentType } = await book.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(body);
    expect(families.get('autoclaw_test_turns_total')?.type).toBe('counter');
    expect(families.get('autoclaw_test_turns_total')?.samples.map((s) => [s.labels['status'], s.value])).toEqual([
      ['done', 3],
      ['failed', 1],
    ]);
    expect(families.get('autoclaw_test_instances')?.samples[1]?.labels['state']).toBe('say "hi"\n\\');
    const buckets = families.get('autoclaw_test_turn_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels['le'], s.value]);
    expect(buckets).toEqual([
      ['0.1', 1],
      ['1', 1],
      ['10', 2],
      ['+Inf', 3],
    ]);
    expect(families.get('autoclaw_test_turn_seconds')?.samples.find((s) => s.name.endsWith('_sum'))?.value).toBeCloseTo(102.05);
    // prom-client's process metrics come along.
    expect(families.get('process_resident_memory_bytes')?.samples[0]?.value).toBeGreaterThan(0);
    expect(families.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('refuses a bad or repeated name', () => {
    const book = createMetricBook();
    expect(() => book.counter('bad name', 'x')).toThrow(/invalid metric name/);
    book.counter('ok_total', 'x');
    expect(() => book.gauge('ok_total', 'x', () => 1)).toThrow(/already/);
  });
});

describe('the strict Prometheus text parser (test support)', () => {
  it.each([
    ['a sample of no declared family', 'x 1\n'],
    ['a bad value', '# TYPE x gauge\nx one\n'],
    ['a bad label escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['a repeated series', '# TYPE x gauge\nx 1\nx 2\n'],
    ['a non-cumulative histogram', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a missing final newline', '# TYPE x gauge\nx 1'],
    ['a negative counter', '# TYPE c counter\nc -1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
