//! The GitHub Action (`action.yml`, its logic in `.github/action/run.sh`) run here as GitHub
//! would run its steps: the script under bash with a fake `GITHUB_*` / `RUNNER_*` environment
//! (temp files for the step summary and the outputs), the built binary in place of the
//! install step, against the real `scimreplay serve`. And the YAML parsed, to check that
//! every declared input reaches the script and every output is one the script writes.

use crate::support::{BIN, Served, TOKEN, TempDir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn script() -> PathBuf {
    Path::new(ROOT).join(".github/action/run.sh")
}

fn action_yml() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("action.yml")).expect("action.yml")
}

/// Two scenarios that the faults below break, so the runs stay short.
const SCENARIOS: &str = "-s user-create-string-booleans -s user-create-duplicate";

/// One step of the action, run by `bash run.sh <command>`.
struct Step {
    code: i32,
    log: String,
    summary: String,
    outputs: BTreeMap<String, String>,
}

/// A fake runner: a workspace, RUNNER_TEMP, and the step summary and output files.
struct Runner {
    dir: TempDir,
}

impl Runner {
    fn new(label: &str) -> Runner {
        let dir = TempDir::new(label);
        for sub in ["workspace", "runner-temp", "tool-cache", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Runner { dir }
    }

    fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Runs `run.sh <command>` with `inputs` (as action.yml maps them: `INPUT_<NAME>`), in an
    /// environment holding nothing of this process's but PATH.
    fn step(&self, command: &str, inputs: &[(&str, &str)]) -> Step {
        self.step_with(command, inputs, &[])
    }

    /// [`Runner::step`] with more of GitHub's variables (`GITHUB_SERVER_URL`, …).
    fn step_with(&self, command: &str, inputs: &[(&str, &str)], github: &[(&str, &str)]) -> Step {
        let summary = self.dir.path().join("step-summary.md");
        let output = self.dir.path().join("github-output");
        let _ = std::fs::remove_file(&summary);
        let _ = std::fs::remove_file(&output);
        let mut cmd = std::process::Command::new("bash");
        cmd.arg(script())
            .arg(command)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_OUTPUT", &output)
            .env("RUNNER_TEMP", self.dir.path().join("runner-temp"))
            .env("RUNNER_TOOL_CACHE", self.dir.path().join("tool-cache"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("NO_COLOR", "1")
            .current_dir(self.workspace());
        for (name, value) in inputs {
            cmd.env(
                format!("INPUT_{}", name.to_uppercase().replace('-', "_")),
                value,
            );
        }
        cmd.envs(github.iter().copied());
        let out = cmd.output().expect("run bash");
        let outputs = std::fs::read_to_string(&output)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Step {
            code: out.status.code().unwrap_or(-1),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
            outputs,
        }
    }

    /// Writes the baseline `staging` into the workspace, as a user commits it.
    fn bless(&self, target: &str) {
        let status = std::process::Command::new(BIN)
            .args(["run", "--target", target, "--baseline", "staging"])
            .args(["--update-snapshots", "--color", "never"])
            .args(SCENARIOS.split(' '))
            .env("SCIMREPLAY_TOKEN", TOKEN)
            .env_remove("CI")
            .current_dir(self.workspace())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "the baseline run passes");
    }
}

/// The run step's inputs: the built binary, the target, the token, the baseline.
fn inputs<'a>(target: &'a str, args: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("binary", BIN),
        ("version", "source"),
        ("target", target),
        ("token", TOKEN),
        ("oauth-client-secret", ""),
        ("baseline", "staging"),
        ("mappings", ""),
        ("args", args),
        ("working-directory", "."),
        ("report-dir", ""),
    ]
}

/// The declared outputs of action.yml.
fn declared_outputs() -> Vec<String> {
    let docs = YamlLoader::load_from_str(&action_yml()).unwrap();
    keys(&docs[0]["outputs"])
}

fn keys(node: &Yaml) -> Vec<String> {
    node.as_hash()
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect()
}

