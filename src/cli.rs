//! `fawkes-portal serve | migrate | config check`. Each command loads the configuration the same way,
//! so what `config check` prints is what `serve` runs with.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::{App, shutdown_signal};
use crate::config::{CONFIG_PATH_ENV, Config, Overrides, Settings};
use crate::db::Database;

#[derive(Debug, Parser)]
#[command(
    name = "fawkes-portal",
    version,
    about = "Backend of the Fawkes Backstage plugins: catalog, Che launcher, DORA metrics"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// TOML configuration file (see config/fawkes-portal.example.toml).
    #[arg(long, global = true, env = CONFIG_PATH_ENV, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and local state [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Log format: `text` for terminals, `json` for log collectors [default: text].
    #[arg(long, global = true, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (default 127.0.0.1:7007) until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on, HOST:PORT [default: 127.0.0.1:7007].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective settings, secrets redacted.
    Check,
}

/// Parses the command line, runs the command, and turns failures into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.global.data_dir.clone(),
        log_format: cli.global.log_format.clone(),
    };
    let settings = Settings::load(cli.global.config.as_deref(), std::env::vars(), &overrides)?;
    let config = settings.validate()?;
    match cli.command {
        Command::Config(ConfigCommand::Check) => {
            println!("# configuration is valid\n{}", settings.to_redacted_toml());
            Ok(())
        }
        Command::Migrate => runtime()?.block_on(migrate(config)),
        Command::Serve { .. } => runtime()?.block_on(serve(config)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init_logging(&config.log);
    let db = Database::connect(&config.database).await?;
    db.migrate().await?;
    tracing::info!(database = db.kind(), "migrations applied");
    db.close().await;
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init_logging(&config.log);
    crate::telemetry::prometheus();
    let listen = config.server.listen;
    let app = App::build(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} (server.listen): {e}"))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, database = app.state().db.kind(), "listening on http://{local}");
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}
