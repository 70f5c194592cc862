//! `cargo xtask ci`: exactly what CI runs, so anyone can reproduce a CI failure locally.

use anyhow::Result;

use crate::{cargo, exec};

pub fn run() -> Result<()> {
    exec(cargo().args(["fmt", "--all", "--check"]))?;
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The binary tests start `target/debug/mock-api`; building it first keeps them from
    // building it themselves while cargo test holds the build directory.
    exec(cargo().args(["build", "--workspace", "--bins", "--locked"]))?;
    // CI never writes snapshots: a changed shape fails until a human reviews and accepts it.
    exec(
        cargo()
            .args(["test", "--workspace", "--locked"])
            .env("INSTA_UPDATE", "no"),
    )?;
    // The mock honours its own contract: the checker on its default target and spec, with a
    // fixed seed so that a failure here reproduces anywhere, a reset before each sequence,
    // and a login so that the protected operations are exercised too.
    exec(cargo().args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "contract",
        "--",
        "check",
        "--seed",
        "1",
        "--max-examples",
        "100",
        "--reset",
        "POST /__admin/reset",
        "--auth-login",
        "POST /api/auth/login",
        "--auth-body",
        r#"{"email": "user@example.com", "password": "user123"}"#,
    ]))?;
    // A short smoke load on the bundled mock: fails if it gets slow or any request fails.
    exec(cargo().args([
        "run",
        "--quiet",
        "--locked",
        "-p",
        "loadgen",
        "--",
        "--users",
        "11",
        "--increase-rate",
        "100",
        "--run-time",
        "5s",
        "--quiet",
        "--no-telnet",
        "--threshold",
        "p95<100ms",
        "--threshold",
        "error-rate<=0%",
    ]))?;
    Ok(())
}
