/**
 * The README's TLS proxy configurations, made runnable here: the same text with its public
 * address, certificate paths and backend port replaced (each replacement must match exactly once,
 * so an edited snippet fails loudly instead of running something else), plus what each proxy
 * needs around the snippet to run as an unprivileged foreground process in a temporary folder.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the test's proxy listens and what it forwards to. */
export interface ProxySetup {
  /** The folder for configuration, certificates and the proxy's own files. */
  dir: string;
  /** Loopback port the proxy listens on. */
  port: number;
  /** Loopback port of the reference server behind it. */
  backendPort: number;
  /** PEM files of a self-signed certificate for `localhost` and its key. */
  cert: string;
  key: string;
}

/** A proxy the README shows: how to start it with the snippet's configuration. */
export interface ProxyKind {
  /** The info string of its code block. */
  info: string;
  /** The binary's name. */
  binary: string;
  /** Writes the runnable configuration; resolves with the arguments that start the proxy in the foreground. */
  prepare(snippet: string, setup: ProxySetup, binary: string): Promise<string[]>;
}

/** `text` with each `[from, to]` replaced; throws unless every `from` occurs exactly once. */
export function replaceOnce(text: string, pairs: ReadonlyArray<readonly [string, string]>, what: string): string {
  let out = text;
  for (const [from, to] of pairs) {
    const count = out.split(from).length - 1;
    if (count !== 1) throw new Error(`The ${what} snippet should contain '${from}' once; found it ${count} times`);
    out = out.replace(from, to);
  }
  return out;
}

export const HAPROXY: ProxyKind = {
  info: 'haproxy',
  binary: 'haproxy',
  async prepare(snippet, s) {
    const pem = join(s.dir, 'haproxy.pem');
    await writeFile(pem, `${await readFile(s.cert, 'utf8')}${await readFile(s.key, 'utf8')}`);
    const config = replaceOnce(
      snippet,
      [
        ['bind :443 ', `bind 127.0.0.1:${s.port} `],
        ['/etc/haproxy/certs/chat.example.pem', pem],
        ['127.0.0.1:8090', `127.0.0.1:${s.backendPort}`],
      ],
      'HAProxy',
    );
    const file = join(s.dir, 'haproxy.cfg');
    await writeFile(file, `${config}\n`);
    return ['-db', '-f', file];
  },
};

export const NGINX: ProxyKind = {
  info: 'nginx',
  binary: 'nginx',
  async prepare(snippet, s) {
    const server = replaceOnce(
      snippet,
      [
        ['listen 443 ssl;', `listen 127.0.0.1:${s.port} ssl;`],
        ['/etc/ssl/certs/chat.example.crt', s.cert],
        ['/etc/ssl/private/chat.example.key', s.key],
        ['127.0.0.1:8090', `127.0.0.1:${s.backendPort}`],
      ],
      'nginx',
    );
    // The snippet goes inside the http block, as the README says; around it, what a foreground nginx in a temporary folder needs.
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${join(s.dir, k)};`);
    const config = [
      'daemon off;',
      `pid ${join(s.dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events {}',
      'http {',
      '  access_log off;',
      ...temp,
      server,
      '}',
      '',
    ].join('\n');
    const file = join(s.dir, 'nginx.conf');
    await writeFile(file, config);
    return ['-p', s.dir, '-c', file];
  },
};

/** The path of `name` on PATH or in the sbin folders (Debian puts both proxies in /usr/sbin), or null. */
export function findBinary(name: string): string | null {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const folder of folders) {
    const candidate = join(folder, name);
    if (folder && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Makes a self-signed P-256 certificate for `localhost` with openssl; resolves with the cert and key paths. */
export async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'localhost.crt');
  const key = join(dir, 'localhost.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}
