//! Progress while a load runs: a bar with ETA, requests/s and errors on a terminal; one
//! line every few seconds otherwise (CI logs stay readable).

use super::engine::Progress;
use crate::cli::Out;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often the plain line is printed.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// The progress display; `stop` ends it.
pub struct Display {
    task: tokio::task::JoinHandle<()>,
    bar: Option<indicatif::ProgressBar>,
}

impl Display {
    pub fn start(progress: Arc<Progress>, terminal: bool, mut err: Out) -> Display {
        let started = Instant::now();
        if terminal {
            let planned = progress.planned.load(Ordering::Relaxed);
            let bar = indicatif::ProgressBar::new(planned.max(1));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} requests  {per_sec}  eta {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let b = bar.clone();
            let task = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    b.set_length(progress.planned.load(Ordering::Relaxed).max(1));
                    b.set_position(progress.sent.load(Ordering::Relaxed));
                    b.set_message(format!(
                        "{} failed, {} throttled",
                        progress.failed.load(Ordering::Relaxed),
                        progress.throttled.load(Ordering::Relaxed)
                    ));
                }
            });
            return Display {
                task,
                bar: Some(bar),
            };
        }
        let task = tokio::spawn(async move {
            let mut last = 0u64;
            loop {
                tokio::time::sleep(LINE_EVERY).await;
                let sent = progress.sent.load(Ordering::Relaxed);
                let planned = progress.planned.load(Ordering::Relaxed);
                let _ = writeln!(
                    err,
                    "scimreplay load: {:>4.0} s  {sent}{} requests  {:.1}/s  {} failed  {} throttled",
                    started.elapsed().as_secs_f64(),
                    if planned > 0 {
                        format!("/{planned}")
                    } else {
                        String::new()
                    },
                    (sent - last) as f64 / LINE_EVERY.as_secs_f64(),
                    progress.failed.load(Ordering::Relaxed),
                    progress.throttled.load(Ordering::Relaxed)
                );
                let _ = err.flush();
                last = sent;
            }
        });
        Display { task, bar: None }
    }

    pub fn stop(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
