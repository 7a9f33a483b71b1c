//! `vigil serve` as a process: bad flags give clear errors; it starts, answers, and stops
//! gracefully on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn vigil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
}

fn fails_with(args: &[&str], data: &std::path::Path, expected: &str) {
    let out = vigil()
        .arg("serve")
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("VIGIL_ADMIN_PASSWORD")
        .env_remove("VIGIL_M365_TENANT_ID")
        .env_remove("VIGIL_M365_CLIENT_ID")
        .env_remove("VIGIL_M365_CLIENT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(expected), "{args:?}: {err}");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fails_with(
        &["--demo", "--demo-days", "2"],
        &data,
        "--demo-days must be at least 3",
    );
    fails_with(&["--tls-cert", "cert.pem"], &data, "--tls-key");
    fails_with(&["--listen", "localhost:x"], &data, "--listen");
    fails_with(
        &["--listen", "127.0.0.1:0", "--admin-password", "short"],
        &data,
        "at least 8 characters",
    );
    // [respond] makes serve act: it needs the application's credentials, and says which.
    let config = dir.path().join("vigil.toml");
    std::fs::write(&config, "[respond]\nmax_attempts = 2\n").unwrap();
    let config = config.display().to_string();
    fails_with(
        &["--listen", "127.0.0.1:0", "--config", &config],
        &data,
        "[respond] needs the application's credentials",
    );
}

#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = vigil()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .env_remove("VIGIL_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("first line names the address: {line:?}"))
        .trim()
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /api/v1/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains(r#""response":"not connected""#),
        "without [respond], serve does not act: {reply}"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(exit.success(), "{exit:?}: {err}");
    assert!(
        err.contains("created user `admin` with password"),
        "a generated password is printed once: {err}"
    );
    assert!(err.contains("vigil: stopping"), "{err}");
    assert!(err.contains("response not connected"), "{err}");
}
