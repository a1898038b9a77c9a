//! What `SqliteSaver` and `PostgresSaver` share: the stored form of a
//! write's index, errors that name the operation, decoding of stored rows,
//! and which parts of a metadata filter the SQL can do.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::{Checkpoint, CheckpointConfig, CheckpointMetadata, CheckpointTuple, ListOptions, PendingWrite};
use crate::error::{Error, ErrorKind, Result};

/// A write's index as stored: its place in the task's writes, or, for the
/// channels [`write_index`](super::write_index) gives a place at the end of
/// `usize`, a negative number as LangGraph stores them (`__error__` -1,
/// `__interrupt__` -3, `__resume__` -4). Negative means "the latest value
/// replaces the earlier one".
pub(crate) fn stored_index(idx: usize) -> i64 {
    match i64::try_from(idx) {
        Ok(i) if i < i64::MAX / 2 => i,
        // usize::MAX - k is stored as -(k + 1); k is small for every
        // special channel, so the cast cannot wrap.
        _ => -((usize::MAX - idx) as i64) - 1,
    }
}

/// One operation of a saver on one checkpoint (or thread), for messages
/// such as "SqliteSaver: put_writes of checkpoint `1ef...` (thread `t`,
/// namespace ``): database is locked".
pub(crate) struct Op<'a> {
    pub saver: &'static str,
    pub what: &'static str,
    pub thread: &'a str,
    pub ns: Option<&'a str>,
    pub id: Option<&'a str>,
}

impl<'a> Op<'a> {
    pub fn new(saver: &'static str, what: &'static str, config: &'a CheckpointConfig) -> Self {
        Op {
            saver,
            what,
            thread: &config.thread_id,
            ns: Some(&config.checkpoint_ns),
            id: config.checkpoint_id.as_deref(),
        }
    }

    /// An operation on a whole thread.
    pub fn thread(saver: &'static str, what: &'static str, thread: &'a str) -> Self {
        Op {
            saver,
            what,
            thread,
            ns: None,
            id: None,
        }
    }

    #[must_use]
    pub fn with_id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// "put of checkpoint `x` (thread `t`, namespace `n`)".
    fn describe(&self) -> String {
        let mut s = format!("{}: {}", self.saver, self.what);
        match self.id {
            Some(id) => s.push_str(&format!(" of checkpoint `{id}` (thread `{}`", self.thread)),
            None => s.push_str(&format!(" of thread `{}` (", self.thread)),
        }
        match (self.id, self.ns) {
            (Some(_), Some(ns)) => s.push_str(&format!(", namespace `{ns}`)")),
            (None, Some(ns)) => s.push_str(&format!("namespace `{ns}`)")),
            (Some(_), None) => s.push(')'),
            (None, None) => s.push_str("every namespace)"),
        }
        s
    }

    /// `value` as JSON text, to store.
    pub fn to_json<T: serde::Serialize>(&self, what: &str, value: &T) -> Result<String> {
        serde_json::to_string(value).map_err(|e| {
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("{}: cannot serialize the {what}: {e}", self.describe()),
                e,
            )
        })
    }

    /// A database error of this operation.
    pub fn db(&self, e: sqlx::Error) -> Error {
        db_error(self.describe(), e)
    }

    /// An error of this operation, of `kind`.
    #[cfg(feature = "sqlite")]
    pub fn error<E: std::error::Error + Send + Sync + 'static>(&self, kind: ErrorKind, e: E) -> Error {
        Error::with_source(kind, format!("{}: {e}", self.describe()), e)
    }

    /// A stored value of this operation's checkpoint that does not parse.
    fn corrupt(&self, id: &str, what: &str, e: serde_json::Error) -> Error {
        Error::with_source(
            ErrorKind::Protocol,
            format!(
                "{}: checkpoint `{id}` of thread `{}` (namespace `{}`) is corrupt: its {what} does not parse: {e}",
                self.saver,
                self.thread,
                self.ns.unwrap_or("")
            ),
            e,
        )
    }
}

/// A saver on a SQL database: how it selects checkpoints with their
/// writes (its dialect). Reading one or a list of them is the same on
/// every database.
pub(crate) trait SqlSaver: Sync {
    /// Its name, for messages.
    const NAME: &'static str;

    /// The checkpoints of `config`'s thread and namespace (one, when it
    /// names an id), newest first, filtered, with their writes.
    fn select<'a>(
        &'a self,
        op: &'a Op<'a>,
        config: &'a CheckpointConfig,
        options: &'a ListOptions,
    ) -> impl std::future::Future<Output = Result<Vec<CheckpointTuple>>> + Send + 'a;
}

/// [`Checkpointer::get_tuple`](super::Checkpointer::get_tuple) on a SQL saver.
pub(crate) async fn get_tuple<S: SqlSaver>(saver: &S, config: &CheckpointConfig) -> Result<Option<CheckpointTuple>> {
    let op = Op::new(S::NAME, "get_tuple", config);
    let latest = ListOptions {
        limit: Some(1),
        ..ListOptions::default()
    };
    Ok(saver.select(&op, config, &latest).await?.into_iter().next())
}