/// Every file under the fake runner: reports, snapshots, ledgers, summary, outputs.
fn no_token_anywhere(runner: &Runner, step: &Step) {
    let mut texts = vec![("log".to_string(), step.log.clone())];
    for f in crate::support::files_under(runner.dir.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        texts.push((
            f.display().to_string(),
            String::from_utf8_lossy(&bytes).into(),
        ));
    }
    assert!(texts.iter().any(|(n, _)| n.ends_with(".snap")), "snapshots");
    crate::support::assert_no_leak(&texts, &[TOKEN, "hunter2-key"]);
}

#[test]
fn a_passing_run_fills_the_summary_and_the_outputs_and_exits_0() {
    let served = Served::start(&[], &[("SCIMREPLAY_TOKEN", TOKEN)]);
    let runner = Runner::new("action-pass");
    runner.bless(served.base_url());
    // A header whose value must not reach the log (the script shows its name only).
    let args = format!("{SCENARIOS}\n--header X-Api-Key:hunter2-key");
    let step = runner.step("run", &inputs(served.base_url(), &args));
    assert_eq!(step.code, 0, "{}", step.log);
    let o = &step.outputs;
    assert_eq!(o["exit-code"], "0");
    assert_eq!(o["verdict"], "passed", "{o:?}");
    assert_eq!(o["scenarios"], "2", "{o:?}");
    assert_eq!(o["failed"], "0");
    assert!(o["passed"].parse::<u32>().unwrap() >= 2, "{o:?}");
    assert!(step.log.contains("--header X-Api-Key: ***"), "{}", step.log);
    // Each declared output is written (html only by a binary that has --html).
    for name in declared_outputs() {
        assert!(
            o.contains_key(&name) || name == "html",
            "output {name}: {o:?}"
        );
    }
    for report in ["json", "junit", "markdown"] {
        assert!(Path::new(&o[report]).is_file(), "{report}: {}", o[report]);
    }
    let markdown = std::fs::read_to_string(&o["markdown"]).unwrap();
    assert!(markdown.contains("user-create-duplicate"), "{markdown}");
    assert_eq!(step.summary, markdown, "the summary is the Markdown report");
    let junit = std::fs::read_to_string(&o["junit"]).unwrap();
    assert!(junit.contains("<testsuites"), "{junit}");
    no_token_anywhere(&runner, &step);
}

#[test]
fn a_failing_run_fails_the_step_with_scimreplays_exit_code() {
    let good = Served::start(&[], &[("SCIMREPLAY_TOKEN", TOKEN)]);
    let runner = Runner::new("action-fail");
    runner.bless(good.base_url());
    drop(good);
    let faulty = Served::start(
        &[
            "--faults",
            "string-booleans-rejected,duplicate-create-allowed",
        ],
        &[("SCIMREPLAY_TOKEN", TOKEN)],
    );
    let args = format!("{SCENARIOS} --header X-Api-Key:hunter2-key");
    let step = runner.step("run", &inputs(faulty.base_url(), &args));
    // The code is scimreplay's own, not bash's: the binary run alone says the same.
    let alone = std::process::Command::new(BIN)
        .args(["run", "--target", faulty.base_url(), "--no-snapshots"])
        .args(SCENARIOS.split(' '))
        .env("SCIMREPLAY_TOKEN", TOKEN)
        .current_dir(runner.workspace())
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(1));
    assert_eq!(step.code, 1, "{}", step.log);
    assert_eq!(step.outputs["exit-code"], "1");
    assert_eq!(step.outputs["verdict"], "failed");
    assert!(step.outputs["failed"].parse::<u32>().unwrap() >= 1);
    assert!(step.summary.contains("user-"), "{}", step.summary);
    assert!(step.log.contains("exited with code 1"), "{}", step.log);
    no_token_anywhere(&runner, &step);
}

#[test]
fn bad_input_is_exit_3_with_a_summary_line_and_no_report_outputs() {
    let runner = Runner::new("action-bad");
    let mut bad = inputs("not a url", "");
    bad.retain(|(k, _)| *k != "baseline");
    let step = runner.step("run", &bad);
    assert_eq!(step.code, 3, "{}", step.log);
    assert_eq!(step.outputs["exit-code"], "3");
    assert!(!step.outputs.contains_key("json"), "{:?}", step.outputs);
    assert!(
        step.summary.contains("exited with code 3"),
        "{}",
        step.summary
    );
}

