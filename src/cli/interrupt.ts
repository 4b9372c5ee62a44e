// Ctrl-C for long commands: the first one aborts the signal (the trainer finishes its step and saves), a second
// one quits at once.
export async function withInterrupt<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await run(stop.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
