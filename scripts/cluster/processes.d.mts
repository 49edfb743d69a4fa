// Types of processes.mjs (plain JavaScript, so that bench/ and scripts/ run it with node alone).

export declare const ROOT: string;
export declare const REDIS_SERVER: string;
export declare const HAPROXY: string;
export declare const HAPROXY_CONFIG: string;
export declare const NODE_ENTRY: string;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export declare function freePort(host?: string): Promise<number>;

export declare class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  readonly exitStatus: ExitStatus | null;
  constructor(
    name: string,
    command: string,
    args: readonly string[],
    options?: { env?: Record<string, string>; cwd?: string },
  );
  readonly output: string[];
  readonly running: boolean;
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
  kill(): Promise<ExitStatus>;
  killGroup(): void;
}

export declare class RedisServer {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  static start(): Promise<RedisServer>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface NodeAddress {
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
}

export declare class ServerNode implements NodeAddress {
  readonly url: string;
  readonly httpUrl: string;
  readonly port: number;
  static start(options?: Record<string, unknown>, init?: { name?: string }): Promise<ServerNode>;
  static cli(args?: readonly string[], init?: { name?: string }): Promise<ServerNode>;
  readonly process: ManagedProcess;
  readonly running: boolean;
  stop(): Promise<ExitStatus>;
  kill(): Promise<ExitStatus>;
}

export declare class Haproxy {
  readonly port: number;
  readonly url: string;
  readonly httpUrl: string;
  static start(nodes: readonly { port: number }[], init?: { port?: number }): Promise<Haproxy>;
  readonly process: ManagedProcess;
  stop(): Promise<ExitStatus>;
}