#[test]
fn plan_keys_the_cache_on_the_sources_and_skips_a_given_binary() {
    let runner = Runner::new("action-plan");
    let step = runner.step("plan", &[("version", "source"), ("binary", "")]);
    assert_eq!(step.code, 0, "{}", step.log);
    assert_eq!(step.outputs["install"], "true");
    let key = &step.outputs["cache-key"];
    assert!(key.starts_with("scimreplay-source-Linux-X64-"), "{key}");
    assert_eq!(
        key.len(),
        "scimreplay-source-Linux-X64-".len() + 32,
        "{key}"
    );
    assert!(step.outputs["bin"].starts_with(&step.outputs["install-dir"]));
    let again = runner.step("plan", &[("version", "source")]);
    assert_eq!(
        &again.outputs["cache-key"], key,
        "the same sources, the same key"
    );

    let release = runner.step("plan", &[("version", "v1.2.3")]);
    assert_eq!(
        release.outputs["cache-key"],
        "scimreplay-release-Linux-X64-v1.2.3"
    );
    let given = runner.step("plan", &[("binary", BIN)]);
    assert_eq!(given.outputs["install"], "false");
    assert_eq!(given.outputs["bin"], BIN);
    let install = runner.step("install", &[("binary", BIN)]);
    assert_eq!(install.code, 0, "{}", install.log);
    let wrong = runner.step("plan", &[("version", "latest; rm -rf /")]);
    assert_eq!(wrong.code, 3);
    assert!(wrong.log.contains("version must be"), "{}", wrong.log);
}

/// `version: vX.Y.Z` downloads the release archive the release workflow publishes, from a
/// stand-in for GitHub's release downloads, and refuses one whose SHA-256 does not match.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_version_is_downloaded_and_its_checksum_checked() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let runner = Runner::new("action-release");
    let name = "scimreplay-v9.9.9-x86_64-unknown-linux-gnu";
    let staging = runner.dir.path().join("staging");
    std::fs::create_dir_all(staging.join(name)).unwrap();
    // A stand-in binary: the archive's layout is what is tested, not its contents.
    let fake = staging.join(name).join("scimreplay");
    std::fs::write(&fake, "#!/bin/sh\necho 'scimreplay 9.9.9'\n").unwrap();
    let executable = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755);
    std::fs::set_permissions(&fake, executable).unwrap();
    let archive = staging.join(format!("{name}.tar.gz"));
    let tar = std::process::Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .args(["-C", staging.to_str().unwrap(), name])
        .status()
        .unwrap();
    assert!(tar.success());
    let digest = std::process::Command::new("sha256sum")
        .arg(&archive)
        .output()
        .unwrap();
    let digest = String::from_utf8(digest.stdout).unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_string();

    let server = MockServer::start().await;
    let at = format!("/owner/scimreplay/releases/download/v9.9.9/{name}.tar.gz");
    let uri = server.uri();
    let github = [
        ("GITHUB_SERVER_URL", uri.as_str()),
        ("GITHUB_ACTION_REPOSITORY", "owner/scimreplay"),
    ];
    let sums = format!("{at}.sha256");
    let plan = runner.step("plan", &[("version", "v9.9.9")]);
    for (sum, code) in [("0".repeat(64), 3), (digest, 0)] {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path(at.as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_bytes(std::fs::read(&archive).unwrap()),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(sums.as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(format!("{sum}  {name}.tar.gz\n")),
            )
            .mount(&server)
            .await;
        let step = tokio::task::block_in_place(|| {
            runner.step_with("install", &[("version", "v9.9.9")], &github)
        });
        assert_eq!(step.code, code, "{}", step.log);
        if code == 3 {
            assert!(step.log.contains("does not match"), "{}", step.log);
            assert!(
                !Path::new(&plan.outputs["bin"]).exists(),
                "nothing installed"
            );
        }
    }
    let version = std::process::Command::new(&plan.outputs["bin"])
        .arg("--version")
        .output()
        .expect("the installed binary runs");
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        "scimreplay 9.9.9\n"
    );
}

