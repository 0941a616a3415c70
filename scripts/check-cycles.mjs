#!/usr/bin/env node
// The lint check that guards the doors also refuses import cycles between
// parts (STYLE.md "one door per part"): a part that imports another must not
// be imported back by it, directly or through others. Run by `npm run lint`.
//
// Parts are folders. Under every folder, its subfolders are parts and its
// files stand alone; an import from a file under part A (at any depth) of a
// file under part B is an edge A → B. A cycle among the parts of one folder
// is an error. Type-only imports count (a cycle in types is a cycle in the
// design); `declare module` augmentations are not imports; tests and test
// support (which the door rule lets reach across parts) are left out.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
/** Tests and test support are not parts' doors (as in the eslint door rule): they may reach across. */
const TEST_SUPPORT = /(\.test\.(ts|tsx|mts|mjs|js)|(^|\/)test-[^/]*\.ts|-harness\.ts|(^|\/)test-kit\.ts)$|(^|\/)testing\//;

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') && !TEST_SUPPORT.test(path.split(sep).join('/'))) out.push(path);
  }
  return out;
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, `${base}.mts`, `${base}.mjs`, `${base}.js`, join(base, 'index.ts'), join(base, 'index.tsx')];
  if (/\.js$/.test(base)) candidates.push(base.replace(/\.js$/, '.ts'));
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

/** Every relative import: [fromFile, toFile]. */
export function importEdges(files) {
  const edges = [];
  for (const file of files) {
    // Comments cannot import; strings in them must not count.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(IMPORT)) {
      const to = resolveImport(file, m[1] ?? m[2]);
      if (to) edges.push([file, to]);
    }
  }
  return edges;
}

/** The part of `file` among the children of `folder`, or null when it is not under it. */
function partUnder(folder, file) {
  const rel = relative(folder, file);
  if (rel.startsWith('..') || rel === '') return null;
  const [first, ...rest] = rel.split(sep);
  return rest.length === 0 ? first : `${first}/`;
}

/** Strongly connected components with more than one part (Tarjan). */
function cyclesOf(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) found.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** A path through the cycle, for the message: a → b → … → a. */
function pathIn(graph, comp) {
  const members = new Set(comp);
  const start = comp[0];
  const seen = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== null && x !== start; x = seen.get(x)) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...comp, start];
}

/** The import cycles between parts under `roots`: [{ folder, cycle: [part, …, part], via: [[from, to], …] }]. */
export function findCycles(roots) {
  const files = roots.flatMap((r) => (existsSync(r) ? sourceFiles(r) : []));
  const edges = importEdges(files);
  const folders = new Set();
  for (const f of files) for (let d = dirname(f); roots.some((r) => d.startsWith(r)); d = dirname(d)) folders.add(d);
  const problems = [];
  for (const folder of folders) {
    const graph = new Map();
    const via = new Map();
    for (const [from, to] of edges) {
      const a = partUnder(folder, from);
      const b = partUnder(folder, to);
      if (!a || !b || a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a).add(b);
      if (!via.has(`${a}>${b}`)) via.set(`${a}>${b}`, [from, to]);
    }
    for (const comp of cyclesOf(graph)) {
      // Files of one folder importing each other are one part's insides; a cycle must pass through a subfolder.
      if (!comp.some((p) => p.endsWith('/'))) continue;
      const cycle = pathIn(graph, comp);
      problems.push({ folder, cycle, via: cycle.slice(1).map((to, i) => via.get(`${cycle[i]}>${to}`)) });
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const roots = (process.argv.length > 2 ? process.argv.slice(2) : ['shared/src', 'server/src', 'desktop/src']).map((r) => resolve(root, r));
  const problems = findCycles(roots);
  for (const p of problems) {
    console.error(`import cycle in ${relative(root, p.folder) || '.'}: ${p.cycle.join(' → ')}`);
    for (const [from, to] of p.via) console.error(`  ${relative(root, from)} imports ${relative(root, to)}`);
  }
  if (problems.length > 0) {
    console.error(`${problems.length} import cycle(s) between parts: cut them (STYLE.md, one door per part)`);
    process.exit(1);
  }
  console.log('no import cycles between parts');
}
