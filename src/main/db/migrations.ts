import { NasError } from '../../shared'
import type { Db } from './connection'

/** One schema step. `version` numbers start at 1 and increase by one; never edit a released step. */
export interface Migration {
  version: number
  description: string
  sql: string
}

/** The schema, in order. JSON columns are TEXT, validated with the shared zod schemas on read. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'datasets, spaces, runs, trials, trial_epochs, exports',
    sql: `
      CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        input_shape TEXT NOT NULL,
        class_names TEXT NOT NULL,
        num_train INTEGER NOT NULL,
        num_test INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE spaces (
        id TEXT PRIMARY KEY,
        preset_key TEXT UNIQUE,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        preset INTEGER NOT NULL CHECK (preset IN (0, 1)),
        def TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id),
        space_id TEXT NOT NULL REFERENCES spaces(id),
        config TEXT NOT NULL,
        space_def TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        trials_completed INTEGER NOT NULL DEFAULT 0,
        trials_failed INTEGER NOT NULL DEFAULT 0,
        best_trial_id TEXT,
        best_val_accuracy REAL,
        backend TEXT,
        error TEXT,
        owner_pid INTEGER,
        owner_host TEXT
      );
      CREATE INDEX runs_status ON runs(status);
      CREATE TABLE trials (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        status TEXT NOT NULL,
        architecture TEXT NOT NULL,
        arch_hash TEXT NOT NULL,
        params INTEGER NOT NULL,
        val_accuracy REAL,
        val_loss REAL,
        train_time_ms REAL,
        error TEXT,
        started_at TEXT,
        finished_at TEXT,
        UNIQUE (run_id, idx)
      );
      CREATE TABLE trial_epochs (
        trial_id TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        loss REAL NOT NULL,
        accuracy REAL NOT NULL,
        val_loss REAL NOT NULL,
        val_accuracy REAL NOT NULL,
        time_ms REAL NOT NULL,
        PRIMARY KEY (trial_id, epoch)
      );
      CREATE TABLE exports (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        trial_id TEXT REFERENCES trials(id) ON DELETE SET NULL,
        format TEXT NOT NULL,
        path TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'datasets: validation count, split kind, check results and import options',
    sql: `
      ALTER TABLE datasets ADD COLUMN num_validation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE datasets ADD COLUMN split_kind TEXT;
      ALTER TABLE datasets ADD COLUMN check_result TEXT;
      ALTER TABLE datasets ADD COLUMN import_options TEXT;
    `,
  },
  {
    version: 3,
    description: 'runs: notes and tags (History view)',
    sql: `
      ALTER TABLE runs ADD COLUMN notes TEXT;
      ALTER TABLE runs ADD COLUMN tags TEXT;
    `,
  },
  {
    version: 4,
    description: 'trials: folder of the saved trained model; exports: index by run',
    sql: `
      ALTER TABLE trials ADD COLUMN model_dir TEXT;
      CREATE INDEX exports_run ON exports(run_id, created_at);
    `,
  },
  {
    version: 5,
    description: 'runs: strategy state and Pareto front; alpha_snapshots of differentiable searches',
    sql: `
      ALTER TABLE runs ADD COLUMN strategy_state TEXT;
      ALTER TABLE runs ADD COLUMN pareto TEXT;
      CREATE TABLE alpha_snapshots (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        cell TEXT NOT NULL,
        ops TEXT NOT NULL,
        edges TEXT NOT NULL,
        weights TEXT NOT NULL,
        beta TEXT,
        PRIMARY KEY (run_id, epoch, cell)
      );
    `,
  },
  {
    version: 6,
    description: 'trials: proxy, early stop and final-training columns; runs: final trial and test accuracy',
    sql: `
      ALTER TABLE trials ADD COLUMN proxy TEXT;
      ALTER TABLE trials ADD COLUMN stopped_early INTEGER;
      ALTER TABLE trials ADD COLUMN stop_reason TEXT;
      ALTER TABLE trials ADD COLUMN predicted_accuracy REAL;
      ALTER TABLE trials ADD COLUMN is_final INTEGER;
      ALTER TABLE trials ADD COLUMN test_accuracy REAL;
      ALTER TABLE runs ADD COLUMN final_trial_id TEXT;
      ALTER TABLE runs ADD COLUMN final_test_accuracy REAL;
    `,
  },
  {
    version: 7,
    description: 'trials: zero-cost proxy score of pre-ranked candidates',
    sql: `
      ALTER TABLE trials ADD COLUMN zero_cost_score REAL;
    `,
  },
  {
    version: 8,
    description: "runs: the signal check's warning",
    sql: `
      ALTER TABLE runs ADD COLUMN signal_warning TEXT;
    `,
  },
  {
    version: 9,
    description: 'runs: lease of the owning process (epoch ms it is valid until, renewed by a heartbeat)',
    sql: `
      ALTER TABLE runs ADD COLUMN lease_until INTEGER;
    `,
  },
  {
    version: 10,
    description: 'runs: the seed re-check of the best candidates (JSON)',
    sql: `
      ALTER TABLE runs ADD COLUMN seed_check TEXT;
    `,
  },
]

/** The schema version this build writes (PRAGMA user_version after migrating). */
export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Brings the database to SCHEMA_VERSION: runs every step above PRAGMA user_version in order, each in its
 * own transaction together with its user_version bump, so a crash leaves the schema at a whole step.
 * Refuses a database written by a newer NAS Studio rather than guessing at its schema.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = Number(db.pragma('user_version', { simple: true }))
  const latest = migrations.length
  if (current > latest) {
    throw new NasError(
      'storage_error',
      `The database was written by a newer NAS Studio (schema ${current}, this version knows ${latest}). Update NAS Studio or choose another data folder.`,
    )
  }
  migrations.forEach((step, i) => {
    if (step.version !== i + 1)
      throw new NasError('internal', `Migration ${i + 1} is numbered ${step.version}`)
  })
  for (const step of migrations) {
    if (step.version <= current) continue
    db.transaction(() => {
      db.exec(step.sql)
      db.pragma(`user_version = ${step.version}`)
    })()
  }
  return latest
}
