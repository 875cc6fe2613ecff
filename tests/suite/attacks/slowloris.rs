//! Slowloris against the real binary: 20,000 connections that each send half a request head and
//! wait (about 20,000 of them used to exhaust the process's file descriptors, so that real
//! requests timed out). During the run, a client sending whole requests is served within a
//! couple of seconds every time, the server's descriptors stay bounded, and the log says the
//! connection cap was reached. The attacker holds as many at once as its own open-file limit
//! allows (up to 18,000; this machine's hard limit is 20,000), dropping its oldest, which the
//! server has long closed, to open the rest. Loopback only, bounded to about half a minute.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use super::connections::response;

const ATTACKERS: usize = 20_000;
const CAP: usize = 1_000;

/// Raises this process's open-file limit towards `wanted` (the soft limit up to the hard one;
/// as root, the hard one too) and returns how many files it may open.
fn raise_file_limit(wanted: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= wanted {
        return current;
    }
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum.map(|m| m.max(wanted)),
        },
    );
    if raised.is_err()
        && let Some(hard) = limit.maximum
    {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stays_reachable_during_a_slowloris_of_20000_connections() {
    let files = raise_file_limit(ATTACKERS as u64 + 2_000);
    let most_held = usize::try_from(files.saturating_sub(2_000))
        .unwrap_or(usize::MAX)
        .min(18_000);
    assert!(
        most_held >= 5_000,
        "the slowloris test needs at least 7,000 open files; this process may open {files} (ulimit -n)"
    );
    let dir = tempfile::TempDir::new().unwrap();
    let config = dir.path().join("portal.toml");
    std::fs::write(
        &config,
        format!("[server]\nmax_connections = {CAP}\nheader_read_timeout = \"10s\"\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fawkes-portal"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--log-format", "json", "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("FAWKES_PORTAL_CONFIG")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address: SocketAddr = loop {
        let line = lines.next().expect("the server exited").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if let Some(address) = event["address"].as_str() {
            break address.parse().unwrap();
        }
    };
    let warnings = Arc::new(Mutex::new(Vec::new()));
    {
        let warnings = warnings.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("connection limit reached") {
                    warnings.lock().unwrap().push(line);
                }
            }
        });
    }

    // The legitimate client: a whole request on a new connection every 100 ms.
    let attacking = Arc::new(AtomicBool::new(true));
    let client = {
        let attacking = attacking.clone();
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            let mut served = 0;
            while attacking.load(Ordering::SeqCst) {
                let started = Instant::now();
                let answered = tokio::time::timeout(Duration::from_secs(10), async {
                    let mut stream = TcpStream::connect(address).await.unwrap();
                    stream
                        .write_all(b"GET /healthz HTTP/1.1\r\nhost: portal\r\n\r\n")
                        .await
                        .unwrap();
                    response(&mut stream).await.0
                })
                .await;
                assert_eq!(
                    answered,
                    Ok(200),
                    "a legitimate request failed during the attack"
                );
                slowest = slowest.max(started.elapsed());
                served += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (served, slowest)
        })
    };

    // The attack, from several loopback addresses so that ports do not run out.
    let started = Instant::now();
    let mut held = VecDeque::with_capacity(most_held);
    let mut opened = 0;
    let mut most_files = 0;
    for batch in 0..ATTACKERS / 500 {
        let opening: Vec<_> = (0..500)
            .map(|i| {
                let source =
                    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + ((batch * 500 + i) % 8) as u8));
                tokio::spawn(async move {
                    let socket = TcpSocket::new_v4().ok()?;
                    socket.bind(SocketAddr::new(source, 0)).ok()?;
                    let mut stream = socket.connect(address).await.ok()?;
                    stream
                        .write_all(b"GET /healthz HTTP/1.1\r\nhost: portal\r\nx-slow: ")
                        .await
                        .ok()?;
                    Some(stream)
                })
            })
            .collect();
        for connection in opening {
            if let Ok(Some(stream)) = connection.await {
                opened += 1;
                held.push_back(stream);
            }
        }
        while held.len() > most_held - 500 {
            held.pop_front();
        }
        most_files = most_files.max(open_files(child.id()));
    }
    let holding = held.len();
    // Keep holding them while the client goes on, then stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    most_files = most_files.max(open_files(child.id()));
    attacking.store(false, Ordering::SeqCst);
    let (served, slowest) = client.await.unwrap();
    let took = started.elapsed();
    drop(held);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();

    println!(
        "slowloris: {opened} connections opened in {took:?} ({holding} still held by the attacker); {served} legitimate requests, slowest {slowest:?}; server files at most {most_files}"
    );
    assert!(
        opened >= ATTACKERS * 9 / 10,
        "only {opened} attacking connections opened"
    );
    assert!(served >= 10, "the client was served {served} times");
    assert!(
        slowest < Duration::from_secs(3),
        "slowest legitimate request: {slowest:?}"
    );
    // An evicted connection's socket closes when its task next runs: on a starved machine one
    // burst of the attack (500 connections) can be accepted before the evicted ones have closed.
    // Without the cap the server would hold all 20,000.
    assert!(
        most_files <= CAP + 500 + 300,
        "the server held {most_files} files"
    );
    assert!(
        !warnings.lock().unwrap().is_empty(),
        "the log says the connection cap was reached"
    );
}
