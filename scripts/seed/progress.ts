import cliProgress from 'cli-progress';

/** Reports how far a long run has got. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A bar redrawn in place on a terminal; elsewhere (CI logs, a pipe) one plain line per tenth, since
 * carriage-return redraws would fill a log with thousands of lines.
 */
export function createProgress(stream: NodeJS.WriteStream, label: string): Progress {
  return stream.isTTY ? barProgress(stream, label) : lineProgress(stream, label);
}

function barProgress(stream: NodeJS.WriteStream, label: string): Progress {
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed | ETA {eta_formatted}`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function lineProgress(stream: NodeJS.WriteStream, label: string): Progress {
  const startedAt = performance.now();
  let lastTenth = -1;
  return {
    update(done, total) {
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      stream.write(`${label}: ${done}/${total} (${tenth * 10}%) after ${seconds} s\n`);
    },
    stop: () => undefined,
  };
}
