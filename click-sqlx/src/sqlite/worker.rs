//! The threads of a [`SqliteStore`](crate::SqliteStore), each owning one connection: the writer,
//! with the group commit that makes it fast, and the reader.
//!
//! SQLite has one writer at a time, so a store does all its writes on one thread that owns the
//! write connection. Callers queue jobs; the thread takes every job waiting (up to [`MAX_BATCH`]),
//! opens one `BEGIN IMMEDIATE` transaction, runs each job inside its own savepoint (a failed job
//! rolls back to it, alone), commits once, and only then answers the callers. An answer is never
//! sent before the commit that makes it true: if the commit fails, every job of the batch gets the
//! error, and none of them changed anything. One fsync covers the whole batch.
//!
//! The reader thread runs lookups one by one on a read-only connection, outside any transaction:
//! each sees the last committed state, and answers at once instead of waiting for a batch's fsync.
//!
//! Statements run as direct calls on the thread (a few microseconds each), not as a round trip to
//! another thread per statement. The merchant's async hooks run on the thread too, driven by the
//! caller's tokio runtime; a hook whose caller went away (a dropped request) is stopped and its job
//! rolled back, as dropping a database transaction would.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use click_core::StoreError;
use rusqlite::Connection;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The most jobs one transaction takes.
const MAX_BATCH: usize = 256;

/// How long a caller waits for its job's answer before it gives up (and the callback answers
/// `-7`). A job it gave up on is skipped if it has not started, stopped and rolled back if it is in
/// a hook, and committed unanswered if it already ran (Click's retry then finds it done).
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a batch's transaction did not commit; every job of the batch gets it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BatchError {
    /// `BEGIN IMMEDIATE` failed, typically after the busy timeout: another process held the lock.
    #[error("could not open the SQLite write transaction")]
    Begin(#[source] rusqlite::Error),
    /// `COMMIT` failed: nothing of the batch was kept.
    #[error("the SQLite write transaction failed to commit")]
    Commit(#[source] rusqlite::Error),
    /// A job ended the transaction itself, or its savepoint could not be released.
    #[error("the SQLite write transaction was lost mid-batch")]
    Lost(#[source] Option<rusqlite::Error>),
}

/// Why a job was not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// No answer came within [`CALL_TIMEOUT`]: the thread is busy (a slow hook, a slow disk).
    #[error("no answer from the SQLite thread within {} s", CALL_TIMEOUT.as_secs())]
    TimedOut,
    /// The thread is gone.
    #[error("the SQLite thread stopped")]
    Stopped,
    /// Its caller stopped waiting (a dropped request, a timeout) while one of its hooks ran.
    #[error("the caller stopped waiting while a hook ran")]
    Abandoned,
    /// A hook or statement panicked.
    #[error("the job panicked")]
    Panicked,
}

/// Lets a running job wait for the merchant's async hooks.
pub(crate) struct Waiter<'a> {
    runtime: &'a Handle,
    caller: &'a mut dyn Caller,
}

impl Waiter<'_> {
    /// Drives `future` to its end on this thread, unless the caller goes away first.
    ///
    /// # Errors
    ///
    /// [`Refused::Abandoned`]: the caller dropped its request; the job must give up.
    pub(crate) fn wait<T>(&mut self, future: impl Future<Output = T>) -> Result<T, StoreError> {
        let caller = &mut *self.caller;
        self.runtime.block_on(async move {
            tokio::select! {
                biased;
                output = future => Ok(output),
                () = caller.closed() => Err(StoreError::backend(Refused::Abandoned)),
            }
        })
    }
}

/// The side of a caller that can tell whether it still waits.
trait Caller: Send {
    /// Resolves once the caller stopped waiting.
    fn closed(&mut self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

impl<T: Send> Caller for oneshot::Sender<T> {
    fn closed(&mut self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(oneshot::Sender::closed(self))
    }
}

/// A job's work: runs on a worker's thread; on the writer, inside the batch's transaction and its
/// own savepoint.
pub(crate) type Work<H, T> =
    Box<dyn FnOnce(&mut Connection, &H, &mut Waiter<'_>) -> Result<T, StoreError> + Send>;

/// Sends a job's answer once the batch's fate is known.
type Finish = Box<dyn FnOnce(Result<(), &Arc<BatchError>>) + Send>;

/// A queued job, its result type erased.
trait Job<H>: Send {
    /// Runs the job; says whether it failed (and must be rolled back) and how to answer.
    fn run(self: Box<Self>, conn: &mut Connection, hooks: &H, runtime: &Handle) -> (bool, Finish);

    /// Answers without running: the batch never started.
    fn refuse(self: Box<Self>, error: &Arc<BatchError>);
}

/// A job and its caller.
struct Call<H, T> {
    work: Work<H, T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
    span: tracing::Span,
}

impl<H: 'static, T: Send + 'static> Job<H> for Call<H, T> {
    fn run(self: Box<Self>, conn: &mut Connection, hooks: &H, runtime: &Handle) -> (bool, Finish) {
        let Call {
            work,
            mut reply,
            span,
        } = *self;
        if reply.is_closed() {
            return (false, Box::new(|_| {}));
        }
        let result = span.in_scope(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                let mut waiter = Waiter {
                    runtime,
                    caller: &mut reply,
                };
                work(conn, hooks, &mut waiter)
            }))
            .unwrap_or_else(|_| Err(StoreError::backend(Refused::Panicked)))
        });
        let failed = result.is_err();
        let finish: Finish = Box::new(move |batch| {
            let _ = reply.send(match batch {
                Ok(()) => result,
                Err(error) => Err(StoreError::backend(Arc::clone(error))),
            });
        });
        (failed, finish)
    }

    fn refuse(self: Box<Self>, error: &Arc<BatchError>) {
        let _ = self.reply.send(Err(StoreError::backend(Arc::clone(error))));
    }
}

