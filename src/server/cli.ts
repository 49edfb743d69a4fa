#!/usr/bin/env node
/**
 * `wss-sessions` command line: `wss-sessions serve [--port 8090] [--host 127.0.0.1] …`
 * runs the reference server until SIGINT or SIGTERM, then drains it (see USAGE).
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { createServer, serverDefaults, type ServerOptions, type WssSessionsServer } from './index.js';

/** Where the CLI writes and how it waits for a stop request; injectable for tests. */
export interface CliIo {
  /** Lines for the user (addresses, help). */
  out(line: string): void;
  /** Error lines. */
  err(line: string): void;
  /** Server log lines. */
  logger: Logger;
  /**
   * Resolves when the server should stop (SIGINT/SIGTERM by default).
   * Receives the running server, so tests can drive it.
   */
  waitForStop(server: WssSessionsServer): Promise<void>;
}

/** The usage text printed by `--help`. */
export const USAGE = `Usage: wss-sessions serve [options]

Runs the WebSocket Sessions reference server (WebSocket and HTTP handshake on one port).

Options:
  --port <n>                    TCP port, 0 for any free port (default ${serverDefaults.port})
  --host <address>              interface to listen on (default ${serverDefaults.host})
  --http-only-handshake         accept WSS_Handshake over HTTP POST only
  --max-connections-per-ip <n>  handshakes per client IP (default ${serverDefaults.maxConnectionsPerIp})
  --max-sockets-per-ip <n>      open WebSockets per client IP (default ${serverDefaults.maxSocketsPerIp})
  --max-payload <bytes>         largest message or HTTP body (default ${serverDefaults.maxPayload})
  --max-buffered-bytes <bytes>  outbound bytes one socket may have waiting before it is
                                closed with 1013 (default ${serverDefaults.maxBufferedBytes})
  --max-batch <n>               requests per JSON-RPC batch (default ${serverDefaults.maxBatch})
  --max-depth <n>               nesting levels allowed in params (default ${serverDefaults.maxDepth})
  --request-rate <n>            requests per second per socket (default ${serverDefaults.requestRate})
  --request-burst <n>           requests a socket may send at once (default ${serverDefaults.requestBurst})
  --handshake-timeout <ms>      drop handshakes not connected in time, 0 never (default ${serverDefaults.handshakeTimeout})
  --connect-timeout <ms>        close sockets without a session in time, 0 never (default ${serverDefaults.connectTimeout})
  --allowed-origins <list>      comma-separated origins allowed to open sockets, or * (default *)
  --drain-ms <ms>               on SIGTERM, time clients get to close before they are cut (default ${serverDefaults.drainMs})
  --no-cors                     no Access-Control-Allow-Origin header, no preflight answers
  --no-metrics                  do not serve GET /metrics
  --no-demo                     do not serve the chat demo page at GET /
  --log <level>                 debug, info, warn, error or silent (default info: one line per
                                session connect and disconnect)
  --verbose                     the same as --log debug
  -h, --help                    show this help

GET /healthz answers {"status","sessions","uptime"}; GET /metrics answers Prometheus text.
On SIGTERM or SIGINT the server stops accepting, closes every socket with 1001 "going away"
and exits within --drain-ms; a second signal exits at once.`;

/** Numeric flags and the option each sets. */
const NUMERIC_FLAGS = {
  port: 'port',
  'max-connections-per-ip': 'maxConnectionsPerIp',
  'max-sockets-per-ip': 'maxSocketsPerIp',
  'max-payload': 'maxPayload',
  'max-buffered-bytes': 'maxBufferedBytes',
  'max-batch': 'maxBatch',
  'max-depth': 'maxDepth',
  'request-rate': 'requestRate',
  'request-burst': 'requestBurst',
  'handshake-timeout': 'handshakeTimeout',
  'connect-timeout': 'connectTimeout',
  'drain-ms': 'drainMs',
} as const satisfies Record<string, keyof ServerOptions>;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while draining means "now".
      const now = (): never => process.exit(1);
      process.once('SIGINT', now);
      process.once('SIGTERM', now);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Console-backed I/O for the real command, logging at `level` and above. */
