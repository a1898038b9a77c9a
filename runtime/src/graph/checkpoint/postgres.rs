//! [`PostgresSaver`]: checkpoints in PostgreSQL, for many processes
//! sharing one database (feature `postgres`).

use std::str::FromStr;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value as Json;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::{Connection as _, QueryBuilder};

use super::sql::{self, Op, Scalar, SqlSaver};
use super::{Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointTuple, Checkpointer, ListOptions};
use crate::error::Result;

const SAVER: &str = "PostgresSaver";

/// Connections per saver: enough for a process's concurrent runs, few
/// enough that many processes stay under the server's `max_connections`
/// (100 by default).
const MAX_CONNECTIONS: u32 = 5;

/// The key of the advisory lock the migrations hold ("runwrigh" in ASCII),
/// so that processes connecting at once apply them one after the other.
const MIGRATION_LOCK: i64 = 0x7275_6e77_7269_6768;

/// The schema, by version; each is applied once, in order, in the
/// transaction that records it in `checkpoint_migrations`. Never edit one
/// that has shipped: add the next.
///
/// The tables are LangGraph's (`checkpoints`, `checkpoint_writes`) with the
/// checkpoint, metadata and values as `json`, not `jsonb`: `jsonb` reorders
/// object keys, and a state's key order is part of what a graph shows.
/// Checkpoint ids compare bytewise (`COLLATE "C"`), the order UUIDv7 text
/// is made in, whatever the database's locale. `seq` is the order writes
/// arrived in.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"CREATE TABLE checkpoints (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT COLLATE "C" NOT NULL,
        parent_checkpoint_id TEXT COLLATE "C",
        checkpoint JSON NOT NULL,
        metadata JSON NOT NULL DEFAULT '{}',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
    );
    CREATE TABLE checkpoint_writes (
        thread_id TEXT NOT NULL,
        checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT COLLATE "C" NOT NULL,
        task_id TEXT NOT NULL,
        idx BIGINT NOT NULL,
        channel TEXT NOT NULL,
        value JSON NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    );"#,
)];

/// Keeps checkpoints in a PostgreSQL database that many processes share
/// (LangGraph's `PostgresSaver`). Feature `postgres`.
///
/// [`connect`](Self::connect) opens a pool of connections and brings the
/// schema up to date: the tables `checkpoints` and `checkpoint_writes` in
/// the first schema of the connection's `search_path` (`public` unless the
/// URL says otherwise, as in `?options=-c%20search_path%3Dmy_schema`), and
/// `checkpoint_migrations`, the versions applied. Processes that connect at
/// once take turns at the migrations (an advisory lock); each
/// [`put`](Checkpointer::put) and [`put_writes`](Checkpointer::put_writes)
/// is one transaction.
///
/// The connection is not encrypted (no TLS): use it on the same machine or
/// a private network; a URL asking for `sslmode=require` fails to connect.
///
/// Clones share the pool.
///
/// ```no_run
/// use runwright::graph::checkpoint::{CheckpointConfig, Checkpointer, PostgresSaver};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> runwright::Result<()> {
/// let saver = PostgresSaver::connect("postgres://runwright@127.0.0.1:54329/runwright").await?;
/// for tuple in saver.list(&CheckpointConfig::thread("thread-1"), &Default::default()).await? {
///     println!("{} step {}", tuple.checkpoint.id, tuple.metadata.step);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresSaver {
    pool: PgPool,
    /// `host:port/database`: no user, no password.
    server: Arc<str>,
}

impl std::fmt::Debug for PostgresSaver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSaver").field("server", &self.server).finish()
    }
}

