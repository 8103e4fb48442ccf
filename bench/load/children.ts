// The bid benchmark's own child processes: the load generators (load/client.ts) and the engine
// comparison (load/engine.ts), forked with swc's loader and spoken to over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../fanout/processes.js';
import type { EngineJob, EngineMessage, EngineRun, LoadJob, LoadMessage, LoadResult } from './protocol.js';

function forkTs(file: string): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ['--disable-warning=TimeoutNegativeWarning', '--import', '@swc-node/register/esm-register'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface LoadProcess {
  readonly pid: number;
  /** Runs one job; `onProgress` hears the job's running totals about twice a second. */
  run(job: LoadJob, onProgress?: (requests: number, accepted: number) => void): Promise<LoadResult | null>;
  stop(): Promise<void>;
}

/** Forks a load generator and waits until it listens for jobs. */
export async function startLoadProcess(): Promise<LoadProcess> {
  const child = forkTs('./client.ts');
  let current: { resolve(result: LoadResult | null): void; reject(error: Error): void; onProgress?: (requests: number, accepted: number) => void } | undefined;
  let ready: (() => void) | undefined;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (message: LoadMessage) => {
    const job = current;
    switch (message.type) {
      case 'ready':
        ready?.();
        break;
      case 'progress':
        job?.onProgress?.(message.requests, message.accepted);
        break;
      case 'done':
        current = undefined;
        job?.resolve(message.result);
        break;
      case 'failed':
        current = undefined;
        job?.reject(new Error(`load process ${child.pid}: ${message.error}`));
        break;
    }
  });
  child.on('exit', (code, signal) => current?.reject(new Error(`load process ${child.pid} exited (code ${code}, signal ${signal})`)));
  await Promise.race([
    started,
    once(child, 'exit').then(([code]) => {
      throw new Error(`load process exited during start-up (code ${code})`);
    }),
  ]);
  return {
    pid: child.pid!,
    run(job, onProgress) {
      if (current) throw new Error('a load process runs one job at a time');
      return new Promise((resolve, reject) => {
        current = { resolve, reject, onProgress };
        child.send(job);
      });
    },
    stop: () => stop(child),
  };
}

/** Runs the engine comparison in its own process; `onPhase` hears which engine is being driven. */
export async function runEngines(job: EngineJob, onPhase: (name: 'price-book' | 'row-lock', pid: number) => void): Promise<{ priceBook: EngineRun; rowLock: EngineRun }> {
  const child = forkTs('./engine.ts');
  try {
    return await new Promise((resolve, reject) => {
      child.on('message', (message: EngineMessage) => {
        if (message.type === 'phase') onPhase(message.name, child.pid!);
        else if (message.type === 'done') resolve({ priceBook: message.priceBook, rowLock: message.rowLock });
        else reject(new Error(`engine process: ${message.error}`));
      });
      child.on('exit', (code, signal) => reject(new Error(`engine process exited (code ${code}, signal ${signal})`)));
      child.send(job);
    });
  } finally {
    await stop(child);
  }
}
