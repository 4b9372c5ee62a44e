// `pretrain serve`: the browser playground (dist/web, built by `npm run build`) on a local HTTP server, with the
// onnxruntime-web files of the installed package under /ort/. Every response carries the cross-origin isolation
// headers (COOP same-origin, COEP require-corp) that multi-threaded WASM needs. Nothing is fetched from elsewhere,
// so it works offline.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { intArg } from './args.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.map': 'application/json', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** The playground's files: dist/web next to the compiled CLI. */
export function webRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
}

/** onnxruntime-web's dist folder (its .mjs and .wasm files). */
export function ortRoot(): string {
  return path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
}

/** Starts the server on host:port (port 0: any free port); resolves with its address once listening. */
export function servePlayground(port: number, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const web = webRoot();
  if (!existsSync(path.join(web, 'index.html')) || !existsSync(path.join(web, 'playground.js')))
    throw new Error(`${web}: the playground is not built; run \`npm run build\``);
  const ort = ortRoot();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const [root, sub] = rel.startsWith('/ort/') ? [ort, rel.slice('/ort/'.length)] : [web, rel.slice(1)];
    const file = path.resolve(root, sub);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${rel}\n`);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `--port ${port}: the port is in use; pick another (or --port 0 for any free one)` : e.message)));
    server.listen(port, host, () => {
      const a = server.address();
      const p = a && typeof a === 'object' ? a.port : port;
      resolve({ server, url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${p}/` });
    });
  });
}

export function registerServeCommand(program: Command, fail: (e: unknown) => never): void {
  program
    .command('serve')
    .description('serve the browser playground (train in the page on onnxruntime-web) on a local address')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (f: { port: string; host: string }) => {
      try {
        const port = intArg('--port', f.port, 0);
        if (port > 65535) throw new Error(`--port ${port}: expected a port number from 0 to 65535 (0: any free port)`);
        const { url } = await servePlayground(port, f.host);
        console.log(`pretrain playground: ${url}  (Ctrl-C stops)`);
      } catch (e) {
        fail(e);
      }
    });
}