/// How a worker runs its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In batches, each one write transaction committed before its jobs are answered.
    Write,
    /// One by one, outside any transaction, each answered at once.
    Read,
}

/// The queue into a worker thread. Dropping it ends the thread, which closes the connection.
pub(crate) struct Worker<H> {
    jobs: mpsc::Sender<Box<dyn Job<H>>>,
}

impl<H: Send + Sync + 'static> Worker<H> {
    /// Starts a thread on a connection `open` makes there.
    ///
    /// # Errors
    ///
    /// `open` failed, the thread could not start, or no tokio runtime is running.
    pub(crate) async fn start(
        name: &str,
        mode: Mode,
        open: impl FnOnce() -> rusqlite::Result<Connection> + Send + 'static,
        hooks: Arc<H>,
    ) -> Result<Self, StoreError> {
        let runtime = Handle::try_current().map_err(StoreError::backend)?;
        let (jobs, queue) = mpsc::channel::<Box<dyn Job<H>>>();
        let (opened, ready) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || match open() {
                Ok(mut conn) => {
                    let _ = opened.send(Ok(()));
                    serve(mode, &mut conn, &*hooks, &runtime, &queue);
                }
                Err(error) => {
                    let _ = opened.send(Err(error));
                }
            })
            .map_err(StoreError::backend)?;
        ready
            .await
            .map_err(|_| StoreError::backend(Refused::Stopped))?
            .map_err(StoreError::backend)?;
        Ok(Self { jobs })
    }

    /// Queues `work` and waits for its committed result.
    ///
    /// # Errors
    ///
    /// The work failed, its batch did not commit, or no answer came within [`CALL_TIMEOUT`].
    pub(crate) async fn call<T: Send + 'static>(&self, work: Work<H, T>) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let call = Call {
            work,
            reply,
            span: tracing::Span::current(),
        };
        self.jobs
            .send(Box::new(call))
            .map_err(|_| StoreError::backend(Refused::Stopped))?;
        match tokio::time::timeout(CALL_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(StoreError::backend(Refused::Stopped)),
            Err(_) => Err(StoreError::backend(Refused::TimedOut)),
        }
    }
}

/// The thread's loop, until its [`Worker`] is dropped.
fn serve<H>(
    mode: Mode,
    conn: &mut Connection,
    hooks: &H,
    runtime: &Handle,
    queue: &mpsc::Receiver<Box<dyn Job<H>>>,
) {
    while let Ok(first) = queue.recv() {
        if mode == Mode::Read {
            let (_, finish) = first.run(conn, hooks, runtime);
            if !conn.is_autocommit() {
                // A hook left a transaction open: end it, so the next lookup sees fresh data.
                let _ = execute(conn, "ROLLBACK");
            }
            finish(Ok(()));
            continue;
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(conn, hooks, runtime, batch);
    }
}

/// Runs jobs in one transaction, each in its own savepoint, and answers them after the commit.
fn run_batch<H>(conn: &mut Connection, hooks: &H, runtime: &Handle, batch: Vec<Box<dyn Job<H>>>) {
    if !conn.is_autocommit() {
        // A previous batch's rollback failed: end that transaction before starting this one.
        let _ = execute(conn, "ROLLBACK");
    }
    if let Err(error) = execute(conn, "BEGIN IMMEDIATE") {
        let error = Arc::new(BatchError::Begin(error));
        for job in batch {
            job.refuse(&error);
        }
        return;
    }
    let mut finishes = Vec::with_capacity(batch.len());
    let mut lost = None;
    for job in batch {
        if let Some(error) = &lost {
            job.refuse(error);
            continue;
        }
        if let Err(error) = execute(conn, "SAVEPOINT click_job") {
            let error = Arc::new(BatchError::Lost(Some(error)));
            job.refuse(&error);
            lost = Some(error);
            continue;
        }
        let (failed, finish) = job.run(conn, hooks, runtime);
        finishes.push(finish);
        let ended = if failed {
            execute(conn, "ROLLBACK TO click_job").and_then(|()| execute(conn, "RELEASE click_job"))
        } else {
            execute(conn, "RELEASE click_job")
        };
        match ended {
            Err(error) => lost = Some(Arc::new(BatchError::Lost(Some(error)))),
            Ok(()) if conn.is_autocommit() => lost = Some(Arc::new(BatchError::Lost(None))),
            Ok(()) => {}
        }
    }
    let outcome = match lost {
        Some(error) => Err(error),
        None => execute(conn, "COMMIT").map_err(|error| Arc::new(BatchError::Commit(error))),
    };
    if outcome.is_err() && !conn.is_autocommit() {
        // Nothing of the batch may stay (a failed rollback is retried before the next batch).
        let _ = execute(conn, "ROLLBACK");
    }
    for finish in finishes {
        finish(outcome.as_ref().map(|_| ()));
    }
}

/// Runs one parameterless statement through the statement cache.
fn execute(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
