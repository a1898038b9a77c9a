//! [`SqliteSaver`]: checkpoints in a SQLite file, the embedded default
//! (feature `sqlite`).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::QueryBuilder;

use super::sql::{self, Op, Scalar, SqlSaver};
use super::{Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointTuple, Checkpointer, ListOptions};
use crate::error::{Error, ErrorKind, Result};

const SAVER: &str = "SqliteSaver";

/// How long a write waits for another connection's (or process's) write to
/// finish before failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections of a file's pool: in WAL mode readers do not wait for the
/// writer, and writers take turns (`BEGIN IMMEDIATE`, then the busy timeout).
const MAX_CONNECTIONS: u32 = 4;

/// The schema, by version; each is applied once, in order, in the
/// transaction that records it in `checkpoint_migrations`. Never edit one
/// that has shipped: add the next.
///
/// The tables are LangGraph's (`checkpoints`, `checkpoint_writes`) with the
/// checkpoint, metadata and values as JSON text. `seq` is the order a
/// checkpoint's writes arrived in (`pending_writes` keeps it), counted per
/// checkpoint; the writer's lock makes the count exact.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE checkpoints (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        parent_checkpoint_id TEXT,
        checkpoint TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    );
    CREATE TABLE checkpoint_writes (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        channel TEXT NOT NULL,
        value TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    );",
)];

/// Keeps checkpoints in a SQLite database: a file that outlives the
/// process, with no server to run (LangGraph's `SqliteSaver`). Feature
/// `sqlite`; SQLite itself is compiled in (no system library needed).
///
/// The file is in WAL mode: readers never wait for the writer, and several
/// processes can share the file, one writing at a time (a write waits up to
/// 10 s for another to finish, without blocking its thread). A step's
/// writes run on the calling task's thread, with no hand-over to another
/// (tens of microseconds each). Each [`put`](Checkpointer::put) and
/// [`put_writes`](Checkpointer::put_writes) is one transaction, so a
/// process killed in the middle of one leaves the file as it was before
/// it. The schema is created (and later versions applied) on
/// [`open`](Self::open); the versions applied are in the table
/// `checkpoint_migrations`.
///
/// Clones share the connections.
///
/// ```no_run
/// use runwright::graph::checkpoint::{CheckpointConfig, Checkpointer, SqliteSaver};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let saver = SqliteSaver::open("checkpoints.sqlite").await?;
/// if let Some(latest) = saver.get_tuple(&CheckpointConfig::thread("thread-1")).await? {
///     println!("step {}: {:?}", latest.metadata.step, latest.checkpoint.channel_values);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteSaver {
    pool: SqlitePool,
    /// A file's connection for the writes of a step (a checkpoint, a task's
    /// write); none for a database in memory, whose one pooled connection is
    /// the database.
    inline: Option<Arc<Inline>>,
    /// The file, or `:memory:`.
    location: Arc<str>,
}

/// The connection a step's writes run on, on the caller's own thread: a
/// pooled sqlx connection hands every statement to its worker thread and
/// back, and waking a sleeping thread costs more than the statement. While
/// another connection (or process) holds the write lock, a write waits
/// asynchronously (backing off), never blocking the runtime's thread; the
/// WAL checkpoints (the only fsyncs with `synchronous = NORMAL`) run on a
/// pooled connection, off that thread too.
struct Inline {
    /// None once the saver is closed.
    conn: parking_lot::Mutex<Option<rusqlite::Connection>>,
    /// Commits since the last WAL checkpoint was started.
    commits: std::sync::atomic::AtomicU32,
}

/// Commits on the inline connection between two WAL checkpoints (a step
/// writes a few pages, SQLite's own default is 1,000 pages).
const COMMITS_PER_WAL_CHECKPOINT: u32 = 256;

impl std::fmt::Debug for SqliteSaver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSaver").field("location", &self.location).finish()
    }
}