export function consoleIo(level: LogLevel = 'info'): CliIo {
  const noop = (): void => {};
  const at = (wanted: LogLevel, write: (m: string, ...a: unknown[]) => void) =>
    LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(wanted) ? write : noop;
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    logger: {
      debug: at('debug', (m, ...a) => console.debug(m, ...a)),
      info: at('info', (m, ...a) => console.info(m, ...a)),
      warn: at('warn', (m, ...a) => console.warn(m, ...a)),
      error: at('error', (m, ...a) => console.error(m, ...a)),
    },
    waitForStop: () => waitForSignal(),
  };
}

const parseCommandLine = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...(Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((flag) => [flag, { type: 'string' }])) as Record<
        keyof typeof NUMERIC_FLAGS,
        { type: 'string' }
      >),
      host: { type: 'string' },
      'allowed-origins': { type: 'string' },
      log: { type: 'string' },
      'http-only-handshake': { type: 'boolean' },
      'no-cors': { type: 'boolean' },
      'no-metrics': { type: 'boolean' },
      'no-demo': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });

type Parsed = ReturnType<typeof parseCommandLine>['values'];

/** The server options the flags ask for; a string names the first bad flag. */
function optionsFrom(values: Parsed, logger: Logger): ServerOptions | string {
  const options: ServerOptions = { logger };
  for (const [flag, name] of Object.entries(NUMERIC_FLAGS)) {
    const text = values[flag as keyof typeof NUMERIC_FLAGS];
    if (text === undefined) continue;
    if (!/^\d{1,10}$/.test(text)) return `--${flag} must be a whole number; got '${text}'`;
    options[name] = Number(text);
  }
  if (values.host !== undefined) options.host = values.host;
  const origins = values['allowed-origins'];
  if (origins !== undefined) {
    options.allowedOrigins =
      origins.trim() === '*'
        ? '*'
        : origins
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean);
  }
  if (values['http-only-handshake']) options.httpOnlyHandshake = true;
  if (values['no-cors']) options.cors = false;
  if (values['no-metrics']) options.metrics = false;
  if (values['no-demo']) options.demo = false;
  return options;
}

function logLevelOf(values: Parsed): LogLevel | null {
  if (values.verbose) return 'debug';
  const level = values.log ?? 'info';
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : null;
}

/**
 * Runs the command with `argv` (without the `node` and script entries).
 * Resolves with the process exit code.
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    (io ?? consoleIo()).err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const level = logLevelOf(values);
  const use = io ?? consoleIo(level ?? 'info');
  if (values.help) {
    use.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'serve') {
    use.err(`Expected the command 'serve'${positionals.length ? `, got '${positionals.join(' ')}'` : ''}.\n\n${USAGE}`);
    return 2;
  }
  if (level === null) {
    use.err(`--log must be one of ${LOG_LEVELS.join(', ')}; got '${values.log}'`);
    return 2;
  }
  const options = optionsFrom(values, use.logger);
  if (typeof options === 'string') {
    use.err(options);
    return 2;
  }
  return serve(options, use);
}

async function serve(options: ServerOptions, use: CliIo): Promise<number> {
  let server: WssSessionsServer;
  try {
    server = await createServer(options);
  } catch (err) {
    const bad = err instanceof InvalidArgumentError;
    use.err(
      `${bad ? 'Bad option' : 'Could not start the server'}: ${err instanceof Error ? err.message : String(err)}`,
    );
    return bad ? 2 : 1;
  }
  use.out(`WebSocket: ${server.url}`);
  use.out(`HTTP:      ${server.httpUrl}`);
  if (options.demo !== false) use.out(`Chat demo: ${server.httpUrl}/ (open it in two browser windows)`);
  await use.waitForStop(server);
  await server.close();
  use.out('Stopped.');
  return 0;
}

/** True when this module is the program being run (directly or through an npm bin link). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Everything is closed by now; should anything still hold the loop, do not wait for it.
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
