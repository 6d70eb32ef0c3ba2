//! The `quire` binary itself: subcommands, configuration errors and graceful shutdown.

use std::{
    io::Write,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn quire(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quire"));
    cmd.current_dir(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QUIRE_DATA_DIR", data_dir)
        .env("QUIRE_LOG", "warn");
    cmd
}

#[test]
fn migrate_then_user_create_reads_the_password_from_stdin() {
    let dir = crate::common::temp::tempdir().unwrap();
    let out = quire(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("quire.db").exists());

    let mut child = quire(dir.path())
        .args(["user", "create", "--email", "Root@Example.com", "--name", "Root", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long admin password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("root@example.com") && stdout.contains("role admin"), "{stdout}");

    // The same e-mail again is refused with the reason.
    let out = quire(dir.path())
        .args(["user", "create", "--email", "root@example.com", "--name", "Again"])
        .env("QUIRE_PASSWORD", "another long password")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("email: An account with this email already exists."));
}

#[test]
fn user_create_refuses_a_weak_password_and_a_password_argument() {
    let dir = crate::common::temp::tempdir().unwrap();
    let out = quire(dir.path())
        .args(["user", "create", "--email", "a@example.com", "--name", "A"])
        .env("QUIRE_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let out = quire(dir.path())
        .args(["user", "create", "--email", "a@example.com", "--name", "A", "--password", "secret123"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "there is no --password flag");
}

#[test]
fn a_bad_configuration_value_stops_start_up_naming_the_variable() {
    let dir = crate::common::temp::tempdir().unwrap();
    let out = quire(dir.path()).arg("serve").env("QUIRE_ADDR", "not-an-address").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("QUIRE_ADDR"));
}

#[cfg(unix)]
#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    let dir = crate::common::temp::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = quire(dir.path())
        .arg("serve")
        .env("QUIRE_ADDR", format!("127.0.0.1:{port}"))
        .env("QUIRE_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "clean exit after SIGTERM");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
}

#[test]
fn seed_and_set_plan() {
    let dir = crate::common::temp::tempdir().unwrap();
    let out = quire(dir.path()).args(["seed", "--posts", "500"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("seeded 500 posts"));

    let out = quire(dir.path())
        .args(["user", "create", "--email", "p@example.com", "--name", "P"])
        .env("QUIRE_PASSWORD", "long enough pass")
        .output()
        .unwrap();
    assert!(out.status.success());
    let out =
        quire(dir.path()).args(["user", "set-plan", "--email", "p@example.com", "--plan", "pro"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = quire(dir.path())
        .args(["user", "set-plan", "--email", "nobody@example.com", "--plan", "pro"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out =
        quire(dir.path()).args(["user", "set-plan", "--email", "p@example.com", "--plan", "gold"]).output().unwrap();
    assert!(!out.status.success());

    // A personal access token: only the secret goes to stdout.
    let out = quire(dir.path())
        .args(["token", "create", "--email", "p@example.com", "--name", "deploy", "--scopes", "read", "--days", "7"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("qrt_") && !secret.contains(' '), "{secret}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("scopes read"));
    let out =
        quire(dir.path()).args(["token", "create", "--email", "p@example.com", "--scopes", "admin"]).output().unwrap();
    assert!(!out.status.success());
    let out = quire(dir.path()).args(["token", "create", "--email", "nobody@example.com"]).output().unwrap();
    assert!(!out.status.success());
}
