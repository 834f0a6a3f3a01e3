//! `scimreplay import`: other tools' records of SCIM traffic → scenario files.

use super::import_args::{HarArgs, ImportArgs, ImportSource, ProvisioningLogsArgs, ValidatorArgs};
use super::output::Out;
use super::resolve::InputError;
use crate::exit::Outcome;
use crate::import::{self, ImportError};
use crate::record::{self, Meta, Outputs};
use std::io::Write;

fn fail(err: &mut Out, e: ImportError) -> Outcome {
    let _ = writeln!(err, "error: {e}");
    Outcome::InvalidInput
}

fn fail_input(err: &mut Out, e: InputError) -> Outcome {
    let _ = writeln!(err, "{}", e.0.trim_end());
    Outcome::InvalidInput
}

/// `scimreplay import …`.
pub fn import(args: ImportArgs, mut out: Out, mut err: Out) -> Outcome {
    match args.source {
        ImportSource::Validator(a) => validator(a, &mut out, &mut err),
        ImportSource::Har(a) => har(a, &mut out, &mut err),
        ImportSource::ProvisioningLogs(a) => provisioning_logs(a, &mut out, &mut err),
    }
}

fn validator(args: ValidatorArgs, out: &mut Out, err: &mut Out) -> Outcome {
    let file = args.file.display().to_string();
    let tests = match import::read(&args.file).and_then(|t| import::validator::parse(&file, &t)) {
        Ok(t) => t,
        Err(e) => return fail(err, e),
    };
    let stem = record::name_from_path(&args.file);
    let imported = import::validator_plan::import(&stem, &tests);
    for one in &imported {
        let name = one.converted.scenario["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let outputs = Outputs {
            scenario: args.out.join(format!("{name}.json")),
            snapshot: None,
        };
        if let Err(e) = record::write(&one.converted, &outputs) {
            let _ = writeln!(err, "error: {e}");
            return Outcome::EndpointOrHarness;
        }
        let _ = writeln!(out, "  {}", one.line);
        for why in &one.converted.skipped {
            let _ = writeln!(out, "    left out {why}");
        }
    }
    let _ = writeln!(
        out,
        "wrote {} scenarios from {} Validator tests into {}\nreplay: scimreplay run --target URL --no-builtin --scenarios {}",
        imported.len(),
        tests.len(),
        args.out.display(),
        args.out.display()
    );
    Outcome::Passed
}

fn har(args: HarArgs, out: &mut Out, err: &mut Out) -> Outcome {
    if let Err(e) = args.snapshot.check() {
        return fail_input(err, e);
    }
    let file = args.file.display().to_string();
    let parsed =
        import::read(&args.file).and_then(|t| import::har::parse(&file, &t, args.base.as_deref()));
    let (exchanges, base) = match parsed {
        Ok(p) => p,
        Err(e) => return fail(err, e),
    };
    let scenario = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.with_extension("json"));
    let name = record::name_from_path(&scenario);
    let meta = Meta {
        summary: format!("Traffic imported from the HAR file {}", args.file.display()),
        description: format!(
            "Imported from {} ({} requests under {base}); each step expects the status answered then, \
             and the HAR's answers are the first snapshot baseline.",
            args.file.display(),
            exchanges.len()
        ),
        tags: vec!["har".into()],
        name: name.clone(),
        upstream: base.clone(),
    };
    let converted = record::convert(&meta, &exchanges);
    let baseline = args.snapshot.name(&base, "har");
    let snapshot = match args.snapshot.snap_path(&baseline, &name) {
        Ok(s) => s,
        Err(e) => return fail_input(err, e),
    };
    let outputs = Outputs { scenario, snapshot };
    super::record::summarize(&converted, &outputs, out, err, &baseline, &base)
}

fn provisioning_logs(args: ProvisioningLogsArgs, out: &mut Out, err: &mut Out) -> Outcome {
    use crate::scenario::model::Dialect;
    let file = args.file.display().to_string();
    let profile = match &args.mappings {
        Some(path) => match crate::entra::profile::load(path) {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                return Outcome::InvalidInput;
            }
        },
        None => crate::entra::profile::builtin().clone(),
    };
    let dialect = if args.dialect == "aadOptscim062020" {
        Dialect::AadOptscim062020
    } else {
        Dialect::Default
    };
    let parsed =
        match import::read(&args.file).and_then(|t| import::provisioning_logs::parse(&file, &t)) {
            Ok(p) => p,
            Err(e) => return fail(err, e),
        };
    let name = format!("logs-{}", record::name_from_path(&args.file));
    let path = args.out.clone().unwrap_or_else(|| {
        std::path::PathBuf::from("scenarios/provisioning-logs").join(format!("{name}.json"))
    });
    if path == args.file {
        let _ = writeln!(
            err,
            "error: {}: --out names the log itself; give another file",
            path.display()
        );
        return Outcome::InvalidInput;
    }
    let name = args
        .out
        .as_ref()
        .map(|p| record::name_from_path(p))
        .unwrap_or(name);
    let built = import::provisioning_logs::build(&name, &file, &parsed, &profile, dialect);
    if built.steps == 0 {
        let _ = writeln!(
            err,
            "error: {file}: none of its {} events is a change Entra sent (all skipped or unsupported)",
            parsed.events.len()
        );
        for why in &built.left_out {
            let _ = writeln!(err, "  {why}");
        }
        return Outcome::InvalidInput;
    }
    let mut text = serde_json::to_string_pretty(&built.scenario).unwrap_or_default();
    text.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let _ = writeln!(err, "error: {}: {e}", dir.display());
            return Outcome::EndpointOrHarness;
        }
    }
    if let Err(e) = crate::atomic_file::write(&path, text.as_bytes()) {
        let _ = writeln!(err, "error: {}: {e}", path.display());
        return Outcome::EndpointOrHarness;
    }
    let _ = writeln!(
        out,
        "read {} events ({}); wrote {} Entra steps to {}",
        parsed.events.len(),
        parsed.shape.label(),
        built.steps,
        path.display()
    );
    for why in &built.left_out {
        let _ = writeln!(out, "  left out {}", crate::escape::line(why));
    }
    let _ = writeln!(
        out,
        "replay: scimreplay run --target URL --no-builtin --scenarios {}",
        path.display()
    );
    Outcome::Passed
}
