//! Running an actix-web server until a shutdown signal, then stopping it gracefully.

use std::future::Future;
use std::io;

use actix_web::dev::Server;

/// Runs `server` until `signal` completes, then stops it gracefully: the listeners close (new
/// connections are refused), every request in flight is answered within the server's
/// [`shutdown_timeout`](actix_web::HttpServer::shutdown_timeout), and this returns.
///
/// actix-web already stops this way on SIGTERM, SIGINT and SIGQUIT; `serve` is for another
/// signal (a test, an orchestrator's hook). Build the server with
/// [`disable_signals`](actix_web::HttpServer::disable_signals) so that `signal` alone decides.
///
/// # Errors
///
/// As the server's own future.
pub async fn serve(server: Server, signal: impl Future<Output = ()> + 'static) -> io::Result<()> {
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        signal.await;
        tracing::info!("stopping: new connections refused, answering the requests in flight");
        handle.stop(true).await;
    });
    server.await?;
    tracing::info!("stopped");
    Ok(())
}
