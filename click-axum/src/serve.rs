//! A server for an axum application: a header-read timeout, the peer's address, and a graceful,
//! bounded shutdown.

use std::fmt;
use std::future::{Future, IntoFuture, Pending, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, header};
use click_core::{READ_TIMEOUT, SHUTDOWN_TIMEOUT};
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long, once stopping, a connection stays open without a request in flight, so that a
/// client sending on it gets its answer (with `Connection: close`) rather than a closed socket.
const IDLE_GRACE: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` over HTTP/1.1, like `axum::serve`; await the returned [`Serve`],
/// after choosing its timeouts and shutdown signal.
///
/// Each request carries the peer's [`ConnectInfo<SocketAddr>`](ConnectInfo). A client that takes
/// longer than the read timeout ([`READ_TIMEOUT`] by default) to send its request headers is
/// disconnected.
///
/// Once the shutdown signal fires: connections waiting in the listen backlog are accepted and
/// served, the listener is closed (new connections are refused, so a load balancer sends them
/// to another instance), every answer from then on carries `Connection: close`, idle
/// connections are closed after a short grace, and the server returns when every request in
/// flight was answered, or when the shutdown timeout ([`SHUTDOWN_TIMEOUT`] by default) passes,
/// dropping what is left (a callback cut off there is one Click resends), with an error if that
/// was a request in flight.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// use std::time::Duration;
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// click_axum::serve(listener, app)
///     .read_timeout(Duration::from_secs(5))
///     .shutdown_timeout(Duration::from_secs(20))
///     .with_graceful_shutdown(click_axum::shutdown_signal())
///     .await
/// # }
/// ```
pub fn serve(listener: TcpListener, app: Router) -> Serve<Pending<()>> {
    Serve {
        listener,
        app,
        signal: std::future::pending(),
        read_timeout: READ_TIMEOUT,
        shutdown_timeout: SHUTDOWN_TIMEOUT,
    }
}

/// A server being set up by [`serve`]; it runs when awaited, and its output is `Ok` once it
/// stopped with every request in flight answered (accept errors are logged and survived, as
/// `axum::serve` does), or an error of kind [`io::ErrorKind::TimedOut`] once it stopped after
/// the shutdown timeout dropped requests still in flight (idle connections dropped then are no
/// error).
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve<S> {
    listener: TcpListener,
    app: Router,
    signal: S,
    read_timeout: Duration,
    shutdown_timeout: Duration,
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("read_timeout", &self.read_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

impl<S> Serve<S> {
    /// How long a client may take to send a request's headers (default [`READ_TIMEOUT`]). The
    /// callback routes bound the body by their own
    /// [`CallbackRoutes::read_timeout`](click_core::CallbackRoutes::read_timeout).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How long the server waits, once the signal fired, for the requests in flight (default
    /// [`SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Stops gracefully when `signal` completes ([`shutdown_signal`] for SIGTERM or Ctrl-C).
    pub fn with_graceful_shutdown<F>(self, signal: F) -> Serve<F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            signal,
            read_timeout: self.read_timeout,
            shutdown_timeout: self.shutdown_timeout,
        }
    }

    /// The address the server listens on.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<S> IntoFuture for Serve<S>
where
    S: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Where a server is in its life; every connection watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Stopping: answers carry `Connection: close`.
    Draining,
    /// Stopping: connections close once their request in flight is answered.
    Closing,
}

impl<S: Future<Output = ()> + Send + 'static> Serve<S> {
    async fn run(self) -> io::Result<()> {
        let Serve {
            listener,
            app,
            signal,
            read_timeout,
            shutdown_timeout,
        } = self;
        let (phase, _) = watch::channel(Phase::Serving);
        let requests = InFlight::default();
        let serve_one =
            |stream, peer| connection(stream, peer, &app, &phase, &requests, read_timeout);
        let mut connections = JoinSet::new();
        let mut signal = pin!(signal);
        loop {
            while connections.try_join_next().is_some() {}
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        connections.spawn(serve_one(stream, peer));
                    }
                    Err(error) => accept_failed(error).await,
                },
                () = &mut signal => break,
            }
        }
        // Whatever connected before the signal is served; then new connections are refused.
        while let Poll::Ready(Ok((stream, peer))) =
            poll_fn(|cx| Poll::Ready(listener.poll_accept(cx))).await
        {
            connections.spawn(serve_one(stream, peer));
        }
        drop(listener);
        tracing::info!(
            open = connections.len(),
            "stopping: new connections refused, answering the requests in flight"
        );
        phase.send_replace(Phase::Draining);
        let deadline = tokio::time::Instant::now() + shutdown_timeout;
        let drained = tokio::time::timeout(IDLE_GRACE.min(shutdown_timeout), async {
            while connections.join_next().await.is_some() {}
        });
        if drained.await.is_err() {
            phase.send_replace(Phase::Closing);
            let closed = tokio::time::timeout_at(deadline, async {
                while connections.join_next().await.is_some() {}
            });
            if closed.await.is_err() {
                let (open, unanswered) = (connections.len(), requests.count());
                tracing::warn!(
                    open,
                    unanswered,
                    timeout = ?shutdown_timeout,
                    "shutdown timeout: dropping the connections still open"
                );
                connections.shutdown().await;
                if unanswered > 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "stopped after the shutdown timeout ({shutdown_timeout:?}) dropped {unanswered} requests in flight"
                        ),
                    ));
                }
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Serves one connection until it closes, or until the server is closing and its request in
/// flight is answered.
fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: &Router,
    phase: &watch::Sender<Phase>,
    requests: &InFlight,
    read_timeout: Duration,
) -> impl Future<Output = ()> + Send + 'static {
    let app = TowerToHyperService::new(app.clone());
    let mut phase = phase.subscribe();
    let stopping = phase.clone();
    let requests = requests.clone();
    async move {
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let answered = app.call(request);
            let stopping = stopping.clone();
            let request = requests.enter();
            async move {
                let _request = request;
                let mut response = answered.await?;
                if *stopping.borrow() != Phase::Serving {
                    // The client's next request must go to a server that is staying.
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let mut connection = pin!(
            hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .serve_connection(TokioIo::new(stream), service)
        );
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(%error, "connection closed");
                    }
                    return;
                }
                changed = phase.changed() => {
                    if changed.is_err() || *phase.borrow() == Phase::Closing {
                        break;
                    }
                }
            }
        }
        connection.as_mut().graceful_shutdown();
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection closed while stopping");
        }
    }
}

/// How many requests are being handled, across connections: whether a shutdown timeout cut an
/// answer, or only idle connections.
#[derive(Clone, Default)]
struct InFlight(Arc<AtomicUsize>);

/// One request being handled, until dropped (answered, or its connection dropped).
struct Request(Arc<AtomicUsize>);

impl InFlight {
    fn enter(&self) -> Request {
        self.0.fetch_add(1, Ordering::SeqCst);
        Request(Arc::clone(&self.0))
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Survives a failed accept: a connection that died before it was accepted is skipped; anything
/// else (out of file descriptors, say) is logged and waited out, as `axum::serve` does.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Completes on SIGTERM (what systemd, Kubernetes and `docker stop` send) or Ctrl-C: the signal
/// for [`Serve::with_graceful_shutdown`]. A signal that cannot be listened for is logged and
/// never fires.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: stopping"),
        () = terminate => tracing::info!("SIGTERM: stopping"),
    }
}