/// What ties action.yml to run.sh, as problems in words.
fn wiring_problems(action: &str, script: &str) -> Vec<String> {
    let docs = match YamlLoader::load_from_str(action) {
        Ok(d) if !d.is_empty() => d,
        Ok(_) => return vec!["action.yml is empty".into()],
        Err(e) => return vec![format!("action.yml: {e}")],
    };
    let doc = &docs[0];
    let mut problems = Vec::new();
    let inputs = keys(&doc["inputs"]);
    let env_name = |input: &str| format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
    let expr = regex::Regex::new(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}").unwrap();
    for c in expr.captures_iter(action) {
        if !inputs.iter().any(|i| *i == c[1]) {
            problems.push(format!("`inputs.{}` is used but not declared", &c[1]));
        }
    }
    if doc["runs"]["using"].as_str() != Some("composite") {
        problems.push("runs.using is not composite".into());
    }
    let steps = doc["runs"]["steps"].as_vec().cloned().unwrap_or_default();
    let mut run_env = Vec::new();
    for step in &steps {
        let id = step["id"].as_str().unwrap_or("?");
        if let Some(run) = step["run"].as_str() {
            if run.contains("${{") {
                problems.push(format!("step {id} puts an expression into its script"));
            }
            match run.strip_prefix("bash \"$GITHUB_ACTION_PATH/.github/action/run.sh\" ") {
                Some(sub) if script.contains(&format!("\n  {sub}) ")) => {}
                _ => problems.push(format!(
                    "step {id} does not call run.sh with a command it has"
                )),
            }
        }
        for (k, v) in step["env"].as_hash().into_iter().flatten() {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                continue;
            };
            if let Some(c) = expr.captures(v) {
                if k != env_name(&c[1]) {
                    problems.push(format!("step {id}: {k} carries inputs.{}", &c[1]));
                }
            }
            if id == "run" {
                run_env.push(k.to_string());
            }
        }
    }
    for input in &inputs {
        let name = env_name(input);
        if !run_env.contains(&name) {
            problems.push(format!(
                "input {input} does not reach the run step as {name}"
            ));
        }
        if !script.contains(&name) {
            problems.push(format!("run.sh never reads {name} (input {input})"));
        }
    }
    let read = regex::Regex::new(r"INPUT_[A-Z0-9_]+").unwrap();
    for m in read.find_iter(script) {
        if !inputs.iter().any(|i| env_name(i) == m.as_str()) {
            problems.push(format!("run.sh reads {} but no input sets it", m.as_str()));
        }
    }
    for (k, v) in doc["outputs"].as_hash().into_iter().flatten() {
        let (k, v) = (k.as_str().unwrap_or("?"), v["value"].as_str().unwrap_or(""));
        if v != format!("${{{{ steps.run.outputs.{k} }}}}") {
            problems.push(format!("output {k} is not the run step's {k}"));
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[test]
fn action_yml_and_the_script_agree() {
    let script = std::fs::read_to_string(script()).unwrap();
    assert_eq!(
        wiring_problems(&action_yml(), &script),
        Vec::<String>::new()
    );
}

#[test]
fn the_wiring_check_sees_drift() {
    let script = std::fs::read_to_string(script()).unwrap();
    let action = action_yml();
    let unmapped = action.replace("        INPUT_MAPPINGS: ${{ inputs.mappings }}\n", "");
    assert_ne!(unmapped, action);
    assert_eq!(
        wiring_problems(&unmapped, &script),
        ["input mappings does not reach the run step as INPUT_MAPPINGS"]
    );
    let injected = action.replace(
        "run: bash \"$GITHUB_ACTION_PATH/.github/action/run.sh\" plan",
        "run: echo ${{ inputs.target }}",
    );
    let problems = wiring_problems(&injected, &script);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("expression into its script")),
        "{problems:?}"
    );
    let renamed = script.replace("INPUT_BASELINE", "INPUT_BASE");
    let problems = wiring_problems(&action, &renamed);
    assert!(
        problems.contains(&"run.sh reads INPUT_BASE but no input sets it".to_string()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"run.sh never reads INPUT_BASELINE (input baseline)".to_string()),
        "{problems:?}"
    );
    let output = action.replace("steps.run.outputs.failed", "steps.run.outputs.fail");
    assert_eq!(
        wiring_problems(&output, &script),
        ["output failed is not the run step's failed"]
    );
}

