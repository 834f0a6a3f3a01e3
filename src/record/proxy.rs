//! The recording reverse proxy: forwards every request to the upstream endpoint, streams
//! the answer back unchanged, and appends each exchange (credentials removed) to the raw
//! recording as soon as its answer has been forwarded.
//!
//! The proxy mirrors paths: a request for `/scim/v2/Users` goes to the upstream's origin +
//! `/scim/v2/Users`, so the Tenant URL given to the client is the upstream's with the host
//! replaced. Upstream errors (4xx, 5xx, a reset) reach the client as they came; only when the
//! upstream gives no answer at all does the proxy answer itself (502), and that is recorded.

use super::raw::{self, RawExchange, RawHeader, Scrubber};
use crate::http::ClientOptions;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus `Host`
/// and `Content-Length`, which the forwarding client sets itself.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "proxy-authorization",
];

/// Bodies up to this size with a `Content-Length` are forwarded in one piece.
const INLINE_BODY: usize = 256 * 1024;

/// How the recorder forwards and what it keeps.
#[derive(Clone)]
pub struct ProxyConfig {
    /// The upstream Tenant URL, e.g. `https://staging.example.com/scim/v2`.
    pub upstream: String,
    /// The raw recording to create (it must not exist yet).
    pub raw: PathBuf,
    /// Timeouts, TLS trust and the body cap, as the run client has them.
    pub client: ClientOptions,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Why the recorder could not start.
#[derive(Debug, Error)]
pub enum ProxyError {
    #[error("invalid --upstream `{0}`: expected an http:// or https:// URL")]
    Upstream(String),
    #[error(
        "{0} already exists: convert it with `scimreplay record --convert {0}` or choose another --raw"
    )]
    RawExists(String),
    #[error("failed to create the recording {file}: {source}")]
    Create {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Client(#[from] crate::http::client::ClientError),
}

struct Shared {
    client: reqwest::Client,
    /// `scheme://host[:port]` of the upstream.
    origin: String,
    body_cap: usize,
    seq: AtomicU64,
    written: mpsc::UnboundedSender<(Scrubber, RawExchange)>,
}

/// A running recorder.
pub struct RunningRecorder {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    writer: JoinHandle<std::io::Result<u64>>,
}

impl RunningRecorder {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets exchanges in flight finish, and returns how many were written.
    pub async fn stop(mut self) -> std::io::Result<u64> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        match (&mut self.writer).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }
}

/// `scheme://authority` of an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (!authority.is_empty()).then(|| format!("{}://{authority}", scheme.to_ascii_lowercase()))
}

/// The upstream's path, e.g. `/scim/v2` (empty for the root).
pub fn base_path_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// Creates the raw recording, writes its header and starts forwarding on `listener`.
pub async fn start(
    listener: TcpListener,
    config: ProxyConfig,
) -> Result<RunningRecorder, ProxyError> {
    let origin =
        origin_of(&config.upstream).ok_or_else(|| ProxyError::Upstream(config.upstream.clone()))?;
    let client = forwarding_client(&config.client)?;
    let file = create_raw(&config.raw, &config.upstream)?;
    let (written, receiver) = mpsc::unbounded_channel();
    let writer = tokio::task::spawn_blocking(move || write_loop(file, receiver));
    let shared = Arc::new(Shared {
        client,
        origin,
        body_cap: config.client.body_cap,
        seq: AtomicU64::new(0),
        written,
    });
    let addr = listener.local_addr().map_err(|source| ProxyError::Create {
        file: config.raw.display().to_string(),
        source,
    })?;
    let app = axum::Router::new().fallback(forward).with_state(shared);
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let server = match config.tls {
        // Raw quotes in request lines (the SCIM Validator's filters) are accepted, as the
        // reference endpoint accepts them, instead of hyper's bare 400.
        None => tokio::spawn(async move {
            axum::serve(LenientListener(listener), app)
                .with_graceful_shutdown(shutdown)
                .await
        }),
        Some(acceptor) => {
            let tls = super::tls::TlsListener::new(listener, acceptor).map_err(|source| {
                ProxyError::Create {
                    file: config.raw.display().to_string(),
                    source,
                }
            })?;
            tokio::spawn(
                async move { axum::serve(tls, app).with_graceful_shutdown(shutdown).await },
            )
        }
    };
    Ok(RunningRecorder {
        addr,
        stop: Some(stop),
        server,
        writer,
    })
}

