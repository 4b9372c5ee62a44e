// The child process of an experiment run with several jobs at a time (jobs.ts forks it): it runs the jobs its
// parent sends, one at a time, on onnxruntime-node, and reports each one's end and log lines. It stops its job
// when asked or when the parent is gone, and exits once the parent disconnects.
import { nodeBackend } from '../runtime/node.js';
import { JobRunner, type FromChild, type ToChild } from './jobs.js';

let runner: JobRunner | undefined;
const stop = new AbortController();
const send = (m: FromChild) => {
  if (process.connected) process.send?.(m);
};

process.on('message', (m: ToChild) => {
  if (m.type === 'init') runner = new JobRunner(m.settings, m.out, nodeBackend, (text) => send({ type: 'log', text }));
  else if (m.type === 'abort') stop.abort();
  else if (m.type === 'job') {
    if (!runner) return send({ type: 'error', message: 'job-worker: a job came before init' });
    runner.run(m.job, stop.signal).then(
      (finished) => send({ type: 'done', finished }),
      (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
  }
});
process.on('disconnect', () => stop.abort());
