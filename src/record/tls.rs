//! TLS on the recorder's listener, for exposing it behind a tunnel that does not terminate
//! TLS itself. Handshakes run in their own tasks, so a slow or broken client never holds up
//! the others; a failed handshake is dropped (the client sees its TLS error).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// A handshake that takes longer than this is given up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the listener's certificate or key cannot be used.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("--tls-cert {file}: {message}")]
    Cert { file: String, message: String },
    #[error("--tls-key {file}: {message}")]
    Key { file: String, message: String },
    #[error("--tls-cert and --tls-key do not make a usable server identity: {0}")]
    Config(String),
}

/// Builds the TLS acceptor from PEM files (a certificate chain and its private key).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_file = cert.display().to_string();
    let key_file = key.display().to_string();
    let cert_pem = std::fs::read(cert).map_err(|e| TlsError::Cert {
        file: cert_file.clone(),
        message: format!("failed to read: {e}"),
    })?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Cert {
            file: cert_file.clone(),
            message: format!("not valid PEM: {e}"),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Cert {
            file: cert_file,
            message: "no certificate found (expected -----BEGIN CERTIFICATE-----)".into(),
        });
    }
    let key_pem = std::fs::read(key).map_err(|e| TlsError::Key {
        file: key_file.clone(),
        message: format!("failed to read: {e}"),
    })?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        file: key_file,
        message: format!("no private key found (expected -----BEGIN PRIVATE KEY-----): {e}"),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener whose connections have completed a TLS handshake.
pub struct TlsListener {
    addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Accepts on `listener` and hands out connections once their handshake succeeded.
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let handoff = sender.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        let _ = handoff.send((tls, peer)).await;
                    }
                });
                if sender.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { addr, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is gone; wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