/// The GitLab template's job, run as a GitLab runner would: its variables, then the job's
/// own, and its script under `sh` in a checkout whose cache already holds the binary.
#[test]
fn the_gitlab_job_reports_junit_and_fails_by_scimreplays_exit_code() {
    let path = Path::new(ROOT).join("ci/gitlab/scimreplay.gitlab-ci.yml");
    let docs = YamlLoader::load_from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let job = &docs[0][".scimreplay"];
    let junit = job["artifacts"]["reports"]["junit"]
        .as_str()
        .expect("a JUnit report");
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));
    let script = job["script"][0].as_str().expect("a script");
    assert!(script.contains(&format!("--junit {junit}")), "{script}");

    let faulty = Served::start(
        &["--faults", "duplicate-create-allowed"],
        &[("SCIMREPLAY_TOKEN", TOKEN)],
    );
    let runner = Runner::new("gitlab");
    let cached = runner.workspace().join(".scimreplay-bin/bin");
    std::fs::create_dir_all(&cached).unwrap();
    std::os::unix::fs::symlink(BIN, cached.join("scimreplay")).unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CI", "true")
        .env("GITLAB_CI", "true")
        .env("NO_COLOR", "1")
        .current_dir(runner.workspace());
    for (k, v) in job["variables"].as_hash().into_iter().flatten() {
        cmd.env(k.as_str().unwrap(), v.as_str().unwrap_or_default());
    }
    cmd.env("SCIMREPLAY_TARGET", faulty.base_url())
        .env("SCIMREPLAY_TOKEN", TOKEN)
        .env("SCIMREPLAY_ARGS", format!("{SCENARIOS} --no-snapshots"));
    let out = cmd.output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("scimreplay exited with code 1"), "{log}");
    let xml = std::fs::read_to_string(runner.workspace().join(junit)).expect("the JUnit file");
    assert!(xml.contains("<failure"), "{xml}");
    assert!(!log.contains(TOKEN) && !xml.contains(TOKEN));
}

/// The README's CI section: every use of the action passes only inputs it declares and reads
/// only outputs it sets, and the GitLab job sets only the template's variables.
#[test]
fn the_readme_ci_examples_use_the_action_as_declared() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let section = &readme[readme.find("## In CI").expect("a CI section")..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let action = &YamlLoader::load_from_str(&action_yml()).unwrap()[0];
    let (inputs, outputs) = (keys(&action["inputs"]), declared_outputs());
    let template =
        std::fs::read_to_string(Path::new(ROOT).join("ci/gitlab/scimreplay.gitlab-ci.yml"));
    let template = &YamlLoader::load_from_str(&template.unwrap()).unwrap()[0];
    let variables = keys(&template[".scimreplay"]["variables"]);
    let read = regex::Regex::new(r"steps\.scim\.outputs\.([a-z-]+)").unwrap();
    let (mut uses, mut extends) = (0, 0);
    for block in section.split("```yaml\n").skip(1) {
        let block = &block[..block.find("```").expect("a closed block")];
        let doc = &YamlLoader::load_from_str(block).expect("README YAML parses")[0];
        for (_, job) in doc["jobs"].as_hash().into_iter().flatten() {
            for step in job["steps"].as_vec().into_iter().flatten() {
                if !step["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("scimreplay/scimreplay@"))
                {
                    continue;
                }
                uses += 1;
                for key in keys(&step["with"]) {
                    assert!(
                        inputs.contains(&key),
                        "README passes undeclared input {key}"
                    );
                }
            }
        }
        for c in read.captures_iter(block) {
            assert!(
                outputs.iter().any(|o| *o == c[1]),
                "README reads output {}",
                &c[1]
            );
        }
        for (_, job) in doc.as_hash().into_iter().flatten() {
            if job["extends"].as_str() == Some(".scimreplay") {
                extends += 1;
                for key in keys(&job["variables"]) {
                    assert!(
                        variables.contains(&key),
                        "README sets unknown variable {key}"
                    );
                }
            }
        }
    }
    assert_eq!(
        (uses, extends),
        (2, 1),
        "the workflow, the matrix and the GitLab job"
    );
}
