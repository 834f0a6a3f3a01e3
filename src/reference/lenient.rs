//! Accepting request targets with raw `"` (`?filter=userName+eq+"alice"`).
//!
//! The SCIM Validator's logs show filters with unencoded quotes, and servers behind IIS,
//! Kestrel or Node accept them, but the `http` crate refuses `"`, `<`, `>` and `` ` `` in
//! a query, so hyper would answer a bare 400 before the endpoint sees the request. Each
//! connection is wrapped in [`LenientStream`], which percent-encodes those bytes in every
//! request line before hyper parses it. It follows HTTP/1.1 framing (`Content-Length`) so
//! bodies pass through untouched; after a chunked body it stops rewriting for that
//! connection rather than guess. Heads may end lines with a bare LF (RFC 9112 §2.2 lets a
//! server accept that, and hyper does), so such a request is answered, not left waiting.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Heads larger than this are passed through unchanged (hyper will refuse them).
const MAX_HEAD: usize = 64 * 1024;

/// A TCP listener whose connections accept raw quotes in request targets, for servers
/// run with `axum::serve` (the recording proxy); the endpoint itself uses `conn::serve`.
pub struct LenientListener(pub TcpListener);

impl axum::serve::Listener for LenientListener {
    type Io = LenientStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    // Small SCIM responses should not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    return (LenientStream::new(stream), addr);
                }
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Expecting (the rest of) a request head.
    Head,
    /// Forwarding this many body bytes unchanged.
    Body(u64),
    /// No longer rewriting this connection.
    Passthrough,
}

/// A byte stream that rewrites request lines and forwards everything else.
pub struct LenientStream<S> {
    inner: S,
    pending: Vec<u8>,
    ready: Vec<u8>,
    ready_at: usize,
    framing: Framing,
    eof: bool,
}

impl<S> LenientStream<S> {
    /// Wraps a connection.
    pub fn new(inner: S) -> Self {
        LenientStream {
            inner,
            pending: Vec::new(),
            ready: Vec::new(),
            ready_at: 0,
            framing: Framing::Head,
            eof: false,
        }
    }

