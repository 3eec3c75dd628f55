// Loaded into every benchmarked server alike (project and baselines; `--expose-gc --import`): on SIGUSR2 it
// collects garbage and writes the live heap to BENCH_HEAP_PROBE_DIR/heap-<pid>.json. Plain JS so that it needs no
// loader; it does nothing until signalled.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_HEAP_PROBE_DIR;
if (dir && typeof globalThis.gc === 'function') {
  process.on('SIGUSR2', () => {
    // Twice: the first full GC can leave objects whose finalizers free more.
    globalThis.gc();
    globalThis.gc();
    const { heapUsed, external, rss } = process.memoryUsage();
    writeFileSync(join(dir, `heap-${process.pid}.json`), JSON.stringify({ at: Date.now(), heapUsed, external, rss }));
  });
}
