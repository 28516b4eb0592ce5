//! The load generator's HTTP client: hyper's bare HTTP/1.1 connection, one per server and worker,
//! kept alive and reopened after a failure. No pool, redirect, proxy or decompression layer: the
//! load tool must cost the machine as little as possible, since it shares the cores with the
//! server it measures.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long one request may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// The URL is not `http://host:port/path`.
    #[error("not an http:// URL with a host: {0}")]
    Url(String),
    /// Sending or reading failed.
    #[error(transparent)]
    Http(#[from] hyper::Error),
    /// Connecting failed (refused, say): nothing was sent.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The kept-alive connection was closed before the request could be written: nothing was
    /// sent.
    #[error("the connection closed before the request was sent: {0}")]
    Closed(hyper::Error),
    /// The request could not be built.
    #[error(transparent)]
    Request(#[from] hyper::http::Error),
    /// No answer within [`TIMEOUT`].
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
}

impl SendError {
    /// Whether the request surely never reached the server: it may go to another one.
    pub(crate) fn before_sending(&self) -> bool {
        match self {
            SendError::Connect(_) | SendError::Closed(_) => true,
            SendError::Http(error) => error.is_canceled(),
            SendError::Url(_) | SendError::Request(_) | SendError::Timeout => false,
        }
    }
}

/// A worker's open connections, by `host:port`.
#[derive(Default)]
pub(crate) struct Connections {
    open: HashMap<String, SendRequest<Full<Bytes>>>,
}

impl Connections {
    /// Posts a form body to `url`; the answer's body, whatever its status.
    pub(crate) async fn post(&mut self, url: &str, body: String) -> Result<Bytes, SendError> {
        let uri: Uri = url.parse().map_err(|_| SendError::Url(url.to_owned()))?;
        let authority = match (uri.scheme_str(), uri.authority()) {
            (Some("http"), Some(authority)) => authority.as_str().to_owned(),
            _ => return Err(SendError::Url(url.to_owned())),
        };
        let path = uri.path_and_query().map_or("/", |path| path.as_str());
        let request = Request::post(path)
            .header(HOST, &authority)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))?;
        let answer = tokio::time::timeout(TIMEOUT, self.exchange(&authority, request)).await;
        match answer {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(error)) => {
                self.open.remove(&authority);
                Err(error)
            }
            Err(_) => {
                self.open.remove(&authority);
                Err(SendError::Timeout)
            }
        }
    }

    async fn exchange(
        &mut self,
        authority: &str,
        request: Request<Full<Bytes>>,
    ) -> Result<Bytes, SendError> {
        let sender = match self.open.entry(authority.to_owned()) {
            Entry::Occupied(open) if !open.get().is_closed() => open.into_mut(),
            slot => slot.insert_entry(connect(authority).await?).into_mut(),
        };
        sender.ready().await.map_err(SendError::Closed)?;
        let response = sender.send_request(request).await?;
        Ok(response.into_body().collect().await?.to_bytes())
    }
}

/// Opens a connection to `authority`, its I/O driven by a task of its own.
async fn connect(authority: &str) -> Result<SendRequest<Full<Bytes>>, SendError> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(SendError::Connect)?;
    stream.set_nodelay(true).map_err(SendError::Connect)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(SendError::Closed)?;
    tokio::spawn(connection);
    Ok(sender)
}
