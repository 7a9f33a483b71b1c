//! The embedded SQLite store.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use vigil_report::{Action, Breach, Incident};

use crate::*;

/// Schema migrations, applied in order; `PRAGMA user_version` holds how many ran. Append only:
/// a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE breaches (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        score REAL NOT NULL,
        time_ms INTEGER NOT NULL,
        entity TEXT NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX breaches_entity ON breaches(entity, time_ms);
    CREATE INDEX breaches_model ON breaches(model, time_ms);
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        score REAL NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        entities TEXT NOT NULL,
        summary TEXT NOT NULL,
        breach_count INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        merged_into TEXT,
        updated_ms INTEGER NOT NULL
    );
    CREATE INDEX incidents_queue ON incidents(status, score DESC, end_ms DESC, id);
    -- The detail (timeline and all) is large; kept apart so the queue never reads it.
    CREATE TABLE incident_details (
        id TEXT PRIMARY KEY,
        detail TEXT NOT NULL
    );
    CREATE TABLE incident_entities (
        incident_id TEXT NOT NULL,
        entity TEXT NOT NULL,
        PRIMARY KEY (entity, incident_id)
    ) WITHOUT ROWID;
    CREATE INDEX incident_entities_incident ON incident_entities(incident_id);
    CREATE TABLE incident_breaches (
        incident_id TEXT NOT NULL,
        breach_id TEXT NOT NULL,
        PRIMARY KEY (incident_id, breach_id)
    ) WITHOUT ROWID;
    CREATE INDEX incident_breaches_breach ON incident_breaches(breach_id);
    CREATE TABLE actions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        mode TEXT NOT NULL,
        state TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        breach_id TEXT NOT NULL,
        model TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        decided_by TEXT,
        decided_ms INTEGER,
        -- When the store first saw the action (wall time): the confirmation window starts here.
        stored_ms INTEGER NOT NULL
    );
    CREATE INDEX actions_incident ON actions(incident_id, state);
    CREATE INDEX actions_state ON actions(state, time_ms);
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms INTEGER NOT NULL,
        user TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        decision TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX decisions_subject ON decisions(subject_id, at_ms);
    CREATE TABLE models (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        description TEXT NOT NULL,
        default_autonomy TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        autonomy TEXT,
        updated_by TEXT,
        updated_ms INTEGER
    );
    CREATE TABLE model_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (name, version)
    );
    CREATE TABLE profiles (
        account TEXT PRIMARY KEY,
        json TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at_ms INTEGER NOT NULL,
        events INTEGER NOT NULL,
        bytes BLOB NOT NULL
    );
    CREATE TABLE checkpoints (
        source TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        modified INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user TEXT NOT NULL REFERENCES users(name),
        csrf TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    "#,
    // 2: what the response executors did: each action's outcome and every attempt.
    r#"
    ALTER TABLE actions ADD COLUMN outcome_ms INTEGER;
    ALTER TABLE actions ADD COLUMN outcome TEXT;
    CREATE TABLE action_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        action_id TEXT NOT NULL,
        operation TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER NOT NULL,
        result TEXT NOT NULL,
        http_status INTEGER,
        error_code TEXT,
        detail TEXT NOT NULL
    );
    CREATE INDEX action_attempts_action ON action_attempts(action_id, id);
    "#,
];

/// Readers: the console and API read through these while ingest writes; WAL lets them run
/// side by side.
const READERS: usize = 4;

pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL: readers never block the writer nor the writer the readers. NORMAL synchronous is
    // durable across process crashes in WAL mode (only power loss can lose the last commit).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Open(format!(
            "the store's schema version {applied} is newer than this Vigil knows ({}); use a newer Vigil",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn incident_summary(r: &Row<'_>) -> rusqlite::Result<IncidentSummary> {
    let entities: String = r.get(5)?;
    Ok(IncidentSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        score: r.get(2)?,
        start: from_ms(r.get(3)?),
        end: from_ms(r.get(4)?),
        entities: serde_json::from_str(&entities).unwrap_or_default(),
        breaches: r.get::<_, i64>(6)? as u64,
        pending_actions: r.get::<_, i64>(7)? as u64,
        status: r.get(8)?,
    })
}

