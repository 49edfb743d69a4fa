#!/usr/bin/env node
/**
 * `wss-sessions` command line: `wss-sessions serve [--port 8090] [--host 127.0.0.1]`
 * runs the reference server until SIGINT or SIGTERM.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer, serverDefaults, type WssSessionsServer } from './index.js';
import type { Logger } from '../util/logger.js';

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
  --port <n>        TCP port, 0 for any free port (default ${serverDefaults.port})
  --host <address>  interface to listen on (default ${serverDefaults.host})
  --http-only-handshake
                    accept WSS_Handshake over HTTP POST only
  --no-demo         do not serve the chat demo page at GET /
  --verbose         log every session event (debug level)
  -h, --help        show this help

Stops cleanly on SIGINT (Ctrl+C) or SIGTERM.`;

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Console-backed I/O for the real command. */
export function consoleIo(verbose: boolean): CliIo {
  const noop = (): void => {};
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    logger: {
      debug: verbose ? (m, ...a) => console.debug(m, ...a) : noop,
      info: (m, ...a) => console.info(m, ...a),
      warn: (m, ...a) => console.warn(m, ...a),
      error: (m, ...a) => console.error(m, ...a),
    },
    waitForStop: () => waitForSignal(),
  };
}

function parsePort(text: string | undefined): number | null {
  if (text === undefined) return serverDefaults.port;
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

const parseCommandLine = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'http-only-handshake': { type: 'boolean' },
      'no-demo': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });

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
    (io ?? consoleIo(false)).err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const use = io ?? consoleIo(values.verbose === true);
  if (values.help) {
    use.out(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'serve') {
    use.err(`Expected the command 'serve'${positionals.length ? `, got '${positionals.join(' ')}'` : ''}.\n\n${USAGE}`);
    return 2;
  }
  const port = parsePort(values.port);
  if (port === null) {
    use.err(`--port must be an integer from 0 to 65535; got '${values.port}'`);
    return 2;
  }
  let server: WssSessionsServer;
  try {
    server = await createServer({
      port,
      host: values.host ?? serverDefaults.host,
      httpOnlyHandshake: values['http-only-handshake'] === true,
      demo: values['no-demo'] !== true,
      logger: use.logger,
    });
  } catch (err) {
    use.err(`Could not start the server: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  use.out(`WebSocket: ${server.url}`);
  use.out(`HTTP:      ${server.httpUrl}`);
  if (values['no-demo'] !== true) use.out(`Chat demo: ${server.httpUrl}/ (open it in two browser windows)`);
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
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
