//! Timing for benchmarks of any executor (`solidml bench`): the median of repeated runs within
//! a time budget, after a short warm-up. Machines running benches are often shared and noisy,
//! so callers compare executors measured in the same run, never absolute times across runs.

use std::time::{Duration, Instant};

/// Median wall time of `f` in microseconds: at most `iters` timed runs (at least one), fewer
/// once `budget` is spent but never fewer than 3 (if `iters` allows), after up to 10 warm-up
/// runs that stop early past a third of the budget.
pub fn median_us(mut f: impl FnMut(), iters: usize, budget: Duration) -> f64 {
    let start = Instant::now();
    for _ in 0..iters.min(10) {
        f();
        if start.elapsed() > budget / 3 {
            break;
        }
    }
    let start = Instant::now();
    let mut t: Vec<f64> = Vec::with_capacity(iters.max(1));
    while t.len() < iters.max(1) && (t.len() < 3 || start.elapsed() < budget) {
        let s = Instant::now();
        f();
        t.push(s.elapsed().as_secs_f64() * 1e6);
    }
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_within_the_bounds() {
        let mut calls = 0;
        let us = median_us(|| calls += 1, 5, Duration::from_secs(1));
        // ≤ 5 warm-up runs and exactly 5 timed ones (cheap runs never exhaust the budget)
        assert_eq!(calls, 10);
        assert!(us >= 0.0);
        let mut slow = 0;
        median_us(
            || {
                slow += 1;
                std::thread::sleep(Duration::from_millis(20));
            },
            1000,
            Duration::from_millis(30),
        );
        // the budget stops it after the 3-run minimum (plus the warm-up)
        assert!(slow <= 3 + 2, "{slow} runs");
    }
}
