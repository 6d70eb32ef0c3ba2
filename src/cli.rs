//! The `quire` command line: `serve` (default), `migrate`, `user create|set-plan`, `token create`, `seed`.

use std::io::{BufRead, IsTerminal, Write};

use clap::{Parser, Subcommand};

use crate::{
    config::Config,
    db::{Db, PoolSettings},
    models::{validation::NewAccount, FieldError, Role},
    services::accounts,
    startup, telemetry,
};

#[derive(Parser)]
#[command(name = "quire", version, about = "Quire: a self-hostable publishing platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Fill the database with realistic demo data.
    Seed {
        /// How many posts to create.
        #[arg(long, default_value_t = 1000)]
        posts: usize,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage personal access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a personal access token for an account and print its secret (shown only here).
    Create {
        #[arg(long)]
        email: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "command line")]
        name: String,
        /// Comma-separated: `read`, `write`.
        #[arg(long, default_value = "read,write")]
        scopes: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        days: Option<i64>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password comes from QUIRE_PASSWORD or standard input, never argv.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's plan (`free` or `pro`).
    SetPlan {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["free", "pro"])]
        plan: String,
    },
}

/// Parses the command line and runs it; the exit code tells the shell how it went.
pub fn run() -> std::process::ExitCode {
    keep_large_allocations_returnable();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("quire: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("quire: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => startup::serve(config).await,
            Command::Migrate => migrate(&config).await,
            Command::User { command: UserCommand::Create { email, name, admin } } => {
                create_user(&config, &email, &name, admin).await
            }
            Command::User { command: UserCommand::SetPlan { email, plan } } => set_plan(&config, &email, &plan).await,
            Command::Seed { posts } => seed(&config, posts).await,
            Command::Token { command: TokenCommand::Create { email, name, scopes, days } } => {
                create_token(&config, &email, &name, &scopes, days).await
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quire: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Db> {
    if !crate::db::is_postgres_url(config.database_url.expose()) {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let db = Db::connect(config.database_url.expose(), &PoolSettings { max_connections: 2, ..Default::default() })
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database (DATABASE_URL): {e}"))?;
    db.migrate().await?;
    Ok(db)
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = open(config).await?;
    db.close().await;
    println!("migrations applied");
    Ok(())
}

async fn create_user(config: &Config, email: &str, name: &str, admin: bool) -> anyhow::Result<()> {
    let password = read_password()?;
    let account = NewAccount::parse(email, name, &password).map_err(|errs| invalid(&errs))?;
    let db = open(config).await?;
    let role = if admin { Role::Admin } else { Role::User };
    let user = accounts::register(&db, account, role).await.map_err(|e| {
        let public = e.public();
        if public.errors.is_empty() {
            anyhow::anyhow!("{public}")
        } else {
            invalid(&public.errors)
        }
    })?;
    db.close().await;
    println!("created user {} <{}> (id {}, role {})", user.name, user.email, user.id, user.role.as_str());
    Ok(())
}

async fn set_plan(config: &Config, email: &str, plan: &str) -> anyhow::Result<()> {
    let db = open(config).await?;
    let mut conn = db.acquire().await?;
    let changed = crate::db::seed::set_plan(conn.conn(), email, plan).await?;
    drop(conn);
    db.close().await;
    if changed == 0 {
        anyhow::bail!("no account with email {email}");
    }
    println!("{email} is now on the {plan} plan");
    Ok(())
}

async fn create_token(config: &Config, email: &str, name: &str, scopes: &str, days: Option<i64>) -> anyhow::Result<()> {
    let scopes: Vec<&str> = scopes.split(',').map(str::trim).collect();
    let req = crate::models::NewTokenRequest::parse(name, &scopes, days).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        anyhow::anyhow!("invalid token:\n  {}", lines.join("\n  "))
    })?;
    let db = open(config).await?;
    let user = {
        let mut conn = db.acquire().await?;
        crate::db::users::find_by_email(conn.conn(), email).await?.map(|r| r.into_user())
    };
    let Some(user) = user else {
        db.close().await;
        anyhow::bail!("no account with email {email}");
    };
    let created = crate::services::tokens::create_personal(&db, &user, req)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.public()))?;
    db.close().await;
    eprintln!(
        "token {} for {} (scopes {}, expires {}); the secret below is shown only once:",
        created.info.id,
        user.email,
        created.info.scopes.join(" "),
        created.info.expires_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())
    );
    println!("{}", created.token);
    Ok(())
}

async fn seed(config: &Config, posts: usize) -> anyhow::Result<()> {
    let db = open(config).await?;
    let report = crate::services::seed::run(&db, posts).await.map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
    db.close().await;
    println!(
        "seeded {} posts, {} users, {} comments, {} likes in {:.1} s (demo password: {})",
        report.posts,
        report.users,
        report.comments,
        report.likes,
        report.elapsed.as_secs_f64(),
        crate::services::seed::DEMO_PASSWORD
    );
    Ok(())
}

fn invalid(errors: &[FieldError]) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
    anyhow::anyhow!("invalid account:\n  {}", lines.join("\n  "))
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("QUIRE_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        anyhow::bail!("no password given: set QUIRE_PASSWORD or pipe it on standard input");
    }
    Ok(password)
}

/// glibc raises its mmap threshold after the first large block is freed, after which the
/// 19 MiB argon2 blocks come from per-thread arenas and are never given back: RSS grows by
/// that much per blocking thread. A fixed threshold keeps such blocks mmapped (returned on free).
fn keep_large_allocations_returnable() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called once before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}