    /// Moves processed bytes from `pending` to `ready`; false when more input is needed.
    fn process(&mut self) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        match self.framing {
            Framing::Passthrough => {
                self.ready.append(&mut self.pending);
                true
            }
            Framing::Body(left) => {
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.pending.len());
                self.ready.extend(self.pending.drain(..take));
                let rest = left - take as u64;
                self.framing = if rest == 0 {
                    Framing::Head
                } else {
                    Framing::Body(rest)
                };
                true
            }
            Framing::Head => {
                let Some(end) = head_end(&self.pending) else {
                    if self.pending.len() > MAX_HEAD {
                        self.framing = Framing::Passthrough;
                        return true;
                    }
                    return false;
                };
                let head: Vec<u8> = self.pending.drain(..end).collect();
                self.framing = body_framing(&head);
                self.ready.extend(rewrite_request_line(&head));
                true
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where the head in `buf` ends (just past its empty line), with CRLF or bare LF line
/// endings; empty lines before the request line are not the end.
fn head_end(buf: &[u8]) -> Option<usize> {
    let start = buf.iter().position(|b| *b != b'\r' && *b != b'\n')?;
    let mut i = start;
    while let Some(at) = buf[i..].iter().position(|b| *b == b'\n') {
        let nl = i + at;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Some(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// How the message after this head is framed.
fn body_framing(head: &[u8]) -> Framing {
    let text = String::from_utf8_lossy(head);
    let mut framing = Framing::Head;
    for line in text.split('\n').skip(1).map(|l| l.trim_end_matches('\r')) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Framing::Passthrough;
        }
        if name.eq_ignore_ascii_case("content-length") {
            framing = match value.parse::<u64>() {
                Ok(0) => Framing::Head,
                Ok(n) => Framing::Body(n),
                Err(_) => return Framing::Passthrough,
            };
        }
    }
    framing
}

/// Percent-encodes the bytes hyper refuses in the request target of the head's first line.
fn rewrite_request_line(head: &[u8]) -> Vec<u8> {
    let start = head
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(0);
    let mut line_end = find(&head[start..], b"\n").map_or(head.len(), |i| start + i);
    if line_end > start && head[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let line = &head[start..line_end];
    let mut parts = line.splitn(3, |b| *b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return head.to_vec();
    };
    if !target
        .iter()
        .any(|b| matches!(b, b'"' | b'<' | b'>' | b'`'))
    {
        return head.to_vec();
    }
    let mut out = Vec::with_capacity(head.len() + 16);
    out.extend_from_slice(&head[..start]);
    out.extend_from_slice(method);
    out.push(b' ');
    for byte in target {
        match byte {
            b'"' | b'<' | b'>' | b'`' => out.extend_from_slice(format!("%{byte:02X}").as_bytes()),
            other => out.push(*other),
        }
    }
    out.push(b' ');
    out.extend_from_slice(version);
    out.extend_from_slice(&head[line_end..]);
    out
}

impl<S: AsyncRead + Unpin> AsyncRead for LenientStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let n = (this.ready.len() - this.ready_at).min(buf.remaining());
                buf.put_slice(&this.ready[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                if this.ready_at == this.ready.len() {
                    this.ready.clear();
                    this.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.process() {
                continue;
            }
            if this.eof {
                // Whatever is left (an incomplete head) goes through as is.
                this.ready.append(&mut this.pending);
                if this.ready.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => this.eof = true,
                Poll::Ready(Ok(())) => this.pending.extend_from_slice(read.filled()),
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LenientStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn through(input: &[u8]) -> String {
        let mut stream = LenientStream::new(input);
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn quotes_in_request_lines_are_encoded_and_bodies_untouched() {
        let input = b"POST /Users?x=\"a\" HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}GET /Users?filter=userName+eq+\"<b>\" HTTP/1.1\r\nHost: h\r\n\r\n";
        let out = through(input).await;
        assert_eq!(
            out,
            "POST /Users?x=%22a%22 HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}GET /Users?filter=userName+eq+%22%3Cb%3E%22 HTTP/1.1\r\nHost: h\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn clean_heads_chunked_bodies_and_partial_input_pass_through() {
        let clean = "GET /Users?filter=a HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(through(clean.as_bytes()).await, clean);
        let chunked = "POST /Users HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\"\"\r\n0\r\n\r\nGET /\"x\" HTTP/1.1\r\n\r\n";
        assert_eq!(through(chunked.as_bytes()).await, chunked);
        let partial = "GET /Users?\"x\" HTT";
        assert_eq!(through(partial.as_bytes()).await, partial);
    }

    #[tokio::test]
    async fn bare_lf_heads_are_complete_and_rewritten() {
        let input = b"\r\nPOST /Users?x=\"a\" HTTP/1.1\nContent-Length: 2\n\n{}GET /\"b\" HTTP/1.1\nHost: h\r\n\r\n";
        let out = through(input).await;
        assert_eq!(
            out,
            "\r\nPOST /Users?x=%22a%22 HTTP/1.1\nContent-Length: 2\n\n{}GET /%22b%22 HTTP/1.1\nHost: h\r\n\r\n"
        );
        assert_eq!(head_end(b"GET / HTTP/1.1\nHost: h\n\nrest"), Some(24));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Some(27));
        assert_eq!(head_end(b"\r\n\r\nGET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn framing_follows_content_length() {
        assert_eq!(
            body_framing(b"POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\n"),
            Framing::Body(12)
        );
        assert_eq!(body_framing(b"GET / HTTP/1.1\r\n\r\n"), Framing::Head);
        assert_eq!(
            body_framing(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Framing::Passthrough
        );
    }
}
