//! Ctrl-C and SIGTERM: the first asks the run to stop and clean up, the second stops cleanup.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// Shared interrupt state: how many stop signals arrived.
#[derive(Debug, Default)]
pub struct Interrupt {
    /// Shared with the [`Stop`](crate::stop::Stop) flags of normalization and diffs.
    signals: Arc<AtomicUsize>,
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

    /// A flag for synchronous work (normalization, diffs) that stops at the first signal.
    pub fn stop(&self) -> crate::stop::Stop {
        crate::stop::Stop::on(Arc::clone(&self.signals))
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

    /// Resolves once the run should stop (at once if it already should).
    pub async fn stopped(&self) {
        self.until(1).await;
    }

    /// Resolves once cleanup should stop too (at once if it already should).
    pub async fn aborted(&self) {
        self.until(2).await;
    }

    async fn until(&self, signals: usize) {
        loop {
            // Registered before the count is read, so a signal in between is not lost.
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.signals.load(Ordering::SeqCst) >= signals {
                return;
            }
            notified.await;
        }
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
                        "\nscimreplay: interrupted; stopping and cleaning up what this run created \
                         (press Ctrl-C again to stop cleanup; the ledger keeps the list)"
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

/// Resolves at the next SIGINT or SIGTERM (Ctrl-C elsewhere).
pub async fn stop_signal() {
    wait_for_signal().await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn waits_resolve_for_signals_raised_before_and_after() {
        let interrupt = Interrupt::new();
        let waiter = {
            let interrupt = Arc::clone(&interrupt);
            tokio::spawn(async move { interrupt.aborted().await })
        };
        interrupt.raise();
        assert!(interrupt.stopping() && !interrupt.aborting());
        // Already stopping: resolves at once.
        tokio::time::timeout(Duration::from_secs(1), interrupt.stopped())
            .await
            .expect("stopped resolves after the first signal");
        assert!(!waiter.is_finished());
        interrupt.raise();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("aborted resolves after the second signal")
            .unwrap();
        tokio::time::timeout(Duration::from_secs(1), interrupt.aborted())
            .await
            .expect("and keeps resolving");
    }
}
