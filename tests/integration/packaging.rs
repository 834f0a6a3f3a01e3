//! The published crate: `cargo package --list` holds what a build from the registry needs
//! (sources, build script, embedded catalogue and baseline) and none of the bulky test,
//! fuzz or documentation trees.

use std::process::Command;

#[test]
fn package_is_small_and_complete() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["package", "--list", "--allow-dirty", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo package --list failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list = String::from_utf8_lossy(&output.stdout);
    let files: Vec<&str> = list.lines().collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "README.md",
        "src/main.rs",
        "src/lib.rs",
        "docs/scenario-format.md",
    ] {
        assert!(files.contains(&needed), "{needed} missing from the package");
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("scenarios/") && f.ends_with(".json"))
    );
    assert!(files.iter().any(|f| f.starts_with("snapshots/reference/")));
    for unwanted in [
        "tests/",
        "fuzz/",
        "benches/",
        "target/",
        ".ci/",
        ".github/",
        "snapshots/scim2-server/",
    ] {
        assert!(
            !files.iter().any(|f| f.starts_with(unwanted)),
            "{unwanted} should not be packaged"
        );
    }
    assert!(files.len() < 600, "package has {} files", files.len());
}