/// [`Checkpointer::list`](super::Checkpointer::list) on a SQL saver.
pub(crate) async fn list<S: SqlSaver>(
    saver: &S,
    config: &CheckpointConfig,
    options: &ListOptions,
) -> Result<Vec<CheckpointTuple>> {
    // Every checkpoint of the namespace, whatever id the config names.
    let config = CheckpointConfig {
        checkpoint_id: None,
        ..config.clone()
    };
    let op = Op::new(S::NAME, "list", &config);
    saver.select(&op, &config, options).await
}

/// A database error, its message led by `context` (what was being done).
pub(crate) fn db_error(context: String, e: sqlx::Error) -> Error {
    let kind = error_kind(&e);
    Error::with_source(kind, format!("{context}: {e}"), e)
}

/// Whether `e` is SQLite's "database is locked" (or "table is locked").
#[cfg(feature = "sqlite")]
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(_)) && error_kind(e) == ErrorKind::Timeout
}

fn error_kind(e: &sqlx::Error) -> ErrorKind {
    use sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => ErrorKind::Connection,
        E::Configuration(_) => ErrorKind::InvalidInput,
        E::Protocol(_)
        | E::Decode(_)
        | E::ColumnDecode { .. }
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. }
        | E::TypeNotFound { .. } => ErrorKind::Protocol,
        E::Database(db) => match db.code().as_deref() {
            // SQLite: SQLITE_BUSY and SQLITE_LOCKED (and their extended
            // codes) once the busy timeout has run out.
            Some(c) if c == "5" || c == "6" || c.parse::<u32>().is_ok_and(|n| n & 0xff == 5 || n & 0xff == 6) => {
                ErrorKind::Timeout
            }
            // PostgreSQL: class 08 (connection exception), 57P01..03
            // (the server shutting down or not yet up), 53300 (too many
            // connections).
            Some(c) if c.starts_with("08") || c.starts_with("57P0") || c == "53300" => ErrorKind::Connection,
            // PostgreSQL: class 28 (the password or the user refused).
            Some(c) if c.starts_with("28") => ErrorKind::Authentication,
            _ => ErrorKind::Provider,
        },
        _ => ErrorKind::Provider,
    }
}

/// A stored checkpoint row, as text.
pub(crate) struct Row {
    pub id: String,
    pub parent: Option<String>,
    pub checkpoint: String,
    pub metadata: String,
}

/// A stored write row, as text.
pub(crate) struct WriteRow {
    pub checkpoint_id: String,
    pub task_id: String,
    pub channel: String,
    pub value: String,
}

/// What a text column of either database decodes into.
pub(crate) trait Text<R: sqlx::Row>:
    for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database> + Sized
{
}
impl<R: sqlx::Row, T: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>> Text<R> for T {}

impl Row {
    /// A selected row: id, parent id, checkpoint and metadata, as text.
    pub(crate) fn of<R>(row: &R) -> Result<Row, sqlx::Error>
    where
        R: sqlx::Row,
        usize: sqlx::ColumnIndex<R>,
        String: Text<R>,
        Option<String>: Text<R>,
    {
        Ok(Row {
            id: row.try_get(0)?,
            parent: row.try_get(1)?,
            checkpoint: row.try_get(2)?,
            metadata: row.try_get(3)?,
        })
    }
}

impl WriteRow {
    /// A selected write: checkpoint id, task id, channel and value, as text.
    pub(crate) fn of<R>(row: &R) -> Result<WriteRow, sqlx::Error>
    where
        R: sqlx::Row,
        usize: sqlx::ColumnIndex<R>,
        String: Text<R>,
    {
        Ok(WriteRow {
            checkpoint_id: row.try_get(0)?,
            task_id: row.try_get(1)?,
            channel: row.try_get(2)?,
            value: row.try_get(3)?,
        })
    }
}

/// A selected row, decoded, that passed the filter.
pub(crate) type Kept = (Row, Checkpoint, CheckpointMetadata);