impl SqliteSaver {
    /// Opens (creating it if missing) the database file at `path` and
    /// brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL syncs the log at checkpoints, not at every
            // commit: a commit survives the process being killed (SIGKILL,
            // an abort, the OOM killer), and the file is never corrupted;
            // only a power loss or an OS crash may lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        // Several processes (or savers) opening a new file at once: one of
        // them turns it to WAL, and the others may find it locked without
        // SQLite waiting the busy timeout; they try again.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let pool = loop {
            let pool = SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                // A connection to a local file does not go stale: no ping (a
                // round trip to the connection's worker thread) before each use.
                .test_before_acquire(false)
                .connect_with(options.clone())
                .await;
            match pool {
                Err(e) if sql::is_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                pool => {
                    break pool.map_err(|e| sql::db_error(format!("{SAVER}: cannot open `{}`", path.display()), e))?
                }
            }
        };
        let mut saver = Self::start(pool, path.display().to_string()).await?;
        // After the migrations, which made the file and its tables.
        let conn = rusqlite::Connection::open(path)
            .and_then(|c| {
                c.busy_timeout(BUSY_TIMEOUT)?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                c.pragma_update(None, "wal_autocheckpoint", 0)?;
                // From now on no busy timeout: `write_inline` waits without
                // blocking the thread.
                c.busy_timeout(Duration::ZERO)?;
                Ok(c)
            })
            .map_err(|e| {
                Error::with_source(
                    ErrorKind::Connection,
                    format!("{SAVER}: cannot open `{}`: {e}", path.display()),
                    e,
                )
            })?;
        saver.inline = Some(Arc::new(Inline {
            conn: parking_lot::Mutex::new(Some(conn)),
            commits: std::sync::atomic::AtomicU32::new(0),
        }));
        Ok(saver)
    }

    /// A database in memory: it lasts as long as the saver (and its clones).
    /// For tests; [`InMemorySaver`](super::InMemorySaver) does the same
    /// without SQL.
    pub async fn in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| sql::db_error(format!("{SAVER}: cannot open a database in memory"), e))?;
        // One connection that never closes: the database goes with it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|e| sql::db_error(format!("{SAVER}: cannot open a database in memory"), e))?;
        Self::start(pool, ":memory:".to_owned()).await
    }

    async fn start(pool: SqlitePool, location: String) -> Result<Self> {
        migrate(&pool)
            .await
            .map_err(|e| sql::db_error(format!("{SAVER}: cannot migrate the schema of `{location}`"), e))?;
        Ok(SqliteSaver {
            pool,
            inline: None,
            location: location.into(),
        })
    }

    /// Runs `write` on the inline connection (none: this saver has none),
    /// waiting while another connection holds the write lock, up to the
    /// busy timeout.
    async fn write_inline<T>(
        &self,
        op: &Op<'_>,
        mut write: impl FnMut(&rusqlite::Connection) -> rusqlite::Result<T> + Send,
    ) -> Option<Result<T>> {
        let inline = self.inline.as_ref()?;
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_micros(200);
        loop {
            let done = match inline.conn.lock().as_ref() {
                Some(conn) => write(conn),
                None => return Some(Err(op.db(sqlx::Error::PoolClosed))),
            };
            match done {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) =>
                {
                    if std::time::Instant::now() >= deadline {
                        return Some(Err(op.error(ErrorKind::Timeout, e)));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(e) => return Some(Err(op.error(ErrorKind::Provider, e))),
                Ok(v) => {
                    self.after_commit(inline);
                    return Some(Ok(v));
                }
            }
        }
    }

    /// Starts a WAL checkpoint every [`COMMITS_PER_WAL_CHECKPOINT`] commits
    /// of the inline connection, on a pooled connection.
    fn after_commit(&self, inline: &Inline) {
        use std::sync::atomic::Ordering;
        if inline.commits.fetch_add(1, Ordering::Relaxed) + 1 < COMMITS_PER_WAL_CHECKPOINT {
            return;
        }
        inline.commits.store(0, Ordering::Relaxed);
        let pool = self.pool.clone();
        // PASSIVE: copies what no reader still needs and never waits; a
        // failure only leaves the log longer until the next one.
        tokio::spawn(async move {
            let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await;
        });
    }

    /// Closes the connections (of every clone), waiting for the ones in
    /// use to be returned. Later calls fail with
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection).
    pub async fn close(&self) {
        if let Some(inline) = &self.inline {
            inline.conn.lock().take();
        }
        self.pool.close().await;
    }
}