impl PostgresSaver {
    /// Connects to the database at `url`
    /// (`postgres://user:password@host:port/database`) and brings its
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| sql::db_error(format!("{SAVER}: invalid database URL"), e))?;
        let server = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username())
        );
        let cannot_connect = |e| sql::db_error(format!("{SAVER}: cannot connect to `{server}`"), e);
        // One connection first, for the migrations: it fails at once with
        // the reason (a pool would retry until its acquire timeout, then
        // give only "timed out").
        let mut conn = PgConnection::connect_with(&options).await.map_err(cannot_connect)?;
        migrate(&mut conn)
            .await
            .map_err(|e| sql::db_error(format!("{SAVER}: cannot migrate the schema of `{server}`"), e))?;
        // A failure to close is the server's to clean up; the work is done.
        let _ = conn.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(cannot_connect)?;
        Ok(PostgresSaver {
            pool,
            server: server.into(),
        })
    }

    /// Closes the connections (of every clone), waiting for the ones in
    /// use to be returned. Later calls fail with
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The writes made after checkpoints `ids`, in the order they arrived.
async fn writes_of(
    conn: &mut PgConnection,
    config: &CheckpointConfig,
    ids: &[&str],
) -> Result<Vec<sql::WriteRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT checkpoint_id, task_id, channel, value::text FROM checkpoint_writes
         WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = ANY($3)
         ORDER BY checkpoint_id, seq",
    )
    .bind(&config.thread_id)
    .bind(&config.checkpoint_ns)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(sql::WriteRow::of).collect()
}

