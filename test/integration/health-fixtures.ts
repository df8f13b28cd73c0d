/** Real servers on loopback for the health-check tests: TCP, HTTP, and a throwaway MariaDB account. */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { createConnection } from 'mysql2/promise';

export function portOf(server: HttpServer | TcpServer): number {
  return (server.address() as AddressInfo).port;
}

export function listen<S extends HttpServer | TcpServer>(server: S): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export function close(server: HttpServer | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function httpServer(handler: RequestListener): Promise<HttpServer> {
  return listen(createHttpServer(handler));
}

/** A TCP port that accepts connections and closes them at once. */
export function openPort(): Promise<TcpServer> {
  return listen(createTcpServer((socket) => socket.destroy()));
}

/** A port nobody listens on: bind one, note it, release it. */
export async function closedPort(): Promise<number> {
  const server = await listen(createTcpServer());
  const port = portOf(server);
  await close(server);
  return port;
}

export interface TestDatabase {
  name: string;
  user: string;
  pass: string;
  drop(): Promise<void>;
}

const ACCOUNT_HOSTS = ['localhost', '127.0.0.1', '%'];

/**
 * A database and a user allowed into it on the MariaDB at 127.0.0.1:3306 (root, no password),
 * named `occopus_hc_<random>` so parallel runs do not collide. `drop()` removes both.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const db = { name: `occopus_hc_${suffix}`, user: `occopus_hc_${suffix}`, pass: `pw-${randomBytes(8).toString('hex')}` };
  const root = await createConnection({ host: '127.0.0.1', port: 3306, user: 'root', connectTimeout: 5000 });
  const drop = async (): Promise<void> => {
    for (const host of ACCOUNT_HOSTS) await root.query('DROP USER IF EXISTS ?@?', [db.user, host]);
    await root.query(`DROP DATABASE IF EXISTS \`${db.name}\``);
    await root.end();
  };
  try {
    await root.query(`CREATE DATABASE \`${db.name}\``);
    for (const host of ACCOUNT_HOSTS) {
      await root.query('CREATE USER ?@? IDENTIFIED BY ?', [db.user, host, db.pass]);
      await root.query(`GRANT ALL ON \`${db.name}\`.* TO ?@?`, [db.user, host]);
    }
  } catch (e) {
    await drop();
    throw e;
  }
  return { ...db, drop };
}
