//! Connections as a client without credentials can abuse them, over real sockets: heads sent
//! slowly (or never), idle kept-alive connections, too many connections, and requests hyper
//! refuses before the application sees them, whose answers must still be JSON.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fawkes_portal::app::App;
use fawkes_portal::config::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestApp;

/// The app with `edit`ed settings, served on a loopback port until dropped.
pub struct Served {
    pub address: SocketAddr,
    pub token: String,
    _app: TestApp,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Served {
    pub async fn start(edit: impl FnOnce(&mut Settings)) -> Served {
        let app = TestApp::build(edit, fawkes_portal::app::routes::api_routes()).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = App::new(
            app.app.state().clone(),
            fawkes_portal::app::routes::api_routes(),
        );
        tokio::spawn(serving.serve(listener, async move {
            let _ = stopped.await;
        }));
        Served {
            address,
            token: app.token.clone(),
            _app: app,
            stop: Some(stop),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Whether the server closes `stream` within `within` (reading whatever it sends first).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// One response read from `stream`: status, head and body (by content length, or to the end).
pub async fn response(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> (u16, String, Vec<u8>) {
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(
            n > 0,
            "closed before a response head: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let status = head[9..12].parse().unwrap();
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().unwrap())
    });
    let mut body = received[head_end + 4..].to_vec();
    loop {
        if length.is_some_and(|l| body.len() >= l) {
            break;
        }
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buffer[..n]),
        }
    }
    (status, head, body)
}

#[tokio::test]
async fn a_head_not_sent_in_time_closes_the_connection() {
    let served = Served::start(|s| s.server.header_read_timeout = "1s".into()).await;
    // Half a head, then nothing; and nothing at all.
    let mut half = TcpStream::connect(served.address).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: portal\r\nx-slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(served.address).await.unwrap();
    assert!(
        closed_within(&mut half, Duration::from_secs(5)).await,
        "a half-sent head stayed open"
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a silent connection stayed open"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let served = Served::start(|s| s.server.keep_alive_timeout = "1s".into()).await;
    let mut stream = TcpStream::connect(served.address).await.unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: portal\r\n\r\n")
            .await
            .unwrap();
        let (status, _, _) = response(&mut stream).await;
        assert_eq!(
            status, 200,
            "a kept-alive connection serves several requests"
        );
    }
    assert!(
        closed_within(&mut stream, Duration::from_secs(5)).await,
        "an idle connection stayed open"
    );
}

#[tokio::test]
async fn at_the_connection_cap_the_oldest_idle_connection_makes_room() {
    let logs = crate::support::logs::captured();
    let served = Served::start(|s| s.server.max_connections = 8).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(served.address).await.unwrap());
    }
    let started = Instant::now();
    let mut client = TcpStream::connect(served.address).await.unwrap();
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: portal\r\n\r\n")
        .await
        .unwrap();
    let (status, _, _) = response(&mut client).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        closed_within(&mut idle[0], Duration::from_secs(2)).await,
        "the oldest idle connection was closed to make room"
    );
    let warned = logs.lines().into_iter().any(|line| {
        line.contains("connection limit reached") && line.contains("max_connections=8")
    });
    assert!(warned, "a log line says the cap was reached");
}

/// A request hyper itself refuses (head too large, URI too long, not HTTP), and a body over
/// `server.max_body_bytes`: every answer is JSON with the right status.
#[tokio::test]
async fn errors_of_the_http_layer_are_json() {
    // A head may be larger than a URI may be long, so that both refusals are seen.
    let served = Served::start(|s| s.server.max_header_bytes = 256 * 1024).await;
    let huge_header = format!(
        "GET /api/auth/v1/userinfo HTTP/1.1\r\nhost: portal\r\nauthorization: Bearer {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let long_uri = format!(
        "GET /api/catalog/entities?filter={} HTTP/1.1\r\nhost: portal\r\n\r\n",
        "x".repeat(70 * 1024)
    );
    let body = "x".repeat(2 * 1024 * 1024);
    let too_long_body = format!(
        "POST /api/catalog/entities/by-query HTTP/1.1\r\nhost: portal\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        served.token,
        body.len()
    );
    let chunked_body = format!(
        "POST /api/catalog/entities/by-query HTTP/1.1\r\nhost: portal\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        served.token,
        body.len()
    );
    for (request, expected) in [
        (huge_header, 431),
        (long_uri, 414),
        ("NOT HTTP AT ALL\r\n\r\n".to_owned(), 400),
        (too_long_body, 413),
        (chunked_body, 413),
    ] {
        let stream = TcpStream::connect(served.address).await.unwrap();
        let (mut reading, mut writing) = stream.into_split();
        // The server may answer before it has read everything: write beside reading.
        let writer = tokio::spawn(async move {
            let _ = writing.write_all(request.as_bytes()).await;
            writing
        });
        let (status, head, body) = response(&mut reading).await;
        drop(writer);
        assert_eq!(status, expected, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let body: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{expected}: not JSON ({e}): {head}"));
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
}
