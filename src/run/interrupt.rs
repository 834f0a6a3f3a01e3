//! Ctrl-C and SIGTERM: the first asks the run to stop and clean up, the second stops cleanup.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// Shared interrupt state: how many stop signals arrived.
#[derive(Debug, Default)]
pub struct Interrupt {
    signals: AtomicUsize,
    notify: Notify,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Records one stop signal.
    pub fn raise(&self) {
        self.signals.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// The run should stop sending scenario steps.
    pub fn stopping(&self) -> bool {
        self.signals.load(Ordering::SeqCst) >= 1
    }

    /// Cleanup should stop too (a second signal).
    pub fn aborting(&self) -> bool {
        self.signals.load(Ordering::SeqCst) >= 2
    }

    /// Resolves at the next signal.
    pub async fn wait(&self) {
        self.notify.notified().await;
    }

    /// Listens for SIGINT and SIGTERM for the life of the process.
    pub fn listen(self: &Arc<Self>) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                wait_for_signal().await;
                me.raise();
                if me.stopping() && !me.aborting() {
                    eprintln!(
                        "\nscimreplay: interrupted; finishing in-flight requests and cleaning up \
                         what this run created (press Ctrl-C again to stop cleanup; the ledger keeps the list)"
                    );
                } else {
                    eprintln!(
                        "\nscimreplay: cleanup stopped; run `scimreplay cleanup` to finish it"
                    );
                }
            }
        });
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
