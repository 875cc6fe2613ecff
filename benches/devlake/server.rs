//! A private MariaDB for the benchmark when no server is given: Debian's `mariadb-install-db` and
//! `mariadbd` in a temporary directory, on a free loopback port, as a non-root user when run as
//! root (as `scripts/test` runs it). Stopped and removed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Private {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Private {
    pub fn start() -> Private {
        let mariadbd = ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("no mariadbd: install mariadb-server, or set FAWKES_BENCH_MYSQL_URL");
        let user = running_as_root()
            .then(|| std::env::var("FAWKES_TEST_PG_USER").unwrap_or_else(|_| "fawkes-test".into()));
        let dir = tempfile::Builder::new()
            .prefix("fawkes-bench-mariadb")
            .tempdir_in("/tmp")
            .unwrap();
        let run = |program: &str| {
            let mut command = match &user {
                Some(user) => {
                    let mut c = Command::new("runuser");
                    c.args(["-u", user, "--", program]);
                    c
                }
                None => Command::new(program),
            };
            command.current_dir(dir.path());
            command
        };
        if let Some(user) = &user {
            let chown = Command::new("chown").arg(user).arg(dir.path()).status();
            assert!(
                chown.is_ok_and(|s| s.success()),
                "cannot give {} to {user} (set FAWKES_TEST_PG_USER to a non-root user)",
                dir.path().display()
            );
        }
        let data = dir.path().join("data");
        let status = run("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "mariadb-install-db failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let child = run(mariadbd.to_str().unwrap())
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", path("mariadb.sock")))
            .arg(format!("--pid-file={}", path("mariadb.pid")))
            .arg(format!("--log-error={}", path("error.log")))
            .arg(format!("--port={port}"))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin",
                "--innodb-buffer-pool-size=2G",
                "--innodb-flush-log-at-trx-commit=2",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "MariaDB did not start; see {}",
                path("error.log")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        println!("started a private MariaDB on 127.0.0.1:{port}");
        Private { dir, child, port }
    }

    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("mariadb.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
