//! `fawkes-portal serve | migrate | config check`. Each command loads the configuration the same way,
//! so what `config check` prints is what `serve` runs with.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::app::{App, shutdown_signal};
use crate::auth::issuer::{BuiltInIssuer, TokenSubject};
use crate::config::{CONFIG_PATH_ENV, Config, DatabaseUrl, Overrides, Settings};
use crate::db::Database;

#[allow(
    missing_docs,
    reason = "a command-line type: its doc comments are the help text"
)]
#[derive(Debug, Parser)]
#[command(
    name = "fawkes-portal",
    version,
    about = "Backend of the Fawkes Backstage plugins: catalog, Che launcher, DORA metrics"
)]
pub struct Cli {
    /// Options of every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

#[allow(
    missing_docs,
    reason = "a command-line type: its doc comments are the help text"
)]
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

#[allow(
    missing_docs,
    reason = "a command-line type: its doc comments are the help text"
)]
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
    /// Tokens from the built-in issuer.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[allow(
    missing_docs,
    reason = "a command-line type: its doc comments are the help text"
)]
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a token this server accepts: a Backstage-format user token, or a service token.
    ///
    /// Uses the signing key in the data directory, so give the same --config/--data-dir as `serve`.
    /// Example: curl -H "Authorization: Bearer $(fawkes-portal token issue --user jdoe)" ...
    #[command(group(clap::ArgGroup::new("who").required(true).args(["user", "service"])))]
    Issue {
        /// A user name (jdoe) or user entity ref (user:default/jdoe).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// A service name (ci-bot).
        #[arg(long, value_name = "NAME")]
        service: Option<String>,
        /// Lifetime such as 1h or 30m [default: auth.issuer.default_ttl, 1h].
        #[arg(long, value_name = "DURATION")]
        ttl: Option<String>,
    },
}

#[allow(
    missing_docs,
    reason = "a command-line type: its doc comments are the help text"
)]
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
        Command::Token(TokenCommand::Issue { user, service, ttl }) => {
            println!(
                "{}",
                issue_token(&config, user.as_deref(), service.as_deref(), ttl.as_deref())?
            );
            Ok(())
        }
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
    log_start(&app, local);
    app.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// The one line that says how this server runs: where it listens, on which database, which tokens
/// it accepts and where workspaces run (a warning when no kind of token is enabled).
fn log_start(app: &App, local: std::net::SocketAddr) {
    let config = &app.state().config;
    let auth = &config.auth;
    let accepted: Vec<&str> = [
        (auth.issuer.is_some(), "built-in issuer"),
        (auth.backstage.is_some(), "Backstage"),
        (auth.kubernetes.is_some(), "Kubernetes service accounts"),
        (!auth.static_tokens.is_empty(), "static tokens"),
    ]
    .into_iter()
    .filter_map(|(on, kind)| on.then_some(kind))
    .collect();
    let tokens = if accepted.is_empty() {
        "none".to_owned()
    } else {
        accepted.join(", ")
    };
    let database = match &config.database.url {
        DatabaseUrl::Sqlite(path) => format!("sqlite {}", path.display()),
        DatabaseUrl::Postgres(url) => format!("postgres {}", crate::config::redact_url(url)),
    };
    let workspaces = app.state().workspaces.driver();
    let message = format!(
        "listening on http://{local}; database {database}; tokens from {tokens}; workspaces {workspaces}"
    );
    if accepted.is_empty() {
        tracing::warn!(address = %local, %database, %tokens, workspaces,
            "{message}: no kind of token is enabled in [auth], so every guarded route answers 401");
    } else {
        tracing::info!(address = %local, %database, %tokens, workspaces, "{message}");
    }
}

fn issue_token(
    config: &Config,
    user: Option<&str>,
    service: Option<&str>,
    ttl: Option<&str>,
) -> anyhow::Result<String> {
    let issuer_config = config.auth.issuer.as_ref().ok_or_else(|| {
        anyhow::anyhow!("the built-in issuer is disabled (auth.issuer.enabled = false)")
    })?;
    let subject = match (user, service) {
        (Some(user), _) => TokenSubject::user(user),
        (None, Some(service)) => TokenSubject::service(service),
        (None, None) => Err("name a --user or a --service".to_owned()),
    }
    .map_err(anyhow::Error::msg)?;
    let ttl = ttl
        .map(|t| {
            humantime::parse_duration(t)
                .map_err(|e| anyhow::anyhow!("--ttl '{t}' is not a duration such as 1h: {e}"))
        })
        .transpose()?;
    let issuer = BuiltInIssuer::load_or_create(&config.data_dir, issuer_config)?;
    issuer
        .issue(&subject, ttl, jsonwebtoken::get_current_timestamp())
        .map_err(anyhow::Error::msg)
}