/// The selected `rows` (newest first) whose metadata passes `options`'
/// filter, up to its limit.
pub(crate) fn keep<R>(op: &Op<'_>, options: &ListOptions, rows: &[R]) -> Result<Vec<Kept>>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    String: Text<R>,
    Option<String>: Text<R>,
{
    let mut kept = Vec::new();
    for row in rows {
        let row = Row::of(row).map_err(|e| op.db(e))?;
        let (checkpoint, metadata) = decode(op, &row)?;
        if options.matches(&metadata) {
            kept.push((row, checkpoint, metadata));
        }
        if options.limit.is_some_and(|n| kept.len() >= n) {
            break;
        }
    }
    Ok(kept)
}

/// A row's checkpoint and metadata, parsed; an error naming the thread and
/// checkpoint when either does not parse.
pub(crate) fn decode(op: &Op<'_>, row: &Row) -> Result<(Checkpoint, CheckpointMetadata)> {
    let checkpoint = serde_json::from_str(&row.checkpoint).map_err(|e| op.corrupt(&row.id, "checkpoint", e))?;
    let metadata = serde_json::from_str(&row.metadata).map_err(|e| op.corrupt(&row.id, "metadata", e))?;
    Ok((checkpoint, metadata))
}

/// The tuples of `rows` (already decoded), with their writes, in the order
/// the writes arrived (`writes` is in that order).
pub(crate) fn tuples(
    op: &Op<'_>,
    config: &CheckpointConfig,
    rows: Vec<Kept>,
    writes: Vec<WriteRow>,
) -> Result<Vec<CheckpointTuple>> {
    let mut by_checkpoint: HashMap<String, Vec<PendingWrite>> = HashMap::new();
    for w in writes {
        let value: Json = serde_json::from_str(&w.value).map_err(|e| {
            op.corrupt(
                &w.checkpoint_id,
                &format!("write of task `{}` to channel `{}`", w.task_id, w.channel),
                e,
            )
        })?;
        by_checkpoint.entry(w.checkpoint_id).or_default().push(PendingWrite {
            task_id: w.task_id,
            channel: w.channel,
            value,
        });
    }
    Ok(rows
        .into_iter()
        .map(|(row, checkpoint, metadata)| CheckpointTuple {
            config: config.at(row.id.clone()),
            parent_config: row.parent.map(|p| config.at(p)),
            pending_writes: by_checkpoint.remove(&row.id).unwrap_or_default(),
            checkpoint,
            metadata,
        })
        .collect())
}

/// A metadata value the SQL compares exactly as [`ListOptions::matches`]
/// does: a string, a boolean, an integer.
pub(crate) enum Scalar<'a> {
    Str(&'a str),
    Bool(bool),
    /// As JSON text (`-3`), which is how both databases see the stored one.
    Int(i64),
}

/// The filter's entries the SQL can check, and whether that is all of them
/// (then the SQL can also apply the limit). Floats, nulls, arrays and
/// objects, and keys with a `"` (which a SQLite JSON path cannot quote),
/// are left to [`ListOptions::matches`] after the query.
pub(crate) fn pushdown(options: &ListOptions) -> (Vec<(&str, Scalar<'_>)>, bool) {
    let mut pushed = Vec::new();
    for (key, value) in &options.filter {
        if key.contains('"') {
            continue;
        }
        let scalar = match value {
            Json::String(s) => Scalar::Str(s),
            Json::Bool(b) => Scalar::Bool(*b),
            Json::Number(n) if n.is_i64() => match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => continue,
            },
            _ => continue,
        };
        pushed.push((key.as_str(), scalar));
    }
    let all = pushed.len() == options.filter.len();
    (pushed, all)
}

/// How many rows the SQL may return: the limit, when the SQL does the whole
/// filter; otherwise all of them (the limit applies after the rest of the
/// filter). As `i64` for the `LIMIT` parameter.
pub(crate) fn sql_limit(options: &ListOptions, all_pushed: bool) -> Option<i64> {
    match options.limit {
        Some(n) if all_pushed => Some(i64::try_from(n).unwrap_or(i64::MAX)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::checkpoint::{write_index, ERROR, INTERRUPT, RESUME};

    #[test]
    fn special_channels_are_stored_with_langgraphs_negative_indexes() {
        assert_eq!(stored_index(write_index(ERROR, 0)), -1);
        assert_eq!(stored_index(write_index(INTERRUPT, 0)), -3);
        assert_eq!(stored_index(write_index(RESUME, 0)), -4);
        assert_eq!(stored_index(write_index("x", 7)), 7);
    }

    #[test]
    fn messages_name_the_operation_thread_and_checkpoint() {
        let config = CheckpointConfig::thread("t").at("c1");
        let op = Op::new("SqliteSaver", "put", &config);
        assert_eq!(
            op.describe(),
            "SqliteSaver: put of checkpoint `c1` (thread `t`, namespace ``)"
        );
        let whole = Op {
            ns: None,
            id: None,
            ..op
        };
        assert_eq!(whole.describe(), "SqliteSaver: put of thread `t` (every namespace)");
        let e = whole.db(sqlx::Error::PoolTimedOut);
        assert_eq!(e.kind(), ErrorKind::Connection);
        assert!(e.message().starts_with("SqliteSaver: put of thread `t`"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn only_exact_scalars_go_to_sql() {
        let mut options = ListOptions::default();
        options.filter.insert("source".into(), "loop".into());
        options.filter.insert("step".into(), 3.into());
        options.filter.insert("ok".into(), true.into());
        let (pushed, all) = pushdown(&options);
        assert_eq!(pushed.len(), 3);
        assert!(all);
        options.limit = Some(2);
        assert_eq!(sql_limit(&options, all), Some(2));
        options.filter.insert("score".into(), serde_json::json!(0.5));
        options.filter.insert("a\"b".into(), "x".into());
        let (pushed, all) = pushdown(&options);
        assert_eq!(pushed.len(), 3);
        assert!(!all);
        assert_eq!(sql_limit(&options, all), None);
    }
}
