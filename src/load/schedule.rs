//! The schedule of an open-model load: request slots at a fixed rate, claimed by whichever
//! worker is free. A slot's time is when the request *should* go out; latency is measured
//! from it, so an endpoint that slows the workers down shows it in the latency instead of
//! hiding it by being asked less often (coordinated omission).
//!
//! A 429's `Retry-After` stops the whole schedule, as Entra suspends a job's requests for
//! that long (§12 L3a): later slots move by the pause, and the pause is counted as
//! throttled time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Slots at `rate` per second (`None`: as fast as the workers go).
pub struct Pacer {
    interval: Option<Duration>,
    state: Mutex<State>,
}

struct State {
    origin: Instant,
    next: u64,
    shift: Duration,
    paused_until: Instant,
    throttled: Duration,
}

impl Pacer {
    /// `rate` requests per second; 0 means no pacing.
    pub fn new(rate: f64) -> Pacer {
        let now = Instant::now();
        Pacer {
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            state: Mutex::new(State {
                origin: now,
                next: 0,
                shift: Duration::ZERO,
                paused_until: now,
                throttled: Duration::ZERO,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the slots afresh from now (a new phase: the barrier before it is not lateness).
    pub fn restart(&self) {
        let mut s = self.lock();
        s.origin = Instant::now().max(s.paused_until);
        s.next = 0;
        s.shift = Duration::ZERO;
    }

    /// The next slot's scheduled time.
    pub fn claim(&self) -> Instant {
        let mut s = self.lock();
        let now = Instant::now();
        match self.interval {
            None => now.max(s.paused_until),
            Some(iv) => {
                let n = u32::try_from(s.next).unwrap_or(u32::MAX);
                s.next += 1;
                s.origin + s.shift + iv * n
            }
        }
    }

    /// Stops the schedule for `wait` from now; returns when it resumes.
    pub fn pause(&self, wait: Duration) -> Instant {
        let mut s = self.lock();
        let now = Instant::now();
        let until = now + wait;
        if until > s.paused_until {
            let added = until - s.paused_until.max(now);
            s.shift += added;
            s.throttled += added;
            s.paused_until = until;
        }
        s.paused_until
    }

    /// When the schedule resumes (now or in the past when it is not paused).
    pub fn paused_until(&self) -> Instant {
        self.lock().paused_until
    }

    /// Time the schedule stood still so far.
    pub fn throttled(&self) -> Duration {
        self.lock().throttled
    }
}

/// Sleeps until `at` and until any pause is over. A slot already due is not slept for:
/// tokio's timer fires on its next millisecond tick, which at `--rate 0` would add up to a
/// millisecond to every request and cap a worker near a thousand requests per second.
pub async fn wait_turn(pacer: &Pacer, at: Instant) {
    if at > Instant::now() {
        tokio::time::sleep_until(at.into()).await;
    }
    loop {
        let until = pacer.paused_until();
        if until <= Instant::now() {
            return;
        }
        tokio::time::sleep_until(until.into()).await;
    }
}

/// Seconds to wait for a 429: a numeric `Retry-After`, else one second.
pub fn retry_after(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_evenly_spaced_and_move_with_a_pause() {
        let p = Pacer::new(10.0);
        let a = p.claim();
        let b = p.claim();
        assert_eq!(b - a, Duration::from_millis(100));
        p.pause(Duration::from_secs(2));
        let c = p.claim();
        assert!(c - b >= Duration::from_secs(2), "{:?}", c - b);
        // Overlapping pauses are counted once.
        p.pause(Duration::from_secs(1));
        assert!(p.throttled() < Duration::from_millis(2100));
        assert!(p.throttled() >= Duration::from_secs(2));
    }

    #[test]
    fn unpaced_slots_are_now() {
        let p = Pacer::new(0.0);
        let t = p.claim();
        assert!(t <= Instant::now());
    }

    /// A due slot costs no timer tick: 500 unpaced turns take far less than the 500 ms
    /// that sleeping until each (already past) slot took.
    #[tokio::test]
    async fn a_due_slot_is_not_slept_for() {
        let p = Pacer::new(0.0);
        let started = Instant::now();
        for _ in 0..500 {
            wait_turn(&p, p.claim()).await;
        }
        let took = started.elapsed();
        assert!(took < Duration::from_millis(150), "500 turns took {took:?}");
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(retry_after(Some(" 2")), Duration::from_secs(2));
        assert_eq!(retry_after(Some("soon")), Duration::from_secs(1));
        assert_eq!(retry_after(None), Duration::from_secs(1));
    }
}