fn forwarding_client(options: &ClientOptions) -> Result<reqwest::Client, ProxyError> {
    Ok(crate::http::client::reqwest_client(options)?)
}

fn create_raw(path: &Path, upstream: &str) -> Result<std::fs::File, ProxyError> {
    let file = path.display().to_string();
    if path.exists() {
        return Err(ProxyError::RawExists(file));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ProxyError::Create {
            file: file.clone(),
            source,
        })?;
    }
    let mut handle = std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(path)
        .map_err(|source| ProxyError::Create {
            file: file.clone(),
            source,
        })?;
    let header = RawHeader {
        format: raw::FORMAT.into(),
        version: raw::VERSION,
        upstream: upstream
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
        started_at: crate::run::clock::rfc3339(SystemTime::now()),
    };
    let line = serde_json::to_string(&header).unwrap_or_default();
    writeln!(handle, "{line}")
        .and_then(|_| handle.flush())
        .map_err(|source| ProxyError::Create { file, source })?;
    Ok(handle)
}

/// Appends one line per exchange and flushes it, so a crash loses at most the line in flight.
fn write_loop(
    mut file: std::fs::File,
    mut receiver: mpsc::UnboundedReceiver<(Scrubber, RawExchange)>,
) -> std::io::Result<u64> {
    let mut count = 0;
    while let Some((scrubber, mut exchange)) = receiver.blocking_recv() {
        scrubber.scrub_exchange(&mut exchange);
        let line = serde_json::to_string(&exchange).map_err(std::io::Error::other)?;
        file.write_all(format!("{line}\n").as_bytes())?;
        file.flush()?;
        count += 1;
    }
    file.sync_all()?;
    Ok(count)
}

fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// The answer the proxy gives itself when the upstream gave none.
fn own_answer(status: u16, detail: &str) -> Response {
    let body = serde_json::json!({
        "schemas": [crate::scim::ERROR],
        "status": status.to_string(),
        "detail": detail,
    });
    Response::builder()
        .status(status)
        .header("content-type", "application/scim+json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let mut scrubber = Scrubber::default();
    let seq = shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let (parts, body) = request.into_parts();
    let received = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let all_headers = header_pairs(&parts.headers);
    let (request_headers, auth) = scrubber.request_headers(&all_headers);
    let mut record = RawExchange {
        seq,
        at: crate::run::clock::rfc3339(SystemTime::now()),
        method: parts.method.as_str().to_string(),
        target: scrubber.target(&received),
        request_headers,
        auth,
        ..RawExchange::default()
    };
    let bytes = match axum::body::to_bytes(body, shared.body_cap).await {
        Ok(b) => b,
        Err(_) => {
            let detail = format!(
                "the request body is over the recorder's limit of {} bytes",
                shared.body_cap
            );
            record.error = Some(detail.clone());
            finish(&shared, scrubber, record, started);
            return own_answer(413, &detail);
        }
    };
    if !bytes.is_empty() {
        record.request_body = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    let mut outgoing = shared
        .client
        .request(parts.method.clone(), format!("{}{received}", shared.origin));
    for (name, value) in parts.headers.iter() {
        if !hop_by_hop(name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    if !bytes.is_empty() {
        outgoing = outgoing.body(bytes);
    }
    let upstream = match outgoing.send().await {
        Ok(r) => r,
        Err(e) => {
            let detail = format!("the upstream endpoint gave no answer: {}", error_chain(&e));
            record.error = Some(detail.clone());
            finish(&shared, scrubber, record, started);
            return own_answer(502, &detail);
        }
    };
    record.status = Some(upstream.status().as_u16());
    record.response_headers = scrubber.response_headers(&header_pairs(upstream.headers()));
    let mut answer = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if !HOP_BY_HOP[..7]
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name.as_str()))
        {
            answer = answer.header(name, value);
        }
    }
    if upstream
        .content_length()
        .is_some_and(|n| n as usize <= INLINE_BODY.min(shared.body_cap))
    {
        return answer_inline(upstream, answer, &shared, scrubber, record, started).await;
    }
    let (chunks, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(relay(
        upstream,
        chunks,
        Arc::clone(&shared),
        scrubber,
        record,
        started,
    ));
    answer
        .body(Body::from_stream(ChunkStream(receiver)))
        .unwrap_or_else(|_| {
            own_answer(
                502,
                "the upstream answer had headers that cannot be forwarded",
            )
        })
}

/// A small body of announced length (every usual SCIM answer) is read here and sent with
/// the headers in one write: handing it to a relay task would cost a task wake-up per
/// answer, which on a busy machine is most of the recorder's added latency.
async fn answer_inline(
    upstream: reqwest::Response,
    answer: axum::http::response::Builder,
    shared: &Shared,
    scrubber: Scrubber,
    mut record: RawExchange,
    started: Instant,
) -> Response {
    let body = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => {
            let message = format!(
                "the upstream connection failed mid-body: {}",
                error_chain(&e)
            );
            record.error = Some(message.clone());
            finish(shared, scrubber, record, started);
            // The headers are not sent yet: the client sees a cut connection, as from upstream.
            return Response::builder()
                .status(502)
                .body(Body::from_stream(ChunkStream(failed_stream(message))))
                .unwrap_or_default();
        }
    };
    if !body.is_empty() {
        record.response_body = Some(String::from_utf8_lossy(&body).into_owned());
    }
    finish(shared, scrubber, record, started);
    answer.body(Body::from(body)).unwrap_or_else(|_| {
        own_answer(
            502,
            "the upstream answer had headers that cannot be forwarded",
        )
    })
}

/// A body stream that fails at once (the connection is cut instead of ending cleanly).
fn failed_stream(message: String) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    let (sender, receiver) = mpsc::channel(1);
    let _ = sender.try_send(Err(std::io::Error::other(message)));
    receiver
}

