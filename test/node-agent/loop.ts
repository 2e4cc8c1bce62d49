// A level-triggered reconcile loop: watch events and internal state changes only "kick" it; each
// pass reads the current state and acts, so missed events and agent restarts do no harm.

export interface Loop {
  kick(): void;
  stop(): Promise<void>;
}

export function startLoop(name: string, reconcile: () => Promise<void>, log: (line: string) => void, resyncMs = 2000): Loop {
  let stopped = false;
  let dirty = false;
  let running: Promise<void> | undefined;
  let lastError = '';

  const run = async (): Promise<void> => {
    while (dirty && !stopped) {
      dirty = false;
      try {
        await reconcile();
        lastError = '';
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // The same failure repeats on every pass while e.g. the API is down; say it once.
        if (message !== lastError) log(`${name}: ${message}`);
        lastError = message;
        await new Promise((resolve) => setTimeout(resolve, 500));
        dirty = true;
      }
    }
    running = undefined;
  };
  const kick = (): void => {
    dirty = true;
    if (running === undefined && !stopped) running = run();
  };
  const timer = setInterval(kick, resyncMs);
  kick();
  return {
    kick,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
