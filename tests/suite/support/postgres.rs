//! A private PostgreSQL server for tests that must stop and start it (readiness). Uses the binaries
//! in `FAWKES_TEST_PG_BIN` (default /usr/lib/postgresql/15/bin) and, when the tests run as root,
//! runs them as `FAWKES_TEST_PG_USER`, because PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

pub struct PgServer {
    dir: TempDir,
    bin: PathBuf,
    user: Option<String>,
    pub port: u16,
}

impl PgServer {
    /// Initialises and starts a server; `None` when the binaries (or a non-root user) are missing.
    pub fn start() -> Option<PgServer> {
        let bin = PathBuf::from(
            std::env::var("FAWKES_TEST_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        if !bin.join("postgres").exists() {
            return None;
        }
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .ok()
            .is_some_and(|o| o.stdout.starts_with(b"0\n"));
        let user = std::env::var("FAWKES_TEST_PG_USER")
            .ok()
            .filter(|u| u != "root");
        if is_root && user.is_none() {
            return None;
        }
        let dir = TempDir::new().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PgServer {
            dir,
            bin,
            user: if is_root { user } else { None },
            port,
        };
        if let Some(user) = &server.user {
            assert!(
                Command::new("chown")
                    .args(["-R", user])
                    .arg(server.dir.path())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let data = server.data_dir();
        server.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync"],
        );
        server.start_again();
        Some(server)
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// `tool` from the PostgreSQL binaries, run as the server's user.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        // The server's user may not be able to enter the caller's working directory.
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "fast", "-w", "stop"],
        );
    }

    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}