/// Copies the upstream body to the client chunk by chunk, keeping up to the cap for the
/// recording, then records the exchange.
async fn relay(
    mut upstream: reqwest::Response,
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
    shared: Arc<Shared>,
    scrubber: Scrubber,
    mut record: RawExchange,
    started: Instant,
) {
    let mut kept: Vec<u8> = Vec::new();
    loop {
        match upstream.chunk().await {
            Ok(Some(chunk)) => {
                let room = shared.body_cap.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                record.response_truncated |= chunk.len() > room;
                if chunks.send(Ok(chunk)).await.is_err() {
                    record.error = Some(
                        "the client closed the connection before the end of the answer".into(),
                    );
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let message = format!(
                    "the upstream connection failed mid-body: {}",
                    error_chain(&e)
                );
                let _ = chunks
                    .send(Err(std::io::Error::other(message.clone())))
                    .await;
                record.error = Some(message);
                break;
            }
        }
    }
    if !kept.is_empty() {
        record.response_body = Some(String::from_utf8_lossy(&kept).into_owned());
    }
    finish(&shared, scrubber, record, started);
}

/// Hands the exchange to the writer thread, which scrubs and appends it off the answer's path.
fn finish(shared: &Shared, scrubber: Scrubber, mut record: RawExchange, started: Instant) {
    record.elapsed_ms = started.elapsed().as_millis() as u64;
    let _ = shared.written.send((scrubber, record));
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A TCP listener whose connections go through the reference endpoint's lenient request-line
/// rewriting (raw quotes accepted).
struct LenientListener(TcpListener);

impl axum::serve::Listener for LenientListener {
    type Io = crate::reference::LenientStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (crate::reference::LenientStream::new(stream), addr);
                }
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The receiving end of the relay as a body stream.
struct ChunkStream(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for ChunkStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_base_path() {
        assert_eq!(
            origin_of("HTTPS://h:8443/scim/v2?x").as_deref(),
            Some("https://h:8443")
        );
        assert_eq!(origin_of("ftp://h/x"), None);
        assert_eq!(origin_of("http:///x"), None);
        assert_eq!(
            base_path_of("http://h:1/scim/v2/?aadOptscim062020"),
            "/scim/v2"
        );
        assert_eq!(base_path_of("http://h:1"), "");
    }
}