/// Applies the migrations not yet applied, in one transaction that holds
/// an advisory lock until it ends: processes connecting at once take
/// turns, and the later ones find the schema done. DDL is transactional
/// in PostgreSQL, so a migration that fails leaves nothing behind.
async fn migrate(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS checkpoint_migrations (
            v BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
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
        sqlx::query("INSERT INTO checkpoint_migrations (v) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

impl SqlSaver for PostgresSaver {
    const NAME: &'static str = SAVER;

    async fn select(
        &self,
        op: &Op<'_>,
        config: &CheckpointConfig,
        options: &ListOptions,
    ) -> Result<Vec<CheckpointTuple>> {
        let (pushed, all_pushed) = sql::pushdown(options);
        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT checkpoint_id, parent_checkpoint_id, checkpoint::text, metadata::text
             FROM checkpoints WHERE thread_id = ",
        );
        q.push_bind(&config.thread_id);
        q.push(" AND checkpoint_ns = ").push_bind(&config.checkpoint_ns);
        if let Some(id) = &config.checkpoint_id {
            q.push(" AND checkpoint_id = ").push_bind(id);
        }
        if let Some(before) = &options.before {
            q.push(" AND checkpoint_id < ").push_bind(before);
        }
        // `->>` gives a number's text as stored, so `1.0` is not `1`, as
        // for `ListOptions::matches`.
        for (key, value) in pushed {
            q.push(" AND json_typeof(metadata -> ").push_bind(key);
            match value {
                Scalar::Str(s) => {
                    q.push(") = 'string' AND metadata ->> ").push_bind(key);
                    q.push(" = ").push_bind(s);
                }
                Scalar::Bool(b) => {
                    q.push(") = 'boolean' AND metadata ->> ").push_bind(key);
                    q.push(if b { " = 'true'" } else { " = 'false'" });
                }
                Scalar::Int(i) => {
                    q.push(") = 'number' AND metadata ->> ").push_bind(key);
                    q.push(" = ").push_bind(i.to_string());
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

impl Checkpointer for PostgresSaver {
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
            sqlx::query(
                "INSERT INTO checkpoints
                    (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
                 VALUES ($1, $2, $3, $4, $5::json, $6::json)
                 ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO NOTHING",
            )
            .bind(&config.thread_id)
            .bind(&config.checkpoint_ns)
            .bind(&checkpoint.id)
            .bind(&config.checkpoint_id)
            .bind(body)
            .bind(meta)
            .execute(&self.pool)
            .await
            .map_err(|e| op.db(e))?;
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
            // Rows of one INSERT may not meet each other's conflict: a
            // special channel written twice in one call keeps its last value.
            let mut rows: Vec<(i64, &str, String)> = Vec::with_capacity(writes.len());
            for (i, (channel, value)) in writes.iter().enumerate() {
                let idx = sql::stored_index(super::write_index(channel, i));
                let value = op.to_json("write", value)?;
                match rows.iter_mut().find(|(k, ..)| *k == idx) {
                    Some(row) => *row = (idx, channel, value),
                    None => rows.push((idx, channel, value)),
                }
            }
            let idx: Vec<i64> = rows.iter().map(|(i, ..)| *i).collect();
            let channels: Vec<&str> = rows.iter().map(|(_, c, _)| *c).collect();
            let values: Vec<String> = rows.into_iter().map(|(.., v)| v).collect();
            // One statement, so one round trip and one transaction.
            // FOR KEY SHARE: a delete_thread running at the same time waits
            // for these writes, then deletes them too (it deletes the
            // checkpoints first); or, having deleted the checkpoint first,
            // makes this find none and write nothing. The same write twice
            // (a retried save) is kept once; a special channel's (negative
            // index) latest value replaces the earlier one, in the place the
            // first one arrived in.
            const PUT_WRITES: &str = "WITH cp AS (
                    SELECT 1 FROM checkpoints
                     WHERE thread_id = $1 AND checkpoint_ns = $2 AND checkpoint_id = $3
                     FOR KEY SHARE
                ), written AS (
                    INSERT INTO checkpoint_writes
                        (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, value)
                    SELECT $1, $2, $3, $4, w.idx, w.channel, w.value::json
                      FROM unnest($5::bigint[], $6::text[], $7::text[]) AS w(idx, channel, value)
                     WHERE EXISTS (SELECT 1 FROM cp)
                    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
                    DO UPDATE SET channel = EXCLUDED.channel, value = EXCLUDED.value
                     WHERE checkpoint_writes.idx < 0
                )
                SELECT EXISTS (SELECT 1 FROM cp)";
            let found: bool = sqlx::query_scalar(PUT_WRITES)
                .bind(&config.thread_id)
                .bind(&config.checkpoint_ns)
                .bind(id)
                .bind(task_id)
                .bind(&idx)
                .bind(&channels)
                .bind(&values)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| op.db(e))?;
            if !found {
                return Err(super::no_checkpoint(config));
            }
            Ok(())
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
            let mut tx = self.pool.begin().await.map_err(|e| op.db(e))?;
            // The checkpoints first: see put_writes.
            for table in ["checkpoints", "checkpoint_writes"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE thread_id = $1"))
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

    /// `DATABASE_URL`, or none: then the test says how to set it and
    /// passes, unless `RUNWRIGHT_REQUIRE_POSTGRES` is set (CI), where a
    /// missing server is a failure, not a skip.
    fn database_url() -> Option<String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var_os("RUNWRIGHT_REQUIRE_POSTGRES").is_none(),
                    "RUNWRIGHT_REQUIRE_POSTGRES is set but DATABASE_URL is not (scripts/postgres/setup.sh prints it)"
                );
                eprintln!(
                    "skipping: set DATABASE_URL=postgres://... (scripts/postgres/setup.sh starts a local server)"
                );
                None
            }
        }
    }

    /// A schema of its own for one test (the suite's thread ids are fixed,
    /// and runs may share the database), dropped by [`Schema::drop`].
    struct Schema {
        admin: PgPool,
        name: String,
        /// `DATABASE_URL` with the schema as the search path.
        url: String,
    }

    impl Schema {
        async fn new(url: &str) -> Self {
            let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
            let name = format!("runwright_test_{}", uuid::Uuid::now_v7().simple());
            sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
                .execute(&admin)
                .await
                .unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{sep}options=-c%20search_path%3D{name}");
            Schema { admin, name, url }
        }

        async fn drop(self) {
            sqlx::raw_sql(&format!("DROP SCHEMA {} CASCADE", self.name))
                .execute(&self.admin)
                .await
                .unwrap();
            self.admin.close().await;
        }
    }

    fn meta(step: i64) -> CheckpointMetadata {
        CheckpointMetadata::new(CheckpointSource::Loop, step)
    }

    #[tokio::test]
    async fn postgres_saver_keeps_checkpoints_as_every_saver_must() {
        let Some(url) = database_url() else { return };
        let schema = Schema::new(&url).await;
        let saver = PostgresSaver::connect(&schema.url).await.unwrap();
        conformance(&saver).await;
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1
             AND table_name IN ('checkpoints', 'checkpoint_writes', 'checkpoint_migrations')",
        )
        .bind(&schema.name)
        .fetch_one(&saver.pool)
        .await
        .unwrap();
        assert_eq!(tables, 3, "the tables are in the URL's schema");
        saver.close().await;
        schema.drop().await;
    }

    #[tokio::test]
    async fn four_savers_connecting_at_once_migrate_once_and_share_the_database() {
        let Some(url) = database_url() else { return };
        let schema = Schema::new(&url).await;
        let savers = futures::future::try_join_all((0..4).map(|_| PostgresSaver::connect(&schema.url)))
            .await
            .unwrap();
        let versions: Vec<i64> = sqlx::query_scalar("SELECT v FROM checkpoint_migrations ORDER BY v")
            .fetch_all(&savers[0].pool)
            .await
            .unwrap();
        assert_eq!(versions, MIGRATIONS.iter().map(|(v, _)| *v).collect::<Vec<_>>());

        let thread = CheckpointConfig::thread("shared");
        let id = new_checkpoint_id();
        let at = savers[0].put(&thread, checkpoint(&id, 1), meta(0)).await.unwrap();
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

        // A saver connected later finds what the others stored.
        for saver in &savers {
            saver.close().await;
        }
        let later = PostgresSaver::connect(&schema.url).await.unwrap();
        assert_eq!(later.get_tuple(&thread).await.unwrap().expect("kept").checkpoint.id, id);
        later.close().await;
        schema.drop().await;
    }

    #[tokio::test]
    async fn a_graph_interrupted_before_a_restart_resumes_from_the_database() {
        let Some(url) = database_url() else { return };
        let schema = Schema::new(&url).await;
        let before = PostgresSaver::connect(&schema.url).await.unwrap();
        let after = async {
            before.close().await;
            Arc::new(PostgresSaver::connect(&schema.url).await.unwrap()) as Arc<dyn Checkpointer>
        };
        resume_after_restart(Arc::new(before.clone()), after).await;
        schema.drop().await;
    }

    #[tokio::test]
    async fn state_keys_keep_their_order() {
        let Some(url) = database_url() else { return };
        let schema = Schema::new(&url).await;
        let saver = PostgresSaver::connect(&schema.url).await.unwrap();
        let mut cp = checkpoint(&new_checkpoint_id(), 1);
        for key in ["zeta", "a", "mm", "b"] {
            cp.channel_values.insert(key.into(), key.into());
        }
        let thread = CheckpointConfig::thread("order");
        let mut m = meta(0);
        m.extra.insert("zz".into(), 1.into());
        m.extra.insert("aa".into(), 2.into());
        saver.put(&thread, cp, m).await.unwrap();
        let got = saver.get_tuple(&thread).await.unwrap().unwrap();
        let keys: Vec<&String> = got.checkpoint.channel_values.keys().collect();
        assert_eq!(keys, ["x", "zeta", "a", "mm", "b"]);
        let keys: Vec<&String> = got.metadata.extra.keys().collect();
        assert_eq!(keys, ["zz", "aa"]);
        saver.close().await;
        schema.drop().await;
    }

    #[tokio::test]
    async fn a_corrupt_row_is_an_error_naming_its_thread_and_checkpoint() {
        let Some(url) = database_url() else { return };
        let schema = Schema::new(&url).await;
        let saver = PostgresSaver::connect(&schema.url).await.unwrap();
        let thread = CheckpointConfig::thread("corrupt");
        let id = new_checkpoint_id();
        let at = saver.put(&thread, checkpoint(&id, 1), meta(0)).await.unwrap();
        sqlx::query(r#"UPDATE checkpoints SET checkpoint = '{"v": 4}'"#)
            .execute(&saver.pool)
            .await
            .unwrap();
        let e = saver.get_tuple(&at).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(
            e.to_string().contains(&format!(
                "checkpoint `{id}` of thread `corrupt` (namespace ``) is corrupt"
            )),
            "{e}"
        );
        saver.close().await;
        schema.drop().await;
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_a_connection_error_naming_it() {
        // Port 1 on the loopback: refused at once, no server needed.
        let e = PostgresSaver::connect("postgres://someone:secret@127.0.0.1:1/db")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connection);
        let message = e.to_string();
        assert!(
            message.starts_with("PostgresSaver: cannot connect to `127.0.0.1:1/db`"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
        let e = PostgresSaver::connect("not a url").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
