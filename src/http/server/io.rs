//! A connection's socket as hyper sees it: every read tells the registry that bytes arrived, and
//! the error responses hyper writes by itself when it cannot parse a request head (400, 414 for a
//! request line over 64 KiB, 431 for a head over `server.max_header_bytes` or with too many
//! headers) get our `{"error": ...}` body. hyper has no hook for those responses; it writes them
//! as a bare head with `content-length: 0` and then closes the connection. Every response of the
//! application itself carries a content type (errors are JSON), so such a head can only be
//! hyper's, and is replaced whole before it reaches the socket.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::connections::Conn;

/// After such an error the connection closes, but the client may still be sending what the
/// server refused (a 1 MB header): its bytes are read and dropped for up to this long, or this
/// many, before the socket closes, so that closing with unread data (a reset) does not destroy
/// the answer before the client reads it (nginx's "lingering close").
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 4 * 1024 * 1024;

/// A socket that reports reads to its connection and answers hyper's own errors with JSON.
pub struct Watched<IO> {
    io: IO,
    conn: Arc<Conn>,
    max_header_bytes: usize,
    /// A replacement response still to be written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
    /// An error response was replaced: closing lingers.
    replaced: bool,
    /// Lingering: until when, and how much was dropped.
    linger: Option<(Pin<Box<tokio::time::Sleep>>, usize)>,
}

impl<IO> Watched<IO> {
    /// `io`, reporting to `conn`; `max_header_bytes` is named in the 431's message.
    pub fn new(io: IO, conn: Arc<Conn>, max_header_bytes: usize) -> Watched<IO> {
        Watched {
            io,
            conn,
            max_header_bytes,
            pending: Vec::new(),
            written: 0,
            replaced: false,
            linger: None,
        }
    }
}

impl<IO: AsyncWrite + Unpin> Watched<IO> {
    /// Writes what is left of a replacement response.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.on_read();
        }
        read
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(replacement) = json_error_for(buf, self.max_header_bytes) {
            self.pending = replacement;
            self.replaced = true;
            // hyper counts its head as written; ours goes out with the next flush at the latest.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(replacement) = json_error_for(first, self.max_header_bytes)
        {
            self.pending = replacement;
            self.replaced = true;
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(first.len()));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        if !self.replaced {
            return Pin::new(&mut self.io).poll_shutdown(cx);
        }
        if self.linger.is_none() {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            self.linger = Some((Box::pin(tokio::time::sleep(LINGER)), 0));
        }
        let this = &mut *self;
        let Some((until, dropped)) = this.linger.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; 8192];
        loop {
            if until.as_mut().poll(cx).is_ready() || *dropped > LINGER_BYTES {
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => *dropped += read.filled().len(),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The JSON response that replaces `written`, when it is hyper's own bodiless error head.
pub fn json_error_for(written: &[u8], max_header_bytes: usize) -> Option<Vec<u8>> {
    if !written.starts_with(b"HTTP/1.") || !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(&written[..written.len() - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line.get(9..12)?.parse().ok()?;
    let headers: Vec<&str> = lines.collect();
    let named = |name: &str| {
        headers.iter().find(|h| {
            h.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
    };
    let bodiless = named("content-length")
        .and_then(|h| h.split_once(':'))
        .is_some_and(|(_, v)| v.trim() == "0");
    if !bodiless || named("content-type").is_some() {
        return None;
    }
    let message = match code {
        400 => "Bad request: it could not be read as HTTP".to_owned(),
        413 => "Request body too large".to_owned(),
        414 => "URI too long: the request line may be at most 64 KiB".to_owned(),
        431 => format!(
            "Request header fields too large: the request head may be at most {max_header_bytes} bytes (server.max_header_bytes) with at most 100 headers"
        ),
        505 => "HTTP version not supported".to_owned(),
        _ => return None,
    };
    let body = serde_json::json!({ "error": message }).to_string();
    let mut response = format!("{status_line}\r\ncontent-type: application/json\r\n");
    for header in headers.iter().filter(|h| {
        !h.split_once(':').is_some_and(|(n, _)| {
            n.trim().eq_ignore_ascii_case("content-length")
                || n.trim().eq_ignore_ascii_case("connection")
        })
    }) {
        response.push_str(header);
        response.push_str("\r\n");
    }
    response.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(response.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_error_heads_are_replaced() {
        let hyper_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let replaced = String::from_utf8(json_error_for(hyper_431, 65536).unwrap()).unwrap();
        let (head, body) = replaced.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ncontent-type: application/json\r\n"));
        assert!(head.contains("\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("server.max_header_bytes")
        );
        // Our own responses are left alone: they have a content type, or a body, or no error.
        for ours in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n"[..],
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n{}",
            b"[{\"kind\":\"Component\"}",
        ] {
            assert_eq!(json_error_for(ours, 65536), None);
        }
    }
}
