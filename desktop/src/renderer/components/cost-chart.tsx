/**
 * Spend per day as stacked bars (uPlot), one colour per model, conversation
 * or channel, with a legend that follows the cursor: hover a day, or focus the
 * chart and use ← → Home End, to read its figures. Loaded lazily (React.lazy)
 * so uPlot stays out of the chat's bundle. Colours come from the theme's CSS
 * variables and are read again when the theme changes.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMicros } from '@autoclaw/shared';
import { costText, count, dayLabel, tokensOf, type ChartData } from '../lib/cost-data';

const HEIGHT = 240;
export const SERIES_COLOURS = 6;

/** Bumps when <html data-theme> or the OS colour scheme changes: the chart is drawn again with the new colours. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    const observer = new MutationObserver(bump);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    media.addEventListener('change', bump);
    return () => {
      observer.disconnect();
      media.removeEventListener('change', bump);
    };
  }, []);
  return version;
}

/** Reads the theme's colours (one style lookup for all of them). */
function themeColours(): (name: string) => string {
  const style = getComputedStyle(document.documentElement);
  return (name) => style.getPropertyValue(name).trim();
}

function dollars(v: number): string {
  if (v === 0) return '$0';
  return v < 0.01 ? `$${v.toPrecision(1)}` : `$${v.toFixed(v < 1 ? 2 : 0)}`;
}

export default function CostChart({ data }: { data: ChartData }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [index, setIndex] = useState(data.days.length - 1);
  const theme = useThemeVersion();

  useEffect(() => {
    setIndex(data.days.length - 1);
  }, [data]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Stacked: each series is drawn as the running sum up to it, the tallest first, so each shows as its own band.
    const stacks: number[][] = [];
    let running = data.days.map(() => 0);
    for (const series of data.series) {
      running = running.map((v, d) => v + (series.totals[d]?.costMicros ?? 0) / 1_000_000);
      stacks.push(running);
    }
    const order = data.series.map((_, i) => i).reverse();
    const cssColour = themeColours();
    const muted = cssColour('--muted');
    const grid = cssColour('--border');
    const bars = uPlot.paths.bars?.({ size: [0.75, 28], align: 0 });
    let drawn = false;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
        y: { range: (_u, _min, max) => [0, Math.max(max, 0.01) * 1.1] },
      },
      axes: [
        { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 56, values: (_u, splits) => splits.map(dollars) },
      ],
      series: [
        {},
        ...order.map((i) => {
          const colour = cssColour(`--chart-${(i % SERIES_COLOURS) + 1}`);
          return { label: data.series[i]?.label ?? '', stroke: colour, fill: colour, width: 0, points: { show: false }, ...(bars ? { paths: bars } : {}) };
        }),
      ],
      hooks: {
        setCursor: [
          (u) => {
            if (u.cursor.idx !== null && u.cursor.idx !== undefined) setIndex(u.cursor.idx);
          },
        ],
        draw: [
          () => {
            if (drawn) return;
            drawn = true;
            performance.mark('costs-chart-end');
            // From the data in hand (marked by the page) to the first frame on the canvas.
            if (performance.getEntriesByName('costs-chart-start', 'mark').length > 0) {
              performance.measure('costs-chart-render', 'costs-chart-start', 'costs-chart-end');
            }
          },
        ],
      },
    };
    const u = new uPlot(opts, [data.x, ...order.map((i) => stacks[i] ?? [])], el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [data, theme]);

  /** Moves the cursor (and the legend) to day `i` from the keyboard. */
  function show(i: number) {
    const at = Math.max(0, Math.min(data.days.length - 1, i));
    setIndex(at);
    const u = plot.current;
    const x = data.x[at];
    if (u && x !== undefined) u.setCursor({ left: u.valToPos(x, 'x'), top: HEIGHT / 3 });
  }

  function onKey(event: KeyboardEvent<HTMLDivElement>) {
    const moves: Record<string, number> = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: data.days.length - 1 };
    const to = moves[event.key];
    if (to === undefined) return;
    event.preventDefault();
    show(to);
  }

  const day = data.days[index] ?? '';
  const total = data.daily[index];
  return (
    <figure className="cost-chart">
      <div
        ref={box}
        className="cost-chart-canvas"
        tabIndex={0}
        role="img"
        aria-label="Spend per day. Focus and use the arrow keys to read each day's figures."
        aria-describedby="cost-chart-legend"
        onKeyDown={onKey}
      />
      {total && (
        <figcaption id="cost-chart-legend" className="cost-legend" data-day={day} aria-live="polite">
          <p className="cost-legend-day">
            <strong>{dayLabel(day)}</strong> <span className="cost-legend-total">{costText(total)}</span>
            <span className="muted">
              {' '}
              · {count(tokensOf(total), 'token')} · {count(total.calls, 'call')}
            </span>
          </p>
          <ul className="cost-legend-series">
            {data.series.map((s, i) => {
              const t = s.totals[index];
              if (!t || t.calls === 0) return null;
              return (
                <li key={s.key}>
                  <span className={`swatch swatch-${(i % SERIES_COLOURS) + 1}`} aria-hidden="true" />
                  <span className="cost-legend-label">{s.label}</span>{' '}
                  {t.unpricedCalls === t.calls ? 'unpriced' : formatMicros(t.costMicros)}
                  {t.unpricedCalls > 0 && t.unpricedCalls < t.calls ? ` + ${t.unpricedCalls} unpriced` : ''} · {count(tokensOf(t), 'token')}
                </li>
              );
            })}
          </ul>
        </figcaption>
      )}
    </figure>
  );
}
