import { ChildProcess, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as Minio from 'minio';

/** S3-compatible servers that setup/s3-server.sh builds. */
export type S3ServerKind = 'versitygw' | 'minio';

/** Milliseconds that a server gets to respond to its first HTTP request after it starts. */
const STARTUP_TIMEOUT_MS = 30_000;

/** Lines of server output kept for the message of a failed start. */
const OUTPUT_LINES_KEPT = 40;

const running = new Set<ChildProcess>();
// Mocha may exit on a failed hook before `dispose` runs, so the exit handler kills any server.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Returns the server kind that FASHION_GAN_S3_SERVER selects: `versitygw` (default) or `minio`. */
export function selectedServerKind(env = process.env): S3ServerKind {
  const kind = env.FASHION_GAN_S3_SERVER || 'versitygw';
  if (kind !== 'versitygw' && kind !== 'minio') {
    throw new Error(`FASHION_GAN_S3_SERVER must be versitygw or minio, got '${kind}'`);
  }
  return kind;
}

/**
 * Returns the path of the server binary that setup/s3-server.sh built. Tests do not build it
 * themselves, because a first build takes minutes, longer than a mocha hook may run.
 */
export function serverBinary(kind: S3ServerKind): string {
  const script = path.resolve(__dirname, '..', '..', 'setup', 's3-server.sh');
  try {
    const output = execFileSync('bash', [script, kind, '--installed'], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return output.trim().split('\n').pop() as string;
  } catch {
    throw new Error(
      `the ${kind} test server is not built: run 'bash setup/s3-server.sh ${kind}' first`,
    );
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * An S3 server on 127.0.0.1 for tests: a fresh data folder, generated root credentials and one
 * bucket. `stop` and `start` keep the port and the data, so a test can take the server away in
 * the middle of a request and bring it back. `dispose` stops it and deletes the data.
 */
export class S3TestServer {
  readonly kind: S3ServerKind;
  readonly port: number;
  readonly dataDir: string;
  readonly accessKey = `test${randomBytes(8).toString('hex')}`;
  readonly secretKey = randomBytes(20).toString('hex');
  readonly bucket: string;
  private readonly binary: string;
  private child: ChildProcess | undefined;
  private output: string[] = [];

  private constructor(kind: S3ServerKind, binary: string, port: number, bucket: string) {
    this.kind = kind;
    this.binary = binary;
    this.port = port;
    this.bucket = bucket;
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), `fashion-gan-${kind}-`));
  }

  /** Builds (if needed) and starts a server, then creates `bucket` (default `fashion-gan-test`). */
  static async launch(
    options: { kind?: S3ServerKind; bucket?: string } = {},
  ): Promise<S3TestServer> {
    const kind = options.kind ?? selectedServerKind();
    const server = new S3TestServer(
      kind,
      serverBinary(kind),
      await freePort(),
      options.bucket ?? 'fashion-gan-test',
    );
    try {
      await server.start();
      await server.createBucket(server.bucket);
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  /** Endpoint URL, `http://127.0.0.1:<port>`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment variables that point a stage or `openStore` at this server. */
  env(): Record<string, string> {
    return {
      FASHION_GAN_S3_ENDPOINT: this.endpoint,
      AWS_ACCESS_KEY_ID: this.accessKey,
      AWS_SECRET_ACCESS_KEY: this.secretKey,
      AWS_REGION: 'us-east-1',
    };
  }

  /** Store URL of a prefix in the test bucket (or in `bucket`). */
  storeUrl(prefix = '', bucket = this.bucket): string {
    return prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
  }

  /** Creates a minio client with the root credentials, for checks that bypass the store. */
  client(): Minio.Client {
    return new Minio.Client({
      endPoint: '127.0.0.1',
      port: this.port,
      useSSL: false,
      region: 'us-east-1',
      pathStyle: true,
      accessKey: this.accessKey,
      secretKey: this.secretKey,
    });
  }

  async createBucket(bucket: string): Promise<void> {
    await this.client().makeBucket(bucket, 'us-east-1');
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server process on the same port and data folder and waits until it responds. */
  async start(): Promise<void> {
    if (this.child) return;
    const { args, env } = this.command();
    const child = spawn(this.binary, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(child);
    const keep = (data: Buffer) => {
      this.output.push(
        ...data
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      this.output = this.output.slice(-OUTPUT_LINES_KEPT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = undefined;
    });

    try {
      await this.waitUntilAnswering();
    } catch (error) {
      await this.stop();
      throw new Error(`${(error as Error).message}; server output:\n${this.output.join('\n')}`);
    }
  }

  /**
   * Stops the server process and waits for it to exit. SIGKILL (the default) drops open
   * connections mid-request like a crash; SIGTERM lets the server shut down cleanly.
   */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  /** Stops the server and starts it again on the same port and data folder. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private command(): { args: string[]; env: Record<string, string> } {
    const address = `127.0.0.1:${this.port}`;
    if (this.kind === 'versitygw') {
      return {
        args: [
          '--port',
          address,
          '--access',
          this.accessKey,
          '--secret',
          this.secretKey,
          '--quiet',
          'posix',
          this.dataDir,
        ],
        env: {},
      };
    }
    return {
      args: ['server', '--quiet', '--address', address, path.join(this.dataDir, 'data')],
      env: {
        MINIO_ROOT_USER: this.accessKey,
        MINIO_ROOT_PASSWORD: this.secretKey,
        // The test server serves S3 only: no web console, no update or telemetry requests.
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CALLHOME_ENABLE: 'off',
      },
    };
  }

  private async waitUntilAnswering(): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.child) throw new Error(`${this.kind} exited during start-up`);
      if (await this.responds()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `${this.kind} did not respond on ${this.endpoint} within ${STARTUP_TIMEOUT_MS} ms`,
    );
  }

  /**
   * Tells whether an unsigned GET gets an HTTP response other than 503, 403 included. MinIO
   * accepts connections before it is ready and returns 503 until then.
   */
  private responds(): Promise<boolean> {
    return new Promise((resolve) => {
      const request = http.get(`${this.endpoint}/`, { agent: false, timeout: 1000 }, (response) => {
        response.resume();
        resolve(response.statusCode !== 503);
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(false));
    });
  }
}