const ACTION_COLUMNS: &str = "id, kind, target, time_ms, mode, state, incident_id, breach_id, model, expires_ms, decided_by, decided_ms, outcome_ms, outcome";

fn action_record(r: &Row<'_>) -> rusqlite::Result<ActionRecord> {
    let mode: String = r.get(4)?;
    Ok(ActionRecord {
        action: Action {
            id: r.get(0)?,
            kind: r.get(1)?,
            target: r.get(2)?,
            time: from_ms(r.get(3)?),
            mode: parse_mode(&mode).unwrap_or(ActionMode::Off),
            state: r.get(5)?,
            incident_id: r.get(6)?,
        },
        breach_id: r.get(7)?,
        model: r.get(8)?,
        expires: from_ms(r.get(9)?),
        decided_by: r.get(10)?,
        decided_at: r.get::<_, Option<i64>>(11)?.map(from_ms),
        outcome_at: r.get::<_, Option<i64>>(12)?.map(from_ms),
        outcome: r.get(13)?,
        attempts: Vec::new(),
    })
}

fn attempt_record(r: &Row<'_>) -> rusqlite::Result<AttemptRecord> {
    Ok(AttemptRecord {
        action_id: r.get(0)?,
        operation: r.get(1)?,
        attempt: r.get::<_, i64>(2)? as u32,
        started: from_ms(r.get(3)?),
        finished: from_ms(r.get(4)?),
        result: r.get(5)?,
        http_status: r.get::<_, Option<i64>>(6)?.map(|s| s as u16),
        error_code: r.get(7)?,
        detail: r.get(8)?,
    })
}

/// Every row `sql` selects, read by `read`.
fn rows<T>(
    c: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    Ok(c.prepare_cached(sql)?
        .query_map(args, read)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The row `sql` selects, if there is one, read by `read`.
fn row<T>(
    c: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    read: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    Ok(c.prepare_cached(sql)?.query_row(args, read).optional()?)
}

fn attempts_of(c: &Connection, action_id: &str) -> Result<Vec<AttemptRecord>> {
    rows(
        c,
        "SELECT action_id, operation, attempt, started_ms, finished_ms, result, http_status, error_code, detail
         FROM action_attempts WHERE action_id = ?1 ORDER BY id",
        params![action_id],
        attempt_record,
    )
}

fn with_attempts(c: &Connection, mut a: ActionRecord) -> Result<ActionRecord> {
    a.attempts = attempts_of(c, &a.action.id)?;
    Ok(a)
}

const MODEL_COLUMNS: &str =
    "name, version, kind, description, default_autonomy, enabled, autonomy, updated_by, updated_ms";

fn model_record(r: &Row<'_>) -> rusqlite::Result<ModelRecord> {
    let default_autonomy: Option<String> = r.get(4)?;
    let autonomy: Option<String> = r.get(6)?;
    Ok(ModelRecord {
        name: r.get(0)?,
        version: r.get::<_, i64>(1)? as u32,
        kind: r.get(2)?,
        description: r.get(3)?,
        default_autonomy: default_autonomy.as_deref().and_then(parse_mode),
        enabled: r.get::<_, i64>(5)? != 0,
        autonomy: autonomy.as_deref().and_then(parse_mode),
        updated_by: r.get(7)?,
        updated_at: r.get::<_, Option<i64>>(8)?.map(from_ms),
    })
}

fn token_record(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    let role: String = r.get(2)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_by: r.get(3)?,
        created: from_ms(r.get(4)?),
    })
}

