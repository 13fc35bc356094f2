import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./schemas/db.ts', './schemas/tables/*.ts'],
  out: './drizzle',
});
