// A fresh PostgreSQL database per test file, on the server DATABASE_URL points at.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const postgresUrl = () => process.env.DATABASE_URL;

export async function createTestPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = postgresUrl();
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `pf_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