fn user_record(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        name: r.get(0)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(2)?,
        created: from_ms(r.get(3)?),
    })
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// The schema version (number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        let v: i64 =
            self.read(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))?;
        Ok(v as u32)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        // Take a free reader if there is one, else wait on the next in turn.
        for conn in &self.readers {
            if let Ok(c) = conn.try_lock() {
                return f(&c);
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let c = self.readers[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&c)
    }

    fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut c = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut c)
    }
}

fn upsert_incident(
    tx: &rusqlite::Transaction<'_>,
    inc: &Incident,
    detail: &serde_json::Value,
    now: i64,
) -> Result<()> {
    let entities = serde_json::to_string(&inc.entities)?;
    let detail_text = serde_json::to_string(detail)?;
    tx.prepare_cached(
        "INSERT INTO incidents (id, title, score, start_ms, end_ms, entities, summary, breach_count, status, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, score = excluded.score,
           start_ms = excluded.start_ms, end_ms = excluded.end_ms, entities = excluded.entities,
           summary = excluded.summary, breach_count = excluded.breach_count,
           status = 'open', merged_into = NULL, updated_ms = excluded.updated_ms",
    )?
    .execute(params![
        inc.id,
        inc.title,
        inc.score,
        ms(inc.start),
        ms(inc.end),
        entities,
        inc.summary,
        inc.breach_ids.len() as i64,
        now
    ])?;
    tx.prepare_cached(
        "INSERT INTO incident_details (id, detail) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET detail = excluded.detail",
    )?
    .execute(params![inc.id, detail_text])?;
    let mut ent = tx.prepare_cached(
        "INSERT OR IGNORE INTO incident_entities (incident_id, entity) VALUES (?1, ?2)",
    )?;
    for e in &inc.entities {
        ent.execute(params![inc.id, e])?;
    }
    // Attacker IPs are searchable too ("which incident is this IP in?").
    if let Some(ips) = detail.get("ips").and_then(|v| v.as_array()) {
        for ip in ips.iter().filter_map(|v| v.as_str()) {
            ent.execute(params![inc.id, format!("ip:{ip}")])?;
        }
    }
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO incident_breaches (incident_id, breach_id) VALUES (?1, ?2)",
    )?;
    for b in &inc.breach_ids {
        link.execute(params![inc.id, b])?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn apply(&self, batch: &IngestBatch) -> Result<()> {
        let now = ms(Utc::now());
        self.write(|c| {
            let tx = c.transaction()?;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO breaches (id, model, score, time_ms, entity, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(id) DO UPDATE SET score = excluded.score, json = excluded.json",
                )?;
                for b in &batch.breaches {
                    put.execute(params![
                        b.id,
                        b.model,
                        b.score,
                        ms(b.time),
                        b.entity,
                        serde_json::to_string(b)?
                    ])?;
                }
            }
            for (inc, detail) in &batch.incidents {
                upsert_incident(&tx, inc, detail, now)?;
            }
            for (merged, into) in &batch.merged {
                tx.prepare_cached(
                    "UPDATE incidents SET status = 'merged', merged_into = ?2, updated_ms = ?3 WHERE id = ?1",
                )?
                .execute(params![merged, into, now])?;
            }
            {
                // Detection may re-plan an action (same id) or move it to the incident it was
                // merged into; it never undoes an analyst's decision, nor what the executors
                // did (executing, executed, failed, undone).
                let mut put = tx.prepare_cached(
                    "INSERT INTO actions (id, kind, target, time_ms, mode, state, incident_id, breach_id, model, expires_ms, stored_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT(id) DO UPDATE SET incident_id = excluded.incident_id,
                       state = CASE WHEN actions.decided_by IS NULL AND actions.outcome_ms IS NULL THEN excluded.state ELSE actions.state END",
                )?;
                for a in &batch.actions {
                    put.execute(params![
                        a.action.id,
                        a.action.kind,
                        a.action.target,
                        ms(a.action.time),
                        mode_str(a.action.mode),
                        a.action.state,
                        a.action.incident_id,
                        a.breach_id,
                        a.model,
                        ms(a.expires),
                        now
                    ])?;
                }
            }
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO profiles (account, json) VALUES (?1, ?2)
                     ON CONFLICT(account) DO UPDATE SET json = excluded.json",
                )?;
                for (account, json) in &batch.profiles {
                    put.execute(params![account, serde_json::to_string(json)?])?;
                }
            }
            if let Some(s) = &batch.snapshot {
                tx.prepare_cached(
                    "INSERT INTO snapshots (id, at_ms, events, bytes) VALUES (1, ?1, ?2, ?3)
                     ON CONFLICT(id) DO UPDATE SET at_ms = excluded.at_ms, events = excluded.events, bytes = excluded.bytes",
                )?
                .execute(params![ms(s.at), s.events as i64, s.bytes])?;
            }
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO checkpoints (source, size, modified, at_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(source) DO UPDATE SET size = excluded.size, modified = excluded.modified, at_ms = excluded.at_ms",
                )?;
                for cp in &batch.checkpoints {
                    put.execute(params![cp.source, cp.size as i64, cp.modified, ms(cp.at)])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn incidents(&self, f: &IncidentFilter) -> Result<Page<IncidentSummary>> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !f.include_merged {
            clauses.push("i.status = 'open'");
        }
        if let Some(s) = f.min_score {
            clauses.push("i.score >= ?");
            args.push(s.into());
        }
        if let Some(e) = &f.entity {
            clauses.push("i.id IN (SELECT incident_id FROM incident_entities WHERE entity = ?)");
            args.push(e.to_lowercase().into());
        }
        if let Some(t) = f.since {
            clauses.push("i.end_ms >= ?");
            args.push(ms(t).into());
        }
        if let Some(t) = f.until {
            clauses.push("i.start_ms <= ?");
            args.push(ms(t).into());
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let limit = f.limit.unwrap_or(50).min(500) as i64;
        let offset = f.offset.unwrap_or(0) as i64;
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM incidents i {filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut page_args = args.clone();
            page_args.push(limit.into());
            page_args.push(offset.into());
            let mut stmt = c.prepare_cached(&format!(
                "SELECT i.id, i.title, i.score, i.start_ms, i.end_ms, i.entities, i.breach_count,
                   (SELECT COUNT(*) FROM actions a WHERE a.incident_id = i.id AND a.state = 'pending'),
                   i.status
                 FROM incidents i {filter} ORDER BY i.score DESC, i.end_ms DESC, i.id LIMIT ? OFFSET ?"
            ))?;
            let items = stmt
                .query_map(rusqlite::params_from_iter(page_args.iter()), incident_summary)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Page {
                total: total as u64,
                items,
            })
        })
    }

    fn incident(&self, id: &str) -> Result<Option<IncidentRecord>> {
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT i.id, i.title, i.score, i.start_ms, i.end_ms, i.entities, i.summary,
                       COALESCE(d.detail, '{}'), i.status, i.merged_into, i.updated_ms
                     FROM incidents i LEFT JOIN incident_details d ON d.id = i.id WHERE i.id = ?1",
                )?
                .query_row(params![id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, f64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, i64>(10)?,
                    ))
                })
                .optional()?;
            let Some((id, title, score, start, end, entities, summary, detail, status, into, up)) =
                row
            else {
                return Ok(None);
            };
            let breach_ids = c
                .prepare_cached("SELECT breach_id FROM incident_breaches WHERE incident_id = ?1")?
                .query_map(params![id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(Some(IncidentRecord {
                incident: Incident {
                    id,
                    title,
                    score,
                    start: from_ms(start),
                    end: from_ms(end),
                    entities: serde_json::from_str(&entities)?,
                    breach_ids,
                    summary,
                },
                detail: serde_json::from_str(&detail)?,
                status,
                merged_into: into,
                updated: from_ms(up),
            }))
        })
    }

    fn open_incident_ids(&self) -> Result<Vec<String>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT id FROM incidents WHERE status = 'open'")?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?,
            )
        })
    }

    fn breaches(&self, f: &BreachFilter) -> Result<Page<Breach>> {
        let mut clauses: Vec<&str> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(e) = &f.entity {
            clauses.push("b.entity = ?");
            args.push(e.to_lowercase().into());
        }
        if let Some(m) = &f.model {
            clauses.push("b.model = ?");
            args.push(m.clone().into());
        }
        if let Some(i) = &f.incident {
            clauses.push("b.id IN (SELECT breach_id FROM incident_breaches WHERE incident_id = ?)");
            args.push(i.clone().into());
        }
        if let Some(s) = f.min_score {
            clauses.push("b.score >= ?");
            args.push(s.into());
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let limit = f.limit.unwrap_or(100).min(1000) as i64;
        let offset = f.offset.unwrap_or(0) as i64;
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM breaches b {filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut page_args = args.clone();
            page_args.push(limit.into());
            page_args.push(offset.into());
            let rows = c
                .prepare_cached(&format!(
                    "SELECT b.json FROM breaches b {filter} ORDER BY b.time_ms, b.id LIMIT ? OFFSET ?"
                ))?
                .query_map(rusqlite::params_from_iter(page_args.iter()), |r| {
                    r.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let items = rows
                .iter()
                .map(|j| serde_json::from_str(j))
                .collect::<Result<Vec<Breach>, _>>()?;
            Ok(Page {
                total: total as u64,
                items,
            })
        })
    }

    fn breach(&self, id: &str) -> Result<Option<Breach>> {
        self.read(|c| {
            let j: Option<String> = c
                .prepare_cached("SELECT json FROM breaches WHERE id = ?1")?
                .query_row(params![id], |r| r.get(0))
                .optional()?;
            Ok(j.map(|j| serde_json::from_str(&j)).transpose()?)
        })
    }

    fn actions(&self, state: Option<&str>, incident: Option<&str>) -> Result<Vec<ActionRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {ACTION_COLUMNS} FROM actions
                 WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR incident_id = ?2)
                 ORDER BY time_ms, id LIMIT 1000"
            ))?;
            let rows = stmt
                .query_map(params![state, incident], action_record)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(|a| with_attempts(c, a)).collect()
        })
    }

    fn action(&self, id: &str) -> Result<Option<ActionRecord>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1"
            ))?
            .query_row(params![id], action_record)
            .optional()?
            .map(|a| with_attempts(c, a))
            .transpose()
        })
    }

    fn claim_action(&self, id: &str, from: &[&str], at: DateTime<Utc>) -> Result<bool> {
        let from = serde_json::to_string(from)?;
        self.write(|c| {
            let n = c
                .prepare_cached(
                    "UPDATE actions SET state = 'executing', outcome_ms = ?3
                     WHERE id = ?1 AND state IN (SELECT value FROM json_each(?2))",
                )?
                .execute(params![id, from, ms(at)])?;
            Ok(n == 1)
        })
    }

    fn set_action_outcome(
        &self,
        id: &str,
        state: &str,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| {
            let n = c
                .prepare_cached(
                    "UPDATE actions SET state = ?2, outcome = ?3, outcome_ms = ?4 WHERE id = ?1",
                )?
                .execute(params![id, state, outcome, ms(at)])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("action {id}")));
            }
            Ok(())
        })
    }

    fn record_attempt(&self, a: &AttemptRecord) -> Result<()> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO action_attempts (action_id, operation, attempt, started_ms, finished_ms, result, http_status, error_code, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                a.action_id,
                a.operation,
                a.attempt as i64,
                ms(a.started),
                ms(a.finished),
                a.result,
                a.http_status.map(i64::from),
                a.error_code,
                a.detail
            ])?;
            Ok(())
        })
    }

    fn attempts(&self, action_id: &str) -> Result<Vec<AttemptRecord>> {
        self.read(|c| attempts_of(c, action_id))
    }

    fn decide_action(
        &self,
        id: &str,
        decision: ActionDecision,
        user: &str,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<ActionRecord> {
        self.write(|c| {
            let tx = c.transaction()?;
            let current = tx
                .prepare_cached(&format!(
                    "SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1"
                ))?
                .query_row(params![id], action_record)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("action {id}")))?;
            if current.action.state != "pending" {
                return Err(StoreError::Conflict(format!(
                    "action {id} is {}, not pending{}",
                    current.action.state,
                    current
                        .decided_by
                        .as_ref()
                        .map(|u| format!(" (decided by {u})"))
                        .unwrap_or_default()
                )));
            }
            tx.prepare_cached(
                "UPDATE actions SET state = ?2, decided_by = ?3, decided_ms = ?4 WHERE id = ?1",
            )?
            .execute(params![id, decision.state(), user, ms(at)])?;
            let detail = format!(
                "{} {} ({}){}",
                current.action.kind,
                current.action.target,
                current.action.incident_id,
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            );
            tx.prepare_cached(
                "INSERT INTO decisions (at_ms, user, subject_kind, subject_id, decision, detail) VALUES (?1, ?2, 'action', ?3, ?4, ?5)",
            )?
            .execute(params![ms(at), user, id, decision.as_str(), detail])?;
            let updated = tx
                .prepare_cached(&format!(
                    "SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1"
                ))?
                .query_row(params![id], action_record)?;
            tx.commit()?;
            Ok(updated)
        })
    }

    fn expire_pending(
        &self,
        stored_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        self.write(|c| {
            let tx = c.transaction()?;
            let ids = tx
                .prepare_cached(
                    "SELECT id FROM actions WHERE state = 'pending' AND stored_ms < ?1 ORDER BY id",
                )?
                .query_map(params![ms(stored_before)], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for id in &ids {
                tx.prepare_cached(
                    "UPDATE actions SET state = 'expired', decided_by = 'vigil', decided_ms = ?2 WHERE id = ?1",
                )?
                .execute(params![id, ms(at)])?;
                tx.prepare_cached(
                    "INSERT INTO decisions (at_ms, user, subject_kind, subject_id, decision, detail)
                     VALUES (?1, 'vigil', 'action', ?2, 'expire', 'nobody decided within the confirmation window')",
                )?
                .execute(params![ms(at), id])?;
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    fn record_decision(
        &self,
        at: DateTime<Utc>,
        user: &str,
        subject_kind: &str,
        subject_id: &str,
        decision: &str,
        detail: &str,
    ) -> Result<()> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO decisions (at_ms, user, subject_kind, subject_id, decision, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![ms(at), user, subject_kind, subject_id, decision, detail])?;
            Ok(())
        })
    }

    fn decisions(&self, subject_id: Option<&str>, limit: u32) -> Result<Vec<Decision>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT id, at_ms, user, subject_kind, subject_id, decision, detail FROM decisions
                 WHERE (?1 IS NULL OR subject_id = ?1) ORDER BY id DESC LIMIT ?2",
            )?
            .query_map(params![subject_id, limit as i64], |r| {
                Ok(Decision {
                    id: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    user: r.get(2)?,
                    subject_kind: r.get(3)?,
                    subject_id: r.get(4)?,
                    decision: r.get(5)?,
                    detail: r.get(6)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn register_models(&self, models: &[ModelDefinition], at: DateTime<Utc>) -> Result<()> {
        self.write(|c| {
            let tx = c.transaction()?;
            for m in models {
                tx.prepare_cached(
                    "INSERT INTO models (name, version, kind, description, default_autonomy) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(name) DO UPDATE SET version = excluded.version, kind = excluded.kind,
                       description = excluded.description, default_autonomy = excluded.default_autonomy",
                )?
                .execute(params![
                    m.name,
                    m.version as i64,
                    m.kind,
                    m.description,
                    m.default_autonomy.map(mode_str)
                ])?;
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO model_versions (name, version, first_seen_ms) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![m.name, m.version as i64, ms(at)])?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn models(&self) -> Result<Vec<ModelRecord>> {
        self.read(|c| {
            rows(
                c,
                &format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY name"),
                [],
                model_record,
            )
        })
    }

    fn change_model(
        &self,
        name: &str,
        change: &ModelChange,
        user: &str,
        at: DateTime<Utc>,
    ) -> Result<ModelRecord> {
        self.write(|c| {
            let tx = c.transaction()?;
            let exists: Option<i64> = tx
                .prepare_cached("SELECT 1 FROM models WHERE name = ?1")?
                .query_row(params![name], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("model {name:?}")));
            }
            let mut what = Vec::new();
            if let Some(enabled) = change.enabled {
                tx.prepare_cached("UPDATE models SET enabled = ?2 WHERE name = ?1")?
                    .execute(params![name, enabled as i64])?;
                what.push(if enabled { "enable" } else { "disable" }.to_string());
            }
            if let Some(autonomy) = change.autonomy {
                tx.prepare_cached("UPDATE models SET autonomy = ?2 WHERE name = ?1")?
                    .execute(params![name, autonomy.map(mode_str)])?;
                what.push(format!(
                    "autonomy {}",
                    autonomy.map(mode_str).unwrap_or("default")
                ));
            }
            tx.prepare_cached("UPDATE models SET updated_by = ?2, updated_ms = ?3 WHERE name = ?1")?
                .execute(params![name, user, ms(at)])?;
            tx.prepare_cached(
                "INSERT INTO decisions (at_ms, user, subject_kind, subject_id, decision, detail) VALUES (?1, ?2, 'model', ?3, ?4, '')",
            )?
            .execute(params![ms(at), user, name, what.join(", ")])?;
            let record = tx
                .prepare_cached(&format!(
                    "SELECT {MODEL_COLUMNS} FROM models WHERE name = ?1"
                ))?
                .query_row(params![name], model_record)?;
            tx.commit()?;
            Ok(record)
        })
    }

    fn model_versions(&self, name: &str) -> Result<Vec<(u32, DateTime<Utc>)>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT version, first_seen_ms FROM model_versions WHERE name = ?1 ORDER BY version",
            )?
            .query_map(params![name], |r| {
                Ok((r.get::<_, i64>(0)? as u32, from_ms(r.get(1)?)))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    fn profile(&self, account: &str) -> Result<Option<serde_json::Value>> {
        self.read(|c| {
            let j: Option<String> = c
                .prepare_cached("SELECT json FROM profiles WHERE account = ?1")?
                .query_row(params![account.to_lowercase()], |r| r.get(0))
                .optional()?;
            Ok(j.map(|j| serde_json::from_str(&j)).transpose()?)
        })
    }

    fn profiles(&self) -> Result<Vec<(String, serde_json::Value)>> {
        self.read(|c| {
            let rows = c
                .prepare_cached("SELECT account, json FROM profiles")?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(a, j)| Ok((a, serde_json::from_str(&j)?)))
                .collect()
        })
    }

    fn latest_snapshot(&self) -> Result<Option<Snapshot>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT at_ms, events, bytes FROM snapshots WHERE id = 1")?
                    .query_row([], |r| {
                        Ok(Snapshot {
                            at: from_ms(r.get(0)?),
                            events: r.get::<_, i64>(1)? as u64,
                            bytes: r.get(2)?,
                        })
                    })
                    .optional()?,
            )
        })
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT source, size, modified, at_ms FROM checkpoints")?
                    .query_map([], |r| {
                        Ok(Checkpoint {
                            source: r.get(0)?,
                            size: r.get::<_, i64>(1)? as u64,
                            modified: r.get(2)?,
                            at: from_ms(r.get(3)?),
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            )
        })
    }

    fn create_user(&self, name: &str, role: Role, password_hash: &str) -> Result<User> {
        let now = Utc::now();
        self.write(|c| {
            let n = c
                .prepare_cached(
                    "INSERT OR IGNORE INTO users (name, role, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![name, role.as_str(), password_hash, ms(now)])?;
            if n == 0 {
                return Err(StoreError::Conflict(format!("user {name:?} exists")));
            }
            Ok(())
        })?;
        Ok(User {
            name: name.to_string(),
            role,
            password_hash: password_hash.to_string(),
            created: from_ms(ms(now)),
        })
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        self.read(|c| {
            row(
                c,
                "SELECT name, role, password_hash, created_ms FROM users WHERE name = ?1",
                params![name],
                user_record,
            )
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        self.read(|c| {
            rows(
                c,
                "SELECT name, role, password_hash, created_ms FROM users ORDER BY name",
                [],
                user_record,
            )
        })
    }

    fn create_session(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        self.write(|c| {
            // Expired sessions are pruned whenever a new one starts.
            c.prepare_cached("DELETE FROM sessions WHERE expires_ms < ?1")?
                .execute(params![ms(Utc::now())])?;
            c.prepare_cached(
                "INSERT INTO sessions (token_hash, user, csrf, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![token_hash, user, csrf, ms(expires)])?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT s.user, u.role, s.csrf, s.expires_ms FROM sessions s JOIN users u ON u.name = s.user
                 WHERE s.token_hash = ?1 AND s.expires_ms > ?2",
            )?
            .query_row(params![token_hash, ms(now)], |r| {
                let role: String = r.get(1)?;
                Ok(Session {
                    user: r.get(0)?,
                    role: Role::parse(&role).unwrap_or(Role::Viewer),
                    csrf: r.get(2)?,
                    expires: from_ms(r.get(3)?),
                })
            })
            .optional()?)
        })
    }

    fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.write(|c| {
            c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute(params![token_hash])?;
            Ok(())
        })
    }

    fn create_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        created_by: &str,
    ) -> Result<ApiToken> {
        let now = ms(Utc::now());
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO api_tokens (name, role, token_hash, created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![name, role.as_str(), token_hash, created_by, now])?;
            Ok(ApiToken {
                id: c.last_insert_rowid(),
                name: name.to_string(),
                role,
                created_by: created_by.to_string(),
                created: from_ms(now),
            })
        })
    }

    fn token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        self.read(|c| {
            row(
                c,
                "SELECT id, name, role, created_by, created_ms FROM api_tokens WHERE token_hash = ?1",
                params![token_hash],
                token_record,
            )
        })
    }

    fn tokens(&self) -> Result<Vec<ApiToken>> {
        self.read(|c| {
            rows(
                c,
                "SELECT id, name, role, created_by, created_ms FROM api_tokens ORDER BY id",
                [],
                token_record,
            )
        })
    }

    fn counts(&self) -> Result<Counts> {
        self.read(|c| {
            let n = |sql: &str| -> Result<u64> {
                Ok(c.prepare_cached(sql)?
                    .query_row([], |r| r.get::<_, i64>(0))? as u64)
            };
            Ok(Counts {
                incidents: n("SELECT COUNT(*) FROM incidents WHERE status = 'open'")?,
                breaches: n("SELECT COUNT(*) FROM breaches")?,
                actions_pending: n("SELECT COUNT(*) FROM actions WHERE state = 'pending'")?,
                actions: n("SELECT COUNT(*) FROM actions")?,
                actions_executed: n(
                    "SELECT COUNT(*) FROM actions WHERE state IN ('executed', 'undone', 'undo_failed')",
                )?,
                actions_failed: n("SELECT COUNT(*) FROM actions WHERE state = 'failed'")?,
                decisions: n("SELECT COUNT(*) FROM decisions")?,
                users: n("SELECT COUNT(*) FROM users")?,
            })
        })
    }
}