/// The writes made after checkpoints `ids`, in the order they arrived.
async fn writes_of(
    conn: &mut SqliteConnection,
    config: &CheckpointConfig,
    ids: &[&str],
) -> Result<Vec<sql::WriteRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids as one JSON array parameter, however many there are.
    let ids = Json::from(ids.to_vec()).to_string();
    let rows = sqlx::query(
        "SELECT checkpoint_id, task_id, channel, value FROM checkpoint_writes
         WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id IN (SELECT value FROM json_each(?3))
         ORDER BY checkpoint_id, seq",
    )
    .bind(&config.thread_id)
    .bind(&config.checkpoint_ns)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(sql::WriteRow::of).collect()
}

/// What storing a write whose place is taken already does: the same write
/// twice (a retried save) is kept once; a special channel's latest value
/// (a negative place) replaces the earlier one, in the place the first one
/// arrived in.
fn on_conflict(idx: i64) -> &'static str {
    if idx < 0 {
        "DO UPDATE SET channel = excluded.channel, value = excluded.value"
    } else {
        "DO NOTHING"
    }
}

/// Applies the migrations not yet applied, in one transaction that holds
/// the write lock: processes opening the file at once take turns, and the
/// later ones find the schema done.
async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS checkpoint_migrations (
            v INTEGER PRIMARY KEY NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT v FROM checkpoint_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, migration) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        sqlx::raw_sql(migration).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO checkpoint_migrations (v, applied_at) VALUES (?1, ?2)")
            .bind(version)
            .bind(super::now_rfc3339())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

impl SqlSaver for SqliteSaver {
    const NAME: &'static str = SAVER;

    async fn select(
        &self,
        op: &Op<'_>,
        config: &CheckpointConfig,
        options: &ListOptions,
    ) -> Result<Vec<CheckpointTuple>> {
        let (pushed, all_pushed) = sql::pushdown(options);
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT checkpoint_id, parent_checkpoint_id, checkpoint, metadata FROM checkpoints WHERE thread_id = ",
        );
        q.push_bind(&config.thread_id);
        q.push(" AND checkpoint_ns = ").push_bind(&config.checkpoint_ns);
        if let Some(id) = &config.checkpoint_id {
            q.push(" AND checkpoint_id = ").push_bind(id);
        }
        if let Some(before) = &options.before {
            q.push(" AND checkpoint_id < ").push_bind(before);
        }
        for (key, value) in pushed {
            let path = format!("$.\"{key}\"");
            q.push(" AND json_type(metadata, ").push_bind(path.clone());
            match value {
                Scalar::Str(s) => {
                    q.push(") = 'text' AND json_extract(metadata, ").push_bind(path);
                    q.push(") = ").push_bind(s);
                }
                Scalar::Bool(b) => {
                    q.push(if b { ") = 'true'" } else { ") = 'false'" });
                }
                Scalar::Int(i) => {
                    q.push(") = 'integer' AND json_extract(metadata, ").push_bind(path);
                    q.push(") = ").push_bind(i);
                }
            }
        }
        q.push(" ORDER BY checkpoint_id DESC");
        if let Some(limit) = sql::sql_limit(options, all_pushed) {
            q.push(" LIMIT ").push_bind(limit);
        }

        let mut conn = self.pool.acquire().await.map_err(|e| op.db(e))?;
        let rows = q.build().fetch_all(&mut *conn).await.map_err(|e| op.db(e))?;
        let kept = sql::keep(op, options, &rows)?;
        let ids: Vec<&str> = kept.iter().map(|(r, ..)| r.id.as_str()).collect();
        let writes = writes_of(&mut conn, config, &ids).await.map_err(|e| op.db(e))?;
        sql::tuples(op, config, kept, writes)
    }
}

