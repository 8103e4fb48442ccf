// Child processes of the fan-out bench: the app's gateways and workers, and the bare baseline
// servers. Each runs on its own event loop, apart from the load generator, with its output in a
// log file. Memory is read from outside: /proc for RSS, the V8 inspector for the heap, so the
// servers carry no bench code.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 90_000;

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** What the process printed to say it is ready (the app's start-up log line, or the bare server's JSON). */
  readonly ready: Record<string, any>;
  /** False once the process has exited, for whatever reason. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
  /** Full GC, then RSS and (if the inspector answered) the V8 heap in use, in KB. */
  memory(): Promise<{ rssKb: number; heapUsedKb?: number }>;
  /** User + system CPU time used so far, in seconds. */
  cpuSeconds(): Promise<number>;
}

export interface SpawnOptions {
  name: string;
  /** Arguments after `node --inspect ... --import <swc>`: the script and its flags. */
  args: string[];
  env: Record<string, string>;
  logFile: string;
  /** Picks the ready line out of the process's stdout (JSON lines); returns its content. */
  isReady(line: Record<string, any>): boolean;
  /** Open the V8 inspector for heap figures (default true). */
  inspect?: boolean;
}

/** Starts a TypeScript entry point under swc-node and resolves once it logs that it is ready. */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    // The inspector on a random loopback port, only to read heap figures: nothing is attached during load.
    [...(options.inspect === false ? [] : ['--inspect=127.0.0.1:0']), '--trace-warnings', '--import', '@swc-node/register/esm-register', ...options.args],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(options.logFile, { flags: 'a' });
  let inspectorUrl: string | undefined;
  let tail = '';
  const keep = (line: string) => {
    log.write(`${line}\n`);
    tail = `${tail}${line}\n`.slice(-3_000);
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
    keep(line);
  });
  // 'close', not 'exit': stdout may still hold lines after the process is gone.
  const exited = once(child, 'close').then(() => {
    log.end();
  });

  const ready = await new Promise<Record<string, any>>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => fail(`exited during start-up (code ${code}, signal ${signal})`);
    function fail(why: string) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${options.name} ${why}; log ${options.logFile}:\n${tail}`));
    }
    child.once('exit', onExit);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      let parsed: Record<string, any>;
      try {
        parsed = JSON.parse(line) as Record<string, any>;
      } catch {
        return;
      }
      if (options.isReady(parsed)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(parsed);
      }
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid: child.pid!,
    logFile: options.logFile,
    ready,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: (graceMs = 10_000) => (stopping ??= stopChild(child, exited, graceMs)),
    memory: () => memoryOf(child.pid!, inspectorUrl),
    cpuSeconds: () => cpuSecondsOf(child.pid!),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

// Clock ticks per second of /proc; 100 on every Linux this runs on.
const TICKS = 100;

export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds the whole machine spent busy (every core, every process) since boot. */
export async function machineBusySeconds(): Promise<number> {
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}

async function memoryOf(pid: number, inspectorUrl: string | undefined): Promise<{ rssKb: number; heapUsedKb?: number }> {
  let heapUsedKb: number | undefined;
  if (inspectorUrl) {
    try {
      heapUsedKb = await heapAfterGc(inspectorUrl);
    } catch {
      // RSS alone is still a figure; the report says when the heap is missing.
    }
  }
  return { rssKb: await rssKb(pid), heapUsedKb };
}

/** Over the DevTools protocol: a full GC (twice, so weak references settle), then the heap in use. */
async function heapAfterGc(url: string): Promise<number> {
  const socket = new WebSocket(url);
  await once(socket, 'open');
  let id = 0;
  const call = (method: string) =>
    new Promise<any>((resolve, reject) => {
      const callId = ++id;
      const timer = setTimeout(() => reject(new Error(`${method} timed out`)), 30_000);
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: unknown };
        if (message.id !== callId) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: callId, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize / 1024;
  } finally {
    socket.close();
  }
}
