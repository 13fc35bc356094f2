// The database engines a server-level suite runs on: PGlite always, PostgreSQL when
// DATABASE_URL is set (.ci/run sets it).
export const databaseKinds = (): ('pglite' | 'postgres')[] => (process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);