impl Checkpointer for SqliteSaver {
    fn put<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
    ) -> BoxFuture<'a, Result<CheckpointConfig>> {
        Box::pin(async move {
            let op = Op::new(SAVER, "put", config).with_id(&checkpoint.id);
            let body = op.to_json("checkpoint", &checkpoint)?;
            let meta = op.to_json("metadata", &metadata)?;
            // One statement, so one transaction; an id stored already is
            // kept as it is.
            const PUT: &str = "INSERT INTO checkpoints
                    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO NOTHING";
            let (thread, ns, parent) = (&config.thread_id, &config.checkpoint_ns, &config.checkpoint_id);
            let inline = self.write_inline(&op, |conn| {
                conn.prepare_cached(PUT)?
                    .execute(rusqlite::params![thread, ns, &checkpoint.id, parent, &body, &meta])
            });
            match inline.await {
                Some(done) => {
                    done?;
                }
                None => {
                    sqlx::query(PUT)
                        .bind(thread)
                        .bind(ns)
                        .bind(&checkpoint.id)
                        .bind(parent)
                        .bind(&body)
                        .bind(&meta)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| op.db(e))?;
                }
            }
            Ok(config.at(checkpoint.id.clone()))
        })
    }

    fn put_writes<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        task_id: &'a str,
        writes: Vec<(String, Json)>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let id = super::require_id(config, "put_writes")?;
            let op = Op::new(SAVER, "put_writes", config);
            let values = writes
                .iter()
                .map(|(_, v)| op.to_json("write", v))
                .collect::<Result<Vec<_>>>()?;
            // The common case, one write: one statement (so one transaction,
            // holding the write lock from its start), stored only if the
            // checkpoint exists. When it stores nothing (no checkpoint, or the
            // same write stored already), the transaction below tells which.
            if let ([(channel, _)], [value]) = (writes.as_slice(), values.as_slice()) {
                let idx = sql::stored_index(super::write_index(channel, 0));
                let statement = format!(
                    "INSERT INTO checkpoint_writes
                        (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value, seq)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7,
                        (SELECT COALESCE(MAX(seq), 0) + 1 FROM checkpoint_writes
                         WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3)
                     WHERE EXISTS (SELECT 1 FROM checkpoints
                         WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3)
                     ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) {}",
                    on_conflict(idx)
                );
                let (thread, ns) = (&config.thread_id, &config.checkpoint_ns);
                let inline = self.write_inline(&op, |conn| {
                    conn.prepare_cached(&statement)?
                        .execute(rusqlite::params![thread, ns, id, task_id, idx, channel, value])
                });
                let stored = match inline.await {
                    Some(done) => done? as u64,
                    None => sqlx::query(&statement)
                        .bind(thread)
                        .bind(ns)
                        .bind(id)
                        .bind(task_id)
                        .bind(idx)
                        .bind(channel)
                        .bind(value)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| op.db(e))?
                        .rows_affected(),
                };
                if stored == 1 {
                    return Ok(());
                }
            }
            // The write lock from the start, so the busy timeout applies
            // (a read lock upgraded later fails at once when contended).
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| op.db(e))?;
            let exists = sqlx::query(
                "SELECT 1 FROM checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3",
            )
            .bind(&config.thread_id)
            .bind(&config.checkpoint_ns)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| op.db(e))?;
            if exists.is_none() {
                return Err(super::no_checkpoint(config));
            }
            for (i, ((channel, _), value)) in writes.iter().zip(values).enumerate() {
                let idx = sql::stored_index(super::write_index(channel, i));
                sqlx::query(&format!(
                    "INSERT INTO checkpoint_writes
                        (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
                        (SELECT COALESCE(MAX(seq), 0) + 1 FROM checkpoint_writes
                         WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3))
                     ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) {}",
                    on_conflict(idx)
                ))
                .bind(&config.thread_id)
                .bind(&config.checkpoint_ns)
                .bind(id)
                .bind(task_id)
                .bind(idx)
                .bind(channel)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(|e| op.db(e))?;
            }
            tx.commit().await.map_err(|e| op.db(e))
        })
    }

    fn get_tuple<'a>(&'a self, config: &'a CheckpointConfig) -> BoxFuture<'a, Result<Option<CheckpointTuple>>> {
        Box::pin(sql::get_tuple(self, config))
    }

    fn list<'a>(
        &'a self,
        config: &'a CheckpointConfig,
        options: &'a ListOptions,
    ) -> BoxFuture<'a, Result<Vec<CheckpointTuple>>> {
        Box::pin(sql::list(self, config, options))
    }

    fn delete_thread<'a>(&'a self, thread_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let op = Op::thread(SAVER, "delete_thread", thread_id);
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| op.db(e))?;
            for table in ["checkpoints", "checkpoint_writes"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE thread_id = ?1"))
                    .bind(thread_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| op.db(e))?;
            }
            tx.commit().await.map_err(|e| op.db(e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::graph::checkpoint::saver_tests::{checkpoint, conformance, resume_after_restart};
    use crate::graph::checkpoint::{new_checkpoint_id, CheckpointSource};

    /// A file in the temp folder that no other test or run uses, removed
    /// (with its WAL files) when dropped.
    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn new(name: &str) -> Self {
            let file = format!("runwright-{name}-{}-{}.sqlite", std::process::id(), new_checkpoint_id());
            TempDb(std::env::temp_dir().join(file))
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    #[tokio::test]
    async fn sqlite_file_saver_keeps_checkpoints_as_every_saver_must() {
        let db = TempDb::new("conformance");
        let saver = SqliteSaver::open(&db.0).await.unwrap();
        conformance(&saver).await;
        saver.close().await;
    }

    #[tokio::test]
    async fn sqlite_memory_saver_keeps_checkpoints_as_every_saver_must() {
        conformance(&SqliteSaver::in_memory().await.unwrap()).await;
    }

    #[tokio::test]
    async fn a_graph_interrupted_before_a_restart_resumes_from_the_file() {
        let db = TempDb::new("restart");
        let before = SqliteSaver::open(&db.0).await.unwrap();
        let after = async {
            before.close().await;
            Arc::new(SqliteSaver::open(&db.0).await.unwrap()) as Arc<dyn Checkpointer>
        };
        resume_after_restart(Arc::new(before.clone()), after).await;
    }

    fn meta(step: i64) -> CheckpointMetadata {
        CheckpointMetadata::new(CheckpointSource::Loop, step)
    }

    async fn count(saver: &SqliteSaver, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&saver.pool).await.unwrap()
    }

    #[tokio::test]
    async fn a_reopened_file_has_its_checkpoints_and_writes() {
        let db = TempDb::new("reopen");
        let thread = CheckpointConfig::thread("reopen");
        let (first, second) = (new_checkpoint_id(), new_checkpoint_id());
        {
            let saver = SqliteSaver::open(&db.0).await.unwrap();
            let at = saver.put(&thread, checkpoint(&first, 1), meta(0)).await.unwrap();
            let at = saver.put(&at, checkpoint(&second, 2), meta(1)).await.unwrap();
            saver
                .put_writes(&at, "task", vec![("x".into(), 3.into())])
                .await
                .unwrap();
            saver.close().await;
        }
        let saver = SqliteSaver::open(&db.0).await.unwrap();
        let latest = saver.get_tuple(&thread).await.unwrap().expect("kept in the file");
        assert_eq!(latest.checkpoint, checkpoint(&second, 2).with_ts(&latest.checkpoint.ts));
        assert_eq!(latest.parent_config, Some(thread.at(first.clone())));
        assert_eq!(latest.pending_writes.len(), 1);
        assert_eq!(saver.list(&thread, &ListOptions::default()).await.unwrap().len(), 2);
        assert_eq!(
            count(&saver, "SELECT COUNT(*) FROM checkpoint_migrations").await,
            MIGRATIONS.len() as i64,
            "each migration is applied once"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_write_that_finds_the_file_locked_waits_without_blocking_the_runtime() {
        let db = TempDb::new("locked");
        let saver = SqliteSaver::open(&db.0).await.unwrap();
        let thread = CheckpointConfig::thread("locked");
        // Another connection holds the write lock.
        let mut other = sqlx::pool::PoolConnection::detach(saver.pool.acquire().await.unwrap());
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();
        let id = new_checkpoint_id();
        let put = saver.put(&thread, checkpoint(&id, 1), meta(0));
        // The runtime's one thread goes on while the put waits: this ticker
        // runs beside it, and the put is still waiting when it is done.
        let ticks = async {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let mut put = std::pin::pin!(put);
        tokio::select! {
            done = &mut put => panic!("the put did not wait for the lock: {done:?}"),
            () = ticks => {}
        }
        sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
        let at = put.await.unwrap();
        assert_eq!(at, thread.at(id.clone()));
        assert_eq!(saver.get_tuple(&thread).await.unwrap().unwrap().checkpoint.id, id);
    }

    #[tokio::test]
    async fn savers_opened_on_one_file_at_once_share_it() {
        let db = TempDb::new("shared");
        // Four at once on a new file: they take turns at the migrations.
        let savers = futures::future::try_join_all((0..4).map(|_| SqliteSaver::open(&db.0)))
            .await
            .unwrap();
        let thread = CheckpointConfig::thread("shared");
        let id = new_checkpoint_id();
        savers[0].put(&thread, checkpoint(&id, 1), meta(0)).await.unwrap();
        // Writers on different connections wait for each other.
        let at = thread.at(id.clone());
        futures::future::try_join_all(savers.iter().enumerate().map(|(i, saver)| {
            let at = at.clone();
            async move {
                saver
                    .put_writes(&at, &format!("task-{i}"), vec![("x".into(), 1.into())])
                    .await
            }
        }))
        .await
        .unwrap();
        let seen = savers[3].get_tuple(&thread).await.unwrap().expect("written by another");
        assert_eq!(seen.checkpoint.id, id);
        assert_eq!(seen.pending_writes.len(), 4);
        assert_eq!(
            count(&savers[3], "SELECT COUNT(*) FROM checkpoint_migrations").await,
            MIGRATIONS.len() as i64
        );
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&savers[1].pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_corrupt_row_is_an_error_naming_its_thread_and_checkpoint() {
        let saver = SqliteSaver::in_memory().await.unwrap();
        let thread = CheckpointConfig::thread("corrupt");
        let id = new_checkpoint_id();
        let at = saver.put(&thread, checkpoint(&id, 1), meta(0)).await.unwrap();
        for (column, value) in [
            ("checkpoint", "{not json"),
            ("checkpoint", "{\"v\": 4}"),
            ("metadata", "[]"),
        ] {
            sqlx::query(&format!("UPDATE checkpoints SET {column} = ?1"))
                .bind(value)
                .execute(&saver.pool)
                .await
                .unwrap();
            for e in [
                saver.get_tuple(&at).await.unwrap_err(),
                saver.list(&thread, &ListOptions::default()).await.unwrap_err(),
            ] {
                assert_eq!(e.kind(), ErrorKind::Protocol);
                let message = e.to_string();
                assert!(
                    message.contains(&format!("checkpoint `{id}` of thread `corrupt`")),
                    "{message}"
                );
                assert!(message.contains(&format!("its {column} does not parse")), "{message}");
            }
            sqlx::query("UPDATE checkpoints SET checkpoint = ?1, metadata = ?2")
                .bind(serde_json::to_string(&checkpoint(&id, 1)).unwrap())
                .bind(serde_json::to_string(&meta(0)).unwrap())
                .execute(&saver.pool)
                .await
                .unwrap();
        }
        saver
            .put_writes(&at, "task", vec![("x".into(), 1.into())])
            .await
            .unwrap();
        sqlx::query("UPDATE checkpoint_writes SET value = 'nope'")
            .execute(&saver.pool)
            .await
            .unwrap();
        let message = saver.get_tuple(&at).await.unwrap_err().to_string();
        assert!(
            message.contains(&format!("checkpoint `{id}` of thread `corrupt`"))
                && message.contains("write of task `task` to channel `x`"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_closed_saver_fails_with_a_connection_error_naming_the_operation() {
        let saver = SqliteSaver::in_memory().await.unwrap();
        saver.close().await;
        let thread = CheckpointConfig::thread("closed");
        let e = saver.get_tuple(&thread).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connection);
        assert!(
            e.to_string().starts_with("SqliteSaver: get_tuple of thread `closed`"),
            "{e}"
        );
        let e = SqliteSaver::open(std::env::temp_dir().join("no-such-folder-runwright/x.sqlite"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("SqliteSaver: cannot open `"), "{e}");
    }

    /// The env var naming the file `killed_writer` writes to.
    const KILLED_WRITER_DB: &str = "RUNWRIGHT_TEST_KILLED_WRITER_DB";

    /// Each task writes three values at once, so a partial `put_writes`
    /// would show as a task with fewer.
    const WRITES_PER_TASK: usize = 3;

    /// Run by `a_writer_killed_mid_write_leaves_the_file_consistent` in a
    /// process of its own, which it kills: writes checkpoints and writes as
    /// fast as it can, until then.
    #[tokio::test]
    #[ignore = "the child process of a_writer_killed_mid_write_leaves_the_file_consistent"]
    async fn killed_writer() {
        let path = std::env::var(KILLED_WRITER_DB).expect("run by its parent test");
        let saver = SqliteSaver::open(path).await.unwrap();
        let mut at = CheckpointConfig::thread("killed");
        // Bounded, should the parent die before it kills this process.
        let start = std::time::Instant::now();
        for step in 0.. {
            if start.elapsed() > Duration::from_secs(60) {
                break;
            }
            at = saver
                .put(&at, checkpoint(&new_checkpoint_id(), step), meta(step))
                .await
                .unwrap();
            let writes: Vec<(String, Json)> = (0..WRITES_PER_TASK).map(|i| (format!("c{i}"), step.into())).collect();
            saver.put_writes(&at, "task", writes).await.unwrap();
        }
    }

    #[test]
    fn a_writer_killed_mid_write_leaves_the_file_consistent() {
        let db = TempDb::new("killed");
        /// Kills the child however the test ends.
        struct Child(std::process::Child);
        impl Drop for Child {
            fn drop(&mut self) {
                let _ = self.0.kill();
                let _ = self.0.wait();
            }
        }
        let mut child = Child(
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "graph::checkpoint::sqlite::tests::killed_writer",
                    "--ignored",
                    "--quiet",
                ])
                .env(KILLED_WRITER_DB, &db.0)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // Let it write a while (at most 60 s), then kill it (SIGKILL).
            let thread = CheckpointConfig::thread("killed");
            for _ in 0..600 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Ok(saver) = SqliteSaver::open(&db.0).await {
                    let listed = saver.list(&thread, &ListOptions::default()).await.unwrap_or_default();
                    saver.close().await;
                    if listed.len() >= 50 {
                        break;
                    }
                }
                assert!(child.0.try_wait().unwrap().is_none(), "the writer stopped by itself");
            }
            child.0.kill().unwrap();
            child.0.wait().unwrap();

            let saver = SqliteSaver::open(&db.0).await.unwrap();
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&saver.pool)
                .await
                .unwrap();
            assert_eq!(check, "ok");
            let listed = saver.list(&thread, &ListOptions::default()).await.unwrap();
            assert!(listed.len() >= 50, "{} checkpoints", listed.len());
            for tuple in &listed {
                let n = tuple.pending_writes.len();
                assert!(n == 0 || n == WRITES_PER_TASK, "a put_writes half done: {n} writes");
            }
            // Every checkpoint but the last one has its writes.
            assert!(listed[1..].iter().all(|t| t.pending_writes.len() == WRITES_PER_TASK));
        });
    }
}
