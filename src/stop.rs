//! A shared "stop now" flag for long synchronous work that a signal must cut short: the
//! normalization of a transcript and the diff of a snapshot. The run's interrupt state owns
//! the counter; the work reads it every so often, which costs a relaxed atomic load.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Work stopped because a stop was asked for; what it produced so far is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped by a signal")
    }
}

impl std::error::Error for Stopped {}

/// Asks whether to stop. [`Stop::never`] never does.
#[derive(Clone, Debug, Default)]
pub struct Stop(Option<Arc<AtomicUsize>>);

impl Stop {
    /// A flag nothing raises, for work outside a run.
    pub fn never() -> Stop {
        Stop(None)
    }

    /// Stops once `signals` is above zero.
    pub fn on(signals: Arc<AtomicUsize>) -> Stop {
        Stop(Some(signals))
    }

    /// True once a stop was asked for.
    pub fn requested(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed) > 0)
    }

    /// `Err(Stopped)` once a stop was asked for.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.requested() {
            Err(Stopped)
        } else {
            Ok(())
        }
    }
}

/// A [`Stop`] read once every [`Watch::EVERY`] calls of [`Watch::halted`], for loops that
/// visit millions of nodes; once it says stop it keeps saying so.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    stop: Stop,
    calls: u32,
    halted: bool,
}

impl Watch {
    /// How many calls go by between two reads of the flag.
    pub const EVERY: u32 = 1024;

    pub fn new(stop: Stop) -> Watch {
        Watch {
            stop,
            calls: 0,
            halted: false,
        }
    }

    /// True once the stop was asked for (seen at most [`Watch::EVERY`] calls late).
    pub fn halted(&mut self) -> bool {
        if !self.halted {
            self.calls = self.calls.wrapping_add(1);
            if self.calls % Self::EVERY == 0 {
                self.halted = self.stop.requested();
            }
        }
        self.halted
    }

    /// Reads the flag now.
    pub fn check(&mut self) -> Result<(), Stopped> {
        self.halted = self.halted || self.stop.requested();
        if self.halted { Err(Stopped) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_sees_the_stop_within_its_interval_and_keeps_it() {
        let signals = Arc::new(AtomicUsize::new(0));
        let mut watch = Watch::new(Stop::on(Arc::clone(&signals)));
        assert!((0..3 * Watch::EVERY).all(|_| !watch.halted()));
        signals.store(1, Ordering::SeqCst);
        let late = (0..2 * Watch::EVERY).position(|_| watch.halted());
        assert!(late.is_some_and(|n| n < Watch::EVERY as usize), "{late:?}");
        signals.store(0, Ordering::SeqCst);
        assert!(watch.halted() && watch.check().is_err());
        assert!(Stop::never().check().is_ok());
        assert!(!Watch::new(Stop::never()).halted());
    }
}
